package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
	"github.com/bayesl/bayesl/stdlib/num"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Distill trains a student network to stand in for a teacher posterior
// (evidential knowledge distillation, docs/algorithms.md §6), so that one forward
// pass replaces the teacher's S-draw predictive. It is a Method over the
// student's Problem, which must offer OutputGrad; the teacher comes in the
// Teacher fields. The result is a *Student.
//
// Teacher statistics. The teacher's parameter vectors are drawn once
// (Samples of them; a finite posterior such as an ensemble gives its own)
// and run through TeacherProblem.Predict over the training inputs in row
// chunks of at most 2^20 probabilities (S x rows x K), so memory stays
// bounded however large N is. Each chunk is reduced at once to N x K numbers
// and discarded: for a Dirichlet student the sufficient statistics of its
// loss, T_nk = (1/S) Σ_m log(π_nk^(m) + 1e-8) (dirichlet.MeanLog, uniform
// weights w_m = 1/S); for a softmax student the teacher's mean predictive
// p̄_nk. They are computed once, before training, and not redrawn per epoch:
// the loss depends on the draws only through them, redrawing would multiply
// the teacher's cost by the number of epochs, and with S = 30 their Monte
// Carlo error is small next to what the student can fit.
//
// Losses, per example, with no label term:
//
//	dirichlet: −log Γ(α0) + Σ_k log Γ(α_k) − Σ_k (α_k − 1) T_nk,   α = softplus(z) + 1
//	softmax:   −Σ_k p̄_nk log softmax(z)_k   (cross-entropy to soft targets)
//
// where z are the student's logits, minimised over minibatches by Adam.
// The dirichlet loss is −E_{m}[log Dir(π^(m) | α)], the negative
// log-likelihood of the teacher's draws; the softmax one is
// KL(p̄ ‖ softmax(z)) plus the teacher's entropy.
//
// Early stopping. After every epoch the loss is evaluated over every
// training row with the current parameters (one forward pass); the
// parameters with the lowest value are kept, and training stops once
// Patience epochs in a row have not lowered it. Progress reports that value.
//
// The α0 guard (dirichlet only). Where every teacher draw agrees the loss
// has no minimum: α = sπ̄ with s → ∞ keeps lowering it, so α0 grows without
// bound the longer the student trains and its epistemic uncertainty, about
// (K−1)/(2α0), shrinks towards zero. As the training loss keeps falling
// meanwhile, early stopping on it seldom ends such a fit: the epochs
// setting is what bounds the growth (the reference code trains for a few
// epochs). The reference code's two guards are options. Guard "fixed" rescales α ← α·Alpha0/α0 in training and in every
// prediction, so α0 is Alpha0 everywhere and the student learns only the
// mean p̂ (its epistemic part then depends on p̂ alone). Guard "learnable"
// adds GuardWeight·(α0 − e^a)² to each example's loss, with a scalar a
// that starts at log Alpha0 and is learnt with the same optimiser and rate,
// pulling every α0 towards one common value; predictions are unchanged.
type Distill struct {
	// Form is FormDirichlet (the default when empty) or FormSoftmax;
	// NewDistill sets it from the name a script writes.
	Form string

	Samples     int     `bl:"samples,pos"`                      // teacher draws; default 30 (a finite posterior uses its own)
	Epochs      int     `bl:"epochs,pos"`                       // at most this many passes; default 200
	LR          float64 `bl:"lr,pos"`                           // Adam learning rate; default 3e-3
	Batch       int     `bl:"batch,pos"`                        // minibatch rows; default 64, all rows when N is smaller
	Patience    int     `bl:"patience,pos"`                     // epochs without a lower training loss before stopping; default 10
	Guard       string  `bl:"guard,oneof=none|fixed|learnable"` // α0 guard (dirichlet only); default "none"
	Alpha0      float64 `bl:"alpha0,pos"`                       // fixed: the α0 of every prediction; learnable: the start of e^a; default 10
	GuardWeight float64 `bl:"guard_weight,pos"`                 // learnable: the weight of (α0 − e^a)²; default 1

	// Teacher is the posterior to distil. TeacherProblem is its model
	// (Predict, Kind and Classes are used) and TeacherX holds the training
	// inputs as that model reads them: row n is the input of the student
	// problem's row n.
	Teacher        Posterior
	TeacherProblem *Problem
	TeacherX       *mat.Dense
}

var (
	_ Method      = (*Distill)(nil)
	_ EpochCapper = (*Distill)(nil)
)

// dirichletOnly lists the settings a softmax student does not take.
var dirichletOnly = []string{"guard", "alpha0", "guard_weight"}

