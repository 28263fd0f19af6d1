package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SWAG is SWA-Gaussian (Maddox et al., NeurIPS 2019): it runs SGD with a
// large, eventually constant learning rate and fits a Gaussian to the
// iterates it visits, on the view that constant-rate SGD wanders around a
// mode with a spread that resembles the posterior's (Mandt et al. 2017). It
// returns a *SWAGPosterior. The zero value is ready to use: each zero field
// means the default given beside it.
//
// Each epoch shuffles the rows and takes one step per minibatch on the
// per-example objective NegLogLik(batch)/B + NegLogPrior/N, as MAP does. The
// learning rate follows the SWA schedule of the reference code: with
// t = (e−1)/SWAStart for the 1-based epoch e (the reference's 0-based epoch
// over swa_start) it is LR for t ≤ 0.5, falls linearly to SWALR until
// t = 0.9 and stays at SWALR from there. After epoch SWAStart + i·CollectEvery
// (i = 1, 2, ...) the current iterate θ is collected into
//
//   - the running mean θ̄ and variance (Welford's update: the textbook
//     θ²‾ − θ̄² loses every digit when |θ| ≫ σ, the cancellation pitfall of
//     ALGORITHMS.md §3), clamped below at 1e-30 when sampling;
//   - a ring buffer holding the last Rank deviations θ − θ̄, taken from the
//     mean after the update, as the reference does.
//
// The posterior is N(θ̄, Scale·(diag(var) + D̂D̂ᵀ/(k−1))) where D̂ holds the k
// collected columns (k ≤ Rank). SWAG-diagonal (Diagonal: 1) keeps only the
// variances, 2d numbers instead of d·(k+2).
//
// The spread of the iterates, and so the posterior's, is set by the
// learning rate and the minibatch noise, not by the model alone: it matches
// the Bayesian posterior only for a suitably tuned SWALR and batch size. A
// batch that holds every row has no gradient noise at all, and the
// iterates, hence the covariance, collapse onto the mode; the default batch
// is therefore smaller than MAP's. Iterates are taken at the end of
// reshuffled epochs, whose spread grows about as SWALR² rather than SWALR,
// and whose mean is off the optimum by O(SWALR) (on the 1-D test problem,
// 4e-3 at 1e-2 and 5e-4 at 1e-3). The default LR for sgd, 5e-3 with
// momentum 0.9, is five times MAP's: SWAG needs the noise, and on the
// bundled mcycle network 1e-2 sent one member in eleven off to weights of
// 1e11 while 5e-3 kept every one in place. The reference's weight decay
// is the prior's job here. The default 300 epochs (VI's) give 150 to
// approach a mode and 150 collected iterates, well over the 20 columns
// kept; a small net on a small data set often needs more (the mcycle
// example fits its MAP for 3000).
//
// Collection and sampling touch the parameters in place: a step and a
// collection allocate nothing, and the fit allocates its workspace once.
type SWAG struct {
	Epochs       int     `bl:"epochs,pos"`               // passes over the data; default 300
	LR           float64 `bl:"lr,pos"`                   // learning rate before the decay; default 5e-3 for sgd, 1e-2 for adam
	SWALR        float64 `bl:"swa_lr,pos"`               // constant rate while collecting; default LR/2
	SWAStart     int     `bl:"swa_start,nonneg,zero=-1"` // epochs before the first collection; default Epochs/2; -1 (0 in a script) collects from the first epoch at SWALR
	CollectEvery int     `bl:"collect_every,pos"`        // epochs between collections; default 1
	Rank         int     `bl:"rank,pos"`                 // deviation columns kept, K; default 20; at least 2 unless Diagonal
	Scale        float64 `bl:"scale,nonneg,zero=-1"`     // covariance scale; default 0.5 (the paper's ½); -1 (0 in a script) draws the SWA mean
	Diagonal     int     `bl:"diagonal"`                 // 1 (true in a script) for SWAG-diagonal; default 0 (false): diagonal plus low rank
	Batch        int     `bl:"batch,pos"`                // minibatch rows; default 32, all rows when N is smaller
	Optimizer    string  `bl:"optimizer,oneof=sgd|adam"` // "sgd" (default, heavy-ball momentum) or "adam"
	Momentum     float64 `bl:"momentum,unit,zero=-1"`    // sgd momentum in [0, 1); default 0.9; -1 means none
}

