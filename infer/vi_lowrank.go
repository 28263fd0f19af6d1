package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/vec"
	"gonum.org/v1/gonum/mat"
)

// LowRankGaussian is a low-rank-plus-diagonal normal posterior
// q(θ) = N(Mean, diag(Std²) + U·Uᵀ), as vi(rank: k) produces (Tomczak,
// Swaroop & Turner 2020). U is Dim x Rank, row-major: U[i*Rank+c].
type LowRankGaussian struct {
	Mean []float64
	Std  []float64
	U    []float64
	Rank int
	By   string // the backend that learned it, e.g. "vi"
	// Predictive is "glm" (linearised at Mean, drawn in output space; see
	// PredictOutputs) or "nn" (parameter draws through the network).
	Predictive string

	elbo elboEstimate // set by the fit, not saved
}

var (
	_ Saver           = (*LowRankGaussian)(nil)
	_ OutputPredictor = (*LowRankGaussian)(nil)
)

// Linearised reports whether the predictive is the GLM one.
func (g *LowRankGaussian) Linearised() bool { return g.Predictive == predGLM }

// PredictOutputs returns the linearised predictive at the rows of x: the
// outputs N(f(x, Mean), (J∘Std)(J∘Std)ᵀ + (J U)(J U)ᵀ), drawn as a GLM
// Laplace's are (LaplacePosterior.PredictOutputs).
func (g *LowRankGaussian) PredictOutputs(ctx context.Context, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	return weightGaussian{mean: g.Mean, std: g.Std, u: g.U, k: g.Rank}.predict(ctx, g.By, p, x, samples, rng)
}

// Method returns the backend that learned the posterior.
func (g *LowRankGaussian) Method() string { return g.By }

// Dim returns len(g.Mean).
func (g *LowRankGaussian) Dim() int { return len(g.Mean) }

// Draw returns s fresh draws Mean + Std⊙ε₁ + U·ε₂, ε₁ ~ N(0, I_Dim),
// ε₂ ~ N(0, I_Rank), in newly allocated vectors (one backing array). It
// returns nil when s < 1.
func (g *LowRankGaussian) Draw(s int, rng *rand.Rand) [][]float64 {
	if s < 1 {
		return nil
	}
	d, k := len(g.Mean), g.Rank
	buf := make([]float64, s*d)
	e2 := make([]float64, k)
	out := make([][]float64, s)
	for i := range out {
		v := buf[i*d : (i+1)*d : (i+1)*d]
		for j, m := range g.Mean {
			v[j] = m + g.Std[j]*rng.NormFloat64()
		}
		for c := range e2 {
			e2[c] = rng.NormFloat64()
		}
		addLowRank(v, g.U, e2)
		out[i] = v
	}
	return out
}

// Cov returns the covariance entry (i, j): Std_i² [i = j] + Σ_c U_ic U_jc.
func (g *LowRankGaussian) Cov(i, j int) float64 {
	k := g.Rank
	c := dot(g.U[i*k:(i+1)*k], g.U[j*k:(j+1)*k])
	if i == j {
		c += g.Std[i] * g.Std[i]
	}
	return c
}

// ELBO returns the evidence lower bound estimated at the end of the fit
// and its Monte-Carlo standard error; ok is false for a loaded posterior.
func (g *LowRankGaussian) ELBO() (elbo, se float64, ok bool) { return g.elbo.get() }

// StoredNumbers returns the numbers the posterior keeps: Dim·(2 + Rank).
func (g *LowRankGaussian) StoredNumbers() int { return len(g.Mean) + len(g.Std) + len(g.U) }

// Kind returns "lowrank_gaussian", the key of its decoder.
func (g *LowRankGaussian) Kind() string { return "lowrank_gaussian" }

// Vectors returns the payload saved to a file: [Mean, Std, U], the rank
// len(U)/len(Mean), and [1] after them when the predictive is glm
// (glmMark; files without it are nn).
func (g *LowRankGaussian) Vectors() [][]float64 {
	if g.Linearised() {
		return [][]float64{g.Mean, g.Std, g.U, {glmMark}}
	}
	return [][]float64{g.Mean, g.Std, g.U}
}

