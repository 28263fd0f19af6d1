package lang

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"gonum.org/v1/gonum/mat"
)

// DistillSummary describes a finished distillation: the student, its
// teacher, how training went, and what one prediction costs each of them.
type DistillSummary struct {
	Form          string  `json:"form"` // "dirichlet" or "softmax"
	Teacher       string  `json:"teacher"`
	TeacherMethod string  `json:"teacher_method"`
	Draws         int     `json:"draws"` // teacher draws behind the targets
	Model         string  `json:"model"`
	Params        int     `json:"params"`
	Rows          int     `json:"rows"`
	Epochs        int     `json:"epochs"`     // epochs run
	BestEpoch     int     `json:"best_epoch"` // the epoch whose parameters were kept
	Loss          float64 `json:"loss"`       // training loss per example at BestEpoch
	Seconds       float64 `json:"seconds"`
	// The predictive over the training inputs: the teacher's Draws-draw
	// Monte-Carlo predictive and the student's one forward pass, in
	// milliseconds of wall-clock time on this machine.
	TeacherMs float64 `json:"teacher_ms"`
	StudentMs float64 `json:"student_ms"`
}

func (s *DistillSummary) format(w io.Writer, name string) {
	fmt.Fprintf(w, "distilled %s: %s student of %s (%s, %d draws), model %s, %d parameters, on %d rows: %d epochs, best %d (loss %.4f), %.2fs\n",
		name, s.Form, s.Teacher, s.TeacherMethod, s.Draws, s.Model, s.Params, s.Rows, s.Epochs, s.BestEpoch, s.Loss, s.Seconds)
	if s.StudentMs > 0 {
		fmt.Fprintf(w, "  predictive on those rows: teacher %.1f ms, student %.1f ms (%.1fx faster)\n", s.TeacherMs, s.StudentMs, s.TeacherMs/s.StudentMs)
	}
}

// distill trains the student of `student NAME = distill ...`. The teacher's
// model is only known here for a loaded teacher, so the checks the checker
// makes when it can are repeated with positions.
func (x *executor) distill(name string, e *ir.Distill) (*Posterior, error) {
	teacher, err := x.posteriorValue(e.Teacher)
	if err != nil {
		return nil, err
	}
	tm, m := teacher.model, e.Model
	if !tm.Lik.Family.Classification() {
		return nil, x.errorf(e.Teacher.Span, source.Type, "the teacher %s is not a classifier: its model %s has a %s likelihood; only classification posteriors can be distilled", e.Teacher.Name, tm.Name, tm.Lik.Family)
	}
	if ts, ok := teacher.post.(*infer.Student); ok && ts.Form == infer.FormDirichlet {
		return nil, x.errorf(e.Teacher.Span, source.Type, "the teacher %s is a Dirichlet student, whose predictive is not a set of draws; distil the posterior it was distilled from", e.Teacher.Name)
	}
	k := tm.Lik.Classes
	if m.Lik.Classes != k {
		return nil, x.errorf(e.ModelSpan, source.Shape, "student model %s has %d logits but the teacher %s has %d classes", m.Name, m.Lik.Classes, e.Teacher.Name, k)
	}
	if m.InputWidth != tm.InputWidth {
		return nil, x.errorf(e.ModelSpan, source.Shape, "student model %s takes %d inputs but the teacher %s takes %d", m.Name, m.InputWidth, e.Teacher.Name, tm.InputWidth)
	}
	d, err := x.data(e.Data)
	if err != nil {
		return nil, err
	}
	if d.Width() != m.InputWidth {
		return nil, x.errorf(e.Span, source.Shape, "the student and its teacher take %d input features but the data has %d (%s)", m.InputWidth, d.Width(), abbreviate(d.XNames, 6))
	}
	if d.Classes != nil && len(d.Classes) != k {
		return nil, x.errorf(e.Span, source.Shape, "the teacher %s has %d classes but the data has %d", e.Teacher.Name, k, len(d.Classes))
	}
	prog, err := x.s.program(m)
	if err != nil {
		return nil, x.compileError(e.ModelSpan, err)
	}
	args := make([]infer.Arg, 0, len(e.Args))
	for _, a := range e.Args {
		args = append(args, inferArg(a))
	}
	dist, err := infer.NewDistill(e.Form, args)
	if err != nil {
		var se *infer.SettingError
		if errors.As(err, &se) && se.Index >= 0 && se.Index < len(e.Args) {
			return nil, x.errorf(e.Args[se.Index].Span, source.Type, "%s", se.Msg)
		}
		return nil, x.wrap(e.MethodSpan, source.Type, err)
	}

	// The teacher reads the inputs with its own standardisation; the
	// student, like any fit, with that of the data it is trained on.
	tx := mat.DenseCopyOf(d.X)
	teacher.Scaler.TransformX(tx, tx)
	dist.Teacher, dist.TeacherProblem, dist.TeacherX = teacher.post, teacher.problem, tx
	scaler := data.Identity(d.Width())
	if d.Standardize {
		scaler = data.FitScaler(d, false)
	}
	xs := mat.DenseCopyOf(d.X)
	scaler.TransformX(xs, xs)
	problem := newProblem(prog, xs, d.Y)

	var trace []float64
	obs := func(p infer.Progress) {
		trace = append(trace, p.Loss)
		if x.s.cfg.Progress != nil {
			x.s.report(name, p)
		}
	}
	start := time.Now()
	post, err := infer.CapEpochs(dist, x.s.cfg.MaxEpochs).Fit(x.ctx, problem, x.rng("distill:"+name), obs)
	if err != nil {
		var div *infer.DivergenceError
		if errors.As(err, &div) {
			return nil, x.errorf(e.Span, source.Numeric, "distilling %s diverged: %v (try a smaller lr)", name, err)
		}
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	classes := teacher.Classes
	if classes == nil {
		classes = d.Classes
	}
	p := &Posterior{
		post: post, model: m, ModelText: e.ModelText, Scaler: scaler,
		Classes: classes, XNames: d.XNames, YName: d.YName, FitTime: time.Since(start),
		Trace: trace, prog: prog, problem: newProblem(prog, nil, nil),
	}
	sum := &DistillSummary{Form: e.Form, Teacher: e.Teacher.Name, TeacherMethod: teacher.Method(), Model: m.Name,
		Params: m.Dim(), Rows: d.Rows(), Seconds: p.FitTime.Seconds()}
	if s, ok := post.(*infer.Student); ok {
		r := s.Report
		sum.Draws, sum.Epochs, sum.BestEpoch, sum.Loss = r.Draws, r.Epochs, r.BestEpoch, r.BestLoss
		sum.TeacherMs = r.TeacherTime.Seconds() * 1e3
		// The student's whole predictive (standardisation, forward pass,
		// closed form) on the inputs the teacher's predictive timed.
		t0 := time.Now()
		if _, err := p.predictAt(x.ctx, d.X, 1, nil); err != nil {
			return nil, x.wrap(e.Span, source.Runtime, err)
		}
		sum.StudentMs = time.Since(t0).Seconds() * 1e3
	}
	x.emit(Result{Kind: "distill", Name: name, Distill: sum})
	return p, nil
}