// NewDistill returns the trainer of a student of the given form with its
// settings parsed from args, as written in `using dirichlet(...)`. A bad
// setting is a *SettingError pointing at its argument.
func NewDistill(form string, args []Arg) (*Distill, error) {
	if !slices.Contains(DistillForms(), form) {
		return nil, fmt.Errorf("unknown student form %q (known: dirichlet, softmax)", form)
	}
	d := &Distill{Form: form}
	if err := ParseSettings(d, args); err != nil {
		return nil, err
	}
	if form == FormSoftmax {
		for i, a := range args {
			if slices.Contains(dirichletOnly, a.Name) {
				return nil, &SettingError{i, fmt.Sprintf("%s is a setting of dirichlet students; a softmax student has no α0 to guard", a.Name)}
			}
		}
	}
	return d, nil
}

// Name returns the form, "dirichlet" or "softmax".
func (d Distill) Name() string {
	if d.Form == "" {
		return FormDirichlet
	}
	return d.Form
}

// CapEpochs returns a copy that runs at most n epochs.
func (d Distill) CapEpochs(n int) Method {
	d = d.withDefaults()
	d.Epochs = min(d.Epochs, n)
	return &d
}

func (d Distill) withDefaults() Distill {
	if d.Form == "" {
		d.Form = FormDirichlet
	}
	if d.Samples == 0 {
		d.Samples = 30
	}
	if d.Epochs == 0 {
		d.Epochs = 200
	}
	if d.LR == 0 {
		d.LR = 3e-3
	}
	if d.Batch == 0 {
		d.Batch = 64
	}
	if d.Patience == 0 {
		d.Patience = 10
	}
	if d.Guard == "" {
		d.Guard = "none"
	}
	if d.Alpha0 == 0 {
		d.Alpha0 = 10
	}
	if d.GuardWeight == 0 {
		d.GuardWeight = 1
	}
	return d
}

// statsBudget bounds the teacher probabilities held at once, in float64s.
const statsBudget = 1 << 20

// Fit distils the teacher into the student problem p. It stops with
// ctx.Err() when ctx is done (checked between teacher chunks and before
// every step) and returns a *DivergenceError when the loss or its gradient
// stops being finite.
func (d Distill) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	d = d.withDefaults()
	name := d.Form
	if err := checkSettings(d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := d.check(p); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if rng == nil {
		return nil, fmt.Errorf("%s: %w", name, errNilRNG)
	}
	stats, draws, tTime, err := d.teacherStats(ctx, p.Classes, rng)
	if err != nil {
		return nil, err
	}
	st := newDistillState(d, p, stats)
	theta := st.theta
	if p.Init != nil {
		p.Init(theta, rng)
	}
	best := slices.Clone(theta)
	bestLoss, bestEpoch, epochs := math.Inf(1), 0, 0
	l := newLoop(name, d.Epochs, d.Batch, p.N)
	// The student is judged by its loss over every row after each epoch:
	// the best epoch's θ is kept and patience ends the fit.
	l.report = func(epoch int, _ float64) (float64, bool, error) {
		epochs = epoch
		loss := st.trainLoss(l.perm, l.batch)
		if !isFinite(loss) {
			return loss, true, &DivergenceError{Method: name, Epoch: epoch, Step: (p.N + l.batch - 1) / l.batch, Value: loss}
		}
		if loss < bestLoss {
			bestLoss, bestEpoch = loss, epoch
			copy(best, theta)
			return loss, false, nil
		}
		return loss, epoch-bestEpoch >= d.Patience, nil
	}
	if err := l.run(ctx, rng, obs, st.step); err != nil {
		return nil, err
	}
	s := &Student{Theta: best, Form: d.Form, Report: DistillReport{
		Teacher: d.Teacher.Method(), Draws: draws, Epochs: epochs, BestEpoch: bestEpoch,
		BestLoss: bestLoss, TeacherTime: tTime,
	}}
	if d.Form == FormDirichlet && d.Guard == "fixed" {
		s.Alpha0 = d.Alpha0
	}
	return s, nil
}

