package lang

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/stdlib/tensorio"
	"gonum.org/v1/gonum/mat"
)

// A frozen linear model with the scaler its weights carry predicts in
// closed form: x = 3 enters as (3 - 1) / 2 = 1, leaves the layer as
// 2·1 + 1 = 3, and is reported as 10 + 3·3 = 19 with sd 3·1 = 3.
func TestPretrainedClosedForm(t *testing.T) {
	s := NewSession(&Config{Seed: 1})
	ts := []tensorio.Tensor{
		{Name: "lin.w", Shape: []int{1, 1}, Data: []float64{2}},
		{Name: "lin.b", Shape: []int{1}, Data: []float64{1}},
		{Name: "scaler.x_mean", Shape: []int{1}, Data: []float64{1}},
		{Name: "scaler.x_sd", Shape: []int{1}, Data: []float64{2}},
		{Name: "scaler.y_mean", Shape: []int{}, Data: []float64{10}},
		{Name: "scaler.y_sd", Shape: []int{}, Data: []float64{3}},
	}
	if err := s.SetWeights("w", ts); err != nil {
		t.Fatal(err)
	}
	src := `model m(x: 1) {
  y ~ normal(dense(x, 1, from: w.lin, frozen)[0], 1)
}
posterior q = point(m)
`
	if err := s.Run(context.Background(), "pre.bl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	q, err := s.Posterior("q")
	if err != nil {
		t.Fatal(err)
	}
	pred, err := q.Predict(context.Background(), mat.NewDense(2, 1, []float64{3, 1}), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{19, 13} {
		if math.Abs(pred.Mean[i]-want) > 1e-12 || math.Abs(pred.SD[i]-3) > 1e-12 || pred.Epistemic[i] != 0 {
			t.Errorf("row %d: mean %v sd %v epistemic %v, want %v, 3, 0", i, pred.Mean[i], pred.SD[i], pred.Epistemic[i], want)
		}
	}
	if got, want := s.Describe("q"), "posterior q: the pretrained weights of model m as they are, 2 frozen numbers, nothing fitted"; got != want {
		t.Errorf("describe: %q, want %q", got, want)
	}
	// A model with trainable parameters is fitted, not taken as it is.
	err = s.Run(context.Background(), "t.bl", []byte("model n(x: 1) {\n  y ~ normal(dense(x, 1)[0], 1)\n}\nposterior r = point(n)\n"))
	if err == nil || !strings.Contains(err.Error(), "n has 2 trainable parameters: fit it instead") {
		t.Errorf("point of a trainable model: %v", err)
	}
}
