package parser

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.bl")
	more, _ := filepath.Glob("testdata/*.bl")
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no scripts found")
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(name, src); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStatementsAndExpressions(t *testing.T) {
	src := `data d = csv("a.csv", x: [p0 .. p3, q], y: label, classes: 3)
let a, b = split(d, 0.8, seed: 1)
model m(x: 4) {
  prior weights ~ normal(0, 1) scaled fan_in
  param s[2] ~ normal(0, 1)
  h = dense(x, 8) |> relu
  o = -2 * h / 3 + 1e-3 - h[0]
  y ~ categorical(logits: dense(h, 3))
}
posterior p = fit m on a using map(epochs: 10, lr: 1e-2)
evaluate [p] on b: accuracy, nll, coverage(0.9)
predict p at [[1, 2, 3, 4]] to "out.csv"
save p to "p.post"
export p to "p.npz"
p
`
	f, err := Parse("t.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"*parser.DataStmt", "*parser.LetStmt", "*parser.ModelDecl", "*parser.PosteriorStmt", "*parser.EvaluateStmt", "*parser.PredictStmt", "*parser.SaveStmt", "*parser.ExportStmt", "*parser.ExprStmt"}
	if len(f.Stmts) != len(want) {
		t.Fatalf("got %d statements, want %d", len(f.Stmts), len(want))
	}
	for i, s := range f.Stmts {
		if got := typeName(s); got != want[i] {
			t.Errorf("statement %d: got %s, want %s", i, got, want[i])
		}
	}
	m := f.Stmts[2].(*ModelDecl)
	if len(m.Body) != 5 {
		t.Fatalf("model body has %d statements, want 5", len(m.Body))
	}
	// h = dense(x, 8) |> relu lowers to relu(dense(x, 8)).
	pipe := m.Body[2].(*AssignStmt).Value.(*Call)
	if pipe.Fun.Name != "relu" || !pipe.Piped || pipe.Args[0].Value.(*Call).Fun.Name != "dense" {
		t.Errorf("pipe not lowered into a call: %+v", pipe)
	}
	// -2 * h / 3 + 1e-3 - h[0] is ((((-2*h)/3)+1e-3)-h[0]).
	e := m.Body[3].(*AssignStmt).Value.(*Binary)
	if e.Op != "-" {
		t.Fatalf("top operator %q, want -", e.Op)
	}
	add := e.X.(*Binary)
	if add.Op != "+" || add.Y.(*Number).Value != 1e-3 {
		t.Errorf("bad precedence: %+v", add)
	}
	if div := add.X.(*Binary); div.Op != "/" || div.X.(*Binary).X.(*Number).Value != -2 {
		t.Errorf("bad precedence: %+v", div)
	}
	d := f.Stmts[0].(*DataStmt).Value.(*Call)
	if r := d.Args[1].Value.(*List).Elems[0].(*Range); r.From.(*Ident).Name != "p0" || r.To.(*Ident).Name != "p3" {
		t.Errorf("range not parsed: %+v", r)
	}
	if sp := m.Sp; sp.Start.Line != 3 || sp.End.Line != 9 {
		t.Errorf("model span %v, want lines 3..9", sp)
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		src        string
		line, col  int
		incomplete bool
	}{
		{"data = 3", 1, 6, false},
		{"model m(x: 1) {\n  h = dense(x, 3))\n}", 2, 18, false},
		{"let a = 1 +", 1, 12, true},
		{"model m(x: 1) {\n  h = dense(x, 3)\n", 3, 1, true},
		{"data d = csv(\"abc", 1, 14, true},
		{"data d = 3 @ 4", 1, 12, false},
		{"posterior p = fit on d using map", 1, 19, false},
		{"let x = 1.5.3", 1, 13, false},
		{"let x = d[0, 1]", 1, 14, false},
		{"data a = 1 data b = 2", 1, 12, false},
		{"x[]", 1, 2, false},
		// Later statements: Parse reads one at a time, and an error
		// re-reads from the statement before with the file grammar.
		{"data d = csv(\"a.csv\")\nlet a = 1\nlet b = (2 +", 3, 13, true},
		{"let a = 1\nlet b = 2 +", 2, 12, true},
		{"let a = 1\nlet b = 2\nmodel m(x: 1) {\n  h = dense(x, 3)\n", 5, 1, true},
		{"let a = 1\nlet b = 2\n)", 3, 1, false},
		{"let a = 1\nlet b = 2 ~ 3\nlet c = 4", 2, 11, false},
	} {
		_, err := Parse("t.bl", []byte(tc.src))
		var list source.List
		if !errors.As(err, &list) || len(list) == 0 {
			t.Errorf("%q: got %v, want a source.List", tc.src, err)
			continue
		}
		e := list[0]
		if e.Kind != source.Syntax || e.Span.Start.Line != tc.line || e.Span.Start.Col != tc.col {
			t.Errorf("%q: got %s at %d:%d, want syntax error at %d:%d", tc.src, e.Kind, e.Span.Start.Line, e.Span.Start.Col, tc.line, tc.col)
		}
		if got := errors.Is(err, ErrIncomplete); got != tc.incomplete {
			t.Errorf("%q: incomplete = %v, want %v (%v)", tc.src, got, tc.incomplete, err)
		}
	}
}

func TestCaretRendering(t *testing.T) {
	_, err := Parse("m.bl", []byte("model m(x: 1) {\n\th = dense(x, 3))\n}"))
	var b strings.Builder
	source.Print(&b, err)
	want := "m.bl:2:17: syntax error: unexpected \")\"\n    2 |     h = dense(x, 3))\n      |                    ^\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestGrammarGolden(t *testing.T) {
	got := Grammar() + "\n"
	path := filepath.Join("testdata", "grammar.ebnf")
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./parser -update)", err)
	}
	if string(want) != got {
		t.Errorf("grammar changed; run go test ./parser -update and review testdata/grammar.ebnf")
	}
}