func decodeLowRankGaussian(method string, vecs [][]float64) (Posterior, error) {
	pred := predNN
	if len(vecs) == 4 && len(vecs[3]) == 1 {
		if err := checkGLMMark(vecs[3][0]); err != nil {
			return nil, fmt.Errorf("low-rank gaussian posterior has %v", err)
		}
		pred, vecs = predGLM, vecs[:3]
	}
	if len(vecs) != 3 {
		return nil, fmt.Errorf("low-rank gaussian posterior has %d vectors, want 3 or 4", len(vecs))
	}
	d := len(vecs[0])
	if len(vecs[1]) != d {
		return nil, fmt.Errorf("low-rank gaussian posterior has %d means and %d scales", d, len(vecs[1]))
	}
	if d == 0 || len(vecs[2])%d != 0 {
		return nil, fmt.Errorf("low-rank gaussian posterior has %d factor entries for %d means", len(vecs[2]), d)
	}
	for j, s := range vecs[1] {
		if !(s >= 0) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("low-rank gaussian posterior has scale %g at %d", s, j)
		}
	}
	for j, u := range vecs[2] {
		if !isFinite(u) {
			return nil, fmt.Errorf("low-rank gaussian posterior has factor entry %g at %d", u, j)
		}
	}
	return &LowRankGaussian{Mean: vecs[0], Std: vecs[1], U: vecs[2], Rank: len(vecs[2]) / d, By: method, Predictive: pred}, nil
}

// ELBOer is a posterior that knows the evidence lower bound of its fit
// (vi's Gaussian and LowRankGaussian): ELBO returns the estimate, its
// Monte-Carlo standard error, and ok = false when it was not estimated
// (a loaded posterior).
type ELBOer interface {
	ELBO() (elbo, se float64, ok bool)
}

type elboEstimate struct {
	value, se float64
	ok        bool
}

func (e elboEstimate) get() (float64, float64, bool) { return e.value, e.se, e.ok }

// addLowRank adds U·e to v (U is len(v) x len(e), row-major).
func addLowRank(v, u, e []float64) {
	k := len(e)
	if k == 0 {
		return
	}
	for j := range v {
		v[j] += dot(u[j*k:(j+1)*k:(j+1)*k], e)
	}
}

