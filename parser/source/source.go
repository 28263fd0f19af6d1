// Package source owns positions, spans and the one error type every phase of
// bayesl reports through, with the caret renderer used by the CLI, the REPL
// and golden tests. It imports only the standard library, so every stage can
// report a position without depending on the parser.
package source

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// File is a named source text.
type File struct {
	Name string
	Src  []byte
}

// Pos is a position in a File. Line and Col are 1-based; Col counts runes.
// The zero Pos means "no position".
type Pos struct {
	Offset, Line, Col int
}

// IsValid reports whether p names a place in a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

// Span is the half-open source range [Start, End).
type Span struct {
	Start, End Pos
}

// Kind classifies an Error so tests and callers never match message text.
type Kind int

// Error kinds.
const (
	Syntax  Kind = iota + 1 // the text does not parse
	Name                    // an unknown or duplicate name
	Type                    // a value of the wrong kind, or a bad argument
	Shape                   // widths that do not fit together
	Data                    // a missing, malformed or non-finite data file
	Runtime                 // a failure while executing a statement
	Numeric                 // a NaN or Inf in a loss, a diverging fit
)

var kindNames = [...]string{"", "syntax error", "name error", "type error", "shape error", "data error", "runtime error", "numeric error"}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "error"
}

// Error is a message attached to a span of a file.
type Error struct {
	File *File
	Span Span
	Kind Kind
	Msg  string
	Err  error // the cause, if any
}

// Errorf builds an Error of kind k at span sp of file f.
func Errorf(f *File, sp Span, k Kind, format string, args ...any) *Error {
	return &Error{File: f, Span: sp, Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Error renders the one-line form "file:line:col: kind: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != nil {
		b.WriteString(e.File.Name)
		if e.Span.Start.IsValid() {
			fmt.Fprintf(&b, ":%d:%d", e.Span.Start.Line, e.Span.Start.Col)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// List is a list of errors, sorted by position when reported.
type List []*Error

// Add appends an error.
func (l *List) Add(e *Error) { *l = append(*l, e) }

// Sort orders the list by file and position.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		an, bn := "", ""
		if a.File != nil {
			an = a.File.Name
		}
		if b.File != nil {
			bn = b.File.Name
		}
		if an != bn {
			return an < bn
		}
		return a.Span.Start.Offset < b.Span.Start.Offset
	})
}

// Error renders the first error and how many more follow.
func (l List) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Unwrap exposes the errors to errors.Is and errors.As.
func (l List) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns nil for an empty list and the list itself otherwise.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Print writes err for a person: every positioned error with the source line
// and a caret under the span. Errors without positions print on one line.
func Print(w io.Writer, err error) {
	var list List
	var e *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &e):
		list = List{e}
	default:
		fmt.Fprintf(w, "error: %v\n", err)
		return
	}
	for _, e := range list {
		fmt.Fprintln(w, e.Error())
		if e.File != nil && e.Span.Start.IsValid() {
			printCaret(w, e.File, e.Span)
		}
	}
}

func printCaret(w io.Writer, f *File, sp Span) {
	line := lineText(f.Src, sp.Start.Line)
	gutter := fmt.Sprintf("%5d | ", sp.Start.Line)
	expanded, col := expandTabs(line, sp.Start.Col)
	fmt.Fprintf(w, "%s%s\n", gutter, expanded)
	width := 1
	if sp.End.Line == sp.Start.Line && sp.End.Col > sp.Start.Col {
		width = sp.End.Col - sp.Start.Col
	}
	if max := len([]rune(expanded)) - (col - 1); width > max && max > 0 {
		width = max
	}
	pad := strings.Repeat(" ", len(gutter)-2) + "| "
	fmt.Fprintf(w, "%s%s^%s\n", pad, strings.Repeat(" ", col-1), strings.Repeat("~", width-1))
}

func lineText(src []byte, line int) string {
	lines := strings.Split(string(src), "\n")
	if line-1 < len(lines) && line >= 1 {
		return strings.TrimRight(lines[line-1], "\r")
	}
	return ""
}

// expandTabs replaces tabs by spaces (tab stops of 4) and maps the 1-based
// rune column col into the expanded line.
func expandTabs(s string, col int) (string, int) {
	var b strings.Builder
	out := 1
	newCol := col
	for i, r := range []rune(s) {
		if i+1 == col {
			newCol = out
		}
		if r == '\t' {
			n := 4 - (out-1)%4
			b.WriteString(strings.Repeat(" ", n))
			out += n
			continue
		}
		b.WriteRune(r)
		out++
	}
	if col > len([]rune(s)) {
		newCol = out + (col - len([]rune(s)) - 1)
	}
	return b.String(), newCol
}

// PosOf converts a byte offset in src into a Pos.
func PosOf(src []byte, offset int) Pos {
	if offset > len(src) {
		offset = len(src)
	}
	line, col := 1, 1
	for _, r := range string(src[:offset]) {
		if r == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return Pos{Offset: offset, Line: line, Col: col}
}
