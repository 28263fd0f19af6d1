package infer

import (
	"math"
	"math/rand/v2"
)

// elboDraws returns the number of weight-space draws behind the ELBO
// reported at the end of a vi fit. Each costs one forward pass over the
// training rows, so a fit of e epochs with s samples a step gets e·s/10 of
// them (a few percent of its training, which also runs backward), at least
// 2 (for a standard error) and at most 16.
func elboDraws(epochs, samples int) int { return min(16, max(2, epochs*samples/10)) }

// estimateELBO estimates ELBO(q) = E_q[log p(y|θ)] − KL(q‖p) on the full
// training data (docs/algorithms.md §18) from draws draws θ_s = draw(θ), one θ
// for all rows. With a closed-form KL (closed), ℓ_s = log p(y|θ_s) and the
// ELBO is mean ℓ − kl; otherwise ℓ_s = log p(y|θ_s) + log p(θ_s) and it is
// mean ℓ + entropy (the entropy of a Gaussian is exact). The standard error
// is sd(ℓ)/√S.
func estimateELBO(p *Problem, batch, draws int, rng *rand.Rand, draw func(theta []float64, rng *rand.Rand), closed bool, kl, entropy float64) elboEstimate {
	theta := make([]float64, p.Dim)
	idx := make([]int, p.N)
	for i := range idx {
		idx[i] = i
	}
	batch = min(batch, p.N)
	var sum, sumSq float64
	for range draws {
		draw(theta, rng)
		ll := 0.0
		for lo := 0; lo < p.N; lo += batch {
			ll -= p.NegLogLik(nil, theta, idx[lo:min(lo+batch, p.N)])
		}
		if !closed {
			ll -= p.NegLogPrior(nil, theta)
		}
		sum += ll
		sumSq += ll * ll
	}
	n := float64(draws)
	mean := sum / n
	v := max(0, (sumSq-n*mean*mean)/(n-1))
	e := elboEstimate{value: mean - kl, se: math.Sqrt(v / n), ok: true}
	if !closed {
		e.value = mean + entropy
	}
	if !isFinite(e.value) {
		return elboEstimate{}
	}
	return e
}

// meanFieldKL returns the closed-form KL(N(μ, diag σ²) ‖ N(loc, diag s²)).
func meanFieldKL(mu, sigma, loc, scale []float64) float64 {
	kl := 0.0
	for j, m := range mu {
		sg, sc := sigma[j], scale[j]
		diff := m - loc[j]
		kl += math.Log(sc/sg) + 0.5*(sg*sg+diff*diff)/(sc*sc) - 0.5
	}
	return kl
}

// meanFieldEntropy returns the entropy of N(μ, diag σ²).
func meanFieldEntropy(sigma []float64) float64 {
	return sumLog(sigma) + 0.5*float64(len(sigma))*(1+log2Pi)
}

// ELBO returns the evidence lower bound estimated at the end of the vi fit
// that produced g and its Monte-Carlo standard error; ok is false for a
// loaded posterior.
func (g *Gaussian) ELBO() (elbo, se float64, ok bool) { return g.elbo.get() }
