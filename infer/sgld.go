package infer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
)

// SGLD is stochastic gradient Langevin dynamics (Welling & Teh 2011). It
// runs Chains independent Markov chains and returns the states they visit
// as a *Samples. The zero value is ready to use: each zero field means the
// default given beside it.
//
// The update is written in terms of the potential U(θ) = −log p(θ) −
// Σ_n log p(y_n|x_n, θ), estimated on a minibatch of B rows as
//
//	Ũ(θ) = NegLogPrior(θ) + (N/B)·NegLogLik(batch),
//	θ ← θ − (ε_t/2)·∇Ũ(θ) + N(0, ε_t·T·I),
//
// so the drift and the injected noise have the right relative size
// whatever N and B are; a mean-loss implementation that steps by ε/2 on
// Ũ/N with noise of variance ε would sample a posterior with N times its
// variance (docs/algorithms.md §8). T is Temperature: 1 samples the posterior, T < 1 the
// sharper p(θ|D)^(1/T).
//
// The step size follows ε_t = LR·(1 + t/b)^(−γ), t = 0, 1, ... counting
// minibatch steps from the start: Welling & Teh's a·(b + t)^(−γ) with
// a = LR·b^γ, written so that LR is the first step. γ (Decay) in (0.5, 1]
// gives Σε = ∞ and Σε² < ∞, so the discretisation bias vanishes; with the
// default b (Offset, half the first round's steps) the step falls to
// 3^(−γ)·LR over the first round and is held there in later rounds.
// Decay −1 (decay: 0 in a script) keeps ε = LR, the usual practice.
//
// LR is ε itself, a step on U, not on a per-example loss: a per-example
// learning rate η corresponds to LR = 2η/N. The default 0.05/N is
// η = 0.025: against NUTS on four small networks, 0.02/N needed 160 000
// steps to bring split-R̂ near 1.1 (and not always there), 0.05/N
// reached it in 20 000 - 80 000 with the same fidelity (mean TV 0.004 -
// 0.013, epistemic size 0.9 - 1.15 of exact), and 0.1/N widened
// faithful's epistemic variance to 1.8 of exact.
//
// The run's length is chosen to reach ESS unless Epochs is given: a first
// round of 10 000 minibatch steps (200 epochs when the data give more than
// 50 steps an epoch), with Burnin, and then rounds that double the run,
// each discarding everything before it, until the chains pass a
// function-space check (chainsMixed: at up to 256 training rows, the
// predictions the fit summary diagnoses, split-R̂ below 1.1 for every one
// and median bulk ESS at least ESS), or the run reaches 160 000 steps (or
// its first round, when that is longer). With Epochs and ESS both
// given, Epochs bounds the run; with Epochs alone the run is that long.
//
// Samples are states at the ends of epochs: after Burnin epochs, every
// Thin-th epoch, counted back from the last. When that would store more
// than MaxSamples per chain, the thinning interval grows to the smallest
// multiple of Thin that stores at most MaxSamples, so the samples still
// span the whole sampling phase evenly (and the final state is always
// kept); a fit stores MaxSamples·Chains·Dim numbers at most. Chains run
// concurrently when the Problem can Fork; each draws from its own source
// seeded from the fit's, so the result does not depend on scheduling.
type SGLD struct {
	Epochs      int     `bl:"epochs,pos"`            // passes over the data per chain; default: grown to reach ESS
	LR          float64 `bl:"lr,pos"`                // first step ε_0 on U; default 0.05/N
	Batch       int     `bl:"batch,pos"`             // minibatch rows; default 128, all rows when N is smaller
	Decay       float64 `bl:"decay,nonneg,zero=-1"`  // γ of the step schedule, at most 1; default 0.55; −1 means 0 (constant step)
	Offset      int     `bl:"offset,pos"`            // b of the step schedule, in steps; default half the run's steps
	Burnin      int     `bl:"burnin,nonneg,zero=-1"` // epochs discarded per chain; default Epochs/2; −1 means none
	Thin        int     `bl:"thin,pos"`              // keep every Thin-th epoch's state; default 1
	Chains      int     `bl:"chains,pos"`            // independent chains; default 4
	MaxSamples  int     `bl:"max_samples,pos"`       // bound on the states stored per chain; default 50
	Temperature float64 `bl:"temperature,pos"`       // T; default 1 (the posterior)
	ESS         float64 `bl:"ess,pos"`               // function-space bulk ESS a run of default length stops at; default 100

	epochCap int // CapEpochs' bound on a default Epochs, applied once N is known
}

