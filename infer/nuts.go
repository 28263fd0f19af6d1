package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// NUTS is the No-U-Turn Sampler (Hoffman & Gelman 2014) in the form Stan
// and NumPyro use: Hamiltonian trajectories doubled in random directions
// until they turn back on themselves (the generalized criterion of
// Betancourt 2017, with the checks across subtrees Stan added in 2.20),
// the draw chosen from the whole trajectory by multinomial sampling with
// the biased progressive choice between subtrees, and during warmup the
// step size adapted by dual averaging to a target acceptance statistic and
// a diagonal mass matrix estimated in doubling windows. It returns a
// *NUTSSamples.
//
// Every gradient uses all N rows: NUTS is the gold standard for small
// models and data sets, where a full-data gradient is cheap, and the
// reference the stochastic-gradient samplers (sgld, psgld, csgmcmc) are
// measured against. It samples U(θ) = NegLogPrior(θ) + NegLogLik(θ, all
// rows) exactly (up to Monte-Carlo error), so its cost per draw is the
// number of leapfrog steps, up to 2^MaxDepth, times a pass over the data.
//
// The zero value is ready to use: each zero field means the default given
// beside it. Chains run concurrently when the Problem can Fork, each from
// p.Init with its own source seeded from the fit's.
type NUTS struct {
	Warmup       int     `bl:"warmup,pos"`         // adaptation iterations per chain, discarded; default 500
	Samples      int     `bl:"samples,pos"`        // draws kept per chain (after thinning); default 500
	Chains       int     `bl:"chains,pos"`         // independent chains; default 4
	Thin         int     `bl:"thin,pos"`           // keep every Thin-th iteration after warmup; default 1
	MaxDepth     int     `bl:"max_depth,pos"`      // trajectories of at most 2^MaxDepth leapfrog steps; default 10
	TargetAccept float64 `bl:"target_accept,unit"` // dual averaging's target acceptance statistic, in (0, 1); default 0.8
}

var (
	_ Method      = (*NUTS)(nil)
	_ EpochCapper = (*NUTS)(nil)
)

// Name returns "nuts".
func (NUTS) Name() string { return "nuts" }

func (m NUTS) withDefaults() NUTS {
	m.Warmup = orDefault(m.Warmup, 500)
	m.Samples = orDefault(m.Samples, 500)
	m.Chains = orDefault(m.Chains, 4)
	m.Thin = orDefault(m.Thin, 1)
	m.MaxDepth = orDefault(m.MaxDepth, 10)
	m.TargetAccept = orDefault(m.TargetAccept, 0.8)
	return m
}

// CapEpochs caps the warmup and the kept draws at n iterations each: a
// quick run keeps the shape of the fit.
func (m NUTS) CapEpochs(n int) Method {
	m = m.withDefaults()
	if n > 0 {
		m.Warmup, m.Samples = min(m.Warmup, n), min(m.Samples, n)
	}
	return &m
}

// check validates what the tags cannot.
func (m *NUTS) check() *crossError {
	if m.MaxDepth > 30 {
		return &crossError{[]string{"max_depth"}, fmt.Sprintf("max_depth must be at most 30, got %d", m.MaxDepth)}
	}
	return nil
}

// NUTSSamples is the posterior NUTS returns: the kept draws of every chain
// (a *Samples, saved and loaded as one) and what happened on the way.
type NUTSSamples struct {
	*Samples
	// Divergent counts the transitions after warmup whose trajectory
	// diverged (its energy rose by more than 1000): a sign that the draws
	// miss a region the step size cannot resolve. Transitions counts all
	// of them, thinned-out ones included.
	Divergent, Transitions int
	// StepSize and MeanDepth are each chain's adapted step size and the
	// mean tree depth of its kept transitions.
	StepSize, MeanDepth []float64
}

var _ Warner = (*NUTSSamples)(nil)

// Warning reports divergent transitions after warmup, or "".
func (s *NUTSSamples) Warning() string {
	if s.Divergent == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d transitions after warmup diverged: the posterior has regions the step size cannot resolve (raise target_accept, e.g. 0.95)", s.Divergent, s.Transitions)
}

