package lang

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Metrics against a reference posterior: a posterior compared with itself
// agrees exactly (the reference is drawn with the seed of its own row), and
// a different one does not.
func TestReferenceMetrics(t *testing.T) {
	digits, err := os.ReadFile(filepath.Join("..", "examples", "data", "digits.csv"))
	if err != nil {
		t.Fatal(err)
	}
	src := `data d = csv("digits.csv", x: [p0 .. p63], y: label, classes: 10, standardize: true)
let small = where(d, label < 3)
model net(x: 64) {
  h = dense(x, 16) |> relu
  y ~ categorical(logits: dense(h, 10))
}
posterior a = fit net on small using map(epochs: 5)
posterior b = fit net on small using vi(epochs: 5)
evaluate [a, b] on small: agreement(a), tv(a), epistemic(b)

data f = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model reg(x: 1) {
  h = dense(x, 8) |> tanh
  y ~ normal(dense(h, 1)[0], 0.5)
}
posterior r1 = fit reg on f using vi(epochs: 20)
posterior r2 = fit reg on f using sgld(epochs: 20, chains: 2)
evaluate [r1, r2] on f: w2(r1), epistemic(r1)
`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "digits.csv"), digits, 0o644)
	raw, _ := os.ReadFile("testdata/faithful.csv")
	os.WriteFile(filepath.Join(dir, "faithful.csv"), raw, 0o644)
	var tables []*Table
	s := NewSession(&Config{Seed: 1, Samples: 30, Dir: dir, Emit: func(r Result) {
		if r.Kind == "evaluate" {
			tables = append(tables, r.Table)
		}
	}})
	if err := s.Run(context.Background(), "t.bl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	cls, reg := tables[0], tables[1]
	if got := strings.Join(columnNames(cls), " "); got != "posterior agreement(a) tv(a) epistemic(b)" {
		t.Errorf("columns %q", got)
	}
	if v := cell(t, cls, "a", "agreement(a)"); v != 1 {
		t.Errorf("a agrees with itself on %v of the rows", v)
	}
	if v := cell(t, cls, "a", "tv(a)"); v != 0 {
		t.Errorf("tv(a, a) = %v", v)
	}
	if v := cell(t, cls, "b", "tv(a)"); !(v > 0 && v < 1) {
		t.Errorf("tv(b, a) = %v, want in (0, 1)", v)
	}
	if v := cell(t, cls, "b", "epistemic(b)"); v != 1 {
		t.Errorf("epistemic(b) of b = %v, want 1", v)
	}
	if v := cell(t, reg, "r1", "w2(r1)"); v != 0 {
		t.Errorf("w2(r1, r1) = %v", v)
	}
	if v := cell(t, reg, "r2", "w2(r1)"); !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("w2(r2, r1) = %v, want positive", v)
	}
	if v := cell(t, reg, "r1", "epistemic(r1)"); math.Abs(v-1) > 1e-12 {
		t.Errorf("epistemic(r1) of r1 = %v, want 1", v)
	}
}