// check validates the student problem and the teacher.
func (d *Distill) check(p *Problem) error {
	tp := d.TeacherProblem
	switch {
	case d.Form != FormDirichlet && d.Form != FormSoftmax:
		return fmt.Errorf("unknown student form %q", d.Form)
	case p == nil:
		return fmt.Errorf("nil problem")
	case p.Dim < 1 || p.N < 1:
		return fmt.Errorf("student problem has %d parameters and %d training rows", p.Dim, p.N)
	case p.OutputGrad == nil:
		return fmt.Errorf("the student model cannot give its outputs and their gradient (no OutputGrad)")
	case p.Kind != predictive.Classification || p.Classes < 2:
		return fmt.Errorf("the student must be a classifier over at least 2 classes")
	case d.Teacher == nil || tp == nil || d.TeacherX == nil:
		return fmt.Errorf("no teacher: set Teacher, TeacherProblem and TeacherX")
	case tp.Predict == nil:
		return fmt.Errorf("the teacher's problem cannot predict")
	case tp.Kind != predictive.Classification:
		return fmt.Errorf("the teacher is not a classifier")
	case tp.Classes != p.Classes:
		return fmt.Errorf("the teacher has %d classes but the student %d", tp.Classes, p.Classes)
	case d.Teacher.Dim() != tp.Dim:
		return fmt.Errorf("the teacher posterior has %d parameters but its model %d", d.Teacher.Dim(), tp.Dim)
	case isDirichletStudent(d.Teacher):
		return fmt.Errorf("the teacher is a Dirichlet student, whose predictive is not a set of draws; distil the posterior it was distilled from")
	}
	if r, _ := d.TeacherX.Dims(); r != p.N {
		return fmt.Errorf("%d teacher inputs for %d training rows", r, p.N)
	}
	return nil
}

// teacherStats draws the teacher once and reduces its predictive over the
// training inputs, chunk by chunk, to the student's N x K statistics: mean
// log-probabilities (dirichlet) or mean probabilities (softmax). It returns
// them with the number of draws and the time spent in Predict.
func (d *Distill) teacherStats(ctx context.Context, k int, rng *rand.Rand) ([]float64, int, time.Duration, error) {
	tp, x := d.TeacherProblem, d.TeacherX
	// A linearised Laplace draws its outputs, not its parameters.
	op, glm := d.Teacher.(OutputPredictor)
	glm = glm && op.Linearised()
	var thetas [][]float64
	s := d.Samples
	if !glm {
		thetas = d.Teacher.Draw(d.Samples, rng)
		if len(thetas) == 0 {
			return nil, 0, 0, fmt.Errorf("%s: the %s teacher drew no parameter vectors", d.Form, d.Teacher.Method())
		}
		for i, th := range thetas {
			if len(th) != tp.Dim {
				return nil, 0, 0, fmt.Errorf("%s: teacher draw %d has %d parameters, want %d", d.Form, i, len(th), tp.Dim)
			}
		}
		s = len(thetas)
	}
	n, cols := x.Dims()
	chunk := max(1, min(n, statsBudget/(s*k)))
	stats := make([]float64, n*k)
	buf := make([]float64, s*k)
	pred := new(predictive.Predictive)
	var elapsed time.Duration
	for r0 := 0; r0 < n; r0 += chunk {
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, err
		}
		rows := min(chunk, n-r0)
		t0 := time.Now()
		xc := x.Slice(r0, r0+rows, 0, cols).(*mat.Dense)
		if glm {
			var err error
			if pred, err = op.PredictOutputs(ctx, tp, xc, s, rng); err != nil {
				return nil, 0, 0, fmt.Errorf("%s: %w", d.Form, err)
			}
		} else {
			tp.Predict(pred, thetas, xc)
		}
		elapsed += time.Since(t0)
		if pred.Kind != predictive.Classification || pred.S != s || pred.N != rows || pred.K != k {
			return nil, 0, 0, fmt.Errorf("%s: the teacher's model returned %v outputs %d x %d x %d for %d draws at %d inputs over %d classes",
				d.Form, pred.Kind, pred.S, pred.N, pred.K, s, rows, k)
		}
		for i := 0; i < rows; i++ {
			dst := stats[(r0+i)*k : (r0+i+1)*k]
			for m := 0; m < s; m++ {
				lp := pred.LogProb[(m*rows+i)*k : (m*rows+i+1)*k]
				for j, v := range lp {
					buf[m*k+j] = math.Exp(v)
				}
			}
			if d.Form == FormDirichlet {
				dirichlet.MeanLog(dst, buf, nil)
				continue
			}
			for m := 0; m < s; m++ {
				for j, v := range buf[m*k : (m+1)*k] {
					dst[j] += v
				}
			}
			for j := range dst {
				dst[j] /= float64(s)
			}
		}
	}
	return stats, s, elapsed, nil
}

// distillState is the preallocated workspace of one distillation; a step
// allocates nothing.
type distillState struct {
	d     Distill
	p     *Problem
	stats []float64 // N x K teacher statistics
	k     int

	theta, grad []float64
	opt         optimizer

	// The guard's learnable log target a, with its gradient and optimiser.
	logT  []float64
	gLogT []float64
	optT  optimizer

	idx     []int // rows of the current call
	penalty bool  // add the learnable guard's penalty
	alpha   []float64
	gAlpha  []float64
	lossFn  func(dOut, out []float64) float64
}

