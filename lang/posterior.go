package lang

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/tensorio"
	"gonum.org/v1/gonum/mat"
)

// Posterior is a fitted posterior together with everything needed to ask it
// questions in the data's own units: the model, its compiled program, and
// the standardisation learned from the training data.
type Posterior struct {
	// ModelText is the source of the model block the posterior is over.
	ModelText string
	Scaler    data.Scaler
	Classes   []string // class names, for classifiers
	XNames    []string
	YName     string
	FitTime   time.Duration
	// Trace is the training objective after each epoch, as reported by the
	// backend (for a composite method, every member's reports in turn).
	Trace []float64

	post    infer.Posterior
	model   *ir.Model
	prog    *compile.Program
	problem *infer.Problem
}

// meta is what a saved posterior carries besides its numbers, so a file is
// self-contained: the model's source is re-checked and compiled on load.
type meta struct {
	Format     int         `json:"format"`
	ModelText  string      `json:"model"`
	Scaler     data.Scaler `json:"scaler"`
	Classes    []string    `json:"classes,omitempty"`
	XNames     []string    `json:"x_names"`
	YName      string      `json:"y_name"`
	frozenMeta             // a model with frozen weights: its constants (weights.go)
}

func (x *executor) posterior(name string, e ir.PosteriorExpr) (*Posterior, error) {
	switch e := e.(type) {
	case *ir.PosteriorRef:
		p, ok := x.s.values[e.Name].(*Posterior)
		if !ok {
			return nil, x.errorf(e.Span, source.Runtime, "%q holds no posterior", e.Name)
		}
		return p, nil
	case *ir.Fit:
		return x.fit(name, e)
	case *ir.Distill:
		return x.distill(name, e)
	case *ir.Load:
		return x.load(e)
	case *ir.Pretrained:
		return x.pretrained(name, e)
	}
	return nil, fmt.Errorf("unknown posterior expression %T", e)
}