// Fit runs the chains and returns their draws. It reports Progress after
// every iteration of all chains together (Epoch counts iterations, warmup
// included; Loss is the chains' mean of U/N), stops with ctx.Err() when ctx
// is done (checked at every leapfrog step) and returns a *DivergenceError
// naming the chain when the log density or its gradient at the starting
// point is not finite.
func (m NUTS) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSampler(m.Name(), m, m.check, p, rng); err != nil {
		return nil, err
	}
	m = m.withDefaults()
	seeds := chainSeeds(rng, m.Chains)
	prog := newChainProgress(obs, &chainSpec{method: m.Name(), epochs: m.Warmup + m.Samples*m.Thin, chains: m.Chains})
	draws := make([][][]float64, m.Chains)
	div := make([]int, m.Chains)
	eps := make([]float64, m.Chains)
	depth := make([]float64, m.Chains)
	err := forEachChain(ctx, p, m.Chains, func(ctx context.Context, q *Problem, c int) error {
		ch := newNUTSChain(q, m, rand.New(rand.NewPCG(seeds[c][0], seeds[c][1])))
		var err error
		draws[c], div[c], depth[c], err = ch.run(ctx, c, prog)
		eps[c] = ch.eps
		return err
	})
	if err != nil {
		return nil, err
	}
	s, err := NewSamples(m.Name(), draws)
	if err != nil {
		return nil, err
	}
	out := &NUTSSamples{Samples: s, StepSize: eps, MeanDepth: depth, Transitions: m.Chains * m.Samples * m.Thin}
	for _, d := range div {
		out.Divergent += d
	}
	return out, nil
}

// nutsPoint is a point of phase space with its potential and gradient.
type nutsPoint struct {
	theta, p, grad []float64
	u              float64
}

func newNUTSPoint(d int) nutsPoint {
	return nutsPoint{theta: make([]float64, d), p: make([]float64, d), grad: make([]float64, d)}
}

func (z *nutsPoint) copyFrom(o *nutsPoint) {
	copy(z.theta, o.theta)
	copy(z.p, o.p)
	copy(z.grad, o.grad)
	z.u = o.u
}

// nutsTree summarises a stretch of trajectory: the draw chosen within it,
// the sum of its momenta, its momenta and sharp momenta M⁻¹p at its two
// ends, and the log of its summed weights exp(H0 − H). A subtree's beg is
// the end next to the trajectory it extends; the whole trajectory's beg is
// its backward end.
type nutsTree struct {
	sample       []float64
	rho          []float64
	pBeg, pEnd   []float64
	sBeg, sEnd   []float64
	logSumWeight float64
}

func newNUTSTree(d int) nutsTree {
	return nutsTree{sample: make([]float64, d), rho: make([]float64, d),
		pBeg: make([]float64, d), pEnd: make([]float64, d), sBeg: make([]float64, d), sEnd: make([]float64, d)}
}

// point makes t the one-point trajectory at z.
func (ch *nutsChain) point(t *nutsTree, z *nutsPoint) {
	copy(t.sample, z.theta)
	copy(t.rho, z.p)
	copy(t.pBeg, z.p)
	copy(t.pEnd, z.p)
	ch.sharp(t.sBeg, z.p)
	copy(t.sEnd, t.sBeg)
}

// nutsChain is one chain's state and workspaces; a transition allocates
// nothing.
type nutsChain struct {
	ctx     context.Context // checked at every leapfrog step: a deep tree on a large model takes seconds
	p       *Problem
	m       NUTS
	rng     *rand.Rand
	all     []int     // every row
	invMass []float64 // diagonal M⁻¹
	eps     float64

	cur      nutsPoint // the chain's state
	z        nutsPoint // the point being integrated
	bck, fwd nutsPoint // the trajectory's ends
	traj     nutsTree  // the whole trajectory; its sample is the transition's draw
	tree     []nutsTree
	tmp      []float64

	// Per transition.
	h0       float64
	sumMetro float64
	steps    int
	diverged bool
}

func newNUTSChain(p *Problem, m NUTS, rng *rand.Rand) *nutsChain {
	d := p.Dim
	ch := &nutsChain{p: p, m: m, rng: rng, invMass: make([]float64, d),
		cur: newNUTSPoint(d), z: newNUTSPoint(d), bck: newNUTSPoint(d), fwd: newNUTSPoint(d),
		traj: newNUTSTree(d), tmp: make([]float64, d)}
	ch.all = make([]int, p.N)
	for i := range ch.all {
		ch.all[i] = i
	}
	for i := range ch.invMass {
		ch.invMass[i] = 1
	}
	ch.tree = make([]nutsTree, m.MaxDepth+1)
	for i := range ch.tree {
		ch.tree[i] = newNUTSTree(d)
	}
	return ch
}

