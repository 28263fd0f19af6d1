package num

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// LogSumExp returns log Σ_i exp(x_i), computed as m + log Σ exp(x_i - m) with
// m = max x_i so that no term overflows and the largest term is exactly 1.
//
// An empty input, or one that is all -Inf, returns -Inf (the log of an empty
// sum). If any x_i is +Inf the result is +Inf, and any NaN gives NaN.
func LogSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
		if v > m {
			m = v
		}
	}
	if math.IsInf(m, 0) {
		// All -Inf (or empty) gives -Inf; any +Inf dominates the sum.
		return m
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// LogMeanExp returns log((1/n) Σ_i exp(x_i)) = LogSumExp(x) - log n, the
// log of an average of densities given their logs. It is how a Monte-Carlo
// posterior predictive turns S per-sample log-likelihoods into one.
//
// An empty input returns NaN: the mean of nothing is undefined.
func LogMeanExp(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return LogSumExp(x) - math.Log(float64(len(x)))
}

// LogSoftmax writes z_k - LogSumExp(z) into dst and returns it. If dst is nil
// a new slice is allocated; otherwise it must have len(z) elements and may
// alias z. Probabilities should be taken as exp(LogSoftmax(z)), never as
// exp(z)/Σ exp(z), which overflows for logits above about 709.
func LogSoftmax(dst, z []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(z))
	}
	if len(dst) != len(z) {
		panic("num: LogSoftmax: len(dst) != len(z)")
	}
	// (z_k - m) - log Σ exp(z_j - m) rather than z_k - LogSumExp(z): the
	// subtraction of the maximum is exact for the leading logits, whereas
	// rounding m + log Σ to a float near a large m would throw away the low
	// bits of every result (1000 has an ulp of 1e-13).
	m := math.Inf(-1)
	for _, v := range z {
		if v > m || math.IsNaN(v) {
			m = v
		}
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		lse := LogSumExp(z)
		for i, v := range z {
			dst[i] = v - lse
		}
		return dst
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - m)
	}
	ls := math.Log(s)
	for i, v := range z {
		dst[i] = (v - m) - ls
	}
	return dst
}

// Softplus returns log(1 + e^x), computed as max(x, 0) + log1p(e^{-|x|}).
// The exponent is never positive, so nothing overflows for large x, and
// log1p keeps full relative precision for very negative x, where the result
// is about e^x. It maps a real parameter ρ to a positive scale σ = Softplus(ρ).
//
// Below x ≈ -745 the true value e^x is smaller than the smallest float64.
// Rather than round it to 0, which would make σ = 0 and log σ = -Inf,
// Softplus returns the smallest positive float64 there, so the result is
// strictly positive for every finite x (Softplus(-800) > 0). Softplus(-Inf)
// is 0.
func Softplus(x float64) float64 {
	v := math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
	if v == 0 && !math.IsInf(x, -1) {
		return math.SmallestNonzeroFloat64
	}
	return v
}

// SoftplusInv returns the x with Softplus(x) = y, for y > 0, computed as
// y + log(-expm1(-y)). The direct form log(e^y - 1) overflows for y above
// about 709 and loses every digit to cancellation for small y; expm1 keeps
// both ends exact. It initialises ρ from a target scale σ.
//
// SoftplusInv(0) is -Inf and a negative y gives NaN.
func SoftplusInv(y float64) float64 {
	return y + math.Log(-math.Expm1(-y))
}

// Sigmoid returns 1/(1 + e^{-x}), the derivative of Softplus. Each branch
// only exponentiates a non-positive number, so it neither overflows nor
// produces Inf/Inf for large |x|.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// XLogX returns p·log p, with the limit value 0 at p = 0 (where the product
// is 0·(-Inf) = NaN in floating point). Entropies are -Σ XLogX(p_k).
func XLogX(p float64) float64 {
	if p == 0 {
		return 0
	}
	return p * math.Log(p)
}

// Lgamma returns log|Γ(x)|, dropping the sign that math.Lgamma also
// returns. Only positive arguments occur in bayesl, where Γ(x) > 0.
func Lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// digammaShift is where Digamma hands over to gonum's asymptotic series.
const digammaShift = 20

// Digamma returns ψ(x) = d/dx log Γ(x). It wraps gonum's mathext.Digamma,
// which applies the recurrence ψ(x) = ψ(x+1) - 1/x up to x ≥ 7 and then a
// truncated asymptotic series whose truncation error near x = 7 is about
// 5e-11. For 0 < x < 20 the recurrence is applied here first, up to x ≥ 20,
// where the same series is accurate to about 1e-15; this keeps the identity
// ψ(x+1) - ψ(x) = 1/x to within rounding. Other arguments (x ≤ 0, NaN,
// ±Inf, x ≥ 20) go to gonum unchanged.
func Digamma(x float64) float64 {
	if !(x > 0) || x >= digammaShift {
		return mathext.Digamma(x)
	}
	r := 0.0
	for ; x < digammaShift; x++ {
		r -= 1 / x
	}
	return r + mathext.Digamma(x)
}
