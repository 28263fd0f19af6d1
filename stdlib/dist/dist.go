package dist

import (
	"math"

	"github.com/bayesl/bayesl/stdlib/num"
)

const logSqrt2Pi = 0.91893853320467274178032973640561763986139747363778 // ½ log 2π

// NormalLogProb returns log N(y | loc, scale) and its partial derivatives
// with respect to loc and scale.
func NormalLogProb(y, loc, scale float64) (lp, dLoc, dScale float64) {
	z := (y - loc) / scale
	lp = -logSqrt2Pi - math.Log(scale) - 0.5*z*z
	dLoc = z / scale
	dScale = (z*z - 1) / scale
	return
}

// LaplaceLogProb returns log Laplace(y | loc, scale) and d/dy. At y == loc the
// subgradient 0 is used.
func LaplaceLogProb(y, loc, scale float64) (lp, dY float64) {
	d := y - loc
	lp = -math.Ln2 - math.Log(scale) - math.Abs(d)/scale
	switch {
	case d > 0:
		dY = -1 / scale
	case d < 0:
		dY = 1 / scale
	}
	return
}

// StudentTLogProb returns log StudentT(y | df, loc, scale) and its partial
// derivatives with respect to loc and scale.
func StudentTLogProb(y, df, loc, scale float64) (lp, dLoc, dScale float64) {
	z := (y - loc) / scale
	u := z * z / df
	lp = lgammaHalfDiff(df/2) - 0.5*math.Log(df*math.Pi) - math.Log(scale) - (df+1)/2*math.Log1p(u)
	// d lp / d z = -(df+1) z / (df (1+u))
	dz := -(df + 1) * z / (df * (1 + u))
	dLoc = -dz / scale
	dScale = -1/scale - dz*z/scale
	return
}

// lgammaHalfDiff returns log Γ(x+½) - log Γ(x) for x > 0, the normalising
// term of the Student-t density at x = df/2. Subtracting two Lgamma values
// of size x log x loses about log10(x log x) digits (4e-10 absolute at
// df = 1e6), so for large x the Stirling series of the difference is used:
//
//	½ log x + (x log1p(1/(2x)) - ½) + R(x+½) - R(x),
//
// with R the Stirling remainder, accurate to about 1e-16 absolute.
func lgammaHalfDiff(x float64) float64 {
	if x < 50 {
		return num.Lgamma(x+0.5) - num.Lgamma(x)
	}
	return 0.5*math.Log(x) + (x*math.Log1p(0.5/x) - 0.5) + stirlingRemainder(x+0.5) - stirlingRemainder(x)
}

// stirlingRemainder returns log Γ(z) - [(z-½) log z - z + ½ log 2π] for
// z ≥ 50, truncated after the z⁻⁷ term (the first omitted term is below
// 5e-19 there).
func stirlingRemainder(z float64) float64 {
	w := 1 / (z * z)
	return (1.0/12 - w*(1.0/360-w*(1.0/1260-w*(1.0/1680)))) / z
}

// PoissonLogProb returns log Poisson(y | exp(logRate)) and d/d logRate.
// y must be a non-negative integer value.
func PoissonLogProb(y, logRate float64) (lp, dLogRate float64) {
	lgy, _ := math.Lgamma(y + 1)
	rate := math.Exp(logRate)
	lp = y*logRate - rate - lgy
	dLogRate = y - rate
	return
}

// BernoulliLogitLogProb returns log p(y | logit) for y in {0, 1} and d/d logit.
func BernoulliLogitLogProb(y, logit float64) (lp, dLogit float64) {
	// log σ(l) = -softplus(-l); log(1-σ(l)) = -softplus(l)
	if y > 0.5 {
		lp = -Softplus(-logit)
	} else {
		lp = -Softplus(logit)
	}
	dLogit = y - Sigmoid(logit)
	return
}

// CategoricalLogitLogProb returns log softmax(logits)[k] and writes the
// gradient with respect to the logits (onehot(k) - softmax) into grad when grad
// is non-nil.
func CategoricalLogitLogProb(grad, logits []float64, k int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		if v > m {
			m = v
		}
	}
	s := 0.0
	for _, v := range logits {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	if grad != nil {
		for i, v := range logits {
			grad[i] = -math.Exp(v - lse)
		}
		grad[k]++
	}
	return logits[k] - lse
}

