package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/vec"
)

// VI is Gaussian variational inference: mean-field Bayes by Backprop
// (Blundell et al. 2015) with the local reparameterisation trick (Kingma,
// Salimans & Welling 2015) when the Problem offers it, returning a
// *Gaussian, or with Rank k > 0 the low-rank-plus-diagonal family
// q = N(μ, diag σ² + UUᵀ) (Tomczak, Swaroop & Turner 2020; vi_lowrank.go),
// returning a *LowRankGaussian. The zero value is ready to use: each zero
// field means the default given beside it.
//
// The mean-field family is q(θ) = N(μ, diag σ²) with σ = softplus(ρ); μ
// starts at p.Init (zeros when Init is nil) and every σ at InitScale. Each
// minibatch step descends the per-example negative ELBO
//
//	KLWeight·KL(q‖p)/N + E_q[NegLogLik(batch)]/B,
//
// estimated with Samples Monte-Carlo draws:
//
//   - the likelihood term through p.VarNegLogLik when it is set (noise per
//     pre-activation), else by drawing θ = μ + σ⊙ε and calling NegLogLik
//     (dμ = g, dσ = g⊙ε);
//   - the KL in closed form when p.PriorLoc and p.PriorScale are set, else
//     as the Monte-Carlo estimate log q(θ) − log p(θ) at the same kind of
//     draw, differentiated through θ with NegLogPrior's gradient (the
//     entropy part, −Σ log σ, exactly).
//
// The learning rate is held for three quarters of the steps and then
// lowered linearly to zero (lrDecay), so the fit ends on the optimum rather
// than on one step of Adam's jitter around it. After the fit the ELBO is
// estimated on the full training data (ELBOer). The σ-gradient reaches ρ
// through sigmoid(ρ); σ and sigmoid(ρ) share one exp per coordinate per
// step. A step allocates nothing.
//
// What the family can reach is in docs/vi.md: on small tanh networks the
// converged mean-field (and low-rank) fit is 2-4x wider in function space
// than the exact posterior, with the conjugate closed forms met exactly.
type VI struct {
	Epochs    int     `bl:"epochs,pos"`               // passes over the data; default 300, or enough for 10 000 steps
	LR        float64 `bl:"lr,pos"`                   // learning rate; default 1e-2 for adam, 1e-3 for sgd, a third of that with rank > 0
	Batch     int     `bl:"batch,pos"`                // minibatch rows; default 128, all rows when N is smaller
	KLWeight  float64 `bl:"kl_weight,pos"`            // weight of the KL term; default 1 (the ELBO)
	Samples   int     `bl:"samples,pos"`              // Monte-Carlo draws per step; default 1
	InitScale float64 `bl:"init_scale,pos"`           // initial σ of every coordinate; default 1e-3
	Optimizer string  `bl:"optimizer,oneof=adam|sgd"` // "adam" (default) or "sgd" (heavy-ball momentum)
	Momentum  float64 `bl:"momentum,unit,zero=-1"`    // sgd momentum in [0, 1); default 0.9; -1 means none
	Rank      int     `bl:"rank,nonneg"`              // k of the low-rank-plus-diagonal family; default 0, mean-field
	// Predictive is how the posterior predicts: "glm" linearises the
	// network at the mean (Gaussian outputs with covariance J Σ Jᵀ, as a
	// GLM Laplace's), "nn" runs it at parameter draws. Default
	// viPredictive, nn where the model has no output Jacobian.
	Predictive string `bl:"predictive,oneof=glm|nn"`

	epochCap int // CapEpochs' bound on a default Epochs, applied once N is known
}

var _ Method = (*VI)(nil)

// Name returns "vi".
func (VI) Name() string { return "vi" }

// CapEpochs returns a copy that runs at most n epochs.
func (v VI) CapEpochs(n int) Method {
	v = v.withDefaults()
	if v.Epochs > 0 {
		v.Epochs = min(v.Epochs, n)
	} else if v.epochCap == 0 || n < v.epochCap {
		v.epochCap = n
	}
	return &v
}

