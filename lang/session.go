package lang

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
)

// Config sets up a Session. The zero value is usable: seed 0, paths relative
// to the working directory, results discarded.
type Config struct {
	// Seed is the root of every random draw: the same script with the same
	// seed gives the same numbers.
	Seed uint64
	// Dir is the directory relative paths in scripts are resolved against
	// (the CLI sets it to the script's directory).
	Dir string
	// Resolve, when set, overrides Dir: it maps a path written in a script
	// to the file to read (write == false) or write.
	Resolve func(path string, write bool) string
	// Samples is the number of posterior draws behind every predictive
	// (default 100). Finite posteriors (a point, stored samples) use theirs.
	Samples int
	// MaxEpochs, when positive, caps every fit's epochs (for quick test runs).
	MaxEpochs int
	// Progress receives a report after every epoch of every fit, with the
	// name of the posterior (or model) being fitted.
	Progress func(name string, p Progress)
	// Emit receives every result as it is produced.
	Emit func(Result)
}

// Progress reports one finished epoch of a fit.
type Progress struct {
	Method  string // the backend, e.g. "vi"
	Epoch   int    // 1-based, the epoch just finished
	Epochs  int
	Loss    float64 // mean training objective over the epoch, per example
	Elapsed time.Duration
}

// report hands a backend's progress to Config.Progress.
func (s *Session) report(name string, p infer.Progress) {
	if s.cfg.Progress != nil {
		s.cfg.Progress(name, Progress{Method: p.Method, Epoch: p.Epoch, Epochs: p.Epochs, Loss: p.Loss, Elapsed: p.Elapsed})
	}
}

// Session executes programs statement by statement and holds the values
// they bind. It is not safe for concurrent use.
type Session struct {
	cfg      Config
	scope    *ir.Scope
	methods  infer.Registry
	values   map[string]any
	compiled map[*ir.Model]*compile.Program
	matched  map[*ir.Model]*ir.DefineModel // stand-ins of matched models (match.go)
	history  []entry
}

// NewSession returns an empty session.
func NewSession(cfg *Config) *Session {
	s := &Session{scope: ir.NewScope(), methods: infer.Builtins(), values: map[string]any{}, compiled: map[*ir.Model]*compile.Program{}}
	if cfg != nil {
		s.cfg = *cfg
	}
	if s.cfg.Samples <= 0 {
		s.cfg.Samples = 100
	}
	return s
}

// Check parses and checks src against the session's names without running
// it. The session's scope is not changed.
func (s *Session) Check(filename string, src []byte) (*Program, error) {
	f, err := parser.Parse(filename, src)
	if err != nil {
		return nil, err
	}
	prog, err := ir.Check(f, s.scope.Clone(), s.checkConfig())
	if err != nil {
		return nil, err
	}
	return &Program{prog: prog}, nil
}

// Run parses, checks and executes src. Syntax and check errors come back as
// a source.List before anything runs; a runtime error stops at the failing
// statement, keeping every value bound before it.
func (s *Session) Run(ctx context.Context, filename string, src []byte) error {
	f, err := parser.Parse(filename, src)
	if err != nil {
		return err
	}
	prog, err := ir.Check(f, s.scope.Clone(), s.checkConfig())
	if err != nil {
		return err
	}
	return s.exec(ctx, prog)
}

// exec executes a checked program (checked against a copy of the session's
// scope). Each statement's names are bound in the session only once it has
// executed.
func (s *Session) exec(ctx context.Context, prog *ir.Program) error {
	for _, st := range prog.Stmts {
		x := &executor{s: s, f: prog.File, ctx: ctx}
		if err := x.run(st); err != nil {
			return err
		}
		s.scope.Apply(st)
		e := entry{text: stmtText(prog.File.Src, st), stmt: st, dir: s.cfg.Dir, paths: x.paths}
		if bp, ok := st.(*ir.BindPosterior); ok {
			switch bp.Expr.(type) {
			case *ir.Fit, *ir.Distill: // fitted here: :save writes it to a file
				e.post, _ = s.values[bp.Name].(*Posterior)
			}
		}
		if _, isShow := st.(*ir.Show); !isShow {
			s.history = append(s.history, e)
		}
	}
	return nil
}