// Softplus returns log(1 + e^x) without overflow or loss of precision. It is
// num.Softplus, kept here so that callers of the densities need one import.
func Softplus(x float64) float64 {
	return num.Softplus(x)
}

// Sigmoid returns 1/(1+e^{-x}) without overflow; it is the derivative of
// Softplus. It is num.Sigmoid.
func Sigmoid(x float64) float64 {
	return num.Sigmoid(x)
}

// StudentTLogProbY returns log StudentT(y | df, loc, scale) and its
// derivative with respect to y, the form a Student-t prior on a weight needs
// (the gradient flows into the weight, not into fixed hyperparameters).
// dY is -dLoc of StudentTLogProb.
func StudentTLogProbY(y, df, loc, scale float64) (lp, dY float64) {
	lp, dLoc, _ := StudentTLogProb(y, df, loc, scale)
	return lp, -dLoc
}

// KLNormal returns KL(N(mu, sigma²) ‖ N(priorLoc, priorScale²)) and its
// partial derivatives with respect to mu and sigma (docs/algorithms.md §7):
//
//	KL = log(priorScale/sigma) + (sigma² + (mu-priorLoc)²)/(2 priorScale²) - ½
//	dMu = (mu-priorLoc)/priorScale²
//	dSigma = sigma/priorScale² - 1/sigma
//
// With r = sigma/priorScale the variance part ½(r² - 1 - log r²) is computed
// as ½(expm1(u) - u), u = 2 log r, so that it does not cancel to a few
// digits when a mean-field factor sits close to its prior (r ≈ 1), which is
// where most weights of a wide network stay. sigma and priorScale must be
// positive; otherwise the result is NaN or ±Inf.
func KLNormal(mu, sigma, priorLoc, priorScale float64) (kl, dMu, dSigma float64) {
	u := 2 * math.Log(sigma/priorScale)
	d := (mu - priorLoc) / priorScale
	kl = 0.5 * ((math.Expm1(u) - u) + d*d)
	v := priorScale * priorScale
	dMu = (mu - priorLoc) / v
	dSigma = sigma/v - 1/sigma
	return kl, dMu, dSigma
}

// GammaLogProb returns log Gamma(y | mean exp(logMean), shape α) and its
// derivatives in logMean and α, the parameterisation in which a network
// models a positive target: the rate is α/mean, the variance mean²/α, and
// the two parameters are orthogonal (their Fisher information is
// diagonal, GammaFisher). y must be positive.
func GammaLogProb(y, logMean, shape float64) (lp, dLogMean, dShape float64) {
	r := y * math.Exp(-logMean) // y / mean
	ly := math.Log(y)
	lg, _ := math.Lgamma(shape)
	la := math.Log(shape)
	lp = shape*(la-logMean-r) + (shape-1)*ly - lg
	dLogMean = shape * (r - 1)
	dShape = la + 1 - logMean - r + ly - num.Digamma(shape)
	return
}

// GammaFisher returns the Fisher information of GammaLogProb's two
// parameters, which is diagonal: α for the log mean and ψ'(α) - 1/α for
// the shape. Neither depends on y, which is what a Gauss–Newton curvature
// needs.
func GammaFisher(shape float64) (logMean, shapeInfo float64) {
	return shape, Trigamma(shape) - 1/shape
}

// Trigamma returns ψ'(x) for x > 0: the recurrence ψ'(x) = ψ'(x+1) + 1/x²
// up to x ≥ 20, then the asymptotic series 1/x + 1/(2x²) + Σ B₂ₖ/x^(2k+1),
// truncated after the x⁻⁹ term (the next is below 1e-14 there).
func Trigamma(x float64) float64 {
	if !(x > 0) {
		return math.NaN()
	}
	r := 0.0
	for ; x < 20; x++ {
		r += 1 / (x * x)
	}
	w := 1 / (x * x)
	return r + 1/x + w/2 + w/x*(1.0/6-w*(1.0/30-w*(1.0/42-w/30)))
}
