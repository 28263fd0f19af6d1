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
// variance (ALGORITHMS.md §8). T is Temperature: 1 samples the posterior, T < 1 the
// sharper p(θ|D)^(1/T).
//
// The step size follows ε_t = LR·(1 + t/b)^(−γ), t = 0, 1, ... counting
// minibatch steps from the start: Welling & Teh's a·(b + t)^(−γ) with
// a = LR·b^γ, written so that LR is the first step. γ (Decay) in (0.5, 1]
// gives Σε = ∞ and Σε² < ∞, so the discretisation bias vanishes; with the
// default b (Offset, half the run's steps) the step ends at 3^(−γ)·LR.
// Decay −1 (decay: 0 in a script) keeps ε = LR, the usual practice.
//
// LR is ε itself, a step on U, not on a per-example loss: a per-example
// learning rate η corresponds to LR = 2η/N. The default 0.02/N is η = 0.01.
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
	Epochs      int     `bl:"epochs,pos"`            // passes over the data per chain; default 200, or enough for 10 000 steps
	LR          float64 `bl:"lr,pos"`                // first step ε_0 on U; default 0.02/N
	Batch       int     `bl:"batch,pos"`             // minibatch rows; default 128, all rows when N is smaller
	Decay       float64 `bl:"decay,nonneg,zero=-1"`  // γ of the step schedule, at most 1; default 0.55; −1 means 0 (constant step)
	Offset      int     `bl:"offset,pos"`            // b of the step schedule, in steps; default half the run's steps
	Burnin      int     `bl:"burnin,nonneg,zero=-1"` // epochs discarded per chain; default Epochs/2; −1 means none
	Thin        int     `bl:"thin,pos"`              // keep every Thin-th epoch's state; default 1
	Chains      int     `bl:"chains,pos"`            // independent chains; default 4
	MaxSamples  int     `bl:"max_samples,pos"`       // bound on the states stored per chain; default 50
	Temperature float64 `bl:"temperature,pos"`       // T; default 1 (the posterior)

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
// recommends; it is small when V changes slowly. V starts at ḡ⊙ḡ of the
// first step rather than at 0, which would make the first steps about
// 1/√(1−α) = 10 times too long. Because G ≈ 1/|ḡ|, a coordinate moves by
// about ε·N/2 per step: the default LR 0.002/N moves it by 10⁻³, RMSprop's
// customary learning rate.
//
// Every other setting means what it means for SGLD.
type PSGLD struct {
	Epochs      int     `bl:"epochs,pos"`            // passes over the data per chain; default 200, or enough for 10 000 steps
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

	epochCap int // CapEpochs' bound on a default Epochs, applied once N is known
}

