package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Gaussian is a mean-field normal posterior q(θ) = N(Mean, diag(Std²)), as
// VI produces.
type Gaussian struct {
	Mean []float64
	Std  []float64
	By   string // the backend that learned it, e.g. "vi"; Method returns it

	elbo elboEstimate // set by vi's fit (infer/vi_elbo.go), not saved
}

var _ Saver = (*Gaussian)(nil)

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

// Kind returns "gaussian", the key of its decoder.
func (g *Gaussian) Kind() string { return "gaussian" }

// Vectors returns the payload saved to a file: [Mean, Std].
func (g *Gaussian) Vectors() [][]float64 { return [][]float64{g.Mean, g.Std} }

func decodeGaussian(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) != 2 {
		return nil, fmt.Errorf("gaussian posterior has %d vectors, want 2", len(vecs))
	}
	if len(vecs[0]) != len(vecs[1]) {
		return nil, fmt.Errorf("gaussian posterior has %d means and %d scales", len(vecs[0]), len(vecs[1]))
	}
	for j, s := range vecs[1] {
		if !(s >= 0) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("gaussian posterior has scale %g at %d", s, j)
		}
	}
	return &Gaussian{Mean: vecs[0], Std: vecs[1], By: method}, nil
}
