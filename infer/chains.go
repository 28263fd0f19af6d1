package infer

import (
	"context"
	"github.com/bayesl/bayesl/stdlib/vec"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// chainSpec is a sampler's resolved settings: what runChains needs to run
// SGLD, pSGLD or cyclical SG-MCMC chains.
type chainSpec struct {
	method        string
	epochs        int
	batch         int // ≤ N
	stepsPerEpoch int
	burnin        int
	thin          int
	chains        int
	maxSamples    int
	temperature   float64
	sched         schedule

	precond       bool // pSGLD
	alpha, lambda float64
	freeze        int // pSGLD's V stops adapting at this step when > 0

	// groups are the runs of epochs [lo, hi] (1-based, inclusive) whose
	// end states are candidate samples: one run after the burn-in for
	// SGLD, the sampling epochs of each cycle for cyclical SG-MCMC.
	groups [][2]int
	// kept lists the epochs whose end states are stored, ascending.
	kept []int

	// A run of default length (essTarget > 0) grows in rounds: after the
	// first plan(epochs, burnin), each round doubles the run, up to
	// maxEpochs, and discards everything before it, until the chains'
	// function-space diagnostics pass (chainsMixed). plan sets epochs,
	// burnin, sched, groups and kept.
	essTarget float64
	maxEpochs int
	plan      func(epochs, burnin int)
}

// A schedule gives the step size ε of step t (0-based, counted over the
// whole run) and whether that step injects noise.
type schedule interface {
	at(t int) (eps float64, noisy bool)
}

// decaySchedule is ε_t = lr·(1 + min(t, hold)/b)^(−γ), noisy throughout;
// hold 0 means never.
type decaySchedule struct {
	lr, gamma, b float64
	hold         int
}

// newDecaySchedule returns the schedule; offset 0 means half the run's
// steps.
func newDecaySchedule(lr, gamma float64, offset int, s *chainSpec) *decaySchedule {
	b := offset
	if b == 0 {
		b = max(1, s.epochs*s.stepsPerEpoch/2)
	}
	return &decaySchedule{lr: lr, gamma: gamma, b: float64(b)}
}

func (d *decaySchedule) at(t int) (float64, bool) {
	if d.gamma == 0 {
		return d.lr, true
	}
	if d.hold > 0 {
		t = min(t, d.hold)
	}
	return d.lr * math.Pow(1+float64(t)/d.b, -d.gamma), true
}

// cosineSchedule is the cyclical schedule of CSGMCMC over cycles of whole
// epochs: cycle k covers epochs [⌊kE/M⌋, ⌊(k+1)E/M⌋) (0-based), so M
// cycles of E epochs differ in length by one epoch at most. The cosine
// falls from lr to floor over the exploration stage (r < β), and the
// sampling stage runs at floor.
type cosineSchedule struct {
	lr, floor, beta     float64
	cycles, epochs, spe int
}

func newCosineSchedule(lr, floor, beta float64, cycles, epochs, spe int) *cosineSchedule {
	return &cosineSchedule{lr: lr, floor: floor, beta: beta, cycles: cycles, epochs: epochs, spe: spe}
}

// startEpoch is the 0-based first epoch of cycle k (k = cycles gives the
// end of the run).
func (c *cosineSchedule) startEpoch(k int) int { return k * c.epochs / c.cycles }

func (c *cosineSchedule) cycleSteps(k int) int {
	return (c.startEpoch(k+1) - c.startEpoch(k)) * c.spe
}

// cycleOf returns the cycle holding 0-based epoch e: the k with
// ⌊kE/M⌋ ≤ e < ⌊(k+1)E/M⌋, which is ⌈(e+1)M/E⌉ − 1.
func (c *cosineSchedule) cycleOf(e int) int {
	return ((e+1)*c.cycles+c.epochs-1)/c.epochs - 1
}

// at returns the step size of step t and whether it is in the sampling
// stage: r ≥ β, or the cycle's last step, so that a cycle too short to
// reach r ≥ β (a capped quick run) still ends with a noisy step and
// yields a sample.
func (c *cosineSchedule) at(t int) (float64, bool) {
	j, length := c.position(t)
	r := float64(j) / float64(length)
	if r >= c.beta {
		return c.floor, true
	}
	return c.floor + (c.lr-c.floor)/2*(math.Cos(math.Pi*r/c.beta)+1), j == length-1
}

// position returns step t's index j in its cycle and the cycle's length.
func (c *cosineSchedule) position(t int) (j, length int) {
	k := c.cycleOf(t / c.spe)
	return t - c.startEpoch(k)*c.spe, c.cycleSteps(k)
}

// samplingEpochs returns the 1-based epochs [lo, hi] of cycle k whose last
// step is in the second half of the sampling stage, r ≥ (1 + β)/2. They
// are a suffix of the cycle, since r grows through it, and hold at least
// the cycle's last epoch.
func (c *cosineSchedule) samplingEpochs(k int) (lo, hi int) {
	hi = c.startEpoch(k + 1)
	lo = hi
	for e := hi - 1; e > c.startEpoch(k); e-- {
		j, length := c.position(e*c.spe - 1)
		if float64(j)/float64(length) < (1+c.beta)/2 {
			break
		}
		lo = e
	}
	return lo, hi
}

// selectEpochs chooses the stored epochs from the candidate groups: every
// k-th candidate counted back from each group's end, with k the smallest
// multiple of thin that stores at most maxSamples. When even one per group
// is too many (more cycles than maxSamples), the last maxSamples groups
// give one each.
func (s *chainSpec) selectEpochs() {
	groups := s.groups
	longest := 0
	for _, g := range groups {
		longest = max(longest, g[1]-g[0]+1)
	}
	count := func(k int) int {
		n := 0
		for _, g := range groups {
			n += (g[1] - g[0] + k) / k
		}
		return n
	}
	jmax := max(1, (longest+s.thin-1)/s.thin)
	j := 1 + sort.Search(jmax, func(i int) bool { return count((i+1)*s.thin) <= s.maxSamples })
	k := min(j, jmax) * s.thin
	if count(k) > s.maxSamples {
		groups = groups[len(groups)-s.maxSamples:]
	}
	s.kept = s.kept[:0]
	for _, g := range groups {
		for e := g[1]; e >= g[0]; e -= k {
			s.kept = append(s.kept, e)
		}
	}
	slices.Sort(s.kept)
}

// runChains runs s.chains chains, concurrently on up to GOMAXPROCS
// goroutines when p can Fork (one Problem per goroutine, the first being p
// itself), and collects their stored states. Each chain's source is seeded
// with two words drawn from rng before any chain starts, so the result is
// the same bit for bit whatever the scheduling and the number of
// goroutines. Failures are forEachChain's: the lowest-numbered failing
// chain's error, as a *MemberError.
//
// A run of default length continues in rounds (see chainSpec.essTarget);
// every chain keeps its state and source from round to round, and the
// diagnostics draw nothing, so the result is as reproducible.
func runChains(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer, s *chainSpec) (*Samples, error) {
	seeds := chainSeeds(rng, s.chains)
	prog := newChainProgress(obs, s)
	runs := make([]*chainRun, s.chains)
	flat := make([][]float64, s.chains)
	out := make([][][]float64, s.chains)
	for from := 0; ; {
		err := forEachChain(ctx, p, s.chains, func(ctx context.Context, q *Problem, c int) error {
			if runs[c] == nil {
				runs[c] = newChainRun(q, seeds[c], s)
			}
			var err error
			flat[c], out[c], err = runs[c].run(ctx, q, c, from, s, prog)
			return err
		})
		if err != nil {
			return nil, err
		}
		next := min(2*s.epochs, s.maxEpochs)
		if s.essTarget == 0 || next <= s.epochs {
			break
		}
		mixed, err := chainsMixed(ctx, p, out, s.essTarget)
		if err != nil {
			return nil, err
		}
		if mixed {
			break
		}
		from = s.epochs
		s.plan(next, from)
		prog.extend(next)
	}
	q := &Samples{By: s.method, dim: p.Dim, flat: flat, chains: out}
	for _, r := range runs {
		q.undone += r.recovered
	}
	return q, nil
}

// chainSeeds draws two words for each of n chains' sources from rng,
// before any chain starts (see unitSeeds).
func chainSeeds(rng *rand.Rand, n int) [][2]uint64 { return unitSeeds(rng, n) }

// forEachChain calls run for chains 0 .. n−1 as the units of runUnits:
// concurrently on up to GOMAXPROCS goroutines when p can Fork. When chains
// fail, the error is a *MemberError for the lowest-numbered failing chain,
// whatever the schedule; a failure stops the chains after it, and a panic
// in a chain is such a failure.
func forEachChain(ctx context.Context, p *Problem, n int, run func(ctx context.Context, q *Problem, c int) error) error {
	return runUnits(ctx, p, "", "chain", n, run)
}

// chainRun is one chain between rounds: its state, source and step count.
type chainRun struct {
	rng  *rand.Rand
	st   *chainState
	perm []int
	t    int // steps taken

	// A long run at a fixed step can reach a region whose curvature the
	// step cannot resolve (a heteroscedastic net whose noise scale
	// collapses: NUTS reports divergent transitions there too). Without a
	// preconditioner such a step is undone: θ goes back to good, the last
	// state a finite step left (cur holds the state the current step
	// started from), the chain's steps are halved from then on
	// (shrink), and the fit goes on; after maxRecoveries the chain fails as
	// before.
	cur, good []float64
	seen      bool  // some step was finite: good holds a state
	first     error // the chain's first non-finite step
	shrink    float64
	recovered int
}

// maxRecoveries bounds how often one chain may undo a non-finite step.
const maxRecoveries = 8

// newChainRun starts a chain with its own source from the point p.Init
// draws.
func newChainRun(p *Problem, seed [2]uint64, s *chainSpec) *chainRun {
	rng := rand.New(rand.NewPCG(seed[0], seed[1]))
	st := newChainState(p, s, rng)
	if p.Init != nil {
		p.Init(st.theta, rng)
	}
	perm := make([]int, p.N)
	for i := range perm {
		perm[i] = i
	}
	r := &chainRun{rng: rng, st: st, perm: perm, shrink: 1}
	if st.v == nil {
		r.cur, r.good = make([]float64, p.Dim), make([]float64, p.Dim)
		copy(r.good, st.theta)
	}
	return r
}

// run continues chain c (0-based) from epoch from+1 to s.epochs on p and
// returns the states of the kept epochs after from, one after another in
// store and as views of it.
func (r *chainRun) run(ctx context.Context, p *Problem, c, from int, s *chainSpec, prog *chainProgress) (store []float64, samples [][]float64, err error) {
	st, rng, perm := r.st, r.rng, r.perm
	st.p = p // the round may run on another fork
	d, n := p.Dim, p.N
	kept := s.kept
	for len(kept) > 0 && kept[0] <= from {
		kept = kept[1:]
	}
	store = make([]float64, len(kept)*d)
	samples = make([][]float64, 0, len(kept))
	t := r.t
	for epoch := from + 1; epoch <= s.epochs; epoch++ {
		shuffle(perm, rng)
		sum := 0.0
		k := 0
		for lo := 0; lo < n; lo += s.batch {
			k++
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			eps, noisy := s.sched.at(t)
			st.frozen = s.freeze > 0 && t >= s.freeze
			t++
			if r.cur != nil {
				copy(r.cur, st.theta)
			}
			u, ok := st.step(perm[lo:min(lo+s.batch, n)], eps*r.shrink, noisy)
			if r.cur != nil && ok {
				r.cur, r.good = r.good, r.cur // a finite step left the state it started from
				r.seen = true
			}
			if !ok {
				if r.first == nil {
					r.first = st.divergence(s.method, u, c, epoch, k)
				}
				if r.cur == nil || !r.seen || r.recovered == maxRecoveries {
					return nil, nil, r.first // where the chain first went wrong
				}
				copy(st.theta, r.good)
				r.shrink /= 2
				r.recovered++
				continue
			}
			sum += u
		}
		if len(kept) > 0 && kept[0] == epoch {
			v := store[len(samples)*d : (len(samples)+1)*d : (len(samples)+1)*d]
			copy(v, st.theta)
			samples = append(samples, v)
			kept = kept[1:]
		}
		prog.report(c, sum/float64(k))
	}
	r.t = t
	return store, samples, nil
}

// noiseBlock is the number of normal draws generated at a time: enough to
// amortise the generator's call, few enough to stay in L1 with θ and ∇Ũ.
const noiseBlock = 256

// chainState is the preallocated workspace of one chain; a step allocates
// nothing.
type chainState struct {
	p       *Problem
	n       float64 // N
	temp    float64
	theta   []float64
	grad    []float64
	v       []float64 // pSGLD's V; nil for SGLD
	alpha   float64
	lambda  float64
	started bool // V holds a first estimate
	frozen  bool // V no longer adapts
	noise   *vec.Normals
	buf     [noiseBlock]float64

	// A normal prior (PriorLoc, PriorScale) in runs of equal location and
	// scale, and its constant Σ log(scale·√(2π)); nil when the prior is
	// used through NegLogPrior.
	segs       []priorSegment
	priorConst float64
	// prec is the prior's precision per coordinate when it is normal but
	// not in runs (pSGLD's bound on G); nil otherwise.
	prec []float64
}

// precondBound bounds pSGLD's preconditioner by the prior: G_i·ε·prec_i ≤
// precondBound. Where the likelihood's gradient vanishes (a saturated
// tanh unit, a weight into a dead unit) V decays towards 0 and G towards
// 1/λ = 10⁵, and the prior's own pull, a step of G·ε·prec_i/2 times the
// distance to its mean, overshoots ever further: four chains of a
// two-hidden-layer net of width 64 diverged within 150 steps. Langevin
// dynamics on a normal of precision P at step h has stationary variance
// (1/P)/(1 − hP/4), so the bound keeps such coordinates stable and their
// variance within 14% of the prior's; it never binds where the likelihood
// dominates, since there √V > 2ε·prec.
const precondBound = 0.5

// priorSegment is a run of coordinates [lo, hi) with the prior
// N(loc, 1/prec).
type priorSegment struct {
	lo, hi    int
	loc, prec float64
}

func newChainState(p *Problem, s *chainSpec, rng *rand.Rand) *chainState {
	st := &chainState{p: p, n: float64(p.N), temp: s.temperature,
		theta: make([]float64, p.Dim), grad: make([]float64, p.Dim),
		noise: seededNormals(rng)}
	if s.precond {
		st.v = make([]float64, p.Dim)
		st.alpha, st.lambda = s.alpha, s.lambda
	}
	st.segs, st.priorConst = priorSegments(p)
	if s.precond && st.segs == nil && len(p.PriorScale) == p.Dim {
		st.prec = make([]float64, p.Dim)
		for j, sc := range p.PriorScale {
			st.prec[j] = 1 / (sc * sc)
		}
	}
	return st
}

// priorSegments returns the runs of a normal prior, when the Problem
// states one and it comes in few runs (a network's priors change per layer
// or per kind of parameter, not per weight); nil otherwise.
//
// The update is memory-bound on a large model: every pass over θ-sized
// arrays costs about as much as the arithmetic. With the prior in runs,
// the prior's gradient (θ − loc)·prec, the N/B scaling, pSGLD's V and the
// move itself are one pass after the likelihood's gradient, instead of
// four (scale, NegLogPrior, update, and V's).
func priorSegments(p *Problem) ([]priorSegment, float64) {
	if p.PriorLoc == nil || len(p.PriorLoc) != p.Dim || len(p.PriorScale) != p.Dim {
		return nil, 0
	}
	var segs []priorSegment
	c := 0.0
	for j, loc := range p.PriorLoc {
		sc := p.PriorScale[j]
		c += math.Log(sc)
		if n := len(segs); n > 0 && segs[n-1].loc == loc && segs[n-1].prec == 1/(sc*sc) {
			segs[n-1].hi = j + 1
			continue
		}
		if len(segs) > p.Dim/16 {
			return nil, 0
		}
		segs = append(segs, priorSegment{lo: j, hi: j + 1, loc: loc, prec: 1 / (sc * sc)})
	}
	return segs, c + float64(p.Dim)*0.5*math.Log(2*math.Pi)
}

// step takes one SGLD (or pSGLD) step of size eps on the rows idx, with
// noise when noisy, and returns Ũ/N at the current θ. It reports false
// when Ũ is not finite or when the gradient or the new θ has a non-finite
// coordinate (θ is then spoilt); the check rides along the update loop.
func (st *chainState) step(idx []int, eps float64, noisy bool) (float64, bool) {
	p, g, th := st.p, st.grad, st.theta
	b := float64(len(idx))
	scale := st.n / b
	nll := p.NegLogLik(g, th, idx)
	sd := 0.0
	if noisy {
		sd = math.Sqrt(eps * st.temp)
	}
	if st.segs != nil {
		if u := scale * nll; !isFinite(u) {
			return u, false
		}
		prior, z := st.updateFused(eps/2, sd, scale, 1/b)
		u := scale*nll + prior + st.priorConst
		return u / st.n, z == 0 && isFinite(u)
	}
	switch {
	case st.v != nil:
		st.accumulate(g, 1/b, scale)
	case scale != 1:
		for i := range g {
			g[i] *= scale
		}
	}
	u := scale * nll
	if p.NegLogPrior != nil {
		u += p.NegLogPrior(g, th)
	}
	if !isFinite(u) {
		return u, false
	}
	var z float64
	if st.v == nil {
		z = st.update(eps/2, sd)
	} else {
		z = st.updatePrecond(eps/2, sd, eps)
	}
	return u / st.n, z == 0
}

// accumulate folds the mean gradient ḡ = c·g into V and scales g by s.
func (st *chainState) accumulate(g []float64, c, s float64) {
	v := st.v[:len(g)]
	if !st.started {
		for i, gi := range g {
			m := c * gi
			v[i] = m * m
			g[i] = s * gi
		}
		st.started = true
		return
	}
	a, a1 := st.alpha, 1-st.alpha
	if st.frozen {
		a, a1 = 1, 0
	}
	for i, gi := range g {
		m := c * gi
		v[i] = a*v[i] + a1*m*m
		g[i] = s * gi
	}
}

// update does θ ← θ − h·g + sd·ξ with ξ ~ N(0, I) and returns Σ θ_i·0,
// which is 0 unless a coordinate is not finite.
func (st *chainState) update(h, sd float64) float64 {
	th, g := st.theta, st.grad[:len(st.theta)]
	z := 0.0
	if sd == 0 {
		for i, gi := range g {
			x := th[i] - h*gi
			th[i] = x
			z += x * 0
		}
		return z
	}
	for lo := 0; lo < len(th); lo += noiseBlock {
		tb := th[lo:min(lo+noiseBlock, len(th))]
		gb := g[lo : lo+len(tb)]
		xi := st.buf[:len(tb)]
		st.noise.Fill(xi)
		for i, e := range xi {
			x := tb[i] - h*gb[i] + sd*e
			tb[i] = x
			z += x * 0
		}
	}
	return z
}

// updatePrecond does θ ← θ − h·G⊙g + sd·√G⊙ξ with G = 1/(λ + √V),
// bounded by precondBound/(eps·prec) where the prior's precision is known.
func (st *chainState) updatePrecond(h, sd, eps float64) float64 {
	th, g, v := st.theta, st.grad[:len(st.theta)], st.v[:len(st.theta)]
	lam := st.lambda
	bound := precondBound / eps
	z := 0.0
	for lo := 0; lo < len(th); lo += noiseBlock {
		tb := th[lo:min(lo+noiseBlock, len(th))]
		gb := g[lo : lo+len(tb)]
		vb := v[lo : lo+len(tb)]
		xi := st.buf[:len(tb)]
		if sd != 0 {
			st.noise.Fill(xi)
		} else {
			clear(xi)
		}
		var pb []float64
		if st.prec != nil {
			pb = st.prec[lo : lo+len(tb)]
		}
		for i, e := range xi {
			gi := 1 / (lam + math.Sqrt(vb[i]))
			if pb != nil {
				gi = min(gi, bound/pb[i])
			}
			x := tb[i] - h*gi*gb[i] + sd*math.Sqrt(gi)*e
			tb[i] = x
			z += x * 0
		}
	}
	return z
}

// updateFused is the whole update in one pass for a prior in runs: with
// the likelihood's gradient g (not yet scaled), ∇Ũ = s·g + (θ − loc)·prec;
// pSGLD's V takes ḡ = c·g. It returns −log p(θ) at the old θ, less its
// constant, and Σ θ_i·0 of the new θ.
func (st *chainState) updateFused(h, sd, s, c float64) (prior, z float64) {
	th, g := st.theta, st.grad[:len(st.theta)]
	var v []float64
	a, a1 := st.alpha, 1-st.alpha
	if st.v != nil {
		v = st.v[:len(th)]
		switch {
		case !st.started:
			a, a1 = 0, 1 // V starts at ḡ²
			st.started = true
		case st.frozen:
			a, a1 = 1, 0
		}
	}
	lam := st.lambda
	bound := precondBound / (2 * h) // h = ε/2
	k := 0
	for lo := 0; lo < len(th); lo += noiseBlock {
		hi := min(lo+noiseBlock, len(th))
		xi := st.buf[:hi-lo]
		if sd != 0 {
			st.noise.Fill(xi)
		} else {
			clear(xi)
		}
		for i := lo; i < hi; {
			seg := st.segs[k]
			end := min(seg.hi, hi)
			loc, prec := seg.loc, seg.prec
			tb, gb, xb := th[i:end], g[i:end], xi[i-lo:end-lo]
			gb, xb = gb[:len(tb)], xb[:len(tb)]
			sq := 0.0
			if v == nil {
				for j, t := range tb {
					e := t - loc
					sq += e * e
					x := t - h*(s*gb[j]+prec*e) + sd*xb[j]
					tb[j] = x
					z += x * 0
				}
			} else {
				vb := v[i:end]
				vb = vb[:len(tb)]
				gmax := bound / prec
				for j, t := range tb {
					e := t - loc
					sq += e * e
					m := c * gb[j]
					vj := a*vb[j] + a1*m*m
					vb[j] = vj
					gi := min(1/(lam+math.Sqrt(vj)), gmax)
					x := t - h*gi*(s*gb[j]+prec*e) + sd*math.Sqrt(gi)*xb[j]
					tb[j] = x
					z += x * 0
				}
			}
			prior += 0.5 * prec * sq
			i = end
			if end == seg.hi {
				k++
			}
		}
	}
	return prior, z
}

// divergence builds the error for a failed step with objective u.
func (st *chainState) divergence(method string, u float64, chain, epoch, step int) error {
	e := &DivergenceError{Method: method, Chain: chain + 1, Epoch: epoch, Step: step, Value: u}
	switch {
	case !isFinite(u):
	case firstNonFinite(st.grad) != 0:
		e.Grad, e.Value = true, firstNonFinite(st.grad)
	default:
		e.Param, e.Value = true, firstNonFinite(st.theta)
	}
	return e
}

// chainProgress turns the chains' epochs into one stream of Progress for
// the Observer, which is called from one goroutine at a time. Epoch counts
// chain-epochs divided by the number of chains, so it rises steadily from
// 1 to Epochs whether the chains run together or one after another.
type chainProgress struct {
	obs      Observer
	method   string
	epochs   int
	mu       sync.Mutex
	done     int
	reported int
	loss     []float64 // the latest epoch's loss of each chain; NaN before
	start    time.Time
}

// extend raises the epochs reported as the total when a run grows.
func (cp *chainProgress) extend(epochs int) {
	cp.mu.Lock()
	cp.epochs = epochs
	cp.mu.Unlock()
}

func newChainProgress(obs Observer, s *chainSpec) *chainProgress {
	cp := &chainProgress{obs: obs, method: s.method, epochs: s.epochs, start: time.Now()}
	if obs != nil {
		cp.loss = make([]float64, s.chains)
		for i := range cp.loss {
			cp.loss[i] = math.NaN()
		}
	}
	return cp
}

func (cp *chainProgress) report(chain int, loss float64) {
	if cp.obs == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.done++
	cp.loss[chain] = loss
	e := cp.done / len(cp.loss)
	if e <= cp.reported {
		return
	}
	cp.reported = e
	sum, k := 0.0, 0
	for _, l := range cp.loss {
		if !math.IsNaN(l) {
			sum += l
			k++
		}
	}
	cp.obs(Progress{Method: cp.method, Epoch: e, Epochs: cp.epochs, Loss: sum / float64(k), Elapsed: time.Since(cp.start)})
}

// seededNormals returns the fast exact normal generator (stdlib/vec)
// seeded from rng, so a chain's noise is a function of the fit's seed.
func seededNormals(rng *rand.Rand) *vec.Normals {
	g := new(vec.Normals)
	g.Seed(rng)
	return g
}
