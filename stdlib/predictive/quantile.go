package predictive

import (
	"fmt"
	"math"
)

// Quantile returns the q-quantile of the predictive of example n: the
// smallest y with CDF(n, y) ≥ q, where CDF is the mixture
// (1/S) Σ_s Obs.CDF(y, Loc[s,n], Scale[s,n]) over the S draws — not a
// Normal with the mixture's mean and variance, which misplaces the tails
// of a skewed or multimodal predictive. The mixture CDF has no inverse in
// closed form, so it is solved by Newton's method (the derivative is the
// mixture density) safeguarded by bisection, on a bracket grown from the
// draws' means and standard deviations, to a relative width of 1e-12. For
// a discrete model (Poisson) the answer is the integer at which the
// CDF's step crosses q. It panics if p is not a regression predictive, n
// is out of range or q is not in (0, 1), and returns NaN when S = 0.
func (p *Predictive) Quantile(n int, q float64) float64 {
	p.check(Regression, "Quantile")
	if n < 0 || n >= p.N {
		panic(fmt.Sprintf("predictive: Quantile: example %d out of range [0, %d)", n, p.N))
	}
	if !(q > 0 && q < 1) {
		panic(fmt.Sprintf("predictive: Quantile: level %v is not in (0, 1)", q))
	}
	if p.S == 0 {
		return math.NaN()
	}
	lo, hi := p.bracket(n)
	if math.IsNaN(lo) {
		return math.NaN()
	}
	// Grow the bracket until it holds the quantile: CDF(lo) < q ≤ CDF(hi).
	for w := hi - lo; p.CDF(n, lo) >= q && !math.IsInf(lo, 0); w *= 2 {
		lo -= w
	}
	for w := hi - lo; p.CDF(n, hi) < q && !math.IsInf(hi, 0); w *= 2 {
		hi += w
	}
	// Newton's method on the mixture CDF, whose derivative is the mixture
	// density, kept inside the bracket: a step that would leave it, or a
	// density of zero (a step CDF between its jumps), bisects instead. From
	// the moment-matched Normal's quantile it converges in a few steps where
	// bisection alone takes fifty.
	abs := 1e-14 * (hi - lo) // for a quantile at 0, where relative width never shrinks
	x := p.normalGuess(n, q)
	if !(x > lo && x < hi) {
		x = lo + (hi-lo)/2
	}
	for range 400 {
		c := p.CDF(n, x)
		if c >= q {
			hi = x
		} else {
			lo = x
		}
		if hi-lo <= 1e-12*(math.Abs(lo)+math.Abs(hi))+abs {
			break
		}
		next := lo + (hi-lo)/2
		if d := p.pdf(n, x); d > 0 {
			if nx := x - (c-q)/d; nx > lo && nx < hi {
				if math.Abs(nx-x) <= 1e-14*(1+math.Abs(x)) {
					return nx // converged: a continuous CDF's root
				}
				next = nx
			}
		}
		if next <= lo || next >= hi {
			break
		}
		x = next
	}
	// A step CDF (counts) crosses q at an integer: the bracket closes on it
	// from both sides, so report the integer itself. For a continuous CDF an
	// integer inside a bracket this narrow is the answer to within 1e-12.
	if k := math.Floor(hi); k > lo && p.CDF(n, k) >= q {
		return k
	}
	return hi
}

// bracket returns a first guess [lo, hi] around the predictive of example
// n: the draws' means ± 8 standard deviations, or ± 8 scales where a
// moment does not exist (a Student-t with few degrees of freedom).
func (p *Predictive) bracket(n int) (lo, hi float64) {
	obs := p.obs()
	lo, hi = math.Inf(1), math.Inf(-1)
	for s := range p.S {
		i := s*p.N + n
		m, sd := obs.Mean(p.Loc[i], p.Scale[i]), math.Sqrt(obs.Var(p.Loc[i], p.Scale[i]))
		if math.IsNaN(m) || math.IsInf(m, 0) {
			m = p.Loc[i]
		}
		if math.IsNaN(sd) || math.IsInf(sd, 0) || sd <= 0 {
			sd = math.Abs(p.Scale[i])
		}
		lo, hi = math.Min(lo, m-8*sd), math.Max(hi, m+8*sd)
	}
	if !(hi > lo) { // every draw a point mass (sd 0) at the same place
		lo, hi = lo-1, hi+1
	}
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return math.NaN(), math.NaN()
	}
	return lo, hi
}

// pdf is the mixture density (mass, for counts) of example n at y.
func (p *Predictive) pdf(n int, y float64) float64 {
	obs := p.obs()
	d := 0.0
	for s := range p.S {
		i := s*p.N + n
		d += math.Exp(obs.LogProb(y, p.Loc[i], p.Scale[i]))
	}
	return d / float64(p.S)
}

// normalGuess is the q-quantile of the Normal with the mixture's mean and
// variance, a first guess for Quantile (NaN when a moment is undefined).
func (p *Predictive) normalGuess(n int, q float64) float64 {
	obs := p.obs()
	m, v := 0.0, 0.0
	for s := range p.S {
		i := s*p.N + n
		mu, va := obs.Mean(p.Loc[i], p.Scale[i]), obs.Var(p.Loc[i], p.Scale[i])
		m += mu
		v += va + mu*mu
	}
	m /= float64(p.S)
	v = v/float64(p.S) - m*m
	return m + math.Sqrt(v)*math.Sqrt2*math.Erfinv(2*q-1)
}

// Quantiles returns, for each level in qs, the quantile of every example:
// out[j][n] = Quantile(n, qs[j]).
func (p *Predictive) Quantiles(qs []float64) [][]float64 {
	out := make([][]float64, len(qs))
	for j, q := range qs {
		out[j] = make([]float64, p.N)
		for n := range p.N {
			out[j][n] = p.Quantile(n, q)
		}
	}
	return out
}
