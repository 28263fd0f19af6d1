package lang

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/spell"
	"gonum.org/v1/gonum/mat"
)

// Program is a parsed and checked script. It is immutable and safe for
// concurrent use: many sessions may execute the same Program.
type Program struct {
	prog *ir.Program
	data []string
}

// Compile parses and checks a script once. data names the data sets the
// embedding program will bind with Session.SetData before executing it;
// the script may use them like data it reads itself. Errors are a
// source.List with positions.
func Compile(filename string, src []byte, data ...string) (*Program, error) {
	f, err := parser.Parse(filename, src)
	if err != nil {
		return nil, err
	}
	scope := ir.NewScope()
	for _, d := range data {
		scope.Bind(d, ir.DataT)
	}
	prog, err := ir.Check(f, scope, checkConfig(infer.Builtins()))
	if err != nil {
		return nil, err
	}
	return &Program{prog: prog, data: data}, nil
}

// Exec runs a compiled program in the session. Every data set the program
// was compiled to expect must have been bound with SetData.
func (s *Session) Exec(ctx context.Context, p *Program) error {
	for _, d := range p.data {
		if _, ok := s.values[d].(*data.Dataset); !ok {
			return fmt.Errorf("program %s expects data %q: bind it with SetData first", p.prog.File.Name, d)
		}
	}
	return s.exec(ctx, p.prog)
}

// DataOptions describe a data set handed over from Go.
type DataOptions struct {
	XNames      []string // feature names (default x0, x1, ...)
	YName       string   // target name (default "y")
	Classes     []string // class names for a classification target (y holds indices 0..K-1)
	Standardize bool     // as csv(..., standardize: true)
}

// SetData binds Go data as a data set named name: x holds one example per
// row, y the targets (class indices as float64 for a classifier). NaN or Inf
// values are an error, as in a CSV file.
func (s *Session) SetData(name string, x *mat.Dense, y []float64, opts *DataOptions) error {
	if opts == nil {
		opts = &DataOptions{}
	}
	r, c := x.Dims()
	if len(y) != r {
		return fmt.Errorf("data %s: %d rows of x but %d targets", name, r, len(y))
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := x.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("data %s: x[%d, %d] is %v", name, i, j, v)
			}
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("data %s: y[%d] is %v", name, i, y[i])
		}
		if k := len(opts.Classes); k > 0 && (y[i] < 0 || y[i] >= float64(k) || y[i] != math.Trunc(y[i])) {
			return fmt.Errorf("data %s: y[%d] = %v is not a class index in 0..%d", name, i, y[i], k-1)
		}
	}
	names := opts.XNames
	if names == nil {
		for j := 0; j < c; j++ {
			names = append(names, fmt.Sprintf("x%d", j))
		}
	}
	if len(names) != c {
		return fmt.Errorf("data %s: %d feature names for %d columns", name, len(names), c)
	}
	yName := opts.YName
	if yName == "" {
		yName = "y"
	}
	s.values[name] = &data.Dataset{
		X: mat.DenseCopyOf(x), Y: append([]float64(nil), y...), XNames: names, YName: yName,
		Classes: opts.Classes, Standardize: opts.Standardize, Source: "(Go)",
	}
	s.scope.Bind(name, ir.DataT)
	return nil
}

// LoadPosterior reads a posterior saved by a script's `save` statement. The
// file is self-contained: it carries the model and the standardisation.
func LoadPosterior(path string) (*Posterior, error) {
	s := NewSession(nil)
	f := &source.File{Name: path}
	x := &executor{s: s, f: f, ctx: context.Background()}
	return x.load(&ir.Load{Path: path})
}