// PSGLD is preconditioned SGLD (Li, Chen, Carlson & Carin 2016): SGLD with
// an RMSprop diagonal preconditioner, so that every coordinate moves at a
// similar pace whatever the scale of its gradient. With ḡ the mean
// minibatch gradient of the negative log-likelihood (NegLogLik/B),
//
//	V ← αV + (1−α)·ḡ⊙ḡ,   G = 1 ⊘ (λ + √V),
//	θ ← θ − (ε_t/2)·G⊙∇Ũ(θ) + N(0, ε_t·T·diag G).
//
// The correction term Γ(θ) (the derivative of G) is dropped, as the paper
// recommends. It is zero when V is constant, so V adapts only during the
// burn-in (the first round's, in a run of default length) and is frozen
// after it; with no burn-in it adapts throughout. Adapting throughout, on
// the small networks of the fidelity suite (full-batch gradients, so V
// follows θ) iris's epistemic size was 1.2 - 1.4 of exact and its NLL
// 17 - 22% above; frozen, 1.1 and 3%. V starts at ḡ⊙ḡ of the
// first step rather than at 0, which would make the first steps about
// 1/√(1−α) = 10 times too long. Because G ≈ 1/|ḡ|, a coordinate moves by
// about ε·N/2 per step: the default LR 0.002/N moves it by 10⁻³, RMSprop's
// customary learning rate. Where the prior is normal, G is also bounded by
// 0.5/(ε·prec) per coordinate (precondBound): without the bound, a weight
// whose likelihood gradient vanishes gets G ≈ 1/λ and the prior's pull
// alone throws it to +Inf.
//
// Every other setting means what it means for SGLD.
type PSGLD struct {
	Epochs      int     `bl:"epochs,pos"`            // passes over the data per chain; default: grown to reach ESS
	LR          float64 `bl:"lr,pos"`                // first step ε_0 on U; default 0.002/N
	Batch       int     `bl:"batch,pos"`             // minibatch rows; default 128, all rows when N is smaller
	Decay       float64 `bl:"decay,nonneg,zero=-1"`  // γ of the step schedule, at most 1; default 0.55; −1 means 0 (constant step)
	Offset      int     `bl:"offset,pos"`            // b of the step schedule, in steps; default half the run's steps
	Alpha       float64 `bl:"alpha,unit,zero=-1"`    // α, the decay of V; default 0.99; −1 means 0
	Lambda      float64 `bl:"lambda,pos"`            // λ, the preconditioner's floor; default 1e-5
	Burnin      int     `bl:"burnin,nonneg,zero=-1"` // epochs discarded per chain; default Epochs/2; −1 means none
	Thin        int     `bl:"thin,pos"`              // keep every Thin-th epoch's state; default 1
	Chains      int     `bl:"chains,pos"`            // independent chains; default 4
	MaxSamples  int     `bl:"max_samples,pos"`       // bound on the states stored per chain; default 50
	Temperature float64 `bl:"temperature,pos"`       // T; default 1 (the posterior)
	ESS         float64 `bl:"ess,pos"`               // function-space bulk ESS a run of default length stops at; default 100

	epochCap int // CapEpochs' bound on a default Epochs, applied once N is known
}

