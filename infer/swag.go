package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// SWAG is SWA-Gaussian (Maddox et al., NeurIPS 2019): it runs SGD to a
// mode, then keeps stepping at a constant learning rate and fits a Gaussian
// to the iterates it visits. It returns a *SWAGPosterior. The zero value is
// ready to use: each zero field means the default given beside it.
//
// The spread of constant-rate SGD is set by the learning rate and the
// minibatch noise, so SWAG samples the posterior only at the right rate.
// By default (swa_lr: auto) the collecting phase takes the rate from the
// data by the constant-SGD-as-inference rule of Mandt, Hoffman and Blei
// (JMLR 2017; docs/swag.md):
//
//   - Burn-in: epochs 1..SWAStart shuffle the rows and step on the
//     per-example objective NegLogLik(batch)/B + NegLogPrior/N, as MAP
//     does, with Optimizer at LR falling to LR/2 by the reference's
//     schedule. Its only job is to reach a mode, so its default optimizer
//     is Adam (heavy-ball SGD at 5e-3 sent the mcycle network's weights
//     to 1e70 at some seeds).
//   - Calibration, at the burn-in's end: the per-example gradient
//     covariance C from up to 256 rows, and the largest curvature λ of
//     the mean objective (power iteration on finite-difference
//     Hessian-vector products over up to 1024 rows). Mandt's KL-optimal
//     constant rate is ε* = 2·B·d/(N·tr C); at it the stationary
//     covariance of SGD is closest to the posterior's (N·H̄)⁻¹ under the
//     paper's assumptions (a locally quadratic objective, C constant near
//     the mode, i.i.d. minibatches). The discrete iteration needs ε·λ < 2,
//     so the phase runs at ε = min(ε*, 1/λ). On small networks most
//     directions are set by the prior, where C is near 0, so ε* comes out
//     10-100× above 1/λ and the bound decides; scaling the collected
//     covariance up by ε*/ε, as the paper's linearity in ε would suggest,
//     made the epistemic part 13-37× the exact posterior's on the
//     fidelity suite, so it is not done (docs/swag.md has the numbers).
//     At the bound the spread along the stiffest direction is about N/(2B)
//     times the posterior's, so there the batch sets the spread: on the
//     iris network batch 8 gives 4× the epistemic part of batch 32.
//   - Collection: plain SGD (no momentum, which would change the effective
//     rate, and no Adam, which has no such mapping) on minibatches drawn
//     with replacement (reshuffled epochs make the noise sum to zero over an
//     epoch and shrink the spread about twofold), for the remaining
//     epochs' worth of steps, collecting every step.
//
// With a number for swa_lr the paper's fixed schedule runs instead: with
// t = (e−1)/SWAStart for the 1-based epoch e the rate is LR for t ≤ 0.5,
// falls linearly to SWALR until t = 0.9 and stays there, with Optimizer on
// reshuffled epochs throughout; its spread is an accident of the rate, the
// batch and the epochs.
//
// Either way each collected iterate θ goes into
//
//   - the running mean θ̄ and variance (Welford's update: the textbook
//     θ²‾ − θ̄² loses every digit when |θ| ≫ σ, the cancellation pitfall of
//     docs/algorithms.md §3), clamped below at 1e-30 when sampling;
//   - every so many iterates, a ring buffer holding the last Rank
//     deviations θ − θ̄, taken from the mean after the update, as the
//     reference does. Per-step collection spaces the Rank columns evenly
//     over the phase, so that they are not Rank neighbouring, nearly equal
//     iterates.
//
// By default every step is collected: a small data set has only a few
// steps per epoch, and one iterate per epoch leaves the moments with too
// few. CollectEvery: n collects at the end of every n-th epoch instead,
// as the reference does.
//
// The posterior is N(θ̄, Scale·(diag(var) + D̂D̂ᵀ/(k−1))) where D̂ holds the k
// collected columns (k ≤ Rank). diag(var) and D̂D̂ᵀ/(k−1) each estimate the
// iterates' covariance, so the paper's Scale ½ averages the two and stays
// the default once the rate is calibrated (with scale 1 the conjugate
// linear regression came out 1.4-2.2× the exact variance; with ½, within
// 0.7-1.6). SWAG-diagonal (Diagonal: 1) keeps only the variances, 2d
// numbers instead of d·(k+2), and its default Scale is 1 under the auto
// rate (½ under a fixed one, the reference's).
//
// By default (Covariance "curvature", where the model offers the output
// Jacobian the glm predictive needs) the iterates only choose the
// directions: the k columns are replaced by an orthonormal basis Q of their
// span scaled so that the low-rank term is Q (QᵀHQ)⁻¹ Qᵀ, H the Hessian of
// the negative log joint at θ̄ (central differences of the gradient along
// each column), the diagonal term is dropped and Scale defaults to 1: the
// Laplace approximation of the posterior restricted to θ̄ + span(Q)
// (subspace inference, Izmailov et al., UAI 2019), read through the
// linearised network. The iterates' own spread was 0.18 of the exact
// epistemic size on iris, their span with the curvature 0.95
// (docs/swag.md).
//
// Collection and sampling touch the parameters in place: a step and a
// collection allocate nothing, and the fit allocates its workspace once.
type SWAG struct {
	Epochs       int     `bl:"epochs,pos"`               // passes over the data; default 300
	LR           float64 `bl:"lr,pos"`                   // burn-in learning rate; default 1e-2 for adam, 5e-3 for sgd
	SWALR        float64 `bl:"swa_lr,pos"`               // constant rate while collecting; default auto (0 from Go): Mandt et al.'s rule
	SWAStart     int     `bl:"swa_start,nonneg,zero=-1"` // epochs before the first collection; default Epochs/2; -1 (0 in a script) collects from the first epoch
	CollectEvery int     `bl:"collect_every,pos"`        // epochs between collections; default every step
	Rank         int     `bl:"rank,pos"`                 // deviation columns kept, K; default 20; at least 2 unless Diagonal
	Scale        float64 `bl:"scale,nonneg,zero=-1"`     // covariance scale; default 0.5 (the paper's ½), 1 for diagonal with the auto rate; -1 (0 in a script) draws the SWA mean
	Diagonal     int     `bl:"diagonal"`                 // 1 (true in a script) for SWAG-diagonal; default 0 (false): diagonal plus low rank
	Batch        int     `bl:"batch,pos"`                // minibatch rows; default 32, all rows when N is smaller
	Optimizer    string  `bl:"optimizer,oneof=sgd|adam"` // burn-in optimizer (and the fixed schedule's): "adam" (default with the auto rate) or "sgd" (heavy-ball momentum; default with a fixed swa_lr)
	Momentum     float64 `bl:"momentum,unit,zero=-1"`    // sgd momentum in [0, 1); default 0.9; -1 means none
	// Predictive is how the posterior predicts: "glm" linearises the
	// network at the SWA mean (Gaussian outputs with covariance J Σ Jᵀ,
	// as a GLM Laplace's), "nn" runs it at parameter draws. Default
	// glm with the curvature covariance, nn with the iterates' or where the
	// model has no output Jacobian.
	Predictive string `bl:"predictive,oneof=glm|nn"`
	// Covariance is what sets the Gaussian's spread: "curvature" (the
	// default under the auto rate without diagonal) keeps the collected
	// deviations' span and puts the posterior restricted to it there, from
	// the Hessian at the SWA mean; "iterates" (the default with a fixed
	// swa_lr or diagonal) is the paper's covariance of the iterates.
	Covariance string `bl:"covariance,oneof=curvature|iterates"`
}

