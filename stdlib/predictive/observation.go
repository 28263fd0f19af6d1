package predictive

import (
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/dist"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Compile-time checks that the observation models satisfy Observation.
var (
	_ Observation = Normal{}
	_ Observation = StudentT{}
	_ Observation = Poisson{}
	_ Observation = Gamma{}
	_ Sampler     = Normal{}
	_ Sampler     = StudentT{}
	_ Sampler     = Poisson{}
	_ Sampler     = Gamma{}
)

// Sampler is an observation model that draws targets, for data simulated
// from a model (simulate, prior-predictive checks).
type Sampler interface {
	Rand(loc, scale float64, rng *rand.Rand) float64
}

// Rand draws y ~ N(loc, scale²).
func (Normal) Rand(loc, scale float64, rng *rand.Rand) float64 { return loc + scale*rng.NormFloat64() }

// Rand draws y from the Student-t.
func (t StudentT) Rand(loc, scale float64, rng *rand.Rand) float64 {
	return loc + scale*distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.DF, Src: rng}.Rand()
}

// Rand draws a count with rate exp(loc).
func (Poisson) Rand(loc, _ float64, rng *rand.Rand) float64 {
	return distuv.Poisson{Lambda: math.Exp(loc), Src: rng}.Rand()
}

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

// Gamma is the observation model of a positive target y ~ Gamma with mean
// exp(loc) and shape scale (rate scale/exp(loc)): the network's location
// output is the log mean, so any real output is a valid mean, and the
// variance is mean²/shape.
type Gamma struct{}

func (Gamma) dist(loc, shape float64) distuv.Gamma {
	return distuv.Gamma{Alpha: shape, Beta: shape * math.Exp(-loc)}
}

// LogProb returns log Gamma(y | mean exp(loc), shape), and -Inf when y is
// not positive.
func (Gamma) LogProb(y, loc, shape float64) float64 {
	if !(y > 0) {
		return math.Inf(-1)
	}
	lp, _, _ := dist.GammaLogProb(y, loc, shape)
	return lp
}

// Mean returns exp(loc).
func (Gamma) Mean(loc, _ float64) float64 { return math.Exp(loc) }

// Var returns mean²/shape.
func (Gamma) Var(loc, shape float64) float64 { return math.Exp(2*loc) / shape }

// CDF returns P(Y ≤ y), the regularised lower incomplete gamma function
// P(shape, y·shape/mean); 0 for y ≤ 0.
func (g Gamma) CDF(y, loc, shape float64) float64 {
	switch {
	case math.IsNaN(y) || math.IsNaN(loc) || math.IsNaN(shape):
		return math.NaN()
	case y <= 0:
		return 0
	case math.IsInf(y, 1):
		return 1
	}
	return mathext.GammaIncReg(shape, y*shape*math.Exp(-loc))
}

// Rand draws y from the gamma.
func (g Gamma) Rand(loc, shape float64, rng *rand.Rand) float64 {
	d := g.dist(loc, shape)
	d.Src = rng
	return d.Rand()
}