// CSGMCMC is cyclical SG-MCMC (Zhang, Li, Zhang, Chen & Wilson 2020): SGLD
// whose step size restarts every cycle, so that each cycle first explores
// (large steps find a new mode) and then samples it (small steps with
// noise). Within a cycle of L steps, step j = 0 ... L−1 has r = j/L and
//
//	ε = SampleLR + (LR − SampleLR)/2·(cos(π·r/Beta) + 1)   for r < Beta,
//	ε = SampleLR                                            for r ≥ Beta.
//
// Steps with r < Beta are plain gradient steps on Ũ without noise (the
// exploration stage, a cosine from LR down to SampleLR); the rest are
// SGLD steps at the constant SampleLR, adding N(0, ε·T·I) (the sampling
// stage). Samples are the states at the ends of epochs in the second half
// of each sampling stage (the first half brings the chain from the mode
// the exploration found to the posterior's spread around it), thinned and
// bounded per cycle as SGLD thins them.
//
// The paper's α_k keeps falling on the cosine through the sampling stage,
// to about LR·(π/2L)² at the cycle's end: there the chain barely moves
// and its spread stays that of the mode it started at. On four small
// networks against NUTS that gave 0.11 - 0.16 of the exact epistemic size
// on three of them and split-R̂ 1.9 - 3.8. A constant SGLD step over the
// last 70% of the cycle gives about SGLD's spread (0.77 - 1.10 of exact;
// sampling over the last half gave 0.70 - 1.13, the low end on
// breast_cancer and mcycle, whose chains had less time to spread). The peak
// defaults to twice SampleLR: noiseless steps of 0.05/N or more diverged
// on mcycle's heteroscedastic network, where gradient descent finds noise
// scales near their floor. The reference also uses SGHMC (momentum) and a
// temperature of 1/50000; this backend uses SGLD and T = 1, the
// untempered posterior.
//
// A run of default length is Cycles cycles of 10 000 steps together (200
// epochs when the data give more than 50 steps an epoch), grown by whole
// cycles to reach ESS as SGLD's is; an explicit Epochs is split into
// Cycles runs of whole epochs as equal as possible. Burnin discards whole
// epochs as in SGLD and defaults to none, since every cycle's exploration
// stage already leaves its start behind. The last epoch of every cycle
// samples even when the cycle is too short to reach r ≥ Beta (a run
// capped for a quick trial), so every cycle yields a sample.
type CSGMCMC struct {
	Epochs      int     `bl:"epochs,pos"`            // passes over the data per chain; default: grown to reach ESS
	LR          float64 `bl:"lr,pos"`                // peak step α_0 on U; default 0.04/N
	SampleLR    float64 `bl:"sample_lr,pos"`         // the sampling stage's step on U; default 0.02/N
	Batch       int     `bl:"batch,pos"`             // minibatch rows; default 128, all rows when N is smaller
	Cycles      int     `bl:"cycles,pos"`            // cycles, at most Epochs; default 4 (per 10 000 steps of a default run)
	Beta        float64 `bl:"beta,unit,zero=-1"`     // exploration fraction of a cycle; default 0.3; −1 means 0 (SGLD throughout)
	Burnin      int     `bl:"burnin,nonneg,zero=-1"` // epochs discarded per chain; default none (−1 also means none)
	Thin        int     `bl:"thin,pos"`              // keep every Thin-th sampling epoch's state; default 1
	Chains      int     `bl:"chains,pos"`            // independent chains; default 4
	MaxSamples  int     `bl:"max_samples,pos"`       // bound on the states stored per chain; default 50
	Temperature float64 `bl:"temperature,pos"`       // T; default 1 (the posterior)
	ESS         float64 `bl:"ess,pos"`               // function-space bulk ESS a run of default length stops at; default 100

	epochCap int // CapEpochs' bound on a default Epochs, applied once N is known
}

var (
	_ Method      = (*SGLD)(nil)
	_ Method      = (*PSGLD)(nil)
	_ Method      = (*CSGMCMC)(nil)
	_ EpochCapper = (*SGLD)(nil)
	_ EpochCapper = (*PSGLD)(nil)
	_ EpochCapper = (*CSGMCMC)(nil)
)

// Defaults shared by the samplers.
const (
	defaultSamplerEpochs = 200
	minSamplerSteps      = 10000
	maxSamplerSteps      = 16 * minSamplerSteps // a default run's bound
	defaultChains        = 4
	defaultMaxSamples    = 50
	defaultDecay         = 0.55
	defaultCycles        = 4
	defaultBeta          = 0.3
	defaultPSGLDAlpha    = 0.99
	defaultPSGLDLambda   = 1e-5
)

// Name returns "sgld".
func (SGLD) Name() string { return "sgld" }

// Name returns "psgld".
func (PSGLD) Name() string { return "psgld" }

// Name returns "csgmcmc".
func (CSGMCMC) Name() string { return "csgmcmc" }

// CapEpochs returns a copy that runs at most n epochs per chain; an
// explicit burn-in shrinks in proportion so that samples remain.
func (m SGLD) CapEpochs(n int) Method {
	m.Epochs, m.Burnin, m.epochCap = capEpochs(m.Epochs, m.Burnin, n)
	return &m
}