// CSGMCMC is cyclical SG-MCMC (Zhang, Li, Zhang, Chen & Wilson 2020): SGLD
// whose step size restarts Cycles times on a cosine, so that each cycle
// first explores (large steps find a new mode) and then samples it (small
// steps with noise). The epochs are split into Cycles runs of whole epochs
// as equal as possible; within a cycle of L steps, step j = 0 ... L−1 has
//
//	r = j/L,   ε = (LR/2)·(cos(π·r) + 1),
//
// which is LR at every cycle start and falls to about LR·(π/2L)² at its
// end; this is the paper's α_k with ⌈K/M⌉ replaced by each cycle's length.
// Steps with r < Beta are plain gradient steps on Ũ without noise (the
// exploration stage); the rest add N(0, ε·T·I) as SGLD does (the sampling
// stage). Samples are the states at the ends of epochs that end in a
// sampling stage, thinned and bounded per cycle as SGLD thins them (every
// Thin-th such epoch counted back from each cycle's end, the interval
// growing when more than MaxSamples would be stored); the reference code
// keeps the last three epochs of each 50-epoch cycle.
//
// The reference uses SGHMC (momentum) in the sampling stage and a
// temperature of 1/50000; this backend uses SGLD and defaults to T = 1,
// the untempered posterior. Burnin discards whole epochs as in SGLD and
// defaults to none, since every cycle's exploration stage already leaves
// its start behind. The last step of every cycle samples even when the
// cycle is too short to reach r ≥ Beta (a run capped for a quick trial),
// so every cycle yields a sample.
type CSGMCMC struct {
	Epochs      int     `bl:"epochs,pos"`            // passes over the data per chain; default 200, or enough for 10 000 steps
	LR          float64 `bl:"lr,pos"`                // peak step α_0 on U; default 0.02/N
	Batch       int     `bl:"batch,pos"`             // minibatch rows; default 128, all rows when N is smaller
	Cycles      int     `bl:"cycles,pos"`            // cosine cycles, at most Epochs; default 4
	Beta        float64 `bl:"beta,unit,zero=-1"`     // exploration fraction of a cycle; default 0.9; −1 means 0 (noise throughout)
	Burnin      int     `bl:"burnin,nonneg,zero=-1"` // epochs discarded per chain; default none (−1 also means none)
	Thin        int     `bl:"thin,pos"`              // keep every Thin-th sampling epoch's state; default 1
	Chains      int     `bl:"chains,pos"`            // independent chains; default 4
	MaxSamples  int     `bl:"max_samples,pos"`       // bound on the states stored per chain; default 50
	Temperature float64 `bl:"temperature,pos"`       // T; default 1 (the posterior)

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
	defaultChains        = 4
	defaultMaxSamples    = 50
	defaultDecay         = 0.55
	defaultCycles        = 4
	defaultBeta          = 0.9
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
func commonSpec(name string, p *Problem, epochs, epochCap, batch, b int, halfBurnin bool, thin, chains, maxSamples int, temp float64) *chainSpec {
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
	if epochs == 0 {
		s.epochs = defaultEpochs(s.stepsPerEpoch)
		if epochCap > 0 {
			s.epochs, b, _ = capEpochs(s.epochs, b, epochCap)
		}
	}
	s.burnin = burnin(b, 0)
	if halfBurnin {
		s.burnin = burnin(b, s.epochs/2)
	}
	return s
}

func (m SGLD) spec(p *Problem) *chainSpec {
	s := commonSpec(m.Name(), p, m.Epochs, m.epochCap, m.Batch, m.Burnin, true, m.Thin, m.Chains, m.MaxSamples, m.Temperature)
	s.sched = newDecaySchedule(orDefault(m.LR, defaultLRFor(0.01, p.N)), zeroIsMinusOne(m.Decay, defaultDecay), m.Offset, s)
	s.groups = [][2]int{{s.burnin + 1, s.epochs}}
	s.selectEpochs()
	return s
}

func (m PSGLD) spec(p *Problem) *chainSpec {
	s := commonSpec(m.Name(), p, m.Epochs, m.epochCap, m.Batch, m.Burnin, true, m.Thin, m.Chains, m.MaxSamples, m.Temperature)
	s.sched = newDecaySchedule(orDefault(m.LR, defaultLRFor(1e-3, p.N)), zeroIsMinusOne(m.Decay, defaultDecay), m.Offset, s)
	s.precond = true
	s.alpha = zeroIsMinusOne(m.Alpha, defaultPSGLDAlpha)
	s.lambda = orDefault(m.Lambda, defaultPSGLDLambda)
	s.groups = [][2]int{{s.burnin + 1, s.epochs}}
	s.selectEpochs()
	return s
}

func (m CSGMCMC) spec(p *Problem) *chainSpec {
	s := commonSpec(m.Name(), p, m.Epochs, m.epochCap, m.Batch, m.Burnin, false, m.Thin, m.Chains, m.MaxSamples, m.Temperature)
	cs := newCosineSchedule(orDefault(m.LR, defaultLRFor(0.01, p.N)), zeroIsMinusOne(m.Beta, defaultBeta),
		min(orDefault(m.Cycles, defaultCycles), s.epochs), s.epochs, s.stepsPerEpoch)
	s.sched = cs
	for c := range cs.cycles {
		// The last cycle ends at the last epoch, after the burn-in, so
		// there is at least one group.
		if lo, hi := cs.samplingEpochs(c); hi > s.burnin {
			s.groups = append(s.groups, [2]int{max(lo, s.burnin+1), hi})
		}
	}
	s.selectEpochs()
	return s
}
