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
	"sync/atomic"
	"unicode/utf8"
)

// File is a named source text.
type File struct {
	Name string
	Src  []byte

	lines atomic.Pointer[lineTable] // built by the first Pos
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
	line := f.line(sp.Start.Line)
	gutter := fmt.Sprintf("%5d | ", sp.Start.Line)
	expanded, col := clip(expandTabs(line, sp.Start.Col))
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

// maxShown is the most runes of a line printed under an error: a generated
// or hostile one-line file must not echo megabytes per error.
const maxShown = 120

// clip cuts a long line to maxShown runes around the 1-based column col,
// marking the cuts with "…", and returns col within the cut line.
func clip(line string, col int) (string, int) {
	r := []rune(line)
	if len(r) <= maxShown {
		return line, col
	}
	start := max(0, min(col-1-maxShown/3, len(r)-maxShown))
	end := start + maxShown
	out := string(r[start:end])
	if start > 0 {
		out = "…" + out
		col = col - start + 1
	}
	if end < len(r) {
		out += "…"
	}
	return out, col
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

// PosOf converts a byte offset in src into a Pos. It scans src, so it suits
// one lookup; File.Pos answers many from a table built once.
func PosOf(src []byte, offset int) Pos {
	return (&File{Src: src}).Pos(offset)
}

// Pos converts a byte offset into a Pos (an offset past the end means the
// end). The first call builds a table of line starts and, for non-ASCII
// text, rune counts every runeStride bytes; each call after that is a binary
// search plus at most runeStride bytes of counting, so positioning every
// token of a large file stays linear in its size. Src must not change after
// the first call. Safe for concurrent use.
func (f *File) Pos(offset int) Pos {
	offset = max(0, min(offset, len(f.Src)))
	t := f.table()
	line := sort.SearchInts(t.lines, offset+1) // lines[0] == 0 <= offset
	start := t.lines[line-1]
	col := offset - start + 1
	if len(t.marks) > 0 {
		col = t.runesAt(f.Src, offset) - t.runesAt(f.Src, start) + 1
	}
	return Pos{Offset: offset, Line: line, Col: col}
}

// runeStride is how many bytes apart the rune-count marks of a non-ASCII
// file are: the most a column lookup counts.
const runeStride = 256

type lineTable struct {
	lines []int  // byte offset of each line's start; lines[0] == 0
	marks []mark // rune counts at rune boundaries, runeStride bytes apart; nil for ASCII
}

// mark records that the rune starting at byte offset is rune number runes.
type mark struct{ offset, runes int }

func (f *File) table() *lineTable {
	if t := f.lines.Load(); t != nil {
		return t
	}
	t := &lineTable{lines: []int{0}}
	ascii := true
	for i, b := range f.Src {
		if b == '\n' {
			t.lines = append(t.lines, i+1)
		}
		if b >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii {
		// Decoding from the start keeps every mark on a rune boundary
		// as a range over the text sees it (an invalid byte is a rune).
		runes, next := 0, 0
		for i := 0; i < len(f.Src); runes++ {
			if i >= next {
				t.marks = append(t.marks, mark{i, runes})
				next = i + runeStride
			}
			_, n := utf8.DecodeRune(f.Src[i:])
			i += n
		}
	}
	f.lines.CompareAndSwap(nil, t)
	return f.lines.Load()
}

// runesAt counts the runes before offset.
func (t *lineTable) runesAt(src []byte, offset int) int {
	i := sort.Search(len(t.marks), func(i int) bool { return t.marks[i].offset > offset }) - 1
	m := t.marks[max(i, 0)]
	return m.runes + utf8.RuneCount(src[m.offset:offset])
}

// line returns the text of the 1-based line n without its line break, or
// "" when the file has no such line.
func (f *File) line(n int) string {
	t := f.table()
	if n < 1 || n > len(t.lines) {
		return ""
	}
	end := len(f.Src)
	if n < len(t.lines) {
		end = t.lines[n] - 1
	}
	return strings.TrimRight(string(f.Src[t.lines[n-1]:end]), "\r")
}