// CapEpochs returns a copy that runs at most n epochs per chain; an
// explicit burn-in shrinks in proportion so that samples remain.
func (m PSGLD) CapEpochs(n int) Method {
	m.Epochs, m.Burnin, m.epochCap = capEpochs(m.Epochs, m.Burnin, n)
	return &m
}

// CapEpochs returns a copy that runs at most n epochs per chain. The
// cycles shrink with the run (and their number to at most n); an explicit
// burn-in shrinks in proportion.
func (m CSGMCMC) CapEpochs(n int) Method {
	m.Epochs, m.Burnin, m.epochCap = capEpochs(m.Epochs, m.Burnin, n)
	if m.Epochs > 0 && orDefault(m.Cycles, defaultCycles) > m.Epochs {
		m.Cycles = m.Epochs
	}
	return &m
}

// capEpochs caps epochs at n, scaling an explicit burn-in (> 0) by the same
// factor. Default epochs depend on the data's size, at least 200: a cap
// above that is returned to be applied once the size is known
// (commonSpec).
func capEpochs(epochs, burnin, n int) (int, int, int) {
	if n <= 0 {
		return epochs, burnin, 0
	}
	if epochs == 0 {
		if n > defaultSamplerEpochs {
			return 0, burnin, n
		}
		epochs = defaultSamplerEpochs
	}
	if n >= epochs {
		return epochs, burnin, 0
	}
	if burnin > 0 {
		burnin = burnin * n / epochs
		if burnin == 0 {
			burnin = -1
		}
	}
	return n, burnin, 0
}

// defaultEpochs is the default length of a chain: 200 epochs, or as many
// as 10 000 minibatch steps take when the data give fewer than 50 steps an
// epoch. A sampler needs steps, not passes: on mcycle's 106 rows (one step
// an epoch) four SGLD chains of 2000 epochs sat in different modes
// (split-R̂ 1.9-3.4 in function space, held-out NLL 4.98); of 10 000, R̂ was
// 1.3 (1.2 at a constant step) and the NLL 4.53, near NUTS's 4.42.
func defaultEpochs(stepsPerEpoch int) int {
	return max(defaultSamplerEpochs, (minSamplerSteps+stepsPerEpoch-1)/stepsPerEpoch)
}

// Fit runs the chains from points drawn by p.Init (zeros when Init is nil)
// and returns their stored states as a *Samples. It reports Progress after
// every epoch (Epoch counts epochs of all chains together, Loss is the
// chains' mean of Ũ/N), stops with ctx.Err() when ctx is done (checked
// before every step), and returns a *DivergenceError naming the chain when
// Ũ, its gradient or a parameter stops being finite: a fit never returns
// samples from a diverged chain.
func (m SGLD) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSampler(m.Name(), m, m.check, p, rng); err != nil {
		return nil, err
	}
	return fitChains(ctx, p, rng, obs, m.spec(p))
}

// Fit runs the chains; see SGLD.Fit.
func (m PSGLD) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSampler(m.Name(), m, m.check, p, rng); err != nil {
		return nil, err
	}
	return fitChains(ctx, p, rng, obs, m.spec(p))
}

// Fit runs the chains; see SGLD.Fit.
func (m CSGMCMC) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSampler(m.Name(), m, m.check, p, rng); err != nil {
		return nil, err
	}
	return fitChains(ctx, p, rng, obs, m.spec(p))
}

// fitChains runs the chains and returns their samples, or a nil
// Posterior with the error.
func fitChains(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer, s *chainSpec) (Posterior, error) {
	post, err := runChains(ctx, p, rng, obs, s)
	if err != nil {
		return nil, err
	}
	return post, nil
}

// checkSampler validates a sampler's settings set from Go (a *SettingError
// with Index −1), the Problem and the source.
func checkSampler(name string, settings any, check func() *crossError, p *Problem, rng *rand.Rand) error {
	if err := checkSettings(settings); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if ce := check(); ce != nil {
		return fmt.Errorf("%s: %w", name, &SettingError{Index: -1, Msg: ce.msg})
	}
	if err := checkProblem(name, p); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("%s: %w", name, errNilRNG)
	}
	return nil
}