var (
	_ Method      = (*SWAG)(nil)
	_ EpochCapper = (*SWAG)(nil)
)

// Name returns "swag".
func (SWAG) Name() string { return "swag" }

// varClamp is the smallest variance SWAG samples with (the reference's
// var_clamp).
const varClamp = 1e-30

// withDefaults returns m with zero fields replaced by their defaults.
func (m SWAG) withDefaults() SWAG {
	if m.Epochs == 0 {
		m.Epochs = 300
	}
	if m.Optimizer == "" {
		m.Optimizer = optSGD
	}
	if m.LR == 0 {
		m.LR = 1e-2 // adam's usual rate
		if m.Optimizer == optSGD {
			m.LR = 5e-3
		}
	}
	if m.SWALR == 0 {
		m.SWALR = m.LR / 2
	}
	if m.SWAStart == 0 {
		m.SWAStart = m.Epochs / 2
		if m.SWAStart == 0 {
			m.SWAStart = -1
		}
	}
	if m.CollectEvery == 0 {
		m.CollectEvery = 1
	}
	if m.Rank == 0 {
		m.Rank = 20
	}
	if m.Scale == 0 {
		m.Scale = 0.5
	}
	if m.Batch == 0 {
		m.Batch = 32
	}
	if m.Momentum == 0 {
		m.Momentum = 0.9
	}
	return m
}

// CapEpochs returns a copy that runs at most n epochs. A cap below Epochs
// shrinks SWAStart in proportion (to -1, collecting from the first epoch,
// when nothing is left of it) and CollectEvery so that at least one
// iterate is collected: a quick run keeps the shape of the schedule.
func (m SWAG) CapEpochs(n int) Method {
	m = m.capped(n)
	return &m
}

func (m SWAG) capped(n int) SWAG {
	m = m.withDefaults()
	if n <= 0 || n >= m.Epochs {
		return m
	}
	if m.SWAStart > 0 {
		m.SWAStart = m.SWAStart * n / m.Epochs
		if m.SWAStart == 0 {
			m.SWAStart = -1
		}
	}
	m.Epochs = n
	m.CollectEvery = max(1, min(m.CollectEvery, n-max(m.SWAStart, 0)))
	return m
}

// collections returns how many iterates a fit with these (defaulted)
// settings collects.
func (m SWAG) collections() int {
	return (m.Epochs - max(m.SWAStart, 0)) / m.CollectEvery
}

// check validates the relations between the defaulted settings that the
// tags cannot express. It returns the setting to blame and a message, or
// "" when all is well.
func (m SWAG) check() (name, msg string) {
	switch {
	case m.Diagonal != 0 && m.Diagonal != 1:
		return "diagonal", fmt.Sprintf("diagonal must be true or false (1 or 0), got %d", m.Diagonal)
	case m.Diagonal == 0 && m.Rank < 2:
		return "rank", fmt.Sprintf("rank must be at least 2 for the low-rank covariance (or set diagonal: true), got %d", m.Rank)
	case m.SWAStart >= m.Epochs:
		return "swa_start", fmt.Sprintf("swa_start must be below epochs (%d), got %d", m.Epochs, m.SWAStart)
	case m.collections() < 1:
		return "collect_every", fmt.Sprintf("collect_every %d leaves nothing to collect in the %d epochs after swa_start",
			m.CollectEvery, m.Epochs-max(m.SWAStart, 0))
	}
	return "", ""
}

// validate checks settings set from Go; errors are *SettingErrors with
// Index -1.
func (m SWAG) validate() error {
	if err := checkSettings(m); err != nil {
		return err
	}
	if _, msg := m.withDefaults().check(); msg != "" {
		return &SettingError{-1, msg}
	}
	return nil
}

