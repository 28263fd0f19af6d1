package infer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// outputProblem is a classifier whose outputs are θ itself at every row
// (Jacobian I), so that a diagonal posterior's functional covariance is
// diag(Std²).
func outputProblem(classes int, theta []float64) *Problem {
	w := len(theta)
	return &Problem{
		Dim: w, Kind: predictive.Classification, Classes: classes, OutputWidth: w,
		Outputs: func(dst *mat.Dense, th []float64, x *mat.Dense) {
			rows, _ := x.Dims()
			for r := range rows {
				dst.SetRow(r, th)
			}
		},
		Jacobian: func(dst, th []float64, x *mat.Dense) {
			rows, _ := x.Dims()
			clear(dst)
			for r := range rows {
				for k := range w {
					dst[(r*w+k)*w+k] = 1
				}
			}
		},
		Predict: func(*predictive.Predictive, [][]float64, *mat.Dense) {},
	}
}

// The probit sanity values of docs/algorithms.md §12.
func TestLaplaceProbit(t *testing.T) {
	x := mat.NewDense(1, 1, nil)
	for _, c := range []struct {
		mu, sd []float64
		k      int
		want   []float64
	}{
		{[]float64{1}, []float64{1}, 2, []float64{1 - 0.700014, 0.700014}},
		{[]float64{2}, []float64{2}, 2, []float64{1 - 0.776845, 0.776845}},
		{[]float64{2, 0, -1}, []float64{1, 2, math.Sqrt(0.5)}, 3, []float64{0.795383, 0.146071, 0.058547}},
	} {
		q := &LaplacePosterior{Mean: c.mu, Std: c.sd, Predictive: predGLM, LinkApprox: linkProbit}
		pred, err := q.PredictOutputs(context.Background(), outputProblem(c.k, c.mu), x, 10, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		for j, w := range c.want {
			if got := math.Exp(pred.LogProb[j]); math.Abs(got-w) > 1e-6 {
				t.Errorf("μ %v: p[%d] = %.6f, want %.6f", c.mu, j, got, w)
			}
		}
	}
}

// The MC link draws logits from N(μ, Σ): the mean of the drawn logits and
// their covariance match, including the correlations of a full block.
func TestLaplaceMCLogits(t *testing.T) {
	mu := []float64{0.5, -1, 0.2}
	prec := mat.NewSymDense(3, []float64{2, 0.5, 0, 0.5, 1, 0.3, 0, 0.3, 4})
	var ch mat.Cholesky
	ch.Factorize(prec)
	var u mat.TriDense
	ch.UTo(&u)
	var cov mat.SymDense
	ch.InverseTo(&cov)
	q := &LaplacePosterior{Mean: mu, Factor: &u, Predictive: predGLM, LinkApprox: linkMC}
	p := outputProblem(3, mu)
	fc, err := q.FunctionalCovariance(context.Background(), p, mat.NewDense(2, 1, nil))
	if err != nil {
		t.Fatal(err)
	}
	for a := range 3 {
		for b := range 3 {
			if math.Abs(fc[9+a*3+b]-cov.At(a, b)) > 1e-12 {
				t.Errorf("J Σ Jᵀ[%d,%d] = %g, want %g", a, b, fc[9+a*3+b], cov.At(a, b))
			}
		}
	}
	const S = 20000
	pred, err := q.PredictOutputs(context.Background(), p, mat.NewDense(1, 1, nil), S, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// Log-softmax loses the common shift: compare differences to logit 0.
	var m [2]float64
	for s := range S {
		lp := pred.LogProb[s*3 : s*3+3]
		m[0] += lp[1] - lp[0]
		m[1] += lp[2] - lp[0]
	}
	for i, want := range []float64{mu[1] - mu[0], mu[2] - mu[0]} {
		if got := m[i] / S; math.Abs(got-want) > 0.02 {
			t.Errorf("mean logit difference %d: %.4f, want %.4f", i, got, want)
		}
	}
}
