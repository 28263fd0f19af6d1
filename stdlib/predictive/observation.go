package predictive

import (
	"math"

	"github.com/bayesl/bayesl/stdlib/dist"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Compile-time checks that the observation models satisfy Observation.
var (
	_ Observation = Normal{}
	_ Observation = StudentT{}
	_ Observation = Poisson{}
)

// Normal is the Gaussian observation model y ~ N(loc, scale²). Scale is the
// standard deviation.
type Normal struct{}

// LogProb returns log N(y | loc, scale²).
func (Normal) LogProb(y, loc, scale float64) float64 {
	lp, _, _ := dist.NormalLogProb(y, loc, scale)
	return lp
}

// Mean returns loc.
func (Normal) Mean(loc, _ float64) float64 { return loc }

// Var returns scale².
func (Normal) Var(_, scale float64) float64 { return scale * scale }

// CDF returns Φ((y-loc)/scale), computed as ½ erfc((loc-y)/(scale √2)) so
// that the lower tail keeps its relative precision instead of being 1 - a
// number close to 1.
func (Normal) CDF(y, loc, scale float64) float64 {
	return 0.5 * math.Erfc((loc-y)/(scale*math.Sqrt2))
}

// StudentT is the location-scale Student-t observation model with DF > 0
// degrees of freedom, a heavy-tailed alternative to Normal that is robust
// to outliers.
type StudentT struct {
	DF float64
}

// LogProb returns log StudentT(y | DF, loc, scale).
func (t StudentT) LogProb(y, loc, scale float64) float64 {
	lp, _, _ := dist.StudentTLogProb(y, t.DF, loc, scale)
	return lp
}

// Mean returns loc for DF > 1; the mean does not exist (NaN) otherwise.
func (t StudentT) Mean(loc, _ float64) float64 {
	if t.DF > 1 {
		return loc
	}
	return math.NaN()
}

// Var returns scale²·DF/(DF-2) for DF > 2, +Inf for 1 < DF ≤ 2 and NaN for
// DF ≤ 1.
func (t StudentT) Var(_, scale float64) float64 {
	switch {
	case t.DF > 2:
		return scale * scale * t.DF / (t.DF - 2)
	case t.DF > 1:
		return math.Inf(1)
	}
	return math.NaN()
}

// CDF returns P(Y ≤ y), through the regularised incomplete beta function
// (gonum distuv.StudentsT).
func (t StudentT) CDF(y, loc, scale float64) float64 {
	return distuv.StudentsT{Mu: loc, Sigma: scale, Nu: t.DF}.CDF(y)
}

// Poisson is the count observation model y ~ Poisson(exp(loc)): the network's
// location output is the log rate, so any real output is a valid rate.
// Scale is ignored.
type Poisson struct{}

// LogProb returns log Poisson(y | exp(loc)), and -Inf when y is not a
// non-negative integer.
func (Poisson) LogProb(y, loc, _ float64) float64 {
	if !(y >= 0) || y != math.Floor(y) {
		return math.Inf(-1)
	}
	lp, _ := dist.PoissonLogProb(y, loc)
	return lp
}

// Mean returns the rate exp(loc).
func (Poisson) Mean(loc, _ float64) float64 { return math.Exp(loc) }

// Var returns the rate exp(loc): a Poisson's variance equals its mean.
func (Poisson) Var(loc, _ float64) float64 { return math.Exp(loc) }

// CDF returns P(Y ≤ y) = Q(⌊y⌋+1, exp(loc)), the regularised upper
// incomplete gamma function; it is 0 for y < 0 and 1 for y = +Inf. As for
// every discrete model, the CDF at the observed y is not uniformly
// distributed even under a calibrated model, which interval coverage
// should keep in mind.
func (Poisson) CDF(y, loc, _ float64) float64 {
	switch {
	case math.IsNaN(y) || math.IsNaN(loc):
		return math.NaN()
	case y < 0:
		return 0
	case math.IsInf(y, 1):
		return 1
	}
	return mathext.GammaIncRegComp(math.Floor(y)+1, math.Exp(loc))
}
