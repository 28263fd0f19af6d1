package infer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// jacobianProblem has a fixed, row-dependent W x d Jacobian J_r (entries
// cos(r + 3a + 7t)), so that J Σ Jᵀ can be checked against the dense
// product.
func jacobianProblem(d, w int) (*Problem, func(r int) *mat.Dense) {
	jr := func(r int) *mat.Dense {
		m := mat.NewDense(w, d, nil)
		for a := range w {
			for t := range d {
				m.Set(a, t, math.Cos(float64(r+3*a+7*t)))
			}
		}
		return m
	}
	return &Problem{
		Dim: d, Kind: predictive.Classification, Classes: w, OutputWidth: w,
		Jacobian: func(dst, th []float64, x *mat.Dense) {
			rows, _ := x.Dims()
			for r := range rows {
				copy(dst[r*w*d:(r+1)*w*d], jr(int(x.At(r, 0))).RawMatrix().Data)
			}
		},
		Outputs: func(dst *mat.Dense, th []float64, x *mat.Dense) {},
		Predict: func(*predictive.Predictive, [][]float64, *mat.Dense) {},
	}, jr
}

// J Σ Jᵀ from the factors (J∘σ)(J∘σ)ᵀ + (J U)(J U)ᵀ equals the dense
// product with Σ = diag σ² + U Uᵀ, for a diagonal Σ, a low-rank-plus-
// diagonal one (vi's) and SWAG's scale·(diag var + D̂D̂ᵀ/(k−1)).
func TestFunctionalCovarianceClosedForm(t *testing.T) {
	const d, w, k, rows = 7, 3, 2, 5
	rng := rand.New(rand.NewPCG(4, 4))
	mean, std, u := make([]float64, d), make([]float64, d), make([]float64, d*k)
	for j := range d {
		mean[j], std[j] = rng.NormFloat64(), 0.1+rng.Float64()
		for c := range k {
			u[j*k+c] = rng.NormFloat64()
		}
	}
	cols := [][]float64{make([]float64, d), make([]float64, d), make([]float64, d)}
	variance := make([]float64, d)
	for j := range d {
		variance[j] = std[j] * std[j]
		for _, c := range cols {
			c[j] = rng.NormFloat64()
		}
	}
	const scale = 0.5
	sw := newSWAGPosterior("swag", scale, false, 10, mean, variance, cols)
	dense := func(diag bool, lowRank bool, swag bool) *mat.Dense {
		s := mat.NewDense(d, d, nil)
		for i := range d {
			for j := range d {
				v := 0.0
				switch {
				case swag:
					if i == j {
						v = scale * variance[i]
					}
					for _, c := range cols {
						v += scale / float64(len(cols)-1) * c[i] * c[j]
					}
				default:
					if diag && i == j {
						v = std[i] * std[i]
					}
					if lowRank {
						v += dot(u[i*k:(i+1)*k], u[j*k:(j+1)*k])
					}
				}
				s.Set(i, j, v)
			}
		}
		return s
	}
	p, jr := jacobianProblem(d, w)
	x := mat.NewDense(rows, 1, nil)
	for r := range rows {
		x.Set(r, 0, float64(r))
	}
	for _, c := range []struct {
		name  string
		g     weightGaussian
		sigma *mat.Dense
	}{
		{"diagonal", weightGaussian{mean: mean, std: std}, dense(true, false, false)},
		{"low rank", weightGaussian{mean: mean, u: u, k: k}, dense(false, true, false)},
		{"low rank + diagonal", weightGaussian{mean: mean, std: std, u: u, k: k}, dense(true, true, false)},
		{"swag", sw.weightGaussian(), dense(false, false, true)},
	} {
		got, err := c.g.functionalCovariance(context.Background(), "test", p, x)
		if err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			var want mat.Dense
			j := jr(r)
			want.Product(j, c.sigma, j.T())
			for a := range w {
				for b := range w {
					if g, e := got[r*w*w+a*w+b], want.At(a, b); math.Abs(g-e) > 1e-10*(1+math.Abs(e)) {
						t.Errorf("%s: row %d J Σ Jᵀ[%d,%d] = %.12g, want %.12g", c.name, r, a, b, g, e)
					}
				}
			}
		}
	}
}

// A mixture's linearised predictive gives each component its share of the
// draws (round-robin, as Draw) and stacks them.
func TestMixturePredictiveShares(t *testing.T) {
	p := outputProblem(2, []float64{0.5, -0.5})
	p.Outputs = func(dst *mat.Dense, th []float64, x *mat.Dense) {
		rows, _ := x.Dims()
		for r := range rows {
			dst.SetRow(r, th)
		}
	}
	parts := []weightGaussian{
		{mean: []float64{3, -3}, std: []float64{0, 0}},
		{mean: []float64{-3, 3}, std: []float64{0, 0}},
		{mean: []float64{0, 0}, std: []float64{0, 0}},
	}
	pred, err := mixturePredictive(context.Background(), "test", parts, p, mat.NewDense(1, 1, nil), 8, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if pred.S != 8 || len(pred.LogProb) != 8*2 {
		t.Fatalf("S = %d with %d log-probabilities, want 8 and 16", pred.S, len(pred.LogProb))
	}
	// Draws 0-2 from the first mean, 3-5 the second, 6-7 the third.
	for s, want := range []float64{6, 6, 6, -6, -6, -6, 0, 0} {
		lp := pred.LogProb[s*2 : s*2+2]
		if got := lp[0] - lp[1]; math.Abs(got-want) > 1e-12 {
			t.Errorf("draw %d: logit difference %g, want %g", s, got, want)
		}
	}
}
