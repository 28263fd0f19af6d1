package dirichlet

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/stdlib/num"
)

// Eps is the guard of the reference distillation loss, which takes
// log(π_k + Eps) of every teacher probability so that a class the teacher
// rules out exactly (π_k = 0) costs a large but finite amount instead of
// −Inf (docs/algorithms.md §6). MeanLog, AddLog and NLL apply it; LogProb does
// not. Its effect on a probability π_k is about Eps/π_k in the log.
const Eps = 1e-8

// LogProb returns the exact log-density of the Dirichlet distribution,
//
//	log Dir(π | α) = log Γ(α0) − Σ_k log Γ(α_k) + Σ_k (α_k − 1) log π_k,
//
// with α0 = Σ_k α_k. π is assumed to lie on the simplex (this is not
// checked, as in gonum's distmv.Dirichlet). A term with α_k = 1 is 0 even
// where π_k = 0; otherwise π_k = 0 gives −Inf for α_k > 1 and +Inf for
// α_k < 1. No guard is applied: the reference loss's log(π_k + Eps) is the
// job of MeanLog, AddLog and NLL, so −NLL with a single sample of weight 1
// is LogProb up to about Eps/min π_k. It returns NaN if α is empty or has a
// value that is not finite and positive. It panics if len(pi) != len(alpha).
func LogProb(pi, alpha []float64) float64 {
	checkLen("LogProb", "pi", len(pi), len(alpha))
	a0, ok := sumAlpha(alpha)
	if !ok {
		return math.NaN()
	}
	lp := num.Lgamma(a0)
	for k, a := range alpha {
		lp -= num.Lgamma(a)
		if a != 1 {
			lp += (a - 1) * math.Log(pi[k])
		}
	}
	return lp
}

// AddLog adds the weighted log-probabilities of S teacher samples to acc,
//
//	acc[k] += Σ_m w_m log(π_k^(m) + Eps),   m = 0..S−1,
//
// and returns W = Σ_m w_m. K is len(acc); samples is a flat row-major S×K
// slice (row m is π^(m)), and weights has length S, or is nil for w_m = 1.
// Calling AddLog on successive chunks of one input's samples and dividing
// acc by the summed W gives the same mean as MeanLog on all of them, so
// teacher samples can be streamed. It panics if acc is empty, if
// len(samples) is not a multiple of K, or if weights has the wrong length.
func AddLog(acc, samples, weights []float64) float64 {
	k := len(acc)
	s := rows("AddLog", "acc", samples, k)
	if weights != nil && len(weights) != s {
		panic(fmt.Sprintf("dirichlet: AddLog: %d weights for %d samples", len(weights), s))
	}
	var w float64
	for m := range s {
		wm := 1.0
		if weights != nil {
			wm = weights[m]
		}
		w += wm
		row := samples[m*k : (m+1)*k]
		for j, p := range row {
			acc[j] += wm * math.Log(p+Eps)
		}
	}
	return w
}

// MeanLog writes the weighted mean log-probabilities of S teacher samples,
//
//	dst[k] = Σ_m w_m log(π_k^(m) + Eps) / Σ_m w_m,
//
// into dst and returns it: the sufficient statistic of the distillation
// loss for one input (see NLLStats). K is len(dst), which must be at least
// 1 (it sets K, so dst cannot be nil). samples is a flat row-major S×K
// slice and weights has length S, or is nil for uniform weights. With S = 0
// or weights summing to zero, dst is filled with NaN. It panics on the
// length errors of AddLog.
func MeanLog(dst, samples, weights []float64) []float64 {
	clear(dst)
	w := AddLog(dst, samples, weights)
	for j := range dst {
		if w == 0 {
			dst[j] = math.NaN()
		} else {
			dst[j] /= w
		}
	}
	return dst
}

