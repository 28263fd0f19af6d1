package predictive

import "strconv"

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
type Predictive struct {
	Kind    Kind
	S, N, K int
	Obs     Observation
	Loc     []float64
	Scale   []float64
	LogProb []float64
}

// Resize sets the dimensions and grows the backing slices, reusing storage.
func (p *Predictive) Resize(kind Kind, s, n, k int) {
	p.Kind, p.S, p.N, p.K = kind, s, n, k
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
