package data

import (
	"fmt"
	"github.com/bayesl/bayesl/stdlib/spell"
	"strconv"
	"strings"
)

// Error is the error type returned by this package. Line is the 1-based line
// in File (0 when no single line is to blame) and Column is the column name
// concerned ("" when none). Err is the underlying cause, if any, and is
// returned by Unwrap, so that errors.Is(err, fs.ErrNotExist) works for a
// missing file.
type Error struct {
	File   string
	Line   int
	Column string
	Msg    string
	Err    error
}

// Error returns the error on one line, as in
//
//	mcycle.csv:17: column "accel": cannot parse "abc" as a number
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	case e.File != "":
		b.WriteString(e.File)
		b.WriteString(": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// unknownColumn builds the error for a column name that is not among names:
// it lists the available columns and suggests the nearest one.
func unknownColumn(file string, line int, name string, names []string) *Error {
	var b strings.Builder
	b.WriteString("unknown column")
	if s := spell.Nearest(name, names); s != "" {
		fmt.Fprintf(&b, "; did you mean %q?", s)
	}
	b.WriteString(" (columns: ")
	b.WriteString(listNames(names, 12))
	b.WriteByte(')')
	return &Error{File: file, Line: line, Column: name, Msg: b.String()}
}

// listNames joins names with ", ", eliding the middle when there are more
// than limit of them.
func listNames(names []string, limit int) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	head := names[:limit-1]
	return fmt.Sprintf("%s, ..., %s; %d in all", strings.Join(head, ", "), names[len(names)-1], len(names))
}