// Default length of a fit: 300 epochs, or as many as 10 000 minibatch steps
// take when the data give fewer than 34 steps an epoch. VI needs steps,
// not passes: on a hundred rows (one step an epoch) 300 steps leave σ near
// its 1e-3 start (Adam moves ρ by about the learning rate a step, and
// reaching σ ≈ 0.3 takes 600), and the ELBO is still 3x below its optimum.
// viPredictive is vi's default predictive (see docs/vi.md).
const viPredictive = predGLM

const (
	defaultVIEpochs = 300
	minVISteps      = 10000
)

// epochsFor returns the number of epochs to run on n rows.
func (v VI) epochsFor(n int) int {
	if v.Epochs > 0 {
		return v.Epochs
	}
	per := (n + min(v.Batch, n) - 1) / min(v.Batch, n)
	e := max(defaultVIEpochs, (minVISteps+per-1)/per)
	if v.epochCap > 0 {
		e = min(e, v.epochCap)
	}
	return e
}

func (v VI) withDefaults() VI {
	if v.Optimizer == "" {
		v.Optimizer = optAdam
	}
	if v.LR == 0 {
		v.LR = defaultLR(v.Optimizer)
		if v.Rank > 0 {
			// U's gradient is noisy (one ε₂ per 8 rows) and Adam
			// random-walks noisy coordinates by about lr·√steps: at 1e-2
			// U reaches the prior's scale and the fit falls apart (mcycle
			// at rank 8 and 16: rmse 5-14x exact's); a third of it holds.
			v.LR /= 3
		}
	}
	if v.Batch == 0 {
		v.Batch = 128
	}
	if v.KLWeight == 0 {
		v.KLWeight = 1
	}
	if v.Samples == 0 {
		v.Samples = 1
	}
	if v.InitScale == 0 {
		v.InitScale = 1e-3
	}
	if v.Momentum == 0 {
		v.Momentum = 0.9
	}
	return v
}

// Fit runs the optimisation. It reports Progress after every epoch (Loss is
// the mean per-example negative ELBO estimate), stops with ctx.Err() when
// ctx is done (checked before every step) and returns a *DivergenceError
// when the objective or its gradient is not finite.
func (v VI) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSettings(v); err != nil {
		return nil, fmt.Errorf("vi: %w", err)
	}
	if err := checkProblem("vi", p); err != nil {
		return nil, err
	}
	if p.PriorLoc == nil && p.NegLogPrior == nil {
		return nil, fmt.Errorf("vi: problem has neither a normal prior (PriorLoc, PriorScale) nor NegLogPrior")
	}
	if rng == nil {
		return nil, fmt.Errorf("vi: %w", errNilRNG)
	}
	pred, err := resolvePredictive("vi", v.Predictive, viPredictive, p)
	if err != nil {
		return nil, err
	}
	v = v.withDefaults()
	v.Predictive = pred
	v.Epochs = v.epochsFor(p.N)
	if v.Rank > 0 {
		return v.fitLowRank(ctx, p, rng, obs)
	}
	s := newVIState(p, v, rng)
	if p.Init != nil {
		p.Init(s.mu, rng)
	}
	rho0 := softplusInv(v.InitScale)
	for j := range s.rho {
		s.rho[j] = rho0
	}
	l := newLoop("vi", v.Epochs, v.Batch, p.N)
	if err := l.run(ctx, rng, obs, s.step); err != nil {
		return nil, err
	}
	s.transform()
	q := &Gaussian{Mean: s.mu, Std: s.sigma, By: "vi", Predictive: v.Predictive}
	draw := func(theta []float64, rng *rand.Rand) {
		for j, m := range q.Mean {
			theta[j] = m + q.Std[j]*rng.NormFloat64()
		}
	}
	kl, h := 0.0, meanFieldEntropy(q.Std)
	if s.closed {
		kl = meanFieldKL(q.Mean, q.Std, p.PriorLoc, p.PriorScale)
	}
	q.elbo = estimateELBO(p, v.Batch, elboDraws(v.Epochs, v.Samples), rng, draw, s.closed, kl, h)
	return q, nil
}