// scale returns the covariance scale the posterior uses.
func (m SWAG) scale() float64 { return max(m.Scale, 0) }

// lr returns the learning rate of the 1-based epoch e.
func (m SWAG) lr(epoch int) float64 {
	if m.SWAStart <= 0 {
		return m.SWALR
	}
	return swaSchedule(float64(epoch-1)/float64(m.SWAStart), m.LR, m.SWALR)
}

// swaSchedule is the reference's schedule() at t = epoch/swa_start: lrInit
// up to t = 0.5, then linear to swaLR at t = 0.9, then swaLR.
func swaSchedule(t, lrInit, swaLR float64) float64 {
	switch {
	case t <= 0.5:
		return lrInit
	case t <= 0.9:
		return lrInit + (swaLR-lrInit)*(t-0.5)/0.4
	default:
		return swaLR
	}
}

// setLR changes an optimizer's learning rate in place.
func setLR(o optimizer, lr float64) {
	switch o := o.(type) {
	case *adam:
		o.lr = lr
	case *sgd:
		o.lr = lr
	}
}

// Fit runs SGD from a point drawn by p.Init (zeros when Init is nil) and
// collects its iterates. It reports Progress after every epoch, stops with
// ctx.Err() when ctx is done (checked before every step) and returns a
// *DivergenceError when the objective, its gradient or a collected iterate
// is not finite.
func (m SWAG) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("swag: %w", err)
	}
	if err := checkProblem("swag", p); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("swag: %w", errNilRNG)
	}
	post, err := m.withDefaults().fit(ctx, p, rng, "swag", obs)
	if err != nil {
		return nil, err
	}
	return post, nil
}

// fit runs one SWAG fit with defaulted, validated settings.
func (m SWAG) fit(ctx context.Context, p *Problem, rng *rand.Rand, method string, obs Observer) (*SWAGPosterior, error) {
	d := p.Dim
	theta := make([]float64, d)
	if p.Init != nil {
		p.Init(theta, rng)
	}
	opt := newOptimizer(m.Optimizer, d, m.LR, m.Momentum)
	st := &mapState{p: p, theta: theta, grad: make([]float64, d), opt: opt}
	st.fuseNormalPrior()
	col := newCollector(d, m.Rank, m.Diagonal == 1, m.collections())
	start := max(m.SWAStart, 0)
	l := newLoop(method, m.Epochs, m.Batch, p.N)
	l.startEpoch = func(epoch int) { setLR(opt, m.lr(epoch)) }
	l.endEpoch = func(epoch, steps int) error {
		if epoch <= start || (epoch-start)%m.CollectEvery != 0 {
			return nil
		}
		if bad := col.collect(theta); bad != 0 {
			return &DivergenceError{Method: method, Epoch: epoch, Step: steps, Value: bad, Param: true}
		}
		return nil
	}
	if err := l.run(ctx, rng, obs, st.step); err != nil {
		return nil, err
	}
	return col.posterior(method, m.scale(), m.Diagonal == 1), nil
}

// collector holds the SWAG accumulators of one fit.
type collector struct {
	d    int
	n    int       // iterates collected
	mean []float64 // running mean θ̄
	m2   []float64 // Σ_i (θ_i − θ̄_{i−1})(θ_i − θ̄_i) = n·variance (Welford)
	ring []float64 // deviation columns, column c at [c·d, (c+1)·d); nil when diagonal
	size int       // columns the ring holds
	k    int       // columns filled, ≤ size
	next int       // column the next deviation goes to
}

// newCollector returns accumulators for d parameters keeping at most rank
// deviation columns (none when diagonal). expect is the number of iterates
// the fit will collect: the ring never needs more columns than that.
func newCollector(d, rank int, diagonal bool, expect int) *collector {
	c := &collector{d: d, mean: make([]float64, d), m2: make([]float64, d)}
	if !diagonal {
		c.size = max(1, min(rank, expect))
		c.ring = make([]float64, c.size*d)
	}
	return c
}