// NLL returns the weighted Dirichlet negative log-likelihood of the teacher
// samples, the distillation loss of one input,
//
//	L(α) = −Σ_m w_m [log Γ(α0) − Σ_k log Γ(α_k) + Σ_k (α_k − 1) log(π_k^(m) + Eps)],
//
// and, if grad is not nil, writes its gradient
//
//	∂L/∂α_k = −W·[ψ(α0) − ψ(α_k)] − Σ_m w_m log(π_k^(m) + Eps),   W = Σ_m w_m,
//
// into grad. K is len(alpha); samples is a flat row-major S×K slice and
// weights has length S, or is nil for w_m = 1 (so the loss is a sum over
// samples; pass weights summing to one, or divide by S, for §6's
// expectation). NLL does not allocate. It returns NaN (and a NaN gradient)
// if α has a value that is not finite and positive. It panics if
// len(samples) is not a multiple of K, or if grad or weights has the wrong
// length.
func NLL(grad, alpha, samples, weights []float64) float64 {
	k := len(alpha)
	s := rows("NLL", "alpha", samples, k)
	if weights != nil && len(weights) != s {
		panic(fmt.Sprintf("dirichlet: NLL: %d weights for %d samples", len(weights), s))
	}
	if grad != nil {
		checkLen("NLL", "grad", len(grad), k)
		clear(grad)
	}
	// Σ_m w_m Σ_k (α_k − 1) log π_k, accumulating T_k into grad on the way.
	var w, cross float64
	for m := range s {
		wm := 1.0
		if weights != nil {
			wm = weights[m]
		}
		w += wm
		row := samples[m*k : (m+1)*k]
		for j, p := range row {
			l := wm * math.Log(p+Eps)
			cross += (alpha[j] - 1) * l
			if grad != nil {
				grad[j] += l
			}
		}
	}
	a0, ok := sumAlpha(alpha)
	if !ok {
		for j := range grad {
			grad[j] = math.NaN()
		}
		return math.NaN()
	}
	norm := num.Lgamma(a0)
	psi0 := num.Digamma(a0)
	for j, a := range alpha {
		norm -= num.Lgamma(a)
		if grad != nil {
			grad[j] = -w*(psi0-num.Digamma(a)) - grad[j]
		}
	}
	return -w*norm - cross
}

// NLLStats returns the distillation loss of one input from its sufficient
// statistics, meanLog = MeanLog(…) and the total weight w of the samples
// behind it (1 for §6's weights, which sum to one):
//
//	L(α) = −w·[log Γ(α0) − Σ_k log Γ(α_k) + Σ_k (α_k − 1)·meanLog_k],
//
// and, if grad is not nil, writes ∂L/∂α_k = −w·[ψ(α0) − ψ(α_k) + meanLog_k]
// into grad (which may alias meanLog). The result equals NLL on the samples
// themselves. It returns NaN (and a NaN gradient) if α has a value that is
// not finite and positive. It panics if meanLog or grad does not have
// length len(alpha).
func NLLStats(grad, alpha, meanLog []float64, w float64) float64 {
	k := len(alpha)
	checkLen("NLLStats", "meanLog", len(meanLog), k)
	if grad != nil {
		checkLen("NLLStats", "grad", len(grad), k)
	}
	a0, ok := sumAlpha(alpha)
	if !ok {
		for j := range grad {
			grad[j] = math.NaN()
		}
		return math.NaN()
	}
	ll := num.Lgamma(a0)
	psi0 := num.Digamma(a0)
	for j, a := range alpha {
		t := meanLog[j]
		ll += (a-1)*t - num.Lgamma(a)
		if grad != nil {
			grad[j] = -w * (psi0 - num.Digamma(a) + t)
		}
	}
	return -w * ll
}

// Alpha writes the student's concentrations α_k = softplus(z_k) + 1 into
// dst and returns it (§6: every α_k ≥ 1, so α0 ≥ K). If dst is nil a new
// slice is allocated; otherwise it must have length len(z) and may alias z.
func Alpha(dst, z []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(z))
	}
	checkLen("Alpha", "dst", len(dst), len(z))
	for k, v := range z {
		dst[k] = num.Softplus(v) + 1
	}
	return dst
}

// GradLogits applies the chain rule through α = softplus(z) + 1: it writes
// ∂L/∂z_k = ∂L/∂α_k · sigmoid(z_k) into dst and returns it, given the
// gradient gradAlpha with respect to α (from NLL or NLLStats) and the
// logits z. If dst is nil a new slice is allocated; otherwise it must have
// length len(z) and may alias gradAlpha or z.
func GradLogits(dst, gradAlpha, z []float64) []float64 {
	checkLen("GradLogits", "gradAlpha", len(gradAlpha), len(z))
	if dst == nil {
		dst = make([]float64, len(z))
	}
	checkLen("GradLogits", "dst", len(dst), len(z))
	for k, v := range z {
		dst[k] = gradAlpha[k] * num.Sigmoid(v)
	}
	return dst
}

// sumAlpha returns α0 = Σ α_k, and false if α is empty or has a value that
// is not finite and positive.
func sumAlpha(alpha []float64) (float64, bool) {
	var a0 float64
	for _, a := range alpha {
		if !(a > 0) || math.IsInf(a, 1) {
			return 0, false
		}
		a0 += a
	}
	return a0, len(alpha) > 0 && !math.IsInf(a0, 1)
}

func checkLen(fn, what string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("dirichlet: %s: len(%s) = %d, want %d", fn, what, got, want))
	}
}

// rows returns the number of K-vectors in the flat slice v, panicking if K
// is zero or does not divide len(v).
func rows(fn, what string, v []float64, k int) int {
	if k == 0 {
		panic(fmt.Sprintf("dirichlet: %s: empty %s (K = 0)", fn, what))
	}
	if len(v)%k != 0 {
		panic(fmt.Sprintf("dirichlet: %s: %d values are not rows of K = %d", fn, len(v), k))
	}
	return len(v) / k
}