func dot(a, b []float64) float64 {
	b = b[:len(a)]
	s := 0.0
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// lowRankKL holds the k x k workspaces of the closed-form KL of
// N(μ, D + UUᵀ), D = diag(σ²), to N(loc, diag(v)) (docs/algorithms.md §15):
//
//	KL = ½[Σ (σ_i² + ‖U_i‖²)/v_i + Σ (μ_i − loc_i)²/v_i − d + Σ log v_i − log det Σ],
//	log det Σ = Σ log σ_i² + log det M,  M = I + UᵀD⁻¹U = LLᵀ.
//
// With A = D⁻¹U and B = A·L⁻ᵀ, (Σ⁻¹)_ii = 1/σ_i² − ‖B_i‖² (Woodbury) and
// Σ⁻¹U = D⁻¹U·M⁻¹ = B·L⁻¹, so every gradient costs O(dk²).
type lowRankKL struct {
	k   int
	m   []float64 // M, then its Cholesky factor L (lower, row-major)
	b   []float64 // B = D⁻¹U·L⁻ᵀ, d x k
	row []float64 // one row of B·L⁻¹
}

func newLowRankKL(d, k int) *lowRankKL {
	return &lowRankKL{k: k, m: make([]float64, k*k), b: make([]float64, d*k), row: make([]float64, k)}
}

// factor sets the workspaces for (σ, U) and returns log det M
// (so log det Σ = Σ log σ_i² + it). It reports false when M is not
// positive definite to rounding (it always is for finite σ > 0).
func (w *lowRankKL) factor(sigma, u []float64) (logDetM float64, ok bool) {
	k, m, b := w.k, w.m, w.b
	clear(m)
	for c := range k {
		m[c*k+c] = 1
	}
	// M += Σ_i U_iᵀ U_i / σ_i² (lower triangle), and B_i = U_i/σ_i² for now.
	for i, s := range sigma {
		ui := u[i*k : (i+1)*k : (i+1)*k]
		bi := b[i*k : (i+1)*k : (i+1)*k]
		inv := 1 / (s * s)
		for c, x := range ui {
			a := x * inv
			bi[c] = a
			mc := m[c*k : c*k+c+1]
			for e := range mc {
				mc[e] += a * ui[e]
			}
		}
	}
	// Cholesky in place, lower triangle.
	for c := range k {
		for e := 0; e <= c; e++ {
			s := m[c*k+e]
			for f := range e {
				s -= m[c*k+f] * m[e*k+f]
			}
			if e == c {
				if !(s > 0) {
					return 0, false
				}
				m[c*k+c] = math.Sqrt(s)
				logDetM += math.Log(s)
			} else {
				m[c*k+e] = s / m[e*k+e]
			}
		}
	}
	// B_i ← L⁻¹ A_iᵀ (forward substitution): row i of A·L⁻ᵀ.
	for i := range sigma {
		bi := b[i*k : (i+1)*k : (i+1)*k]
		for c := range k {
			s := bi[c]
			for f := range c {
				s -= m[c*k+f] * bi[f]
			}
			bi[c] = s / m[c*k+c]
		}
	}
	return logDetM, true
}

// sinvU writes row i of Σ⁻¹U = B·L⁻¹ into w.row (back substitution) and
// returns it, after factor.
func (w *lowRankKL) sinvU(i int) []float64 {
	k, m := w.k, w.m
	bi := w.b[i*k : (i+1)*k : (i+1)*k]
	r := w.row[:k]
	for c := k - 1; c >= 0; c-- {
		s := bi[c]
		for f := c + 1; f < k; f++ {
			s -= m[f*k+c] * r[f]
		}
		r[c] = s / m[c*k+c]
	}
	return r
}

// lowRankState is the preallocated workspace of one vi(rank: k) fit. The
// parameters are w = [μ; ρ; U] with σ = softplus(ρ).
//
// The likelihood term reparameterises θ = μ + σ⊙ε₁ + U·ε₂. ε₂ is drawn
// afresh for every group of lowRankGroupRows rows of the minibatch; with it
// fixed, θ is mean-field around the shifted mean μ + U·ε₂, so when the
// Problem offers VarNegLogLik the σ⊙ε₁ part is sampled by local
// reparameterisation (fresh per example and unit) exactly as for the
// mean-field family, one call per group. The chain rule then gives
// dμ = t_μ, dσ = t_σ and dU = t_μ·ε₂ᵀ from that call's gradients in its
// mean and scale. A draw of ε₂ per example would need the network to carry
// k directions through every layer; one per group is unbiased, only
// noisier in U.
type lowRankState struct {
	p       *Problem
	rng     *rand.Rand
	d, k    int
	kw      float64
	samples int
	lrt     bool
	closed  bool

	w, g           []float64 // [μ; ρ; U] and its gradient
	mu, rho, u     []float64
	gmu, gsig, gu  []float64
	sigma, sig     []float64
	shift          []float64 // μ + U·ε₂
	e2             []float64
	tmu, tsig      []float64
	eps, theta, gl []float64 // weight-space draw (!lrt or !closed)
	gp             []float64
	ploc, pprec    []float64
	sumLogScale    float64
	kl             *lowRankKL
	opt            optimizer
	decay          lrDecay
}

func newLowRankState(p *Problem, v VI, rng *rand.Rand) *lowRankState {
	d, k := p.Dim, v.Rank
	s := &lowRankState{p: p, rng: rng, d: d, k: k, kw: v.KLWeight, samples: v.Samples,
		lrt: p.VarNegLogLik != nil, closed: p.PriorLoc != nil}
	n := 2*d + d*k
	s.w, s.g = make([]float64, n), make([]float64, n)
	s.mu, s.rho, s.u = s.w[:d:d], s.w[d:2*d:2*d], s.w[2*d:]
	s.gmu, s.gsig, s.gu = s.g[:d:d], s.g[d:2*d:2*d], s.g[2*d:]
	s.sigma, s.sig, s.shift = make([]float64, d), make([]float64, d), make([]float64, d)
	s.e2 = make([]float64, k)
	if s.lrt {
		s.tmu, s.tsig = make([]float64, d), make([]float64, d)
	}
	s.eps, s.theta, s.gl = make([]float64, d), make([]float64, d), make([]float64, d)
	if s.closed {
		s.ploc = p.PriorLoc
		s.pprec = make([]float64, d)
		for j, sc := range p.PriorScale {
			s.pprec[j] = 1 / (sc * sc)
			s.sumLogScale += math.Log(sc)
		}
	} else {
		s.gp = make([]float64, d)
	}
	s.kl = newLowRankKL(d, k)
	s.opt = newOptimizer(v.Optimizer, n, v.LR, v.Momentum)
	s.decay = newLRDecay(v.LR, v.Epochs, v.Batch, p.N)
	return s
}

// lowRankGroupRows is how many rows of a minibatch share one draw of ε₂.
// One ε₂ per batch moves the whole batch's function at once, and the noise
// of U's gradient then swamps its signal (mcycle at rank 16 fell apart);
// fresh draws for every 8 rows cut that noise about √(B/8)-fold for the
// price of more, smaller likelihood calls.
const lowRankGroupRows = 8

// drawShift draws ε₂ into s.e2 and sets s.shift = μ + U·ε₂.
func (s *lowRankState) drawShift() {
	for c := range s.e2 {
		s.e2[c] = s.rng.NormFloat64()
	}
	copy(s.shift, s.mu)
	addLowRank(s.shift, s.u, s.e2)
}

// drawTheta draws ε₁ into s.eps and sets s.theta = s.shift + σ⊙ε₁.
func (s *lowRankState) drawTheta() {
	shift, sigma, theta := s.shift[:s.d], s.sigma[:s.d], s.theta[:s.d]
	for j := range s.eps[:s.d] {
		e := s.rng.NormFloat64()
		s.eps[j] = e
		theta[j] = shift[j] + sigma[j]*e
	}
}

// addThetaGrad adds scale·g, a gradient in θ at s.theta, to the gradients in
// μ, σ (g⊙ε₁) and U (g·ε₂ᵀ).
func (s *lowRankState) addThetaGrad(g []float64, scale float64) {
	d, k := s.d, s.k
	eps, e2 := s.eps[:d], s.e2[:k]
	gmu, gsig, gu := s.gmu[:d], s.gsig[:d], s.gu[:d*k]
	for j, t := range g[:d] {
		t *= scale
		gmu[j] += t
		gsig[j] += t * eps[j]
		gj := gu[j*k : (j+1)*k : (j+1)*k]
		for c, e := range e2 {
			gj[c] += t * e
		}
	}
}

// init sets μ from p.Init, every σ to scale and U to N(0, (0.1·scale)²)
// draws: U = 0 is a stationary point (docs/algorithms.md §15), so it must start
// off it.
func (s *lowRankState) init(scale float64) {
	if s.p.Init != nil {
		s.p.Init(s.mu, s.rng)
	}
	rho0 := softplusInv(scale)
	for j := range s.rho {
		s.rho[j] = rho0
	}
	for j := range s.u {
		s.u[j] = 0.1 * scale * s.rng.NormFloat64()
	}
}

func (s *lowRankState) transform() {
	vec.SoftplusSigmoid(s.sigma, s.sig[:len(s.sigma)], s.rho[:len(s.sigma)])
}

// step takes one optimiser step on the rows idx and returns the
// per-example negative ELBO estimate before the step.
func (s *lowRankState) step(idx []int) (loss, badGrad float64) {
	s.decay.next(s.opt)
	p, d, k := s.p, s.d, s.k
	nS := float64(s.samples)
	likScale := 1 / (float64(len(idx)) * nS)
	klScale := s.kw / float64(p.N)
	mcScale := klScale / nS
	mu, sigma, u := s.mu, s.sigma[:d], s.u[:d*k]
	gmu, gsig, gu := s.gmu, s.gsig[:d], s.gu[:d*k]
	shift, e2 := s.shift[:d], s.e2[:k]
	theta, gl := s.theta[:d], s.gl[:d]

	s.transform()
	clear(s.g)
	nll, kl := 0.0, 0.0
	for range s.samples {
		// The likelihood, a fresh ε₂ (and, without local
		// reparameterisation, a fresh ε₁) for every group of rows.
		for lo := 0; lo < len(idx); lo += lowRankGroupRows {
			rows := idx[lo:min(lo+lowRankGroupRows, len(idx))]
			s.drawShift()
			if s.lrt {
				tmu, tsig := s.tmu[:d], s.tsig[:d]
				nll += p.VarNegLogLik(tmu, tsig, shift, sigma, rows, s.rng)
				for j, t := range tmu {
					t *= likScale
					gmu[j] += t
					gsig[j] += likScale * tsig[j]
					gj := gu[j*k : (j+1)*k : (j+1)*k]
					for c, e := range e2 {
						gj[c] += t * e
					}
				}
				continue
			}
			s.drawTheta()
			nll += p.NegLogLik(gl, theta, rows)
			s.addThetaGrad(gl, likScale)
		}
		if !s.closed {
			// −log p(θ) at a draw of its own, by reparameterisation.
			s.drawShift()
			s.drawTheta()
			gp := s.gp[:d]
			clear(gp)
			kl += p.NegLogPrior(gp, theta) / nS
			s.addThetaGrad(gp, mcScale)
		}
	}

	logDetM, ok := s.kl.factor(sigma, u)
	if !ok {
		return math.NaN(), 0
	}
	logDetSigma := 2*sumLog(sigma) + logDetM
	// Σ⁻¹_ii and (Σ⁻¹U)_i from the factor; the entropy's gradient is
	// ½∂log det Σ: σ_i·Σ⁻¹_ii in σ_i and (Σ⁻¹U)_i in U_i.
	if s.closed {
		ploc, pprec := s.ploc[:d], s.pprec[:d]
		sum := 0.0
		for j, m := range mu {
			sg, pr := sigma[j], pprec[j]
			uj := u[j*k : (j+1)*k : (j+1)*k]
			diff := m - ploc[j]
			sum += (sg*sg + dot(uj, uj) + diff*diff) * pr
			gmu[j] += klScale * diff * pr
			bj := s.kl.b[j*k : (j+1)*k : (j+1)*k]
			sinvJJ := 1/(sg*sg) - dot(bj, bj)
			gsig[j] += klScale * sg * (pr - sinvJJ)
			r := s.kl.sinvU(j)
			gj := gu[j*k : (j+1)*k : (j+1)*k]
			for c, x := range uj {
				gj[c] += klScale * (x*pr - r[c])
			}
		}
		kl = 0.5*(sum-float64(d)-logDetSigma) + s.sumLogScale
	} else {
		for j, sg := range sigma {
			bj := s.kl.b[j*k : (j+1)*k : (j+1)*k]
			sinvJJ := 1/(sg*sg) - dot(bj, bj)
			gsig[j] -= klScale * sg * sinvJJ
			r := s.kl.sinvU(j)
			gj := gu[j*k : (j+1)*k : (j+1)*k]
			for c := range gj {
				gj[c] -= klScale * r[c]
			}
		}
		kl -= 0.5 * (logDetSigma + float64(d)*(1+log2Pi)) // −entropy
	}
	return viStep(s.opt, s.w, s.g, gsig, s.sig[:d], klScale*kl+likScale*nll)
}

// entropy returns the entropy of q, after factor:
// ½ log det Σ + (d/2)(1 + log 2π).
func (s *lowRankState) entropy() (float64, bool) {
	logDetM, ok := s.kl.factor(s.sigma, s.u)
	return 0.5*(2*sumLog(s.sigma)+logDetM) + 0.5*float64(s.d)*(1+log2Pi), ok
}

// closedKL returns KL(q‖p) in closed form (s.closed), after transform.
func (s *lowRankState) closedKL() (float64, bool) {
	logDetM, ok := s.kl.factor(s.sigma, s.u)
	d, k := s.d, s.k
	sum := 0.0
	for j, m := range s.mu {
		uj := s.u[j*k : (j+1)*k : (j+1)*k]
		diff := m - s.ploc[j]
		sum += (s.sigma[j]*s.sigma[j] + dot(uj, uj) + diff*diff) * s.pprec[j]
	}
	return 0.5*(sum-float64(d)-2*sumLog(s.sigma)-logDetM) + s.sumLogScale, ok
}

// fitLowRank is Fit for Rank > 0.
func (v VI) fitLowRank(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	s := newLowRankState(p, v, rng)
	s.init(v.InitScale)
	l := newLoop("vi", v.Epochs, v.Batch, p.N)
	if err := l.run(ctx, rng, obs, s.step); err != nil {
		return nil, err
	}
	s.transform()
	q := &LowRankGaussian{Mean: s.mu, Std: s.sigma, U: s.u, Rank: s.k, By: "vi", Predictive: v.Predictive}
	var kl, h float64
	ok := true
	if s.closed {
		kl, ok = s.closedKL()
	} else {
		h, ok = s.entropy()
	}
	if ok {
		e2 := make([]float64, s.k)
		draw := func(theta []float64, rng *rand.Rand) {
			for j, m := range q.Mean {
				theta[j] = m + q.Std[j]*rng.NormFloat64()
			}
			for c := range e2 {
				e2[c] = rng.NormFloat64()
			}
			addLowRank(theta, q.U, e2)
		}
		q.elbo = estimateELBO(p, v.Batch, elboDraws(v.Epochs, v.Samples), rng, draw, s.closed, kl, h)
	}
	return q, nil
}
