package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser/source"
)

// TestNestingLimit: input nested past MaxDepth, in brackets of every kind,
// minus signs or operator chains, is one positioned syntax error, not a
// stack overflow; input at the limit parses.
func TestNestingLimit(t *testing.T) {
	// Brackets are refused before parsing, so n is large; chains go
	// through the parser, so m is just past the limit.
	const n, m = 100000, 2 * MaxDepth
	over := MaxDepth + 1
	for _, tc := range []struct {
		name, src string
		line, col int // where the error points
	}{
		{"parens", "let x = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n), 1, 9 + MaxDepth},
		{"lists", "let x =\n" + strings.Repeat("[", n) + "1" + strings.Repeat("]", n), 2, over},
		{"calls", "f(" + strings.Repeat("g(", n) + strings.Repeat(")", n+1), 1, 2 + 2*MaxDepth},
		{"model body", "model m(x: 1) {\n  h = " + strings.Repeat("(", n) + "x" + strings.Repeat(")", n) + "\n}", 2, 6 + MaxDepth},
		{"minus", "let x = " + strings.Repeat("-", n) + "1", 1, 9 + MaxDepth},
		{"sum", "let x = " + strings.Repeat("1 + ", m) + "1", 1, 9},
		{"pipeline", "let x = d" + strings.Repeat(" |> f", m), 1, 9},
		{"suffixes", "let x = d" + strings.Repeat("[0]", m), 1, 9},
		{"fields", "let x = d" + strings.Repeat(".a", m), 1, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("deep.bl", []byte(tc.src))
			var list source.List
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("want one positioned error, got %v", err)
			}
			e := list[0]
			if e.Kind != source.Syntax || !strings.Contains(e.Msg, "more than 1000 deep") || errors.Is(err, ErrIncomplete) {
				t.Errorf("got %v", e)
			}
			if e.Span.Start.Line != tc.line || e.Span.Start.Col != tc.col {
				t.Errorf("error at %d:%d, want %d:%d: %v", e.Span.Start.Line, e.Span.Start.Col, tc.line, tc.col, e)
			}
		})
	}
	for _, src := range []string{
		"let x = " + strings.Repeat("[", MaxDepth) + "1" + strings.Repeat("]", MaxDepth),
		"let x = " + strings.Repeat("-", MaxDepth) + "1",
		"let x = " + strings.Repeat("1 + ", MaxDepth-1) + "1",
		"let x = \"" + strings.Repeat("(", 2*MaxDepth) + "\" # " + strings.Repeat("[", 2*MaxDepth),
	} {
		if _, err := Parse("ok.bl", []byte(src)); err != nil {
			t.Errorf("%.40s...: %v", src, err)
		}
	}
}