// viState is the preallocated workspace of one VI fit.
type viState struct {
	p       *Problem
	rng     *rand.Rand
	d       int
	kw      float64 // KL weight
	samples int
	lrt     bool // likelihood through VarNegLogLik
	closed  bool // closed-form KL

	w, g           []float64 // [μ; ρ] and its gradient [dμ; dσ→dρ]
	mu, rho        []float64 // views of w
	gmu, gsig      []float64 // views of g
	sigma, sig     []float64 // softplus(ρ), sigmoid(ρ)
	tmu, tsig      []float64 // VarNegLogLik's gradients (lrt)
	eps, theta, gl []float64 // a weight-space draw and NegLogLik's gradient (!lrt or !closed)
	gp             []float64 // NegLogPrior's gradient (!closed)
	ploc, pprec    []float64 // prior location and precision 1/scale² (closed)
	sumLogScale    float64   // Σ log priorScale (closed)
	opt            optimizer
	decay          lrDecay
}

func newVIState(p *Problem, v VI, rng *rand.Rand) *viState {
	d := p.Dim
	s := &viState{p: p, rng: rng, d: d, kw: v.KLWeight, samples: v.Samples,
		lrt: p.VarNegLogLik != nil, closed: p.PriorLoc != nil}
	s.w = make([]float64, 2*d)
	s.g = make([]float64, 2*d)
	s.mu, s.rho = s.w[:d:d], s.w[d:]
	s.gmu, s.gsig = s.g[:d:d], s.g[d:]
	s.sigma = make([]float64, d)
	s.sig = make([]float64, d)
	if s.lrt {
		s.tmu = make([]float64, d)
		s.tsig = make([]float64, d)
	}
	if !s.lrt || !s.closed {
		s.eps = make([]float64, d)
		s.theta = make([]float64, d)
		s.gl = make([]float64, d)
	}
	if !s.closed {
		s.gp = make([]float64, d)
	} else {
		s.ploc = p.PriorLoc
		s.pprec = make([]float64, d)
		for j, sc := range p.PriorScale {
			s.pprec[j] = 1 / (sc * sc)
			s.sumLogScale += math.Log(sc)
		}
	}
	s.opt = newOptimizer(v.Optimizer, 2*d, v.LR, v.Momentum)
	s.decay = newLRDecay(v.LR, v.Epochs, v.Batch, p.N)
	return s
}

// transform sets sigma = softplus(ρ) and sig = sigmoid(ρ) from one exp per
// coordinate (stdlib/vec: with e = exp(−|ρ|), softplus(ρ) = max(ρ, 0) +
// log1p(e) and sigmoid(ρ) = 1/(1+e) for ρ ≥ 0, e/(1+e) otherwise), four
// coordinates at a time with AVX2: about 3.5 ns a coordinate against 21 for
// the math package's exp and log1p.
func (s *viState) transform() {
	vec.SoftplusSigmoid(s.sigma, s.sig[:len(s.sigma)], s.rho[:len(s.sigma)])
}