// Prediction is a posterior predictive summarised per input row, in the
// target's own units.
type Prediction struct {
	Classification bool
	// Regression: the predictive mean and standard deviation, and the split
	// of the variance into aleatoric E[Var] and epistemic Var[E].
	Mean, SD []float64
	// Classification: averaged class probabilities (one row per input, one
	// column per class, named by the posterior's Classes), the most
	// probable class, and total entropy = aleatoric (expected entropy) +
	// epistemic (mutual information), in nats.
	Prob  *mat.Dense
	Class []int
	Label []string // Class as the labels the data named (the posterior's Classes)
	Total []float64
	// Both.
	Aleatoric, Epistemic []float64
	// Quantiles (regression, when PredictOptions.Quantiles asks for them):
	// one row per input, one column per level, each the quantile of the
	// predictive mixture over the draws.
	Quantiles *mat.Dense
	// Intervals (regression, when PredictOptions.Intervals asks for them):
	// one row per input, two columns per level, the central interval's
	// ends, the (1-level)/2 and (1+level)/2 quantiles.
	Intervals *mat.Dense
	// Draws keeps the per-draw outputs (when PredictOptions.Draws is set).
	// predictive.Predictive is stdlib: plain slices of the S draws' outputs
	// with the summaries (NLL, CDF, quantiles) as methods.
	Draws *predictive.Predictive
}

// PredictOptions set up Posterior.Predict. A nil *PredictOptions means the
// defaults.
type PredictOptions struct {
	// Samples is the number of posterior draws (default 100). A finite
	// posterior (a point, an ensemble, stored samples) uses its own draws;
	// -1 asks for every stored draw of a finite one.
	Samples int
	// Seed is the root of the draws: the same seed gives the same numbers.
	Seed uint64
	// Quantiles are levels in (0, 1) whose predictive quantiles a
	// regression's Prediction carries (e.g. 0.05, 0.5, 0.95).
	Quantiles []float64
	// Intervals are coverage levels in (0, 1) of central intervals a
	// regression's Prediction carries (0.9: from the 5% to the 95%
	// quantile).
	Intervals []float64
	// Draws keeps the per-draw outputs in Prediction.Draws.
	Draws bool
}

// Predict answers a predictive question from Go at raw (unstandardised)
// inputs, one example per row, in the target's own units.
func (p *Posterior) Predict(ctx context.Context, x *mat.Dense, opts *PredictOptions) (*Prediction, error) {
	if opts == nil {
		opts = &PredictOptions{}
	}
	samples := opts.Samples
	switch {
	case samples == -1:
		samples = max(p.StoredDraws(), 1)
	case samples == 0:
		samples = 100
	case samples < 0:
		return nil, fmt.Errorf("predict: samples must be positive (or -1 for every stored draw), got %d", samples)
	}
	levels := slices.Clone(opts.Quantiles)
	for _, q := range opts.Quantiles {
		if !(q > 0 && q < 1) {
			return nil, fmt.Errorf("predict: quantile level %v is not in (0, 1)", q)
		}
	}
	for _, c := range opts.Intervals {
		if !(c > 0 && c < 1) {
			return nil, fmt.Errorf("predict: interval level %v is not in (0, 1)", c)
		}
		levels = append(levels, (1-c)/2, (1+c)/2)
	}
	pred, err := p.predictAt(ctx, x, samples, rand.New(rand.NewPCG(opts.Seed, 0x62617965736c)))
	if err != nil {
		return nil, err
	}
	out := &Prediction{}
	if opts.Draws {
		out.Draws = pred
	}
	if pred.Kind == predictive.Regression {
		mean, ale, epi := pred.Regression()
		out.Mean, out.Aleatoric, out.Epistemic = mean, ale, epi
		out.SD = make([]float64, len(mean))
		for i := range mean {
			out.SD[i] = math.Sqrt(ale[i] + epi[i])
		}
		if len(levels) > 0 {
			// One solve of the mixture CDF per level, shared by both.
			q := quantiles(pred, levels)
			if nq := len(opts.Quantiles); nq > 0 {
				out.Quantiles = mat.DenseCopyOf(q.Slice(0, pred.N, 0, nq))
			}
			if nq := len(opts.Quantiles); len(levels) > nq {
				out.Intervals = mat.DenseCopyOf(q.Slice(0, pred.N, nq, len(levels)))
			}
		}
		return out, nil
	}
	if len(levels) > 0 {
		return nil, fmt.Errorf("predict: quantiles and intervals need a regression; %s is a classifier", p.model.Name)
	}
	prob, total, ale, epi := pred.Classification()
	out.Classification = true
	out.Prob = mat.NewDense(pred.N, pred.K, prob)
	out.Total, out.Aleatoric, out.Epistemic = total, ale, epi
	out.Class = make([]int, pred.N)
	for n := 0; n < pred.N; n++ {
		best := 0
		for k := 1; k < pred.K; k++ {
			if prob[n*pred.K+k] > prob[n*pred.K+best] {
				best = k
			}
		}
		out.Class[n] = best
		if best < len(p.Classes) {
			out.Label = append(out.Label, p.Classes[best])
		}
	}
	return out, nil
}

