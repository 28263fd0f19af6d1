package predictive

import (
	"fmt"
	"math"
	"strconv"
)

// Observation is a regression observation model in terms of the two
// per-example outputs a network produces for it (a location and a scale; the
// Poisson model reads Loc as its log rate and ignores Scale).
type Observation interface {
	// LogProb is log p(y | loc, scale).
	LogProb(y, loc, scale float64) float64
	// Mean and Var are the moments of y given loc and scale.
	Mean(loc, scale float64) float64
	Var(loc, scale float64) float64
	// CDF is P(Y ≤ y | loc, scale); for a discrete model it is the
	// right-continuous step function.
	CDF(y, loc, scale float64) float64
}

// Kind says which half of the struct is filled.
type Kind int

// Predictive kinds.
const (
	Regression Kind = iota
	Classification
)

// String returns "regression" or "classification".
func (k Kind) String() string {
	switch k {
	case Regression:
		return "regression"
	case Classification:
		return "classification"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Predictive keeps the outputs of S posterior draws at N inputs.
//
// Regression: Loc and Scale are S x N row-major (sample-major) and Obs turns
// them into densities and moments; a nil Obs means Normal{}. Classification:
// LogProb is S x N x K (sample-major, then example, then class)
// log-probabilities, each row normalised (log-softmax outputs, not logits).
//
// A classifier that outputs a Dirichlet over the class probabilities (a
// distilled student, docs/algorithms.md §6) sets Alpha, N x K concentrations,
// with SetDirichlet: S is then 1, LogProb holds the log expected
// probabilities log(α_k/α0), from which LogLik and every probability-based
// metric follow, and Classification uses the Dirichlet's closed-form
// uncertainty split instead of averaging over draws.
type Predictive struct {
	Kind    Kind
	S, N, K int
	Obs     Observation
	Loc     []float64
	Scale   []float64
	LogProb []float64
	Alpha   []float64
}

// Resize sets the dimensions and grows the backing slices, reusing storage.
// It empties Alpha: a resized predictive holds per-draw outputs.
func (p *Predictive) Resize(kind Kind, s, n, k int) {
	p.Kind, p.S, p.N, p.K = kind, s, n, k
	p.Alpha = p.Alpha[:0]
	if kind == Regression {
		p.Loc = grow(p.Loc, s*n)
		p.Scale = grow(p.Scale, s*n)
		p.LogProb = p.LogProb[:0]
		return
	}
	p.LogProb = grow(p.LogProb, s*n*k)
	p.Loc, p.Scale = p.Loc[:0], p.Scale[:0]
}

func grow(b []float64, n int) []float64 {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]float64, n)
}

// SetDirichlet makes p the predictive of a network whose output at each of
// n inputs is a Dirichlet over k class probabilities: Kind Classification,
// S = 1, Alpha = alpha (n x k row-major, kept, not copied), and row n of
// LogProb set to log(α_nk/α_n0), the log of the expected probabilities. It
// panics if len(alpha) != n*k.
func (p *Predictive) SetDirichlet(alpha []float64, n, k int) {
	if n < 0 || k < 1 || len(alpha) != n*k {
		panic(fmt.Sprintf("predictive: SetDirichlet: %d concentrations for %d x %d", len(alpha), n, k))
	}
	p.Resize(Classification, 1, n, k)
	p.Obs = nil
	p.Alpha = alpha
	for i := range n {
		row := alpha[i*k : (i+1)*k]
		a0 := 0.0
		for _, a := range row {
			a0 += a
		}
		la0 := math.Log(a0)
		for j, a := range row {
			p.LogProb[i*k+j] = math.Log(a) - la0
		}
	}
}