// potential sets z.u = U(z.theta) and z.grad = ∇U.
func (ch *nutsChain) potential(z *nutsPoint) {
	u := ch.p.NegLogLik(z.grad, z.theta, ch.all)
	if ch.p.NegLogPrior != nil {
		u += ch.p.NegLogPrior(z.grad, z.theta)
	}
	if math.IsNaN(u) {
		u = math.Inf(1)
	}
	z.u = u
}

// kinetic is ½ pᵀM⁻¹p.
func (ch *nutsChain) kinetic(p []float64) float64 {
	k := 0.0
	for i, v := range p {
		k += v * v * ch.invMass[i]
	}
	return 0.5 * k
}

// leapfrog moves z by one step of signed size h.
func (ch *nutsChain) leapfrog(z *nutsPoint, h float64) {
	for i, g := range z.grad {
		z.p[i] -= 0.5 * h * g
	}
	for i, v := range z.p {
		z.theta[i] += h * ch.invMass[i] * v
	}
	ch.potential(z)
	for i, g := range z.grad {
		z.p[i] -= 0.5 * h * g
	}
}

// momentum draws z.p ~ N(0, M).
func (ch *nutsChain) momentum(z *nutsPoint) {
	for i := range z.p {
		z.p[i] = ch.rng.NormFloat64() / math.Sqrt(ch.invMass[i])
	}
}

func (ch *nutsChain) sharp(dst, p []float64) {
	for i, v := range p {
		dst[i] = ch.invMass[i] * v
	}
}

// uturn is the generalized no-U-turn criterion: it holds (the trajectory
// may go on) while both ends' sharp momenta point along ρ.
func uturn(sMinus, sPlus, rho []float64) bool {
	a, b := 0.0, 0.0
	for i, r := range rho {
		a += sPlus[i] * r
		b += sMinus[i] * r
	}
	return a > 0 && b > 0
}

// uturnWith is uturn over ρ + p: a trajectory extended by one more point.
func (ch *nutsChain) uturnWith(sMinus, sPlus, rho, p []float64) bool {
	for i, r := range rho {
		ch.tmp[i] = r + p[i]
	}
	return uturn(sMinus, sPlus, ch.tmp)
}

// build integrates a subtree of 2^depth steps from ch.z in direction h
// (the signed step), leaving ch.z at its far end and its summary in
// ch.tree[depth]. It reports false when the subtree diverged or turned.
func (ch *nutsChain) build(depth int, h float64) bool {
	t := &ch.tree[depth]
	if depth == 0 {
		if ch.ctx.Err() != nil {
			return false // run reports the cancellation
		}
		ch.leapfrog(&ch.z, h)
		ch.steps++
		hz := ch.z.u + ch.kinetic(ch.z.p)
		if math.IsNaN(hz) {
			hz = math.Inf(1)
		}
		if hz-ch.h0 > 1000 {
			ch.diverged = true
			return false
		}
		t.logSumWeight = ch.h0 - hz
		ch.sumMetro += math.Min(1, math.Exp(ch.h0-hz))
		ch.point(t, &ch.z)
		return true
	}
	sub := &ch.tree[depth-1]
	// The first half: its summary moves into t.
	if !ch.build(depth-1, h) {
		return false
	}
	copy(t.sample, sub.sample)
	copy(t.rho, sub.rho)
	copy(t.pBeg, sub.pBeg)
	copy(t.sBeg, sub.sBeg)
	copy(t.pEnd, sub.pEnd) // the first half's far end, for the checks below
	copy(t.sEnd, sub.sEnd)
	lswInit := sub.logSumWeight
	// The second half.
	if !ch.build(depth-1, h) {
		return false
	}
	lsw := logAddExp(lswInit, sub.logSumWeight)
	if math.Log(ch.rng.Float64()) < sub.logSumWeight-lsw {
		copy(t.sample, sub.sample)
	}
	t.logSumWeight = lsw
	// Across the halves: the first half with the second's first point, and
	// the second half with the first's last point.
	ok := ch.uturnWith(t.sBeg, sub.sBeg, t.rho, sub.pBeg) && ch.uturnWith(t.sEnd, sub.sEnd, sub.rho, t.pEnd)
	for i, r := range sub.rho {
		t.rho[i] += r
	}
	copy(t.pEnd, sub.pEnd)
	copy(t.sEnd, sub.sEnd)
	return ok && uturn(t.sBeg, t.sEnd, t.rho)
}