// quantiles is the N x len(levels) matrix of the mixture's quantiles.
func quantiles(pred *predictive.Predictive, levels []float64) *mat.Dense {
	q := mat.NewDense(pred.N, len(levels), nil)
	for n := 0; n < pred.N; n++ {
		for j, l := range levels {
			q.Set(n, j, pred.Quantile(n, l))
		}
	}
	return q
}

// Method names the backend that learned the posterior ("vi", "swag", ...).
func (p *Posterior) Method() string { return p.post.Method() }

// Model describes the model the posterior is over.
func (p *Posterior) Model() Model { return modelOf(p.model, p.ModelText) }

// StoredDraws is the number of parameter vectors a finite posterior keeps
// (stored samples, ensemble members; 1 for a point), 0 for a continuous one
// (a Gaussian, which draws afresh).
func (p *Posterior) StoredDraws() int {
	if l, ok := p.post.(interface{ Len() int }); ok {
		return l.Len()
	}
	return 0
}

// Model describes a model block: what it reads, what it predicts and how
// many numbers it learns.
type Model struct {
	Name       string
	Inputs     int    // input features
	Likelihood string // "normal", "categorical", ...
	Classes    int    // a classifier's classes (0 for regression)
	Params     int    // trainable: the length of a posterior draw
	Frozen     int    // frozen weights the model computes with
	Text       string // the model block's source
}

func modelOf(m *ir.Model, text string) Model {
	return Model{Name: m.Name, Inputs: m.InputWidth, Likelihood: m.Lik.Family.String(), Classes: m.Lik.Classes,
		Params: m.Dim(), Frozen: m.Counts().Frozen, Text: text}
}

// Dataset is a data set bound in a session, in its own units. Its slices
// are shared with the session: read them, do not modify them.
type Dataset struct {
	X       *mat.Dense // one example per row
	Y       []float64  // targets (class indices for a classifier); nil when the data has none
	XNames  []string
	YName   string
	Classes []string // class labels, for a classification target
	Source  string   // the file it was read from, "(Go)" for SetData
}

// Rows is the number of examples.
func (d *Dataset) Rows() int {
	r, _ := d.X.Dims()
	return r
}

// Data returns the data set bound to name.
func (s *Session) Data(name string) (*Dataset, error) {
	d, err := lookup[*data.Dataset](s, name, "data")
	if err != nil {
		return nil, err
	}
	return &Dataset{X: d.X, Y: d.Y, XNames: d.XNames, YName: d.YName, Classes: d.Classes, Source: d.Source}, nil
}

// Posterior returns the posterior bound to name.
func (s *Session) Posterior(name string) (*Posterior, error) {
	return lookup[*Posterior](s, name, "posterior")
}

// Model returns the model bound to name.
func (s *Session) Model(name string) (Model, error) {
	def, err := lookup[*ir.DefineModel](s, name, "model")
	if err != nil {
		return Model{}, err
	}
	m, text := s.resolveModel(def.Model, def.Text)
	return modelOf(m, text), nil
}

// Weights returns the weights bound to name.
func (s *Session) Weights(name string) (*Weights, error) {
	return lookup[*Weights](s, name, "weights")
}

// Number returns the number bound to name (`let n = 3`).
func (s *Session) Number(name string) (float64, error) {
	return lookup[float64](s, name, "number")
}