// collect adds θ to the accumulators (the paper's Algorithm 1 with
// Welford's variance update) and writes θ − θ̄, with θ̄ already updated,
// straight into the oldest column of the ring. It returns the first
// non-finite coordinate of θ, or 0; on a non-finite θ the accumulators are
// spoilt and the fit must stop.
func (c *collector) collect(theta []float64) (bad float64) {
	d := c.d
	theta = theta[:d]
	mean, m2 := c.mean[:d], c.m2[:d]
	inv := 1 / float64(c.n+1)
	z := 0.0 // t*0 is 0 for a finite t and NaN otherwise
	if c.ring == nil {
		for j, t := range theta {
			z += t * 0
			delta := t - mean[j]
			mu := mean[j] + delta*inv
			mean[j] = mu
			m2[j] += delta * (t - mu)
		}
	} else {
		col := c.ring[c.next*d : (c.next+1)*d]
		col = col[:d]
		for j, t := range theta {
			z += t * 0
			delta := t - mean[j]
			mu := mean[j] + delta*inv
			mean[j] = mu
			e := t - mu
			m2[j] += delta * e
			col[j] = e
		}
		c.next = (c.next + 1) % c.size
		c.k = min(c.k+1, c.size)
	}
	if z != 0 {
		return firstNonFinite(theta)
	}
	c.n++
	return 0
}

// posterior turns the accumulators into a posterior that owns their
// memory: the variance is computed over m2 in place and the ring is
// rotated in place so that its columns run from the oldest to the newest.
// The collector must not be used afterwards.
func (c *collector) posterior(by string, scale float64, diagonal bool) *SWAGPosterior {
	variance := c.m2
	if c.n > 0 {
		n := float64(c.n)
		for j, v := range variance {
			variance[j] = max(v/n, varClamp)
		}
	}
	var cols [][]float64
	if c.ring != nil {
		d := c.d
		ring := c.ring[:c.k*d]
		if c.k == c.size && c.next != 0 {
			rotate(ring, c.next*d)
		}
		cols = make([][]float64, c.k)
		for i := range cols {
			cols[i] = ring[i*d : (i+1)*d : (i+1)*d]
		}
	}
	return newSWAGPosterior(by, scale, diagonal, c.n, c.mean, variance, cols)
}

// rotate moves the first r elements of a to its end, in place.
func rotate(a []float64, r int) {
	slices.Reverse(a[:r])
	slices.Reverse(a[r:])
	slices.Reverse(a)
}

// SWAGPosterior is the Gaussian SWAG fits,
//
//	N(θ̄, scale·(diag(var) + D̂D̂ᵀ/(k−1))),
//
// with D̂ the k collected deviation columns (oldest first). A diagonal one,
// or one with fewer than two columns, has the diagonal term only. Its
// vectors are shared with the caller of the accessors, who must not modify
// them.
type SWAGPosterior struct {
	by       string
	scale    float64
	diagonal bool
	n        int         // iterates collected
	mean     []float64   // θ̄
	variance []float64   // var, as stored (the fit clamps it at 1e-30)
	cols     [][]float64 // the columns of D̂, oldest first
	sd       []float64   // √(scale·max(var, 1e-30)), for sampling
	b        float64     // √(scale/(k−1)), the weight of D̂z; 0 without a low-rank term
}

var _ Saver = (*SWAGPosterior)(nil)

func newSWAGPosterior(by string, scale float64, diagonal bool, n int, mean, variance []float64, cols [][]float64) *SWAGPosterior {
	q := &SWAGPosterior{by: by, scale: scale, diagonal: diagonal, n: n,
		mean: mean, variance: variance, cols: cols, sd: make([]float64, len(mean))}
	for j, v := range variance {
		q.sd[j] = math.Sqrt(scale * max(v, varClamp))
	}
	if !diagonal && len(cols) >= 2 {
		q.b = math.Sqrt(scale / float64(len(cols)-1))
	}
	return q
}

// Method returns the backend that learned the posterior.
func (q *SWAGPosterior) Method() string { return q.by }

// Dim returns the number of parameters.
func (q *SWAGPosterior) Dim() int { return len(q.mean) }