// Names returns the session's bound names, sorted.
func (s *Session) Names() []string { return s.scope.Names() }

func (x *executor) run(st ir.Stmt) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = source.Errorf(x.f, ir.Span(st), source.Runtime, "internal error: %v\n%s", r, debug.Stack())
		}
	}()
	return x.stmt(st)
}

type executor struct {
	s   *Session
	f   *source.File
	ctx context.Context
	// paths are the relative paths the statement named, which :save
	// rewrites for the directory it saves to (history.go).
	paths []string
}

func (x *executor) errorf(sp source.Span, k source.Kind, format string, args ...any) *source.Error {
	return source.Errorf(x.f, sp, k, format, args...)
}

func (x *executor) wrap(sp source.Span, k source.Kind, err error) error {
	var se *source.Error
	if errors.As(err, &se) {
		return err
	}
	e := x.errorf(sp, k, "%v", err)
	e.Err = err
	return e
}

// compileError attaches the script's file to the compiler's positioned
// errors (an ir.Model does not know which file it came from).
func (x *executor) compileError(sp source.Span, err error) error {
	var list source.List
	if errors.As(err, &list) {
		for _, e := range list {
			if e.File == nil {
				e.File = x.f
			}
		}
		return list
	}
	return x.wrap(sp, source.Runtime, err)
}

func (x *executor) path(p string, write bool) string {
	if !filepath.IsAbs(p) {
		x.paths = append(x.paths, p)
	}
	if x.s.cfg.Resolve != nil {
		return x.s.cfg.Resolve(p, write)
	}
	if filepath.IsAbs(p) || x.s.cfg.Dir == "" {
		return p
	}
	return filepath.Join(x.s.cfg.Dir, p)
}

// rng derives a statement's random source from the session seed and a label,
// so adding a statement never changes the draws of another.
func (x *executor) rng(label string) *rand.Rand {
	h := fnv.New64a()
	io.WriteString(h, label)
	return rand.New(rand.NewPCG(x.s.cfg.Seed, h.Sum64()))
}

func (x *executor) emit(r Result) {
	if x.s.cfg.Emit != nil {
		x.s.cfg.Emit(r)
	}
}

func (x *executor) stmt(st ir.Stmt) error {
	switch st := st.(type) {
	case *ir.BindData:
		d, err := x.data(st.Expr)
		if err != nil {
			return err
		}
		x.s.values[st.Name] = d
	case *ir.BindSplit:
		src, err := x.data(st.Src)
		if err != nil {
			return err
		}
		train, test, err := data.Split(src, st.Frac, st.Seed)
		if err != nil {
			return x.wrap(st.Span, source.Data, err)
		}
		x.s.values[st.Train], x.s.values[st.Test] = train, test
	case *ir.BindValue:
		if st.Type == ir.NumberT {
			x.s.values[st.Name] = st.Num
		} else {
			x.s.values[st.Name] = st.Str
		}
	case *ir.DefineModel:
		if _, err := x.s.program(st.Model); err != nil {
			return x.compileError(st.Span, err)
		}
		x.s.values[st.Model.Name] = st
	case *ir.BindPosterior:
		p, err := x.posterior(st.Name, st.Expr)
		if err != nil {
			return err
		}
		x.s.values[st.Name] = p
	case *ir.Evaluate:
		return x.evaluate(st)
	case *ir.Predict:
		return x.predict(st)
	case *ir.Save:
		return x.save(st)
	case *ir.Export:
		return x.export(st)
	case *ir.OOD:
		return x.ood(st)
	case *ir.Plot:
		return x.plot(st)
	case *ir.Show:
		x.show(st)
	case *ir.MatchPrior:
		return x.match(st)
	case *ir.SaveData:
		return x.saveData(st)
	case *ir.PlotPriors:
		return x.plotPriors(st)
	case *ir.BindWeights:
		return x.bindWeights(st)
	case *ir.SaveWeights:
		return x.saveWeights(st)
	default:
		return x.errorf(ir.Span(st), source.Runtime, "statement %T is not executable", st)
	}
	return nil
}

