// Package dist holds the scalar log-densities bayesl needs, with their
// derivatives in closed form, written in numerically stable forms. It knows
// nothing of the language: compile calls these inside its vectorised loops,
// infer calls the prior densities, predictive calls the observation models.
package dist

import "math"

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
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	u := z * z / df
	lp = lg1 - lg2 - 0.5*math.Log(df*math.Pi) - math.Log(scale) - (df+1)/2*math.Log1p(u)
	// d lp / d z = -(df+1) z / (df (1+u))
	dz := -(df + 1) * z / (df * (1 + u))
	dLoc = -dz / scale
	dScale = -1/scale - dz*z/scale
	return
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

// Softplus returns log(1 + e^x) without overflow or loss of precision.
func Softplus(x float64) float64 {
	return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

// Sigmoid returns 1/(1+e^{-x}) without overflow; it is the derivative of Softplus.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