// Mean returns the SWA mean θ̄.
func (q *SWAGPosterior) Mean() []float64 { return q.mean }

// Variance returns the diagonal variances, clamped below at 1e-30.
func (q *SWAGPosterior) Variance() []float64 { return q.variance }

// Deviations returns the columns of D̂, oldest first (none when diagonal).
func (q *SWAGPosterior) Deviations() [][]float64 { return q.cols }

// Collected returns the number of iterates averaged into θ̄ and var.
func (q *SWAGPosterior) Collected() int { return q.n }

// Scale returns the covariance scale.
func (q *SWAGPosterior) Scale() float64 { return q.scale }

// Diagonal reports whether the posterior is SWAG-diagonal.
func (q *SWAGPosterior) Diagonal() bool { return q.diagonal }

// StoredNumbers returns how many numbers define the posterior: d·(k+2) for
// the mean, the variances and k deviation columns (d·(K+2) once the ring
// is full), 2d when diagonal.
func (q *SWAGPosterior) StoredNumbers() int { return len(q.mean) * (len(q.cols) + 2) }

// Draw returns s fresh draws
//
//	θ̃ = θ̄ + √scale·(√var ⊙ z1 + D̂z2/√(k−1)),  z1 ~ N(0, I_d), z2 ~ N(0, I_k),
//
// in newly allocated vectors (one backing array); the low-rank term needs
// k ≥ 2 columns and is left out otherwise. With scale 0 every draw is θ̄, so
// Draw returns the single vector θ̄ (shared with q, not to be modified)
// whatever s is. It returns nil when s < 1.
func (q *SWAGPosterior) Draw(s int, rng *rand.Rand) [][]float64 {
	if s < 1 {
		return nil
	}
	if q.scale == 0 {
		return [][]float64{q.mean}
	}
	d := len(q.mean)
	buf := make([]float64, s*d)
	out := make([][]float64, s)
	for i := range out {
		v := buf[i*d : (i+1)*d : (i+1)*d]
		q.drawInto(v, rng)
		out[i] = v
	}
	return out
}

// drawInto writes one draw into v. z1 goes straight into v and each z2_c
// is applied to its column as it is drawn, so no buffer is needed.
func (q *SWAGPosterior) drawInto(v []float64, rng *rand.Rand) {
	sd := q.sd[:len(q.mean)]
	v = v[:len(q.mean)]
	for j, m := range q.mean {
		v[j] = m + sd[j]*rng.NormFloat64()
	}
	if q.b == 0 {
		return
	}
	for _, col := range q.cols {
		z := q.b * rng.NormFloat64()
		col = col[:len(v)]
		for j, x := range col {
			v[j] += z * x
		}
	}
}

// Kind returns "swag", the key of its decoder.
func (q *SWAGPosterior) Kind() string { return "swag" }

// Vectors returns the payload saved to a file:
//
//	[scale, diagonal (0 or 1), collected n, columns k], θ̄, var, D̂'s k columns
//
// The file holds the variance, not the uncentred second moment θ²‾ of the
// reference: recovering var as θ²‾ − θ̄² would bring back the cancellation
// the fit avoids.
func (q *SWAGPosterior) Vectors() [][]float64 {
	diag := 0.0
	if q.diagonal {
		diag = 1
	}
	out := make([][]float64, 0, 3+len(q.cols))
	out = append(out, []float64{q.scale, diag, float64(q.n), float64(len(q.cols))}, q.mean, q.variance)
	return append(out, q.cols...)
}

func decodeSWAG(method string, vecs [][]float64) (Posterior, error) {
	return decodeSWAGVectors(method, vecs)
}