// The covariances of SWAG (see SWAG.Covariance).
const (
	covCurvature = "curvature"
	covIterates  = "iterates"
)

// forProblem returns m with its defaults for p. The curvature covariance
// is the default only where its predictive is glm: a Laplace covariance is
// the linearised network's posterior (Immer, Korzepa & Bauer 2021), and
// sampled through the network it was 2.3x (mcycle) and 22x (faithful) the
// exact epistemic size, B-LoRA-XS's accuracy fell from 0.913 to 0.876.
// Where the model has no output Jacobian, or predictive: nn is asked for,
// or scale 0 keeps only the SWA mean (drawn as it is, not through a
// linearisation of zero width), the iterates' covariance stays.
func (m SWAG) forProblem(p *Problem) SWAG {
	m = m.withDefaults()
	glmOK := p.Jacobian != nil && p.Outputs != nil && p.OutputWidth > 0
	if m.Covariance == "" {
		m.Covariance = covIterates
		if m.auto() && m.Diagonal == 0 && m.Predictive != predNN && glmOK && m.Scale >= 0 {
			m.Covariance = covCurvature
		}
	}
	if m.Scale == 0 {
		m.Scale = 0.5
		if (m.Diagonal == 1 && m.auto()) || m.Covariance == covCurvature {
			m.Scale = 1
		}
	}
	return m
}