func newDistillState(d Distill, p *Problem, stats []float64) *distillState {
	k := p.Classes
	st := &distillState{
		d: d, p: p, stats: stats, k: k,
		theta: make([]float64, p.Dim), grad: make([]float64, p.Dim),
		opt:   newOptimizer(optAdam, p.Dim, d.LR, 0),
		alpha: make([]float64, k), gAlpha: make([]float64, k),
	}
	if d.Form == FormDirichlet && d.Guard == "learnable" {
		st.logT, st.gLogT = []float64{math.Log(d.Alpha0)}, make([]float64, 1)
		st.optT = newOptimizer(optAdam, 1, d.LR, 0)
	}
	st.lossFn = st.loss
	return st
}

// step takes one Adam step on the rows idx and returns their mean loss
// before the step, and the first non-finite gradient coordinate (0 if
// none).
func (st *distillState) step(idx []int) (loss, badGrad float64) {
	st.idx, st.penalty = idx, st.logT != nil
	if st.logT != nil {
		st.gLogT[0] = 0
	}
	loss = st.p.OutputGrad(st.grad, st.theta, idx, st.lossFn)
	if !isFinite(loss) {
		return loss, 0
	}
	if !st.opt.step(st.theta, st.grad, 1) {
		return loss, firstNonFinite(st.grad)
	}
	if st.logT != nil && !st.optT.step(st.logT, st.gLogT, 1) {
		return loss, st.gLogT[0]
	}
	return loss, 0
}

// trainLoss is the mean loss over every training row with the current
// parameters, without the guard's penalty: the value early stopping
// watches. It walks perm in chunks of batch rows.
func (st *distillState) trainLoss(perm []int, batch int) float64 {
	st.penalty = false
	sum := 0.0
	for lo := 0; lo < len(perm); lo += batch {
		st.idx = perm[lo:min(lo+batch, len(perm))]
		sum += st.p.OutputGrad(nil, st.theta, st.idx, st.lossFn) * float64(len(st.idx))
	}
	return sum / float64(len(perm))
}

// loss is the per-example mean loss of the rows st.idx given the student's
// outputs, writing its gradient in them into dOut.
func (st *distillState) loss(dOut, out []float64) float64 {
	k, b := st.k, len(st.idx)
	inv := 1 / float64(b)
	total := 0.0
	for r, row := range st.idx {
		z := out[r*k : (r+1)*k]
		dz := dOut[r*k : (r+1)*k]
		t := st.stats[row*k : (row+1)*k]
		if st.d.Form == FormSoftmax {
			total += softCrossEntropy(dz, z, t)
		} else {
			total += st.dirichletLoss(dz, z, t)
		}
		for j := range dz {
			dz[j] *= inv
		}
	}
	return total * inv
}

// softCrossEntropy returns −Σ_k t_k log softmax(z)_k and writes its
// gradient softmax(z) − t into dz.
func softCrossEntropy(dz, z, t []float64) float64 {
	num.LogSoftmax(dz, z)
	l := 0.0
	for j, lq := range dz {
		if t[j] > 0 {
			l -= t[j] * lq
		}
		dz[j] = math.Exp(lq) - t[j]
	}
	return l
}

// dirichletLoss returns the Dirichlet NLL of one example from its
// statistics t and writes its gradient in the logits into dz, through the
// α0 guard when one is set.
func (st *distillState) dirichletLoss(dz, z, t []float64) float64 {
	d := &st.d
	alpha, ga := st.alpha, st.gAlpha
	dirichlet.Alpha(alpha, z)
	a0 := floatsSum(alpha)
	var l float64
	switch {
	case d.Guard == "fixed":
		// α' = c·α with c = Alpha0/α0, so ∂L/∂α_k = c·(g'_k − Σ_j g'_j α_j/α0)
		// where g' is the gradient in α'.
		c := d.Alpha0 / a0
		for j := range alpha {
			alpha[j] *= c
		}
		l = dirichlet.NLLStats(ga, alpha, t, 1)
		dot := 0.0
		for j, g := range ga {
			dot += g * alpha[j] // α'_j = c α_j
		}
		dot /= d.Alpha0 // Σ_j g'_j α_j / α0
		for j := range ga {
			ga[j] = c * (ga[j] - dot)
		}
	default:
		l = dirichlet.NLLStats(ga, alpha, t, 1)
		if st.penalty {
			target := math.Exp(st.logT[0])
			diff := a0 - target
			l += d.GuardWeight * diff * diff
			for j := range ga {
				ga[j] += 2 * d.GuardWeight * diff
			}
			st.gLogT[0] -= 2 * d.GuardWeight * diff * target / float64(len(st.idx))
		}
	}
	dirichlet.GradLogits(dz, ga, z)
	return l
}