// Text returns the string bound to name (`let f = "out.csv"`). It is not
// called String, which would read as fmt.Stringer's.
func (s *Session) Text(name string) (string, error) {
	return lookup[string](s, name, "string")
}

// lookup returns the value bound to name as a T, or an error that says
// what name holds instead (or which names come close).
func lookup[T any](s *Session, name, want string) (T, error) {
	var zero T
	v, ok := s.values[name]
	if !ok {
		msg := fmt.Sprintf("no %s named %q", want, name)
		if near := spell.Nearest(name, s.Names()); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return zero, errors.New(msg)
	}
	t, ok := v.(T)
	if !ok {
		typ, _ := s.TypeOf(name)
		return zero, fmt.Errorf("%q is %s, not %s", name, article(typ), article(want))
	}
	return t, nil
}

// article puts "a" before a type's name where English wants one.
func article(typ string) string {
	if typ == "data" || typ == "weights" {
		return typ
	}
	return "a " + typ
}

// Fit fits the model named model to the data set named data with method,
// written as a script writes it ("vi", "map(epochs: 200, lr: 0.05)"), and
// binds the posterior to name, as the statement
// `posterior NAME = fit MODEL on DATA using METHOD` does. It returns the
// posterior and the fit's summary; Config.Emit receives the summary too.
func (s *Session) Fit(ctx context.Context, name, model, data, method string) (*Posterior, *FitSummary, error) {
	if err := names("fit", name, model, data); err != nil {
		return nil, nil, err
	}
	var sum *FitSummary
	err := s.runKeeping(ctx, "fit", fmt.Sprintf("posterior %s = fit %s on %s using %s\n", name, model, data, method), func(r Result) {
		if r.Kind == KindFit && r.Name == name {
			sum = r.Fit
		}
	})
	if err != nil {
		return nil, nil, err
	}
	p, err := s.Posterior(name)
	return p, sum, err
}

// Evaluate scores the posteriors named posts on the data set named data by
// metrics, written as a script writes them ("nll", "coverage(0.9)",
// "agreement(ref)"), and returns the table of the statement
// `evaluate [POSTS] on DATA: METRICS`: a text column "posterior", then one
// number column per metric.
func (s *Session) Evaluate(ctx context.Context, data string, posts []string, metrics ...string) (*Table, error) {
	if err := names("evaluate", append([]string{data}, posts...)...); err != nil {
		return nil, err
	}
	if len(posts) == 0 || len(metrics) == 0 {
		return nil, fmt.Errorf("evaluate: needs a posterior and a metric, got %d and %d", len(posts), len(metrics))
	}
	var t *Table
	src := fmt.Sprintf("evaluate [%s] on %s: %s\n", strings.Join(posts, ", "), data, strings.Join(metrics, ", "))
	err := s.runKeeping(ctx, "evaluate", src, func(r Result) {
		if r.Kind == KindEvaluate {
			t = r.Table
		}
	})
	return t, err
}

// runKeeping runs one statement written for a Go call; keep sees its
// results before Config.Emit does. The statement joins the session's
// history, so SaveScript writes it like any other.
func (s *Session) runKeeping(ctx context.Context, what, src string, keep func(Result)) error {
	if strings.Contains(strings.TrimSuffix(src, "\n"), "\n") {
		return fmt.Errorf("%s: an argument spans lines: %q", what, src)
	}
	emit := s.cfg.Emit
	s.cfg.Emit = func(r Result) {
		keep(r)
		if emit != nil {
			emit(r)
		}
	}
	defer func() { s.cfg.Emit = emit }()
	return s.Run(ctx, "("+what+")", []byte(src))
}

// names checks that the arguments a Go call splices into a statement are
// plain names, so that no argument can add a statement of its own.
func names(what string, ns ...string) error {
	for _, n := range ns {
		if !isName(n) {
			return fmt.Errorf("%s: %q is not a name", what, n)
		}
	}
	return nil
}

func isName(s string) bool {
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}
