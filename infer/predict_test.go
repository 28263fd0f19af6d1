package infer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

func TestPredict(t *testing.T) {
	p, _, _ := linreg3(20, 1)
	x, _ := linreg3x(5)
	r := rand.New(rand.NewPCG(1, 1))
	pt := &infer.Point{Theta: []float64{1, -1, 0.5}, By: "map"}
	out, err := infer.Predict(t.Context(), pt, p, x, 30, r)
	if err != nil {
		t.Fatal(err)
	}
	if out.S != 1 || out.N != 5 {
		t.Errorf("point: S=%d N=%d, want one pass over 5 rows", out.S, out.N)
	}
	want := x.At(2, 0) - x.At(2, 1) + 0.5*x.At(2, 2)
	if math.Abs(out.Loc[2]-want) > 1e-12 {
		t.Errorf("loc %v, want %v", out.Loc[2], want)
	}
	g := &infer.Gaussian{Mean: []float64{1, -1, 0.5}, Std: []float64{0.1, 0.1, 0.1}, By: "vi"}
	out, err = infer.Predict(t.Context(), g, p, x, 30, r)
	if err != nil || out.S != 30 || out.N != 5 {
		t.Fatalf("gaussian: %v", err)
	}
	mean, _, epistemic := out.Regression()
	if math.Abs(mean[2]-want) > 0.2 || !(epistemic[2] > 0) {
		t.Errorf("gaussian predictive mean %v (want ≈ %v), epistemic %v", mean[2], want, epistemic[2])
	}
	for _, tc := range []struct {
		name string
		post infer.Posterior
		s    int
	}{
		{"wrong dim", &infer.Point{Theta: []float64{1}}, 1},
		{"no samples", g, 0},
		{"nil posterior", nil, 1},
	} {
		if _, err := infer.Predict(t.Context(), tc.post, p, x, tc.s, r); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := infer.Predict(ctx, g, p, x, 3, r); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	q := *p
	q.Predict = nil
	if _, err := infer.Predict(t.Context(), g, &q, x, 3, r); err == nil {
		t.Error("a problem without Predict predicted")
	}
}

func linreg3x(n int) (*mat.Dense, []float64) { return infertest.RandomData(n, 3, 0.25, 9) }
