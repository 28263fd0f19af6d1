package parser

import (
	"errors"
	"testing"

	"github.com/bayesl/bayesl/parser/source"
)

const matchSrc = `model net(x: 1) {
  h = dense(x, 32) |> rational(init: tanh) |> periodic
  y ~ normal(dense(h, 1)[0], 0.1)
}
model net_gp = match prior of net to gp(rbf(lengthscale: 0.5) + periodic(period: 2) * linear) over uniform(-3, 3, 64) using w2(steps: 2000, lr: 0.01)
model net = match prior of net to gp(matern52) over uniform([-1, -2], [1, 2], 8) using w2
let of = 3
let over = where(d, of < 2)
data synth = simulate(net_gp, inputs: -3 .. 3, datasets: 10, seed: 1)
save synth to "synth.csv"
plot prior_samples(gp(rbf(lengthscale: 0.5)), net, net_gp, over: -3 .. 3) to "p.png"
`

// TestMatchSyntax: `model NAME = match prior of MODEL to T over P using M`
// parses into a ModelBindStmt holding a Match, "of" and "over" stay
// ordinary names elsewhere, and the formatter round-trips it.
func TestMatchSyntax(t *testing.T) {
	f, err := Parse("m.bl", []byte(matchSrc))
	if err != nil {
		t.Fatal(err)
	}
	b, ok := f.Stmts[1].(*ModelBindStmt)
	if !ok {
		t.Fatalf("statement 2 is %T, want *ModelBindStmt", f.Stmts[1])
	}
	m, ok := b.Value.(*Match)
	if !ok || b.Name.Name != "net_gp" || m.Model.Name != "net" {
		t.Fatalf("got %+v", b)
	}
	if k := m.Target.(*Call).Args[0].Value.(*Binary); k.Op != "+" || k.Y.(*Binary).Op != "*" {
		t.Errorf("kernel expression %+v: * binds tighter than +", k)
	}
	if c := m.Over.(*Call); c.Fun.Name != "uniform" || len(c.Args) != 3 {
		t.Errorf("over %+v", c)
	}
	if c := m.Method.(*Call); c.Fun.Name != "w2" || len(c.Args) != 2 {
		t.Errorf("using %+v", c)
	}
	if l, ok := f.Stmts[3].(*LetStmt); !ok || l.Names[0].Name != "of" {
		t.Errorf("of is not a plain name: %T", f.Stmts[3])
	}
	checkRoundTrip(t, "m.bl", []byte(matchSrc))
	if got := string(Format(f)); got != matchSrc {
		t.Errorf("format changed the canonical text:\n%s", got)
	}
}

func TestMatchSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		src        string
		line, col  int
		incomplete bool
	}{
		{"model a = match prior net to gp(rbf) over uniform(0, 1, 4) using w2", 1, 23, false},
		{"model a = match prior of net to gp(rbf) using w2", 1, 41, false},
		{"model a = match prior of net to gp(rbf) over", 1, 45, true},
		{"model a = match of net", 1, 17, false},
		{"let match = 3", 1, 5, false},
	} {
		_, err := Parse("t.bl", []byte(tc.src))
		var list source.List
		if !errors.As(err, &list) || len(list) == 0 {
			t.Errorf("%q: got %v, want a source.List", tc.src, err)
			continue
		}
		e := list[0]
		if e.Kind != source.Syntax || e.Span.Start.Line != tc.line || e.Span.Start.Col != tc.col {
			t.Errorf("%q: got %s at %d:%d (%s), want a syntax error at %d:%d", tc.src, e.Kind, e.Span.Start.Line, e.Span.Start.Col, e.Msg, tc.line, tc.col)
		}
		if got := errors.Is(err, ErrIncomplete); got != tc.incomplete {
			t.Errorf("%q: incomplete = %v, want %v (%v)", tc.src, got, tc.incomplete, err)
		}
	}
}