func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// transition takes one NUTS transition from ch.cur with step size ch.eps,
// leaving the draw in ch.cur. It returns the acceptance statistic and the
// tree depth reached.
func (ch *nutsChain) transition() (accept float64, depth int) {
	ch.momentum(&ch.cur)
	ch.h0 = ch.cur.u + ch.kinetic(ch.cur.p)
	ch.bck.copyFrom(&ch.cur)
	ch.fwd.copyFrom(&ch.cur)
	tr := &ch.traj
	ch.point(tr, &ch.cur)
	tr.logSumWeight = 0
	ch.sumMetro, ch.steps, ch.diverged = 0, 0, false
	for depth < ch.m.MaxDepth {
		t := &ch.tree[depth]
		forward := ch.rng.Float64() < 0.5
		// Extend from one end; t's beg is next to that end.
		pNear, sNear, sFar := tr.pEnd, tr.sEnd, tr.sBeg
		h := ch.eps
		if forward {
			ch.z.copyFrom(&ch.fwd)
		} else {
			ch.z.copyFrom(&ch.bck)
			pNear, sNear, sFar = tr.pBeg, tr.sBeg, tr.sEnd
			h = -ch.eps
		}
		if !ch.build(depth, h) {
			break
		}
		depth++
		if forward {
			ch.fwd.copyFrom(&ch.z)
		} else {
			ch.bck.copyFrom(&ch.z)
		}
		if t.logSumWeight > tr.logSumWeight || math.Log(ch.rng.Float64()) < t.logSumWeight-tr.logSumWeight {
			copy(tr.sample, t.sample)
		}
		tr.logSumWeight = logAddExp(tr.logSumWeight, t.logSumWeight)
		// The whole trajectory, and each part extended by the other's
		// nearest point.
		ok := ch.uturnWith(sFar, t.sBeg, tr.rho, t.pBeg) && ch.uturnWith(sNear, t.sEnd, t.rho, pNear)
		for i, r := range t.rho {
			tr.rho[i] += r
		}
		copy(pNear, t.pEnd)
		copy(sNear, t.sEnd)
		if !ok || !uturn(tr.sBeg, tr.sEnd, tr.rho) {
			break
		}
	}
	// The draw: its potential and gradient are recomputed once rather
	// than carried through every subtree.
	if !slices.Equal(tr.sample, ch.cur.theta) {
		copy(ch.cur.theta, tr.sample)
		ch.potential(&ch.cur)
	}
	if ch.steps == 0 {
		return 0, depth
	}
	return ch.sumMetro / float64(ch.steps), depth
}

// initStepSize is Stan's heuristic: from ch.eps, double or halve the step
// until one leapfrog step's acceptance crosses 0.8.
func (ch *nutsChain) initStepSize() {
	z := &ch.z
	dir := 0.0
	for range 100 {
		z.copyFrom(&ch.cur)
		ch.momentum(z)
		h0 := z.u + ch.kinetic(z.p)
		ch.leapfrog(z, ch.eps)
		delta := h0 - (z.u + ch.kinetic(z.p))
		if math.IsNaN(delta) {
			delta = math.Inf(-1)
		}
		d := -1.0
		if delta > math.Log(0.8) {
			d = 1
		}
		if dir == 0 {
			dir = d
		}
		if d != dir {
			return
		}
		if dir > 0 {
			ch.eps *= 2
		} else {
			ch.eps /= 2
		}
		if ch.eps > 1e7 || ch.eps < 1e-12 {
			return
		}
	}
}

// dualAveraging adapts the step size (Hoffman & Gelman's algorithm 5 with
// Stan's constants).
type dualAveraging struct {
	mu, sBar, xBar float64
	counter        float64
	delta          float64
}

func (d *dualAveraging) restart(eps, delta float64) {
	*d = dualAveraging{mu: math.Log(10 * eps), delta: delta}
}

