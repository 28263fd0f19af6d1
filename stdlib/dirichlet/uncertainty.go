package dirichlet

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/stdlib/num"
)

// Uncertainty returns the mean prediction p̂ = α/α0 of Dir(α) and the
// decomposition of its predictive entropy (§6):
//
//	total     = H[p̂]             = −Σ_k p̂_k log p̂_k
//	aleatoric = E_{π~Dir(α)}[H(π)] = Σ_k p̂_k [ψ(α0+1) − ψ(α_k+1)]
//	epistemic = total − aleatoric  (the mutual information I(y; π) ≥ 0)
//
// The epistemic part is computed in a cancellation-free form (see the
// package documentation) and is never negative; aleatoric is then
// total − epistemic. If α is empty or has a value that is not finite and
// positive, prob is all NaN and so are the three numbers. Use
// UncertaintyBatch to avoid allocating prob.
func Uncertainty(alpha []float64) (prob []float64, total, aleatoric, epistemic float64) {
	prob = make([]float64, len(alpha))
	total, aleatoric, epistemic = uncertainty(prob, alpha)
	return prob, total, aleatoric, epistemic
}

// UncertaintyBatch is Uncertainty for N rows of K concentrations at once:
// alpha is a flat row-major N×K slice, and row n's results go to
// prob[n*k:(n+1)*k], total[n], aleatoric[n] and epistemic[n]. Any of the
// four destinations may be nil to skip it; the others must have length N×K
// (prob) or N. It does not allocate. An invalid row gives NaN in that row
// only. It panics if k < 1, if len(alpha) is not a multiple of k, or if a
// destination has the wrong length.
func UncertaintyBatch(prob, total, aleatoric, epistemic, alpha []float64, k int) {
	if k < 1 {
		panic(fmt.Sprintf("dirichlet: UncertaintyBatch: K = %d, want at least 1", k))
	}
	n := rows("UncertaintyBatch", "alpha", alpha, k)
	if prob != nil {
		checkLen("UncertaintyBatch", "prob", len(prob), n*k)
	}
	for _, d := range []struct {
		name string
		v    []float64
	}{{"total", total}, {"aleatoric", aleatoric}, {"epistemic", epistemic}} {
		if d.v != nil {
			checkLen("UncertaintyBatch", d.name, len(d.v), n)
		}
	}
	for i := range n {
		var p []float64
		if prob != nil {
			p = prob[i*k : (i+1)*k]
		}
		t, a, e := uncertainty(p, alpha[i*k:(i+1)*k])
		if total != nil {
			total[i] = t
		}
		if aleatoric != nil {
			aleatoric[i] = a
		}
		if epistemic != nil {
			epistemic[i] = e
		}
	}
}

// uncertainty is Uncertainty writing p̂ into prob, which may be nil.
func uncertainty(prob, alpha []float64) (total, aleatoric, epistemic float64) {
	a0, ok := sumAlpha(alpha)
	if !ok {
		nan := math.NaN()
		for k := range prob {
			prob[k] = nan
		}
		return nan, nan, nan
	}
	// total = Σ p̂_k (log α0 − log α_k); epistemic = Σ p̂_k g(α_k) − g(α0),
	// since log p̂_k = log α_k − log α0 and ψ(x+1) = g(x) + log x.
	la0 := math.Log(a0)
	for k, a := range alpha {
		p := a / a0
		if prob != nil {
			prob[k] = p
		}
		total += p * (la0 - math.Log(a))
		epistemic += p * digammaGap(a)
	}
	epistemic = max(0, epistemic-digammaGap(a0))
	return total, total - epistemic, epistemic
}

// digammaGap returns g(x) = ψ(x+1) − log x = ψ(x) + 1/x − log x for x > 0,
// which is about 1/(2x) for large x. Below 20 it is computed directly (both
// terms are O(1) there and the difference is not small compared to them);
// from 20 on by its asymptotic series
//
//	g(x) = 1/(2x) − 1/(12x²) + 1/(120x⁴) − 1/(252x⁶) + 1/(240x⁸) − 1/(132x¹⁰),
//
// whose truncation error there is below 1e-17, so g keeps full relative
// precision where ψ(x+1) and log x agree in most of their digits.
func digammaGap(x float64) float64 {
	if x < 20 {
		return num.Digamma(x+1) - math.Log(x)
	}
	w := 1 / (x * x)
	return 0.5/x - w*(1.0/12-w*(1.0/120-w*(1.0/252-w*(1.0/240-w/132))))
}

// Entropy returns the differential entropy of Dir(α),
//
//	H[Dir(α)] = log B(α) + (α0 − K) ψ(α0) − Σ_k (α_k − 1) ψ(α_k),
//
// with log B(α) = Σ_k log Γ(α_k) − log Γ(α0), taken with respect to
// Lebesgue measure on the first K−1 coordinates. The uniform Dir(1_K) has
// the largest value, −log Γ(K); it decreases without bound as α0 grows. It
// returns NaN if α is empty or has a value that is not finite and
// positive.
func Entropy(alpha []float64) float64 {
	a0, ok := sumAlpha(alpha)
	if !ok {
		return math.NaN()
	}
	h := -num.Lgamma(a0) + (a0-float64(len(alpha)))*num.Digamma(a0)
	for _, a := range alpha {
		h += num.Lgamma(a) - (a-1)*num.Digamma(a)
	}
	return h
}
