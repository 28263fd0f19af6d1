package predictive

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
	"github.com/bayesl/bayesl/stdlib/num"
)

// miClamp is how far below zero a mutual information may fall through
// rounding and still be reported as 0 (docs/algorithms.md §1).
const miClamp = 1e-12

// obs returns the observation model, Normal when none was set.
func (p *Predictive) obs() Observation {
	if p.Obs == nil {
		return Normal{}
	}
	return p.Obs
}

// check panics unless p is of the given kind and its slices hold S, N (and
// K) as promised.
func (p *Predictive) check(kind Kind, method string) {
	if p.Kind != kind {
		panic(fmt.Sprintf("predictive: %s called on a %v predictive", method, p.Kind))
	}
	if p.S < 0 || p.N < 0 || p.K < 0 {
		panic(fmt.Sprintf("predictive: %s: negative dimensions S=%d N=%d K=%d", method, p.S, p.N, p.K))
	}
	switch kind {
	case Regression:
		if n := p.S * p.N; len(p.Loc) < n || len(p.Scale) < n {
			panic(fmt.Sprintf("predictive: %s: Loc and Scale need S*N = %d values, have %d and %d",
				method, n, len(p.Loc), len(p.Scale)))
		}
	case Classification:
		if n := p.S * p.N * p.K; len(p.LogProb) < n {
			panic(fmt.Sprintf("predictive: %s: LogProb needs S*N*K = %d values, have %d", method, n, len(p.LogProb)))
		}
		if n := p.N * p.K; len(p.Alpha) != 0 && (len(p.Alpha) != n || p.S != 1) {
			panic(fmt.Sprintf("predictive: %s: Alpha needs N*K = %d values and S = 1, have %d and S = %d", method, n, len(p.Alpha), p.S))
		}
	}
}