// step takes one optimiser step on the rows idx and returns the per-example
// negative ELBO estimate before the step.
func (s *viState) step(idx []int) (loss, badGrad float64) {
	s.decay.next(s.opt)
	if s.lrt && s.closed && s.samples == 1 {
		return s.stepLRT(idx)
	}
	p, d := s.p, s.d
	nS := float64(s.samples)
	likScale := 1 / (float64(len(idx)) * nS) // E_q[NLL]/B, averaged over samples
	klScale := s.kw / float64(p.N)           // KLWeight·KL/N
	mu, sigma := s.mu, s.sigma[:d]
	gmu, gsig := s.gmu, s.gsig[:d]

	s.transform()
	clear(s.g)
	nll, kl := 0.0, 0.0

	if s.lrt {
		tmu, tsig := s.tmu[:d], s.tsig[:d]
		for range s.samples {
			nll += p.VarNegLogLik(tmu, tsig, mu, sigma, idx, s.rng)
			for j := range gmu {
				gmu[j] += likScale * tmu[j]
				gsig[j] += likScale * tsig[j]
			}
		}
	}

	if !s.lrt || !s.closed {
		eps, theta, gl := s.eps[:d], s.theta[:d], s.gl[:d]
		mcScale := klScale / nS
		for range s.samples {
			for j := range eps {
				e := s.rng.NormFloat64()
				eps[j] = e
				theta[j] = mu[j] + sigma[j]*e
			}
			switch {
			case !s.lrt && s.closed: // likelihood by weight sampling
				nll += p.NegLogLik(gl, theta, idx)
				for j, e := range eps {
					gt := likScale * gl[j]
					gmu[j] += gt
					gsig[j] += gt * e
				}
			case s.lrt && !s.closed: // Monte-Carlo KL only
				gp := s.gp[:d]
				clear(gp)
				kl += (p.NegLogPrior(gp, theta) - 0.5*sumSq(eps)) / nS
				for j, e := range eps {
					gt := mcScale * gp[j]
					gmu[j] += gt
					gsig[j] += gt * e
				}
			default: // both at the same draw
				gp := s.gp[:d]
				nll += p.NegLogLik(gl, theta, idx)
				clear(gp)
				kl += (p.NegLogPrior(gp, theta) - 0.5*sumSq(eps)) / nS
				for j, e := range eps {
					gt := likScale*gl[j] + mcScale*gp[j]
					gmu[j] += gt
					gsig[j] += gt * e
				}
			}
		}
	}

	if s.closed {
		// KL(N(μ,σ²) ‖ N(m,s²)) = log s − log σ + (σ² + (μ−m)²)/(2s²) − ½
		// Σ log σ is taken as the log of a running product (see sumLog).
		ploc, pprec := s.ploc[:d], s.pprec[:d]
		sum, prod, exp := 0.0, 1.0, 0
		for j, m := range mu {
			sg, pr := sigma[j], pprec[j]
			diff := m - ploc[j]
			sum += 0.5 * (sg*sg + diff*diff) * pr
			if prod *= sg; prod < 0x1p-500 || prod > 0x1p500 {
				var k int
				prod, k = math.Frexp(prod)
				exp += k
			}
			gmu[j] += klScale * diff * pr
			gsig[j] += klScale * (sg*pr - 1/sg)
		}
		kl = s.sumLogScale + sum - (math.Log(prod) + float64(exp)*math.Ln2) - 0.5*float64(d)
	} else {
		// log q(θ) = −Σ log σ − ½Σε² − (d/2) log 2π; its total derivative
		// in σ at fixed ε is −1/σ, in μ zero.
		for j, sg := range sigma {
			gsig[j] -= klScale / sg
		}
		kl += -sumLog(sigma) - 0.5*float64(d)*log2Pi
	}

	return viStep(s.opt, s.w, s.g, gsig, s.sig[:d], klScale*kl+likScale*nll)
}

// viStep finishes a step of either Gaussian family: it turns the gradient
// in σ into one in ρ (dρ = dσ · sigmoid(ρ), in place) and steps opt on w
// with g unless the loss is not finite. It returns the step's loss and
// the first non-finite gradient coordinate (0 when none).
func viStep(opt optimizer, w, g, gsig, sigmoid []float64, loss float64) (float64, float64) {
	for j, sg := range sigmoid {
		gsig[j] *= sg
	}
	if !isFinite(loss) {
		return loss, 0
	}
	if !opt.step(w, g, 1) {
		return loss, firstNonFinite(g)
	}
	return loss, 0
}