func (d *dualAveraging) learn(accept float64) float64 {
	const gamma, t0, kappa = 0.05, 10.0, 0.75
	d.counter++
	accept = math.Min(1, accept)
	eta := 1 / (d.counter + t0)
	d.sBar = (1-eta)*d.sBar + eta*(d.delta-accept)
	x := d.mu - d.sBar*math.Sqrt(d.counter)/gamma
	w := math.Pow(d.counter, -kappa)
	d.xBar = (1-w)*d.xBar + w*x
	return math.Exp(x)
}

// nutsWindows returns Stan's mass-matrix adaptation windows for a warmup
// of n iterations: the first iteration of the first window and the ends
// (exclusive) of all of them. After a first buffer of 75 iterations (15%
// of a short warmup) come windows of 25, 50, 100, ..., the last stretched
// to the final buffer of 50 (10%). A warmup under 20 adapts the step size
// only.
func nutsWindows(n int) (start int, ends []int) {
	if n < 20 {
		return 0, nil
	}
	initBuf, termBuf, base := 75, 50, 25
	if initBuf+termBuf+base > n {
		initBuf, termBuf = n*15/100, n/10
		base = n - initBuf - termBuf
	}
	end := n - termBuf
	for from, size := initBuf, base; from < end; size *= 2 {
		next := from + size
		if next+2*size > end { // the next window would not fit: stretch this one
			next = end
		}
		ends = append(ends, next)
		from = next
	}
	return initBuf, ends
}

// run warms the chain up and draws its samples. It returns the kept draws,
// the divergent transitions after warmup and the mean tree depth of the
// kept transitions.
func (ch *nutsChain) run(ctx context.Context, c int, prog *chainProgress) ([][]float64, int, float64, error) {
	p, m := ch.p, ch.m
	ch.ctx = ctx
	if p.Init != nil {
		p.Init(ch.cur.theta, ch.rng)
	}
	ch.potential(&ch.cur)
	if math.IsInf(ch.cur.u, 0) {
		return nil, 0, 0, &DivergenceError{Method: m.Name(), Chain: c + 1, Epoch: 1, Step: 1, Value: ch.cur.u}
	}
	if bad := firstNonFinite(ch.cur.grad); bad != 0 {
		return nil, 0, 0, &DivergenceError{Method: m.Name(), Chain: c + 1, Epoch: 1, Step: 1, Value: bad, Grad: true}
	}
	ch.eps = 1
	ch.initStepSize()
	var da dualAveraging
	da.restart(ch.eps, m.TargetAccept)
	winStart, ends := nutsWindows(m.Warmup)
	// Welford's moments of the current window's draws.
	d := p.Dim
	mean, m2 := make([]float64, d), make([]float64, d)
	wn := 0
	store := make([]float64, m.Samples*d)
	draws := make([][]float64, 0, m.Samples)
	divergent, depthSum := 0, 0
	n := float64(p.N)
	for it := 0; it < m.Warmup+m.Samples*m.Thin; it++ {
		accept, depth := ch.transition() // stops early when ctx is done
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, err
		}
		if it < m.Warmup {
			ch.eps = da.learn(accept)
			if len(ends) > 0 && it >= winStart && it < ends[len(ends)-1] {
				wn++
				inv := 1 / float64(wn)
				for i, v := range ch.cur.theta {
					dv := v - mean[i]
					mean[i] += dv * inv
					m2[i] += dv * (v - mean[i])
				}
				if it+1 == ends[0] {
					// Stan's regularised variance: shrunk towards 1e-3.
					k := float64(wn)
					for i := range ch.invMass {
						ch.invMass[i] = k/(k+5)*(m2[i]/max(k-1, 1)) + 1e-3*5/(k+5)
					}
					clear(mean)
					clear(m2)
					wn = 0
					ends = ends[1:]
					ch.initStepSize()
					da.restart(ch.eps, m.TargetAccept)
				}
			}
			if it+1 == m.Warmup {
				ch.eps = math.Exp(da.xBar)
			}
		} else {
			if ch.diverged {
				divergent++
			}
			if k := it - m.Warmup; (k+1)%m.Thin == 0 {
				v := store[len(draws)*d : (len(draws)+1)*d : (len(draws)+1)*d]
				copy(v, ch.cur.theta)
				draws = append(draws, v)
				depthSum += depth
			}
		}
		prog.report(c, ch.cur.u/n)
	}
	return draws, divergent, float64(depthSum) / float64(max(len(draws), 1)), nil
}