func (s *Session) program(m *ir.Model) (*compile.Program, error) {
	if p, ok := s.compiled[m]; ok {
		return p, nil
	}
	p, err := s.compileModel(m)
	if err != nil {
		return nil, err
	}
	s.compiled[m] = p
	return p, nil
}

func (x *executor) data(e ir.DataExpr) (*data.Dataset, error) {
	switch e := e.(type) {
	case *ir.DataRef:
		d, ok := x.s.values[e.Name].(*data.Dataset)
		if !ok {
			return nil, x.errorf(e.Span, source.Runtime, "%q holds no data set", e.Name)
		}
		return d, nil
	case *ir.CSV:
		spec := data.CSVSpec{Y: e.Y, Classes: e.Classes, Standardize: e.Standardize, DropMissing: e.DropMissing}
		for _, c := range e.X {
			spec.X = append(spec.X, data.ColumnRef{From: c.From, To: c.To})
		}
		d, err := data.ReadCSV(x.path(e.Path, false), spec)
		if err != nil {
			return nil, x.wrap(e.Span, source.Data, err)
		}
		if len(d.Dropped) > 0 {
			x.emit(droppedNote(d))
		}
		return d, nil
	case *ir.Where:
		src, err := x.data(e.Src)
		if err != nil {
			return nil, err
		}
		d, err := data.Filter(src, e.Column, e.Op, e.Value)
		if err != nil {
			return nil, x.wrap(e.ColPos, source.Data, err)
		}
		if d.Rows() == 0 {
			return nil, x.errorf(e.Span, source.Data, "no rows satisfy %s %s %v", e.Column, e.Op, e.Value)
		}
		return d, nil
	case *ir.Simulate:
		return x.simulate(e)
	case *ir.GMMPriorData:
		return x.gmmPrior(e)
	}
	return nil, fmt.Errorf("unknown data expression %T", e)
}

func (x *executor) show(st *ir.Show) {
	var text string
	switch st.Ref.Type {
	case ir.NumberT:
		v := st.Num
		if st.Ref.Name != "" {
			v, _ = x.s.values[st.Ref.Name].(float64)
		}
		text = fmt.Sprintf("%g", v)
	case ir.StringT:
		v := st.Str
		if st.Ref.Name != "" {
			v, _ = x.s.values[st.Ref.Name].(string)
		}
		text = fmt.Sprintf("%q", v)
	default:
		text = x.s.Describe(st.Ref.Name)
	}
	x.emit(Result{Kind: "show", Name: st.Ref.Name, Text: text})
}

// Describe returns a short description of a bound value: a data set's shape
// and columns, a model's layers and parameter count, a posterior's method.
func (s *Session) Describe(name string) string {
	switch v := s.values[name].(type) {
	case *data.Dataset:
		kind := "regression"
		if v.Classes != nil {
			kind = fmt.Sprintf("%d classes", len(v.Classes))
		}
		return fmt.Sprintf("data %s: %d rows, %d features (%s), target %s (%s)", name, v.Rows(), v.Width(), abbreviate(v.XNames, 6), v.YName, kind)
	case *ir.DefineModel:
		return describeModel(v.Model)
	case *Weights:
		return v.describe(name)
	case *Posterior:
		if v.Method() == infer.Pretrained {
			return fmt.Sprintf("posterior %s: the pretrained weights of model %s as they are, %d frozen numbers, nothing fitted", name, v.model.Name, v.model.Counts().Frozen)
		}
		return fmt.Sprintf("posterior %s: %s over model %s, %d parameters, fitted in %s", name, v.Method(), v.model.Name, v.model.Dim(), v.FitTime.Round(time.Millisecond))
	case float64:
		return fmt.Sprintf("%g", v)
	case string:
		return fmt.Sprintf("%q", v)
	}
	return name
}