func (x *executor) fit(name string, e *ir.Fit) (*Posterior, error) {
	d, err := x.data(e.Data)
	if err != nil {
		return nil, err
	}
	m, modelText := x.s.resolveModel(e.Model, e.ModelText)
	switch {
	case e.Model.Dim() == 0:
		return nil, x.errorf(e.Span, source.Type, "model %s has no trainable parameters: every layer is frozen (use it as it is with posterior %s = point(%s), or give a layer an adapter)", e.Model.Name, name, e.Model.Name)
	case d.Y == nil:
		return nil, x.errorf(e.Span, source.Type, "the data has no target column, so it can be predicted at but not fitted on; read the targets with csv(..., y: NAME)")
	}
	if err := checkFitData(x, e.Model, e.Span, d); err != nil {
		return nil, err
	}
	prog, err := x.s.program(m)
	if err != nil {
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	args := make([]infer.Arg, 0, len(e.Args)+1)
	for _, a := range e.Args {
		args = append(args, inferArg(a))
	}
	method, err := x.s.methods.New(e.Method, args)
	if err != nil {
		var se *infer.SettingError
		if errors.As(err, &se) && se.Index >= 0 && se.Index < len(e.Args) {
			return nil, x.errorf(e.Args[se.Index].Span, source.Type, "%s", se.Msg)
		}
		return nil, x.wrap(e.MethodSpan, source.Type, err)
	}
	method = infer.CapEpochs(method, x.s.cfg.MaxEpochs)

	scaleY := m.Lik.Family.Spec().Scaled
	scaler := data.Identity(d.Width())
	if d.Standardize {
		scaler = data.FitScaler(d, scaleY)
	}
	// Unstandardised data is used where it lies (nothing writes to a
	// Problem's rows): a copy would double the peak memory of a large set.
	xs, ys := d.X, d.Y
	if d.Standardize {
		xs = mat.DenseCopyOf(d.X)
		scaler.TransformX(xs, xs)
		ys = append([]float64(nil), d.Y...)
		scaler.TransformY(ys, ys)
	}

	problem := newProblem(prog, xs, ys)
	var mu sync.Mutex // members of composite methods report concurrently
	var trace []float64
	obs := func(p infer.Progress) {
		mu.Lock()
		defer mu.Unlock()
		trace = append(trace, p.Loss)
		if x.s.cfg.Progress != nil {
			x.s.report(name, p)
		}
	}
	start := time.Now()
	post, err := method.Fit(x.ctx, problem, x.rng("fit:"+name), obs)
	if err != nil {
		var div *infer.DivergenceError
		if errors.As(err, &div) {
			return nil, x.errorf(e.Span, source.Numeric, "fitting %s diverged: %v (try a smaller lr, or check the data's scale)", name, err)
		}
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	p := &Posterior{
		post: post, model: m, ModelText: modelText, Scaler: scaler,
		Classes: d.Classes, XNames: d.XNames, YName: d.YName, FitTime: time.Since(start),
		Trace: trace, prog: prog, problem: newProblem(prog, nil, nil),
	}
	stored := m.Dim()
	if sn, ok := post.(infer.StoredNumberer); ok {
		stored = sn.StoredNumbers()
	}
	summary := &FitSummary{Method: post.Method(), Model: m.Name, Params: m.Dim(), Stored: stored, Rows: d.Rows(), Seconds: p.FitTime.Seconds()}
	counts := m.Counts()
	summary.Adapters, summary.Frozen = counts.Adapters, counts.Frozen
	if err := x.diagnose(summary, post, problem, xs); err != nil {
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	if ev, ok := post.(infer.Evidencer); ok {
		v := ev.LogMarginalLikelihood()
		summary.LogEvidence = &v
	}
	if w, ok := post.(infer.Warner); ok {
		if msg := w.Warning(); msg != "" && summary.Warning != "" {
			summary.Warning += "; " + msg
		} else if msg != "" {
			summary.Warning = msg
		}
	}
	x.emit(Result{Kind: "fit", Name: name, Fit: summary})
	return p, nil
}

// diagnoseRows is how many training inputs the chain diagnostics predict at.
const diagnoseRows = 256

// diagnose adds split-R̂ and ESS in function space to the summary of a
// posterior made of several Markov chains.
func (x *executor) diagnose(sum *FitSummary, post infer.Posterior, p *infer.Problem, xs *mat.Dense) error {
	ch, ok := post.(infer.Chainer)
	if !ok || len(ch.Chains()) < 2 {
		return nil
	}
	rows, cols := xs.Dims()
	n := min(rows, diagnoseRows)
	sub := mat.NewDense(n, cols, nil)
	for i := 0; i < n; i++ {
		sub.SetRow(i, xs.RawRowView(i*rows/n))
	}
	d, err := infer.Diagnose(x.ctx, post, p, sub)
	if err != nil {
		return err
	}
	sum.Rhat, sum.ESS, sum.Warning = d.MaxRhat, d.MinESS, d.Warning
	return nil
}

// inferArg converts a checked setting, nested methods included.
func inferArg(a ir.Arg) infer.Arg {
	out := infer.Arg{Name: a.Name, Num: a.Num, Str: a.Str, IsStr: a.IsStr}
	if a.Call != nil {
		out.Call = &infer.Call{Name: a.Call.Name}
		for _, c := range a.Call.Args {
			out.Call.Args = append(out.Call.Args, inferArg(c))
		}
	}
	return out
}

// checkFitData reports a data set that cannot feed the model m, at sp.
func checkFitData(x *executor, m *ir.Model, sp source.Span, d *data.Dataset) error {
	if d.Width() != m.InputWidth {
		return x.errorf(sp, source.Shape, "model %s takes %d input features but the data has %d (%s)", m.Name, m.InputWidth, d.Width(), abbreviate(d.XNames, 6))
	}
	switch {
	case m.Lik.Family == ir.LikCategorical:
		if d.Classes == nil {
			return x.errorf(sp, source.Type, "model %s is a classifier but the data has no class labels: read it with csv(..., classes: %d)", m.Name, m.Lik.Classes)
		}
		if len(d.Classes) != m.Lik.Classes {
			return x.errorf(sp, source.Shape, "model %s has %d classes (logits width) but the data has %d", m.Name, m.Lik.Classes, len(d.Classes))
		}
	default: // every other family's targets must lie in its support
		spec := m.Lik.Family.Spec()
		for _, y := range d.Y {
			if !spec.Support.Contains(y) {
				return x.errorf(sp, source.Data, "%s targets must be %s, found %v in column %s", spec.Name, spec.Support, y, d.YName)
			}
		}
	}
	return nil
}

// predictAt returns the posterior predictive at raw (unstandardised)
// inputs, in the target's own units, from samples posterior draws (a finite
// posterior uses its own). Draws come from rng.
func (p *Posterior) predictAt(ctx context.Context, in *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	if _, c := in.Dims(); c != p.model.InputWidth {
		return nil, fmt.Errorf("posterior takes %d input features, got %d", p.model.InputWidth, c)
	}
	xs := mat.DenseCopyOf(in)
	p.Scaler.TransformX(xs, xs)
	pred, err := infer.Predict(ctx, p.post, p.problem, xs, samples, rng)
	if err != nil {
		return nil, err
	}
	if p.model.Lik.Family.Spec().Scaled {
		for i := range pred.Loc {
			pred.Loc[i] = p.Scaler.UnscaleLoc(pred.Loc[i])
			pred.Scale[i] = p.Scaler.UnscaleScale(pred.Scale[i])
		}
	}
	return pred, nil
}

// predictive is Posterior.predictAt with the session's sample count and a random
// source derived from the seed and label.
func (x *executor) predictive(p *Posterior, in *mat.Dense, label string) (*predictive.Predictive, error) {
	return p.predictAt(x.ctx, in, x.s.cfg.Samples, x.rng("predict:"+label))
}

func (x *executor) save(st *ir.Save) error {
	p, ok := x.s.values[st.Post.Name].(*Posterior)
	if !ok {
		return x.errorf(st.Post.Span, source.Runtime, "%q holds no posterior", st.Post.Name)
	}
	blob, err := p.metaBlob()
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	path := x.path(st.Path, true)
	tensorio.RemoveStale(path) // what a killed save to the same file left
	if err := infer.WriteFile(path, p.post, blob); err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	x.emit(Result{Kind: "save", Name: st.Post.Name, Path: path})
	return nil
}

// metaBlob is what a saved posterior carries besides its numbers.
func (p *Posterior) metaBlob() ([]byte, error) {
	fm, err := newFrozenMeta(p)
	if err != nil {
		return nil, err
	}
	return json.Marshal(meta{Format: 1, ModelText: p.ModelText, Scaler: p.Scaler, Classes: p.Classes, XNames: p.XNames, YName: p.YName, frozenMeta: fm})
}

func (x *executor) load(e *ir.Load) (*Posterior, error) {
	path := x.path(e.Path, false)
	post, blob, err := infer.ReadFile(path)
	if err != nil {
		return nil, x.wrap(e.Span, source.Data, err)
	}
	var md meta
	if err := json.Unmarshal(blob, &md); err != nil {
		return nil, x.errorf(e.Span, source.Data, "%s: bad metadata in posterior file: %v", path, err)
	}
	f, err := parser.Parse(path+"#model", []byte(md.ModelText))
	if err != nil {
		return nil, x.errorf(e.Span, source.Data, "%s: the stored model does not parse: %v", path, err)
	}
	prog, err := ir.Check(f, md.scope(), nil)
	if err != nil || len(prog.Stmts) != 1 {
		return nil, x.errorf(e.Span, source.Data, "%s: the stored model does not check: %v", path, err)
	}
	def, ok := prog.Stmts[0].(*ir.DefineModel)
	if !ok {
		return nil, x.errorf(e.Span, source.Data, "%s: the stored model is not a model", path)
	}
	consts, err := md.values(def.Model)
	if err != nil {
		return nil, x.errorf(e.Span, source.Data, "%s: %v", path, err)
	}
	cp, err := x.s.programWith(def.Model, consts)
	if err != nil {
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	if cp.Dim() != post.Dim() {
		return nil, x.errorf(e.Span, source.Data, "%s: the posterior has %d parameters but its model has %d", path, post.Dim(), cp.Dim())
	}
	return &Posterior{
		post: post, model: def.Model, ModelText: md.ModelText, Scaler: md.Scaler,
		Classes: md.Classes, XNames: md.XNames, YName: md.YName,
		prog: cp, problem: newProblem(cp, nil, nil),
	}, nil
}

func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n-2], ", ") + ", ..., " + names[len(names)-1]
}

func describeModel(m *ir.Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s(%s: %d): %s, likelihood %s%s\n", m.Name, m.InputName, m.InputWidth, modelCounts(m), m.Lik.Family, describeLayers(m))
	for _, p := range m.Params {
		fmt.Fprintf(&b, "  %-12s %4d x %-4d %s(%g, %.4g)\n", p.Name, p.Rows, p.Cols, p.Prior.Family, p.Prior.Loc, p.Prior.Scale)
	}
	return strings.TrimRight(b.String(), "\n")
}
