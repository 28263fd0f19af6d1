package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Gaussian is a mean-field normal posterior q(θ) = N(Mean, diag(Std²)), as
// VI produces.
type Gaussian struct {
	Mean []float64
	Std  []float64
	By   string // the backend that learned it, e.g. "vi"; Method returns it
	// Predictive is "glm" (linearised at Mean, drawn in output space; see
	// PredictOutputs) or "nn" (parameter draws through the network).
	Predictive string

	elbo elboEstimate // set by vi's fit (infer/vi_elbo.go), not saved
}

var (
	_ Saver           = (*Gaussian)(nil)
	_ OutputPredictor = (*Gaussian)(nil)
)

// Method returns the backend that learned the posterior.
func (g *Gaussian) Method() string { return g.By }

// Dim returns len(g.Mean).
func (g *Gaussian) Dim() int { return len(g.Mean) }

// Draw returns s fresh draws Mean + Std⊙ε, ε ~ N(0, I), in newly allocated
// vectors (one backing array). It returns nil when s < 1.
func (g *Gaussian) Draw(s int, rng *rand.Rand) [][]float64 {
	if s < 1 {
		return nil
	}
	d := len(g.Mean)
	buf := make([]float64, s*d)
	out := make([][]float64, s)
	for i := range out {
		v := buf[i*d : (i+1)*d : (i+1)*d]
		for j, m := range g.Mean {
			v[j] = m + g.Std[j]*rng.NormFloat64()
		}
		out[i] = v
	}
	return out
}

// Linearised reports whether the predictive is the GLM one.
func (g *Gaussian) Linearised() bool { return g.Predictive == predGLM }

// PredictOutputs returns the linearised predictive at the rows of x: the
// outputs N(f(x, Mean), J diag(Std²) Jᵀ), drawn as a GLM Laplace's are
// (LaplacePosterior.PredictOutputs).
func (g *Gaussian) PredictOutputs(ctx context.Context, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	return weightGaussian{mean: g.Mean, std: g.Std}.predict(ctx, g.By, p, x, samples, rng)
}

// Kind returns "gaussian", the key of its decoder.
func (g *Gaussian) Kind() string { return "gaussian" }

// Vectors returns the payload saved to a file: [Mean, Std], and [1] after
// them when the predictive is glm (glmMark; files without it are nn).
func (g *Gaussian) Vectors() [][]float64 {
	if g.Linearised() {
		return [][]float64{g.Mean, g.Std, {glmMark}}
	}
	return [][]float64{g.Mean, g.Std}
}

func decodeGaussian(method string, vecs [][]float64) (Posterior, error) {
	pred := predNN
	if len(vecs) == 3 && len(vecs[2]) == 1 {
		if err := checkGLMMark(vecs[2][0]); err != nil {
			return nil, fmt.Errorf("gaussian posterior has %v", err)
		}
		pred, vecs = predGLM, vecs[:2]
	}
	if len(vecs) != 2 {
		return nil, fmt.Errorf("gaussian posterior has %d vectors, want 2 or 3", len(vecs))
	}
	if len(vecs[0]) != len(vecs[1]) {
		return nil, fmt.Errorf("gaussian posterior has %d means and %d scales", len(vecs[0]), len(vecs[1]))
	}
	for j, s := range vecs[1] {
		if !(s >= 0) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("gaussian posterior has scale %g at %d", s, j)
		}
	}
	return &Gaussian{Mean: vecs[0], Std: vecs[1], By: method, Predictive: pred}, nil
}
