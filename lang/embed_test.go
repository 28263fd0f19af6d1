package lang

import (
	"context"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestGoAPIErrors: what the Go calls refuse, and the text they refuse it
// with, before anything runs.
func TestGoAPIErrors(t *testing.T) {
	ctx := context.Background()
	s := NewSession(&Config{Seed: 1})
	x := mat.NewDense(4, 1, []float64{0, 1, 2, 3})
	if err := s.SetData("train", x, []float64{1, 3, 5, 7}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetData("labels", x, []float64{0, 1, 0, 1}, &DataOptions{Classes: []string{"no", "yes"}}); err != nil {
		t.Fatal(err)
	}
	err := s.Run(ctx, "setup.bl", []byte(`
model lin(x: 1) {
  y ~ normal(dense(x, 1)[0], 0.1)
}
model cls(x: 1) {
  y ~ categorical(logits: dense(x, 2))
}
let n = 3
let f = "out.csv"
`))
	if err != nil {
		t.Fatal(err)
	}
	p, sum, err := s.Fit(ctx, "p", "lin", "train", "map(epochs: 20)")
	if err != nil || sum == nil || sum.Method != "map" || sum.Rows != 4 || p.Method() != "map" {
		t.Fatalf("fit: %v, %+v", err, sum)
	}
	c, _, err := s.Fit(ctx, "c", "cls", "labels", "map(epochs: 5)")
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Model(); m.Likelihood != "categorical" || m.Classes != 2 || m.Inputs != 1 || m.Params != 4 {
		t.Errorf("classifier's model %+v", m)
	}
	if v, err := s.Number("n"); err != nil || v != 3 {
		t.Errorf("Number(n) = %v, %v", v, err)
	}
	if v, err := s.Text("f"); err != nil || v != "out.csv" {
		t.Errorf("Text(f) = %q, %v", v, err)
	}
	if _, err := s.Text("n"); err == nil || err.Error() != `"n" is a number, not a string` {
		t.Errorf("Text(n): %v", err)
	}
	_, _, badFit := s.Fit(ctx, "q", "lin", "train", "map(epocs: 5)")
	_, _, injected := s.Fit(ctx, "q", "lin\nposterior r", "train", "map")
	_, noMetric := s.Evaluate(ctx, "train", []string{"p"})
	_, badMetric := s.Evaluate(ctx, "train", []string{"p"}, "crps")
	_, quantCls := c.Predict(ctx, x, &PredictOptions{Quantiles: []float64{0.5}})
	_, badLevel := p.Predict(ctx, x, &PredictOptions{Quantiles: []float64{1}})
	_, badInterval := p.Predict(ctx, x, &PredictOptions{Intervals: []float64{0}})
	_, badSamples := p.Predict(ctx, x, &PredictOptions{Samples: -2})
	_, badWidth := p.Predict(ctx, mat.NewDense(1, 2, nil), nil)
	_, wrongKind := s.Weights("p")
	_, noName := s.Posterior("pp")
	_, modelAsData := s.Data("lin")
	for _, c := range []struct {
		err  error
		want string
	}{
		{badFit, `unknown setting "epocs"`},
		{injected, `fit: "lin\nposterior r" is not a name`},
		{noMetric, "evaluate: needs a posterior and a metric, got 1 and 0"},
		{badMetric, `unknown metric "crps"`},
		{quantCls, "predict: quantiles and intervals need a regression; cls is a classifier"},
		{badLevel, "predict: quantile level 1 is not in (0, 1)"},
		{badInterval, "predict: interval level 0 is not in (0, 1)"},
		{badSamples, "predict: samples must be positive (or -1 for every stored draw), got -2"},
		{badWidth, "posterior takes 1 input features, got 2"},
		{wrongKind, `"p" is a posterior, not weights`},
		{noName, `no posterior named "pp"; did you mean "p"?`},
		{modelAsData, `"lin" is a model, not data`},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", c.err, c.want)
		}
	}
	// Intervals are the quantiles at (1∓level)/2; labels name the classes.
	pq, err := p.Predict(ctx, x, &PredictOptions{Seed: 4, Quantiles: []float64{0.05, 0.95}, Intervals: []float64{0.9}})
	if err != nil {
		t.Fatal(err)
	}
	if r, c := pq.Intervals.Dims(); r != 4 || c != 2 || !mat.EqualApprox(pq.Quantiles, pq.Intervals, 1e-9) {
		t.Errorf("quantiles %v, intervals %v", mat.Formatted(pq.Quantiles), mat.Formatted(pq.Intervals))
	}
	pc, err := c.Predict(ctx, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range pc.Class {
		if pc.Label[i] != []string{"no", "yes"}[k] {
			t.Errorf("row %d: class %d labelled %q", i, k, pc.Label[i])
		}
	}
	if _, err := s.Posterior("q"); err == nil {
		t.Error("a refused fit bound its name")
	}
	// The statements Go ran join the session's history, like a script's,
	// so SaveScript writes them.
	var hist []string
	for _, e := range s.history {
		hist = append(hist, e.text)
	}
	if got := strings.Join(hist, "\n"); !strings.Contains(got, "posterior p = fit lin on train using map(epochs: 20)") {
		t.Errorf("history:\n%s", got)
	}
}
