package data

import (
	"fmt"
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
	if s := nearest(name, names); s != "" {
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

// nearest returns the candidate closest to name by edit distance, ignoring
// case, or "" when none is close enough to be a plausible misspelling.
func nearest(name string, candidates []string) string {
	lname := strings.ToLower(name)
	best, bestD := "", -1
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := editDistance(lname, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || (bestD > 1 && bestD > (len([]rune(name))+1)/2) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