func decodeSWAGVectors(method string, vecs [][]float64) (*SWAGPosterior, error) {
	if len(vecs) < 3 || len(vecs[0]) != 4 {
		return nil, fmt.Errorf("swag posterior needs a 4-number header, a mean and variances")
	}
	h := vecs[0]
	scale := h[0]
	if !(scale >= 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("swag posterior has scale %g", scale)
	}
	diag, okD := wholeNumber(h[1])
	n, okN := wholeNumber(h[2])
	k, okK := wholeNumber(h[3])
	switch {
	case !okD || diag > 1:
		return nil, fmt.Errorf("swag posterior has diagonal flag %g", h[1])
	case !okN || n < 1:
		return nil, fmt.Errorf("swag posterior collected %g iterates", h[2])
	case !okK || k != len(vecs)-3:
		return nil, fmt.Errorf("swag posterior header says %g columns, file has %d", h[3], len(vecs)-3)
	case k > n:
		return nil, fmt.Errorf("swag posterior has %d columns from %d iterates", k, n)
	case diag == 1 && k != 0:
		return nil, fmt.Errorf("diagonal swag posterior has %d columns", k)
	}
	mean, variance := vecs[1], vecs[2]
	d := len(mean)
	if len(variance) != d {
		return nil, fmt.Errorf("swag posterior has %d means and %d variances", d, len(variance))
	}
	for j, m := range mean {
		if !isFinite(m) {
			return nil, fmt.Errorf("swag posterior has mean %g at %d", m, j)
		}
		if v := variance[j]; !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("swag posterior has variance %g at %d", v, j)
		}
	}
	cols := vecs[3:]
	for i, c := range cols {
		if len(c) != d {
			return nil, fmt.Errorf("swag posterior column %d has %d values, want %d", i, len(c), d)
		}
		if x := firstNonFinite(c); x != 0 {
			return nil, fmt.Errorf("swag posterior column %d holds %g", i, x)
		}
	}
	if k == 0 {
		cols = nil
	}
	return newSWAGPosterior(method, scale, diag == 1, n, mean, variance, cols), nil
}

// wholeNumber returns x as an int when it is one (and would be written back
// with the same bits: not −0), below 2^53.
func wholeNumber(x float64) (int, bool) {
	if !(x >= 0 && x < 1<<53) || x != math.Trunc(x) || math.Signbit(x) {
		return 0, false
	}
	return int(x), true
}

// buildSWAG is the registry constructor of "swag".
func buildSWAG(args []Arg) (Method, error) {
	m := new(SWAG)
	if err := parseSWAGSettings(m, args, func() SWAG { return *m }); err != nil {
		return nil, err
	}
	return m, nil
}

// buildMultiSWAG is the registry constructor of "multiswag".
func buildMultiSWAG(args []Arg) (Method, error) {
	m := new(MultiSWAG)
	if err := parseSWAGSettings(m, args, func() SWAG { return m.Member() }); err != nil {
		return nil, err
	}
	return m, nil
}

// parseSWAGSettings is ParseSettings with two additions for SWAG's
// settings: diagonal also takes true and false (a script's bare words), and
// the relations between settings are checked, blaming the argument that
// set the offending one (or, when it was left at its default, the one that
// made the default wrong).
func parseSWAGSettings(dst any, args []Arg, member func() SWAG) error {
	conv, bad := args, -1
	for i, a := range args {
		if a.Name != "diagonal" || !a.IsStr || a.Call != nil {
			continue
		}
		v := 0.0
		switch a.Str {
		case "true":
			v = 1
		case "false":
		default:
			if bad < 0 {
				bad = i
			}
			continue
		}
		if len(conv) > 0 && &conv[0] == &args[0] {
			conv = slices.Clone(args)
		}
		conv[i] = Arg{Name: a.Name, Num: v}
	}
	if err := ParseSettings(dst, conv); err != nil {
		if se, ok := err.(*SettingError); ok && bad >= 0 && se.Index == bad {
			se.Msg = fmt.Sprintf("diagonal must be true or false, got %s", args[bad])
		}
		return err
	}
	if name, msg := member().withDefaults().check(); msg != "" {
		return &SettingError{argIndex(args, name, "swa_start", "epochs"), msg}
	}
	return nil
}

// argIndex returns the index of the first of names that args set, or -1.
func argIndex(args []Arg, names ...string) int {
	for _, name := range names {
		for i, a := range args {
			if a.Name == name {
				return i
			}
		}
	}
	return -1
}