// predictive returns the default predictive of the defaulted settings:
// glm for the curvature covariance, whose subspace Laplace is read
// through the linearised network as a GGN Laplace's is (sampled through
// the network it was 22x too wide on faithful), nn for the iterates'.
func (m SWAG) predictive() string {
	if m.Covariance == covCurvature {
		return predGLM
	}
	return predNN
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

// Calibration sizes of the auto rate: rows for the gradient covariance and
// for the curvature, and power iterations.
const (
	noiseRows     = 256
	curvatureRows = 1024
	powerIters    = 20
)

// withDefaults returns m with zero fields replaced by their defaults. A
// zero SWALR stays zero: it means the auto rate.
func (m SWAG) withDefaults() SWAG {
	if m.Epochs == 0 {
		m.Epochs = 300
	}
	if m.Optimizer == "" {
		// The auto rate's burn-in only has to reach a mode, which Adam
		// does reliably (heavy-ball SGD at 5e-3 sent the bundled mcycle
		// network's weights to 1e70 at some seeds); the paper's schedule
		// collects from its own optimizer, heavy-ball SGD.
		m.Optimizer = optAdam
		if !m.auto() {
			m.Optimizer = optSGD
		}
	}
	if m.LR == 0 {
		m.LR = 1e-2 // adam's usual rate
		if m.Optimizer == optSGD {
			m.LR = 5e-3
		}
	}
	if m.SWAStart == 0 {
		m.SWAStart = m.Epochs / 2
		if m.SWAStart == 0 {
			m.SWAStart = -1
		}
	}
	if m.Rank == 0 {
		m.Rank = 20
	}
	// Covariance and Scale are left to forProblem: their defaults depend on
	// the model (a capped copy keeps them open).
	if m.Batch == 0 {
		m.Batch = 32
	}
	if m.Momentum == 0 {
		m.Momentum = 0.9
	}
	return m
}

// auto reports whether the collecting rate comes from Mandt et al.'s rule.
func (m SWAG) auto() bool { return m.SWALR == 0 }

// perStep reports whether every step is collected.
func (m SWAG) perStep() bool { return m.CollectEvery == 0 }

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
	if !m.perStep() {
		m.CollectEvery = max(1, min(m.CollectEvery, n-max(m.SWAStart, 0)))
	}
	return m
}

// stepsPerEpoch returns the minibatch steps of one epoch over n rows.
func (m SWAG) stepsPerEpoch(n int) int {
	b := min(m.Batch, n)
	return (n + b - 1) / b
}

// collections returns how many iterates a fit with these (defaulted)
// settings collects from n rows.
func (m SWAG) collections(n int) int {
	epochs := m.Epochs - max(m.SWAStart, 0)
	if m.perStep() {
		return epochs * m.stepsPerEpoch(n)
	}
	return epochs / m.CollectEvery
}