// crossError is a constraint between settings that their tags cannot
// express. blame lists the settings to point at, in order of preference.
type crossError struct {
	blame []string
	msg   string
}

// burnin resolves a burn-in setting: −1 is none, 0 the default def.
func burnin(b, def int) int {
	switch b {
	case -1:
		return 0
	case 0:
		return def
	}
	return b
}

func orDefault[T int | float64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// zeroIsMinusOne resolves a setting whose −1 means 0 and whose 0 means def.
func zeroIsMinusOne(v, def float64) float64 {
	switch v {
	case -1:
		return 0
	case 0:
		return def
	}
	return v
}

func checkDecayBurnin(epochs, b int, decay float64) *crossError {
	e := orDefault(epochs, defaultSamplerEpochs)
	if bi := burnin(b, e/2); bi >= e {
		return &crossError{[]string{"burnin", "epochs"}, fmt.Sprintf("burnin (%d epochs) must be less than epochs (%d)", bi, e)}
	}
	if decay > 1 {
		return &crossError{[]string{"decay"}, fmt.Sprintf("decay must be at most 1, got %g", decay)}
	}
	return nil
}

func (m *SGLD) check() *crossError  { return checkDecayBurnin(m.Epochs, m.Burnin, m.Decay) }
func (m *PSGLD) check() *crossError { return checkDecayBurnin(m.Epochs, m.Burnin, m.Decay) }

func (m *CSGMCMC) check() *crossError {
	e := orDefault(m.Epochs, defaultSamplerEpochs)
	if c := orDefault(m.Cycles, defaultCycles); c > e {
		return &crossError{[]string{"cycles", "epochs"}, fmt.Sprintf("cycles (%d) must not exceed epochs (%d)", c, e)}
	}
	if b := burnin(m.Burnin, 0); b >= e {
		return &crossError{[]string{"burnin", "epochs"}, fmt.Sprintf("burnin (%d epochs) must be less than epochs (%d)", b, e)}
	}
	return nil
}

// buildSampler is the registry constructor of a sampler: Build's parsing
// plus the checks between settings, reported as a *SettingError at the
// argument that caused them.
func buildSampler[T any, P interface {
	*T
	Method
	check() *crossError
}](args []Arg) (Method, error) {
	m := P(new(T))
	if err := ParseSettings(m, args); err != nil {
		return nil, err
	}
	ce := m.check()
	if ce == nil {
		return m, nil
	}
	idx := -1
	for _, name := range ce.blame {
		if i := slices.IndexFunc(args, func(a Arg) bool { return a.Name == name }); i >= 0 {
			idx = i
			break
		}
	}
	return nil, &SettingError{Index: idx, Msg: ce.msg}
}

// defaultLRFor returns the default first step 2η/N for a per-example
// learning rate η.
func defaultLRFor(eta float64, n int) float64 { return 2 * eta / float64(n) }

// commonSpec resolves the settings every sampler shares. The default
// burn-in is half the epochs when halfBurnin is set, else none.
//
// A run without Epochs, or with ESS, has default length: it starts at
// defaultEpochs and grows in rounds (runChains) until the function-space
// diagnostics pass, up to Epochs when set and otherwise to
// maxSamplerSteps (or the initial length when that is more); CapEpochs
// bounds it further.
func commonSpec(name string, p *Problem, epochs, epochCap, batch, b int, halfBurnin bool, thin, chains, maxSamples int, temp, ess float64) *chainSpec {
	s := &chainSpec{
		method:      name,
		batch:       min(orDefault(batch, 128), p.N),
		thin:        orDefault(thin, 1),
		chains:      orDefault(chains, defaultChains),
		maxSamples:  orDefault(maxSamples, defaultMaxSamples),
		temperature: orDefault(temp, 1),
	}
	s.stepsPerEpoch = (p.N + s.batch - 1) / s.batch
	s.epochs = epochs
	if epochs == 0 || ess > 0 {
		s.essTarget = orDefault(ess, defaultESS)
		initial := defaultEpochs(s.stepsPerEpoch)
		s.maxEpochs = epochs
		if epochs == 0 {
			s.maxEpochs = max(initial, (maxSamplerSteps+s.stepsPerEpoch-1)/s.stepsPerEpoch)
		}
		if epochCap > 0 {
			s.maxEpochs = min(s.maxEpochs, epochCap)
		}
		if s.epochs = min(initial, s.maxEpochs); s.epochs < initial && epochs == 0 {
			_, b, _ = capEpochs(initial, b, s.epochs)
		}
	}
	s.burnin = burnin(b, 0)
	if halfBurnin {
		s.burnin = burnin(b, s.epochs/2)
	}
	return s
}

// start keeps plan and plans a fixed run with it, or the first round of a
// run of default length.
func (s *chainSpec) start(plan func(epochs, burnin int)) *chainSpec {
	s.plan = plan
	plan(s.epochs, s.burnin)
	return s
}

// decayPlan plans SGLD's and pSGLD's rounds: one group of candidate
// epochs after the burn-in, on one decaying schedule. In a run of default
// length the step is held from the end of the first round on, so that
// the rounds that lengthen a run mix as fast as the first.
func (s *chainSpec) decayPlan(lr, gamma float64, offset int) func(epochs, burnin int) {
	var sched *decaySchedule
	return func(epochs, burnin int) {
		s.epochs, s.burnin = epochs, burnin
		if sched == nil {
			sched = newDecaySchedule(lr, gamma, offset, s)
			if s.essTarget > 0 {
				sched.hold = s.epochs * s.stepsPerEpoch
			}
		}
		s.sched = sched
		s.groups = [][2]int{{burnin + 1, epochs}}
		s.selectEpochs()
	}
}

func (m SGLD) spec(p *Problem) *chainSpec {
	s := commonSpec(m.Name(), p, m.Epochs, m.epochCap, m.Batch, m.Burnin, true, m.Thin, m.Chains, m.MaxSamples, m.Temperature, m.ESS)
	return s.start(s.decayPlan(orDefault(m.LR, defaultLRFor(0.025, p.N)), zeroIsMinusOne(m.Decay, defaultDecay), m.Offset))
}

func (m PSGLD) spec(p *Problem) *chainSpec {
	s := commonSpec(m.Name(), p, m.Epochs, m.epochCap, m.Batch, m.Burnin, true, m.Thin, m.Chains, m.MaxSamples, m.Temperature, m.ESS)
	s.precond = true
	s.alpha = zeroIsMinusOne(m.Alpha, defaultPSGLDAlpha)
	s.lambda = orDefault(m.Lambda, defaultPSGLDLambda)
	s.start(s.decayPlan(orDefault(m.LR, defaultLRFor(1e-3, p.N)), zeroIsMinusOne(m.Decay, defaultDecay), m.Offset))
	s.freeze = s.burnin * s.stepsPerEpoch
	return s
}

func (m CSGMCMC) spec(p *Problem) *chainSpec {
	s := commonSpec(m.Name(), p, m.Epochs, m.epochCap, m.Batch, m.Burnin, false, m.Thin, m.Chains, m.MaxSamples, m.Temperature, m.ESS)
	lr := orDefault(m.LR, defaultLRFor(0.02, p.N))
	floor := orDefault(m.SampleLR, defaultLRFor(0.01, p.N))
	beta := zeroIsMinusOne(m.Beta, defaultBeta)
	cycles := min(orDefault(m.Cycles, defaultCycles), s.epochs)
	// A run of default length grows by whole cycles of the first round's
	// length; its bound is rounded down to whole cycles.
	cycleEpochs := max(1, s.epochs/cycles)
	if s.essTarget > 0 {
		s.epochs = cycles * cycleEpochs
		s.maxEpochs = max(s.epochs, s.maxEpochs/cycleEpochs*cycleEpochs)
	}
	return s.start(func(epochs, burnin int) {
		s.epochs, s.burnin = epochs, burnin
		k := cycles
		if s.essTarget > 0 {
			k = epochs / cycleEpochs
		}
		cs := newCosineSchedule(lr, floor, beta, k, epochs, s.stepsPerEpoch)
		s.sched = cs
		s.groups = s.groups[:0]
		for c := range cs.cycles {
			// The last cycle ends at the last epoch, after the burn-in,
			// so there is at least one group.
			if lo, hi := cs.samplingEpochs(c); hi > burnin {
				s.groups = append(s.groups, [2]int{max(lo, burnin+1), hi})
			}
		}
		s.selectEpochs()
	})
}
