package ir

import (
	"slices"
	"testing"
)

// The settings of a predict statement reach its IR; export's draws default
// to the session's sample count (-1).
func TestPredictExportSettings(t *testing.T) {
	prog := checkWith(t, `data d = csv("a.csv", x: [a], y: b)
model m(x: 1) {
  y ~ normal(dense(x, 1)[0], 1)
}
posterior p = fit m on d using map(epochs: 1)
predict p(quantiles: [0.05, 0.95], intervals: [0.5], draws: true, samples: 7) at d to "p.npz"
predict p at [[1]]
export p to "p.safetensors"
export p(draws: 3) to "p.npz"`)
	pr := prog.Stmts[3].(*Predict)
	if !slices.Equal(pr.Quantiles, []float64{0.05, 0.95}) || !slices.Equal(pr.Intervals, []float64{0.5}) || !pr.Draws || pr.Samples != 7 || pr.Path != "p.npz" || pr.Post.Name != "p" {
		t.Errorf("predict %+v", pr)
	}
	if pr := prog.Stmts[4].(*Predict); pr.Quantiles != nil || pr.Draws || pr.Samples != 0 || pr.Path != "" {
		t.Errorf("plain predict %+v", pr)
	}
	if ex := prog.Stmts[5].(*Export); ex.Draws != -1 || ex.Path != "p.safetensors" {
		t.Errorf("export %+v", ex)
	}
	if ex := prog.Stmts[6].(*Export); ex.Draws != 3 || ex.Post.Name != "p" {
		t.Errorf("export %+v", ex)
	}
}