// nans returns a slice of n NaNs, the per-example value of a mean over zero
// samples.
func nans(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// Regression returns, per example, the predictive mean and the two parts of
// the predictive variance (docs/algorithms.md §1):
//
//	mean      = (1/S) Σ_s μ_s
//	aleatoric = (1/S) Σ_s σ_s²              (expected observation noise)
//	epistemic = (1/S) Σ_s (μ_s - mean)²     (spread of the sample means)
//
// where μ_s and σ_s² are Obs.Mean and Obs.Var of sample s. The 1/S (not
// 1/(S-1)) normaliser makes aleatoric + epistemic exactly the variance of
// the S-component mixture. It panics if p is not a regression predictive.
func (p *Predictive) Regression() (mean, aleatoric, epistemic []float64) {
	p.check(Regression, "Regression")
	S, N, obs := p.S, p.N, p.obs()
	if S == 0 {
		return nans(N), nans(N), nans(N)
	}
	mean = make([]float64, N)
	aleatoric = make([]float64, N)
	epistemic = make([]float64, N)
	for s := range S {
		loc, scale := p.Loc[s*N:(s+1)*N], p.Scale[s*N:(s+1)*N]
		for n := range N {
			mean[n] += obs.Mean(loc[n], scale[n])
			aleatoric[n] += obs.Var(loc[n], scale[n])
		}
	}
	inv := 1 / float64(S)
	for n := range N {
		mean[n] *= inv
		aleatoric[n] *= inv
	}
	// Second pass about the mean rather than E[μ²] - mean², which cancels
	// when the samples agree closely.
	for s := range S {
		loc, scale := p.Loc[s*N:(s+1)*N], p.Scale[s*N:(s+1)*N]
		for n := range N {
			d := obs.Mean(loc[n], scale[n]) - mean[n]
			epistemic[n] += d * d
		}
	}
	for n := range N {
		epistemic[n] *= inv
	}
	return mean, aleatoric, epistemic
}

// Classification returns the Bayesian-model-average class probabilities
// prob (N x K row-major, prob[n*K+k] = (1/S) Σ_s p_{s,n,k}) and, per example,
// the entropy decomposition (docs/algorithms.md §1):
//
//	total     = H[prob_n]                       (predictive entropy)
//	aleatoric = (1/S) Σ_s H[p_{s,n}]            (expected entropy)
//	epistemic = total - aleatoric               (mutual information)
//
// Probabilities, not logits, are averaged. The mutual information is ≥ 0
// by Jensen's inequality; values in [-1e-12, 0) produced by rounding are
// reported as 0. Entropies use the sample's log-probabilities directly
// (-Σ p·log p with log p from LogProb), so a class whose log-probability is
// -Inf contributes exactly 0.
//
// When Alpha is set (SetDirichlet) the same four come in closed form from
// the Dirichlet of each example (docs/algorithms.md §6): prob = α/α0, total =
// H[prob], aleatoric = E_{π~Dir(α)}[H(π)], epistemic = total - aleatoric,
// the mutual information between the label and π (dirichlet.Uncertainty).
// It panics if p is not a classification predictive.
func (p *Predictive) Classification() (prob, total, aleatoric, epistemic []float64) {
	p.check(Classification, "Classification")
	S, N, K := p.S, p.N, p.K
	if len(p.Alpha) > 0 {
		prob = make([]float64, N*K)
		total = make([]float64, N)
		aleatoric = make([]float64, N)
		epistemic = make([]float64, N)
		dirichlet.UncertaintyBatch(prob, total, aleatoric, epistemic, p.Alpha[:N*K], K)
		return prob, total, aleatoric, epistemic
	}
	if S == 0 {
		return nans(N * K), nans(N), nans(N), nans(N)
	}
	prob = make([]float64, N*K)
	total = make([]float64, N)
	aleatoric = make([]float64, N)
	epistemic = make([]float64, N)
	for s := range S {
		lps := p.LogProb[s*N*K : (s+1)*N*K]
		for n := range N {
			h := 0.0
			for k, lp := range lps[n*K : (n+1)*K] {
				pk := math.Exp(lp)
				prob[n*K+k] += pk
				if pk > 0 {
					h -= pk * lp
				}
			}
			aleatoric[n] += h
		}
	}
	inv := 1 / float64(S)
	for n := range N {
		aleatoric[n] *= inv
		h := 0.0
		for k := range K {
			pk := prob[n*K+k] * inv
			prob[n*K+k] = pk
			h -= num.XLogX(pk)
		}
		total[n] = h
		mi := h - aleatoric[n]
		if mi < 0 && mi >= -miClamp || S == 1 {
			// One draw (a point posterior) knows no epistemic uncertainty:
			// make it exactly zero rather than rounding noise.
			mi = 0
			aleatoric[n] = h
		}
		epistemic[n] = mi
	}
	return prob, total, aleatoric, epistemic
}

// LogLik returns the per-example log predictive density of the observed
// targets y (len N), log p(y_n | x_n, D) ≈ log (1/S) Σ_s p(y_n | θ_s),
// computed with LogMeanExp so that it stays finite when every sample gives
// the observation a tiny density. For regression each term is
// Obs.LogProb(y_n, Loc[s,n], Scale[s,n]); for classification y_n is the
// class index stored as a float64 and the term is LogProb[s,n,y_n]. The
// negative mean of the result is the NLL. It panics if len(y) != N or a
// class label is not an integer in [0, K).
func (p *Predictive) LogLik(y []float64) []float64 {
	p.check(p.Kind, "LogLik")
	S, N := p.S, p.N
	if len(y) != N {
		panic(fmt.Sprintf("predictive: LogLik: %d targets for %d examples", len(y), N))
	}
	if S == 0 {
		return nans(N)
	}
	out := make([]float64, N)
	buf := make([]float64, S)
	switch p.Kind {
	case Regression:
		obs := p.obs()
		for n := range N {
			for s := range S {
				buf[s] = obs.LogProb(y[n], p.Loc[s*N+n], p.Scale[s*N+n])
			}
			out[n] = num.LogMeanExp(buf)
		}
	case Classification:
		K := p.K
		for n := range N {
			k := classIndex(y[n], K, n)
			for s := range S {
				buf[s] = p.LogProb[(s*N+n)*K+k]
			}
			out[n] = num.LogMeanExp(buf)
		}
	default:
		panic(fmt.Sprintf("predictive: LogLik: unknown kind %v", p.Kind))
	}
	return out
}

// classIndex converts a label stored as a float64 to a class index,
// panicking if it is not an integer in [0, k).
func classIndex(y float64, k, n int) int {
	if !(y >= 0 && y < float64(k)) || y != math.Trunc(y) {
		panic(fmt.Sprintf("predictive: label %v of example %d is not a class index in [0, %d)", y, n, k))
	}
	return int(y)
}

// CDF returns the predictive (mixture) CDF of example n at y,
// (1/S) Σ_s Obs.CDF(y, Loc[s,n], Scale[s,n]). Evaluated at the observed
// target it is the probability integral transform that metric.Coverage
// reads. It panics if p is not a regression predictive or n is out of
// range, and returns NaN when S = 0.
func (p *Predictive) CDF(n int, y float64) float64 {
	p.check(Regression, "CDF")
	if n < 0 || n >= p.N {
		panic(fmt.Sprintf("predictive: CDF: example %d out of range [0, %d)", n, p.N))
	}
	if p.S == 0 {
		return math.NaN()
	}
	obs := p.obs()
	c := 0.0
	for s := range p.S {
		i := s*p.N + n
		c += obs.CDF(y, p.Loc[i], p.Scale[i])
	}
	return c / float64(p.S)
}