// check validates the relations between the defaulted settings that the
// tags cannot express. It returns the setting to blame and a message, or
// "" when all is well.
func (m SWAG) check() (name, msg string) {
	switch {
	case m.Diagonal != 0 && m.Diagonal != 1:
		return "diagonal", fmt.Sprintf("diagonal must be true or false (1 or 0), got %d", m.Diagonal)
	case m.Diagonal == 1 && m.Covariance == covCurvature:
		return "covariance", "covariance curvature sets the spread within the deviations' subspace, which diagonal: true does not keep: use covariance: iterates"
	case m.Diagonal == 0 && m.Rank < 2:
		return "rank", fmt.Sprintf("rank must be at least 2 for the low-rank covariance (or set diagonal: true), got %d", m.Rank)
	case m.SWAStart >= m.Epochs:
		return "swa_start", fmt.Sprintf("swa_start must be below epochs (%d), got %d", m.Epochs, m.SWAStart)
	case !m.perStep() && m.collections(1) < 1:
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

// scale returns the covariance scale the posterior uses, before the auto
// rate's correction.
func (m SWAG) scale() float64 { return max(m.Scale, 0) }

// lr returns the learning rate of the 1-based epoch e. The auto rate's
// burn-in falls to LR/2, the old fixed default.
func (m SWAG) lr(epoch int) float64 {
	swa := m.SWALR
	if m.auto() {
		swa = m.LR / 2
	}
	if m.SWAStart <= 0 {
		return swa
	}
	return swaSchedule(float64(epoch-1)/float64(m.SWAStart), m.LR, swa)
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
	m = m.forProblem(p)
	pred, err := resolvePredictive("swag", m.Predictive, m.predictive(), p)
	if err != nil {
		return nil, err
	}
	post, err := m.fit(ctx, p, rng, "swag", obs)
	if err != nil {
		return nil, err
	}
	post.predictive = pred
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
	start := max(m.SWAStart, 0)
	expect := m.collections(p.N)
	col := newCollector(d, m.Rank, m.Diagonal == 1, expect)
	// Per-step collection keeps a deviation column every `every` iterates,
	// so that the Rank columns span the phase.
	every := 1
	if m.perStep() {
		every = max(1, expect/max(m.Rank, 1))
	}
	collect := func(epoch, steps int) error {
		if bad := col.collect(theta, col.n%every == every-1 || every == 1); bad != 0 {
			return &DivergenceError{Method: method, Epoch: epoch, Step: steps, Value: bad, Param: true}
		}
		return nil
	}

	if !m.auto() {
		l := newLoop(method, m.Epochs, m.Batch, p.N)
		epoch := 0
		l.startEpoch = func(e int) { epoch = e; setLR(opt, m.lr(e)) }
		step := st.step
		if m.perStep() {
			k := 0
			step = func(idx []int) (float64, float64) {
				loss, bad := st.step(idx)
				if epoch <= start || bad != 0 || !isFinite(loss) {
					return loss, bad
				}
				k++
				if err := collect(epoch, k); err != nil {
					return math.NaN(), 0 // the loop reports a divergence
				}
				return loss, bad
			}
		} else {
			l.endEpoch = func(epoch, steps int) error {
				if epoch <= start || (epoch-start)%m.CollectEvery != 0 {
					return nil
				}
				return collect(epoch, steps)
			}
		}
		if err := l.run(ctx, rng, obs, step); err != nil {
			return nil, err
		}
		return m.finish(p, col.posterior(method, m.scale(), m.Diagonal == 1), rng)
	}

	// Auto rate: burn-in, calibration, collection at the calibrated rate.
	if start > 0 {
		l := newLoop(method, start, m.Batch, p.N)
		l.startEpoch = func(e int) { setLR(opt, m.lr(e)) }
		if err := l.run(ctx, rng, relabel(obs, 0, m.Epochs), st.step); err != nil {
			return nil, err
		}
	}
	cal := calibrate(p, theta, min(m.Batch, p.N), rng)
	st.opt = newSGD(d, cal.rate, 0)
	st.fuseNormalPrior()
	// Each step draws its rows with replacement (Mandt et al.'s
	// assumption A1): reshuffled epochs make an epoch's noise sum to zero.
	l := newLoop(method, m.Epochs-start, m.Batch, p.N)
	l.iid = true
	l.afterStep = func(epoch, steps int) error { return collect(epoch+start, steps) }
	if err := l.run(ctx, rng, relabel(obs, start, m.Epochs), st.step); err != nil {
		return nil, err
	}
	q := col.posterior(method, m.scale(), m.Diagonal == 1)
	q.rate, q.rate0 = cal.rate, cal.mandt
	return m.finish(p, q, rng)
}

// finish sets the covariance within the collected subspace from the
// curvature when Covariance is "curvature".
func (m SWAG) finish(p *Problem, q *SWAGPosterior, rng *rand.Rand) (*SWAGPosterior, error) {
	if m.Covariance != covCurvature {
		return q, nil
	}
	if err := subspaceCurvature(p, q, rng); err != nil {
		return nil, fmt.Errorf("%s: %w", q.by, err)
	}
	return q, nil
}

// relabel returns an observer that reports a phase's epochs as epochs of
// the whole fit: offset earlier epochs, total in all.
func relabel(obs Observer, offset, total int) Observer {
	if obs == nil {
		return nil
	}
	return func(pr Progress) {
		pr.Epoch += offset
		pr.Epochs = total
		obs(pr)
	}
}

// calibration is the auto rate of one fit.
type calibration struct {
	mandt float64 // Mandt et al.'s scalar ε* = 2·B·d/(N·tr C)
	rate  float64 // the rate run: min(ε*, 1/λ_max)
	trC   float64 // trace of the per-example gradient covariance C
	lmax  float64 // largest |eigenvalue| of the mean objective's Hessian
}

// calibrate measures the gradient noise and the curvature at θ and
// returns the collecting rate for minibatches of b rows. Every row choice
// draws from rng.
func calibrate(p *Problem, theta []float64, b int, rng *rand.Rand) calibration {
	d, n := p.Dim, p.N
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	shuffle(perm, rng)

	// tr C from per-example gradients: the prior's gradient is the same for
	// every row and drops out.
	g := make([]float64, d)
	sum := make([]float64, d)
	rows := perm[:min(n, noiseRows)]
	sq := 0.0
	for i := range rows {
		p.NegLogLik(g, theta, rows[i:i+1])
		for j, x := range g {
			sum[j] += x
			sq += x * x
		}
	}
	c := calibration{mandt: math.Inf(1)}
	if m := float64(len(rows)); m > 1 {
		c.trC = max(0, (sq-swagDot(sum, sum)/m)/(m-1))
	}
	if c.trC > 0 {
		c.mandt = 2 * float64(b) * float64(d) / (float64(n) * c.trC)
	}

	// λ_max of H̄ = Hessian of NegLogLik/N + NegLogPrior/N, by power
	// iteration on central differences of the gradient over a subset.
	c.lmax = maxCurvature(p, theta, perm[:min(n, curvatureRows)], rng)
	c.rate = c.mandt
	if c.lmax > 0 {
		c.rate = min(c.rate, 1/c.lmax)
	}
	if math.IsInf(c.rate, 0) { // no noise and no curvature: nothing to go by
		c.rate = 1e-3
	}
	return c
}

// maxCurvature estimates the largest |eigenvalue| of the Hessian of the
// per-example objective NegLogLik(rows)/|rows| + NegLogPrior/N at θ.
func maxCurvature(p *Problem, theta []float64, rows []int, rng *rand.Rand) float64 {
	d := len(theta)
	v := make([]float64, d)
	for j := range v {
		v[j] = rng.NormFloat64()
	}
	x := make([]float64, d)
	gp := make([]float64, d)
	gm := make([]float64, d)
	n := float64(p.N)
	grad := func(dst, at []float64) { // N·∇ of the objective, then /N
		p.NegLogLik(dst, at, rows)
		nb := n / float64(len(rows))
		for j := range dst {
			dst[j] *= nb
		}
		if p.NegLogPrior != nil {
			p.NegLogPrior(dst, at)
		}
		for j := range dst {
			dst[j] /= n
		}
	}
	norm := math.Sqrt(swagDot(v, v))
	scaleTheta := 1 + math.Sqrt(swagDot(theta, theta)/float64(d))
	lam := 0.0
	for range powerIters {
		for j := range v {
			v[j] /= norm
		}
		h := 1e-4 * scaleTheta
		for j := range x {
			x[j] = theta[j] + h*v[j]
		}
		grad(gp, x)
		for j := range x {
			x[j] = theta[j] - h*v[j]
		}
		grad(gm, x)
		for j := range v {
			v[j] = (gp[j] - gm[j]) / (2 * h)
		}
		norm = math.Sqrt(swagDot(v, v))
		if !(norm > 0) || !isFinite(norm) {
			return lam
		}
		lam = norm
	}
	return lam
}

// swagDot returns Σ a_j·b_j.
func swagDot(a, b []float64) float64 {
	s := 0.0
	b = b[:len(a)]
	for j, x := range a {
		s += x * b[j]
	}
	return s
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
// Welford's variance update) and, when keepColumn, writes θ − θ̄, with θ̄
// already updated, straight into the oldest column of the ring. It returns the first
// non-finite coordinate of θ, or 0; on a non-finite θ the accumulators are
// spoilt and the fit must stop.
func (c *collector) collect(theta []float64, keepColumn bool) (bad float64) {
	d := c.d
	theta = theta[:d]
	mean, m2 := c.mean[:d], c.m2[:d]
	inv := 1 / float64(c.n+1)
	z := 0.0 // t*0 is 0 for a finite t and NaN otherwise
	if c.ring == nil || !keepColumn {
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

	// The auto rate's calibration, 0 for a fixed rate or a loaded file.
	rate, rate0 float64

	predictive string // "glm" or "nn" ("" is nn)
}

var (
	_ Saver           = (*SWAGPosterior)(nil)
	_ OutputPredictor = (*SWAGPosterior)(nil)
)

// Linearised reports whether the predictive is the GLM one.
func (q *SWAGPosterior) Linearised() bool { return q.predictive == predGLM }

// PredictOutputs returns the linearised predictive at the rows of x: the
// outputs N(f(x, θ̄), J Σ Jᵀ) with Σ = scale·(diag(var) + D̂D̂ᵀ/(k−1)),
// from (J∘√(scale·var)) and J D̂ without forming Σ, drawn as a GLM
// Laplace's are (LaplacePosterior.PredictOutputs).
func (q *SWAGPosterior) PredictOutputs(ctx context.Context, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	return q.weightGaussian().predict(ctx, q.by, p, x, samples, rng)
}

// weightGaussian returns the posterior as the linearised predictive reads
// it: σ = √(scale·var), U = √(scale/(k−1))·D̂ (d x k).
func (q *SWAGPosterior) weightGaussian() weightGaussian {
	g := weightGaussian{mean: q.mean, std: q.sd}
	if q.b == 0 {
		return g
	}
	d, k := len(q.mean), len(q.cols)
	g.u, g.k = make([]float64, d*k), k
	for c, col := range q.cols {
		for j, x := range col {
			g.u[j*k+c] = q.b * x
		}
	}
	return g
}

func newSWAGPosterior(by string, scale float64, diagonal bool, n int, mean, variance []float64, cols [][]float64) *SWAGPosterior {
	q := &SWAGPosterior{by: by, scale: scale, diagonal: diagonal, n: n,
		mean: mean, variance: variance, cols: cols, sd: make([]float64, len(mean))}
	q.refresh()
	return q
}

// refresh recomputes the sampling factors from the scale, the variances
// and the columns.
func (q *SWAGPosterior) refresh() {
	for j, v := range q.variance {
		q.sd[j] = math.Sqrt(q.scale * max(v, varClamp))
	}
	q.b = 0
	if !q.diagonal && len(q.cols) >= 2 {
		q.b = math.Sqrt(q.scale / float64(len(q.cols)-1))
	}
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

// Rate returns the auto rate's calibration: the rate the iterates were
// collected at and Mandt et al.'s ε*, whose ratio is part of Scale. Both
// are 0 for a fixed swa_lr and for a posterior loaded from a file.
func (q *SWAGPosterior) Rate() (collected, optimal float64) { return q.rate, q.rate0 }

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
// with a fifth number 1 in the header when the predictive is glm (glmMark;
// a 4-number header is nn).
// The file holds the variance, not the uncentred second moment θ²‾ of the
// reference: recovering var as θ²‾ − θ̄² would bring back the cancellation
// the fit avoids.
func (q *SWAGPosterior) Vectors() [][]float64 {
	diag := 0.0
	if q.diagonal {
		diag = 1
	}
	out := make([][]float64, 0, 3+len(q.cols))
	head := []float64{q.scale, diag, float64(q.n), float64(len(q.cols))}
	if q.Linearised() {
		head = append(head, glmMark)
	}
	out = append(out, head, q.mean, q.variance)
	return append(out, q.cols...)
}

func decodeSWAG(method string, vecs [][]float64) (Posterior, error) {
	return decodeSWAGVectors(method, vecs)
}

func decodeSWAGVectors(method string, vecs [][]float64) (*SWAGPosterior, error) {
	if len(vecs) < 3 || (len(vecs[0]) != 4 && len(vecs[0]) != 5) {
		return nil, fmt.Errorf("swag posterior needs a 4-number header (5 with glm), a mean and variances")
	}
	h := vecs[0]
	pred := predNN
	if len(h) == 5 {
		if err := checkGLMMark(h[4]); err != nil {
			return nil, fmt.Errorf("swag posterior has %v", err)
		}
		pred = predGLM
	}
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
	q := newSWAGPosterior(method, scale, diag == 1, n, mean, variance, cols)
	q.predictive = pred
	return q, nil
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

// parseSWAGSettings is ParseSettings with three additions for SWAG's
// settings: diagonal also takes true and false (a script's bare words),
// swa_lr takes auto (the default, Mandt et al.'s rule), and the relations
// between settings are checked, blaming the argument that set the
// offending one (or, when it was left at its default, the one that made
// the default wrong).
func parseSWAGSettings(dst any, args []Arg, member func() SWAG) error {
	conv, bad := args, -1
	auto := -1 // index of swa_lr: auto, dropped from conv
	for i, a := range args {
		if !a.IsStr || a.Call != nil {
			continue
		}
		switch {
		case a.Name == "swa_lr" && a.Str == "auto" && auto < 0:
			auto = i
		case a.Name == "diagonal":
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
	}
	if auto >= 0 {
		conv = slices.Delete(slices.Clone(conv), auto, auto+1)
	}
	if err := ParseSettings(dst, conv); err != nil {
		if se, ok := err.(*SettingError); ok {
			if auto >= 0 && se.Index >= auto {
				se.Index++
			}
			if bad >= 0 && se.Index == bad {
				se.Msg = fmt.Sprintf("diagonal must be true or false, got %s", args[bad])
			}
			if se.Index >= 0 && args[se.Index].Name == "swa_lr" && args[se.Index].IsStr {
				se.Msg = fmt.Sprintf("swa_lr must be auto or a positive number, got %s", args[se.Index])
			}
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