// stepLRT is step for the common case, one local-reparameterisation draw
// and the closed-form KL, with the passes over the parameters that follow
// the likelihood fused into one: the gradients in μ and ρ are assigned
// (likelihood, KL and the chain through sigmoid(ρ) at once) while the KL is
// summed. The arithmetic, and so every number, is step's.
func (s *viState) stepLRT(idx []int) (loss, badGrad float64) {
	p, d := s.p, s.d
	likScale := 1 / float64(len(idx)) // E_q[NLL]/B
	klScale := s.kw / float64(p.N)    // KLWeight·KL/N
	mu, sigma, sig := s.mu, s.sigma[:d], s.sig[:d]
	gmu, gsig := s.gmu, s.gsig[:d]
	tmu, tsig := s.tmu[:d], s.tsig[:d]
	ploc, pprec := s.ploc[:d], s.pprec[:d]

	s.transform()
	nll := p.VarNegLogLik(tmu, tsig, mu, sigma, idx, s.rng)
	sum, prod, exp := 0.0, 1.0, 0
	for j, m := range mu {
		sg, pr := sigma[j], pprec[j]
		diff := m - ploc[j]
		sum += 0.5 * (sg*sg + diff*diff) * pr
		if prod *= sg; prod < 0x1p-500 || prod > 0x1p500 {
			var k int
			prod, k = math.Frexp(prod)
			exp += k
		}
		gmu[j] = likScale*tmu[j] + klScale*diff*pr
		gsig[j] = (likScale*tsig[j] + klScale*(sg*pr-1/sg)) * sig[j]
	}
	kl := s.sumLogScale + sum - (math.Log(prod) + float64(exp)*math.Ln2) - 0.5*float64(d)
	loss = klScale*kl + likScale*nll
	if !isFinite(loss) {
		return loss, 0
	}
	if !s.opt.step(s.w, s.g, 1) {
		return loss, firstNonFinite(s.g)
	}
	return loss, 0
}

// lrDecay holds the learning rate constant for the first three quarters of
// a fit's steps and then lowers it linearly to zero. At a constant rate
// the iterate jitters around the optimum (Adam moves every coordinate by
// about the rate per step, whatever the signal, so weakly determined
// coordinates random-walk); the decay settles it on the optimum instead of
// returning one draw of that jitter.
type lrDecay struct {
	lr              float64
	t, start, total int
}

func newLRDecay(lr float64, epochs, batch, n int) lrDecay {
	batch = min(batch, n)
	total := epochs * ((n + batch - 1) / batch)
	return lrDecay{lr: lr, start: total - total/4, total: total}
}

// next sets the rate of the coming step.
func (d *lrDecay) next(o optimizer) {
	d.t++
	if d.t > d.start {
		setLR(o, d.lr*float64(d.total-d.t+1)/float64(d.total-d.start+1))
	}
}

const log2Pi = 1.83787706640934548356065947281123527972279494727556682563430308096553139 // log 2π

// sumLog returns Σ log v_i for positive v_i with one multiplication per
// element instead of a log: it keeps a running product and moves its
// binary exponent aside whenever the product leaves [2^-500, 2^500]. The
// product's relative rounding error is about len(v)·2^-53, an absolute
// error of the same size in the sum. A zero gives −Inf, a NaN NaN.
func sumLog(v []float64) float64 {
	prod, exp := 1.0, 0
	for _, x := range v {
		if prod *= x; prod < 0x1p-500 || prod > 0x1p500 {
			var k int
			prod, k = math.Frexp(prod)
			exp += k
		}
	}
	return math.Log(prod) + float64(exp)*math.Ln2
}

func sumSq(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return s
}

// softplusInv returns ρ with softplus(ρ) = y, for y > 0: y + log(−expm1(−y)).
func softplusInv(y float64) float64 { return y + math.Log(-math.Expm1(-y)) }
