package lang

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/gp"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// This file runs `model NAME = match prior of MODEL to gp(KERNEL) over
// uniform(lo, hi, n) using w2(...)` (docs/algorithms.md §5): it hands the
// compiled network to infer.MatchPrior and turns what that finds into a
// model written in the language.
//
// The matched model is source text: the source model's text with every
// matched layer given its prior explicitly (dense(h, 32, prior:
// normal(0, 0.41), bias_prior: normal(0, 0.9)), param s ~ normal(0, 0.2))
// and every learnable activation its matched coefficients
// (rational(coefficients: [...]), periodic(frequencies: [...],
// amplitudes: [...])). That text is checked like any model and bound to
// NAME, so a fit of NAME is an ordinary fit, `:show NAME` prints its
// priors, and a saved posterior of it carries the text and loads without
// the match. A statement checked before the match ran names the model by
// the stand-in ir.MatchPrior.Define; Session.matched maps it to the
// matched model.
//
// What is matched: the scale of the prior of every parameter tensor the
// output depends on (the weights and biases of trainable dense layers and
// `param` blocks; the location stays), and the location of every learnable
// activation's offsets (its scale stays). Adapter parameters keep their
// priors. The function matched is the output the likelihood reads first
// (a normal or student_t location, a bernoulli logit, a poisson log rate),
// in the units the network sees: standardised units when a fit
// standardises its data. Config.MaxEpochs (--max-epochs) caps the steps as
// it caps a fit's epochs, and progress goes to Config.Progress under the
// matched model's name, one report per step.
//
// The matched scales belong to the widths they were matched at (the
// reference code has no 1/√width scaling either): the result table lists
// σ·√fan_in as well, the scale to write with `prior weights ~ normal(0, s)
// scaled fan_in` for a network of another width (the NNGP scaling §5
// recommends).

// resolveModel returns the model a checked statement names: the matched
// model when m stands for one, m itself otherwise; text is the model's
// source as the statement knew it.
func (s *Session) resolveModel(m *ir.Model, text string) (*ir.Model, string) {
	if def, ok := s.matched[m]; ok {
		return def.Model, def.Text
	}
	return m, text
}

// resolveDef is resolveModel for a model definition.
func (s *Session) resolveDef(def *ir.DefineModel) *ir.DefineModel {
	if d, ok := s.matched[def.Model]; ok {
		return d
	}
	return def
}

// MatchSummary describes a finished prior match.
type MatchSummary struct {
	Model   string  `json:"model"`  // the matched model
	Source  string  `json:"source"` // the model it was made from
	Kernel  string  `json:"kernel"`
	Points  int     `json:"points"`
	Samples int     `json:"samples"`
	Steps   int     `json:"steps"`
	Before  float64 `json:"w2_before"` // W2²/n at the source's priors
	After   float64 `json:"w2_after"`  // W2²/n at the matched priors
	Seconds float64 `json:"seconds"`
	// Text is the matched model's source.
	Text string `json:"text"`
}

func (x *executor) match(st *ir.MatchPrior) error {
	src := x.s.resolveDef(st.Source)
	m := src.Model
	prog, err := x.s.program(m)
	if err != nil {
		return x.compileError(st.Span, err)
	}
	net, learns := priorNet(prog, st.Activations)
	if !learns {
		return x.errorf(st.ModelSpan, source.Type, "the output of model %s depends on no parameter whose prior can be matched", m.Name)
	}
	lo, hi := st.Lo, st.Hi
	if len(lo) != m.InputWidth { // checked against a model of another width (REPL rebinding)
		return x.errorf(st.OverSpan, source.Shape, "the measurement box has %d dimensions, but model %s takes %d inputs", len(lo), m.Name, m.InputWidth)
	}
	settings := &infer.MatchSettings{Kernel: gpKernel(st.Kernel), Lo: lo, Hi: hi, Points: st.Points, Steps: st.Steps, Samples: st.Samples, LR: st.LR}
	if x.s.cfg.MaxEpochs > 0 {
		settings.Steps = min(settings.Steps, x.s.cfg.MaxEpochs)
	}
	var obs infer.Observer
	if x.s.cfg.Progress != nil {
		obs = func(p infer.Progress) { x.s.report(st.Name, p) }
	}
	res, err := infer.MatchPrior(x.ctx, net, settings, x.rng("match:"+st.Name), obs)
	if err != nil {
		var div *infer.DivergenceError
		if errors.As(err, &div) {
			return x.errorf(st.MethodSpan, source.Numeric, "matching the prior of %s diverged: %v (try a smaller lr)", m.Name, err)
		}
		return x.wrap(st.Span, source.Runtime, err)
	}

	// The matched priors and coefficients, by parameter and activation.
	priors := map[int]ir.Prior{}
	coefs := map[int][]float64{}
	for k, t := range net.Tensors {
		p := m.Params[k]
		switch t.Learn {
		case infer.LearnScale:
			pr := p.Prior
			pr.Scale = res.Scales[k]
			priors[k] = pr
		case infer.LearnLoc:
			for i, a := range m.Activations {
				if a.Param == k {
					c := make([]float64, len(a.Init))
					for j := range c {
						c[j] = a.Init[j] + res.Locs[k][j] - p.Prior.Loc
					}
					coefs[i] = c
				}
			}
		}
	}
	text, err := matchedText(src, st.Name, priors, coefs)
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	def, err := x.checkMatched(st, text, priors, coefs)
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	if _, err := x.s.program(def.Model); err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	if x.s.matched == nil {
		x.s.matched = map[*ir.Model]*ir.DefineModel{}
	}
	x.s.matched[st.Define.Model] = def
	x.s.values[st.Name] = def

	sum := &MatchSummary{Model: st.Name, Source: m.Name, Kernel: st.Kernel.String(), Points: st.Points, Samples: st.Samples,
		Steps: len(res.Trace), Before: res.Before, After: res.After, Seconds: res.Elapsed.Seconds(), Text: text}
	x.emit(Result{Kind: "match", Name: st.Name, Match: sum, Table: matchTable(st, m, priors, sum), Text: coefText(m, coefs)})
	return nil
}

// matchTable lists the matched scales.
func matchTable(st *ir.MatchPrior, m *ir.Model, priors map[int]ir.Prior, sum *MatchSummary) *Table {
	ratio := math.Inf(1)
	if sum.After > 0 {
		ratio = sum.Before / sum.After
	}
	t := newTable(
		fmt.Sprintf("matched %s (prior of %s) to gp(%s) over %s: W2²/n %s -> %s (%.1fx smaller), %d steps of %d draws at %d points, %.2fs",
			st.Name, m.Name, sum.Kernel, boxText(st), formatNumber(sum.Before), formatNumber(sum.After), ratio, sum.Steps, sum.Samples, sum.Points, sum.Seconds),
		"tensor", "scale before", "scale after", "after·√fan_in")
	for k, p := range m.Params {
		pr, ok := priors[k]
		if !ok {
			continue
		}
		// σ·√fan_in is the scale to write with `scaled fan_in` for a layer of
		// another width (the 1/√width pitfall of §5); fan_in is 1 for biases.
		fan := pr.Scale * math.Sqrt(float64(max(p.FanIn, 1)))
		t.addRow(p.Name, p.Prior.Scale, pr.Scale, fan)
	}
	return t
}

func boxText(st *ir.MatchPrior) string {
	b := func(v []float64) string {
		same := true
		for _, x := range v {
			same = same && x == v[0]
		}
		if same {
			return strconv.FormatFloat(v[0], 'g', -1, 64)
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("uniform(%s, %s, %d)", b(st.Lo), b(st.Hi), st.Points)
}

// coefText lists the matched coefficients of learnable activations.
func coefText(m *ir.Model, coefs map[int][]float64) string {
	var lines []string
	for i, a := range m.Activations {
		c, ok := coefs[i]
		if !ok {
			continue
		}
		parts := make([]string, len(c))
		for j, v := range c {
			parts[j] = strconv.FormatFloat(v, 'g', 4, 64)
		}
		lines = append(lines, fmt.Sprintf("  %s coefficients: [%s]", m.Params[a.Param].Name, strings.Join(parts, ", ")))
	}
	return strings.Join(lines, "\n")
}

// gpKernel converts a checked kernel to stdlib/gp's.
func gpKernel(k *ir.Kernel) gp.Kernel {
	switch k.Kind {
	case ir.KernelRBF:
		return gp.RBF{Lengthscale: k.Lengthscale, Variance: k.Variance}
	case ir.KernelMatern12:
		return gp.Matern12{Lengthscale: k.Lengthscale, Variance: k.Variance}
	case ir.KernelMatern32:
		return gp.Matern32{Lengthscale: k.Lengthscale, Variance: k.Variance}
	case ir.KernelMatern52:
		return gp.Matern52{Lengthscale: k.Lengthscale, Variance: k.Variance}
	case ir.KernelPeriodic:
		return gp.Periodic{Lengthscale: k.Lengthscale, Period: k.Period, Variance: k.Variance}
	case ir.KernelLinear:
		return gp.Linear{Variance: k.Variance, Offset: k.Offset}
	}
	terms := make([]gp.Kernel, len(k.Terms))
	for i, t := range k.Terms {
		terms[i] = gpKernel(t)
	}
	if k.Kind == ir.KernelSum {
		return gp.Sum(terms)
	}
	return gp.Product(terms)
}

// priorNoise returns the sampler of a prior family's standardised noise:
// θ = loc + scale·ε (nil means standard normal).
func priorNoise(p ir.Prior) func(*rand.Rand) float64 {
	switch p.Family {
	case ir.PriorLaplace:
		return func(r *rand.Rand) float64 { return r.ExpFloat64() - r.ExpFloat64() }
	case ir.PriorStudentT:
		df := p.DF
		return func(r *rand.Rand) float64 { return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df, Src: r}.Rand() }
	}
	return nil
}

// drawPrior writes a draw from the model's prior into theta.
func drawPrior(theta []float64, m *ir.Model, r *rand.Rand) {
	for _, p := range m.Params {
		noise := priorNoise(p.Prior)
		for j := p.Offset; j < p.Offset+p.Size(); j++ {
			e := 0.0
			if noise == nil {
				e = r.NormFloat64()
			} else {
				e = noise(r)
			}
			theta[j] = p.Prior.Loc + p.Prior.Scale*e
		}
	}
}

// outputParams marks the parameters the model's output (the likelihood's
// first argument) depends on.
func outputParams(m *ir.Model) []bool {
	live := make([]bool, len(m.Nodes))
	live[m.Lik.Args[0]] = true
	used := make([]bool, len(m.Params))
	for i := len(m.Nodes) - 1; i >= 0; i-- {
		if !live[i] {
			continue
		}
		n := m.Nodes[i]
		for _, a := range n.Args {
			live[a] = true
		}
		switch n.Op {
		case ir.OpDense:
			used[n.W] = true
			if n.B >= 0 {
				used[n.B] = true
			}
		case ir.OpParam:
			used[n.W] = true
		}
	}
	return used
}

// priorNet describes the compiled model to infer.MatchPrior. It reports
// whether any tensor learns anything.
func priorNet(prog *compile.Program, activations bool) (*infer.PriorNet, bool) {
	m := prog.Model()
	used := outputParams(m)
	isAct := map[int]bool{}
	for _, a := range m.Activations {
		isAct[a.Param] = true
	}
	net := &infer.PriorNet{Dim: prog.Dim(), InputWidth: m.InputWidth,
		NewEvaluator: func() infer.PriorEvaluator { return newMachineEval(prog) }}
	learns := false
	for k, p := range m.Params {
		t := infer.PriorTensor{Name: p.Name, Offset: p.Offset, Size: p.Size(), Loc: p.Prior.Loc, Scale: p.Prior.Scale,
			Learn: infer.LearnNone, Noise: priorNoise(p.Prior)}
		switch {
		case !used[k]:
		case isAct[k]:
			if activations {
				t.Learn = infer.LearnLoc
			}
		case p.Role == ir.Weight || p.Role == ir.Bias || p.Role == ir.Scalar:
			t.Learn = infer.LearnScale
			learns = true
		}
		net.Tensors = append(net.Tensors, t)
	}
	return net, learns
}

// machineEval evaluates a compiled model's output for infer.MatchPrior; a
// steady-state call allocates nothing.
type machineEval struct {
	m    *compile.Machine
	dst  mat.Dense
	dOut []float64
	loss func(dOut, out []float64) float64
}

func newMachineEval(p *compile.Program) *machineEval {
	e := &machineEval{m: p.NewMachine()}
	e.loss = e.seed
	return e
}

func (e *machineEval) seed(dOut, _ []float64) float64 {
	copy(dOut, e.dOut)
	return 0
}

func (e *machineEval) Outputs(dst, theta []float64, x *mat.Dense) {
	e.dst.SetRawMatrix(blas64.General{Rows: len(dst), Cols: 1, Stride: 1, Data: dst})
	e.m.Outputs(&e.dst, theta, x)
}

func (e *machineEval) Backward(grad, theta []float64, x *mat.Dense, dOut []float64) {
	e.dOut = dOut
	e.m.OutputGrad(grad, theta, x, e.loss)
}

// matchedText rewrites the source model's text into the matched model's:
// renamed, with the given priors on parameters and coefficients on
// learnable activations. Parameters and activations are found by their
// spans, relative to the definition's start.
func matchedText(src *ir.DefineModel, name string, priors map[int]ir.Prior, coefs map[int][]float64) (string, error) {
	f, err := parser.Parse(src.Model.Name+".bl", []byte(src.Text))
	if err != nil {
		return "", err
	}
	decl, ok := f.Stmts[0].(*parser.ModelDecl)
	if len(f.Stmts) != 1 || !ok {
		return "", fmt.Errorf("the text of model %s is not one model block", src.Model.Name)
	}
	m := src.Model
	base := src.Span.Start.Offset
	type key struct{ from, to int }
	rel := func(sp source.Span) key { return key{sp.Start.Offset - base, sp.End.Offset - base} } // of the checked model
	at := func(sp source.Span) key { return key{sp.Start.Offset, sp.End.Offset} }                // of the text parsed here
	calls := map[key][]func(*parser.Call){}
	dists := map[key]parser.Expr{}
	want := 0
	for k, pr := range priors {
		p := m.Params[k]
		switch p.Role {
		case ir.Weight, ir.Bias:
			arg := "prior"
			if p.Role == ir.Bias {
				arg = "bias_prior"
			}
			e := priorExpr(pr)
			calls[rel(p.Span)] = append(calls[rel(p.Span)], func(c *parser.Call) { setArg(c, arg, e) })
		default:
			dists[rel(p.Span)] = priorExpr(pr)
		}
		want++
	}
	for i, c := range coefs {
		a := m.Activations[i]
		var edit func(*parser.Call)
		if a.Kind == ir.Rational {
			edit = func(call *parser.Call) {
				dropArg(call, "init")
				setArg(call, "coefficients", numberList(c))
			}
		} else {
			half := len(c) / 2
			edit = func(call *parser.Call) {
				setArg(call, "frequencies", numberList(c[:half]))
				setArg(call, "amplitudes", numberList(c[half:]))
			}
		}
		calls[rel(a.Span)] = append(calls[rel(a.Span)], edit)
		want++
	}
	done := 0
	var walk func(e parser.Expr)
	walk = func(e parser.Expr) {
		switch e := e.(type) {
		case *parser.Call:
			for _, a := range e.Args {
				walk(a.Value)
			}
			if edits, ok := calls[at(e.Sp)]; ok {
				for _, ed := range edits {
					ed(e)
				}
				done += len(edits)
				delete(calls, at(e.Sp))
			}
		case *parser.Binary:
			walk(e.X)
			walk(e.Y)
		case *parser.Unary:
			walk(e.X)
		case *parser.Index:
			walk(e.X)
		case *parser.Range:
			walk(e.From)
			walk(e.To)
		case *parser.List:
			for _, el := range e.Elems {
				walk(el)
			}
		}
	}
	for _, s := range decl.Body {
		switch s := s.(type) {
		case *parser.ParamStmt:
			if d, ok := dists[at(s.Sp)]; ok {
				s.Dist = d
				done++
			}
		case *parser.AssignStmt:
			walk(s.Value)
		case *parser.ObserveStmt:
			walk(s.Dist)
		}
	}
	if done != want {
		return "", fmt.Errorf("could not write the matched priors into model %s (%d of %d found)", m.Name, done, want)
	}
	decl.Name = &parser.Ident{Name: name, Sp: decl.Name.Sp}
	return strings.TrimRight(string(parser.Format(&parser.File{Source: f.Source, Stmts: []parser.Stmt{decl}})), "\n"), nil
}

func number(v float64) *parser.Number {
	return &parser.Number{Value: v, Text: strconv.FormatFloat(v, 'g', -1, 64)}
}

func numberList(v []float64) *parser.List {
	l := &parser.List{}
	for _, x := range v {
		l.Elems = append(l.Elems, number(x))
	}
	return l
}

// priorExpr writes a prior as a call: normal(loc, scale), laplace(loc,
// scale) or student_t(df, loc, scale).
func priorExpr(p ir.Prior) parser.Expr {
	args := []float64{p.Loc, p.Scale}
	if p.Family == ir.PriorStudentT {
		args = []float64{p.DF, p.Loc, p.Scale}
	}
	c := &parser.Call{Fun: &parser.Ident{Name: p.Family.String()}}
	for _, v := range args {
		c.Args = append(c.Args, &parser.Arg{Value: number(v)})
	}
	return c
}

// setArg sets the named argument of a call, replacing one already written.
func setArg(c *parser.Call, name string, v parser.Expr) {
	for _, a := range c.Args {
		if a.Name != nil && a.Name.Name == name {
			a.Value = v
			return
		}
	}
	c.Args = append(c.Args, &parser.Arg{Name: &parser.Ident{Name: name}, Value: v})
}

func dropArg(c *parser.Call, name string) {
	out := c.Args[:0]
	for _, a := range c.Args {
		if a.Name == nil || a.Name.Name != name {
			out = append(out, a)
		}
	}
	c.Args = out
}

// checkMatched checks the matched model's text in the session's scope and
// verifies that it is the source model with the matched priors and
// coefficients.
func (x *executor) checkMatched(st *ir.MatchPrior, text string, priors map[int]ir.Prior, coefs map[int][]float64) (*ir.DefineModel, error) {
	f, err := parser.Parse(st.Name+" (matched prior)", []byte(text))
	if err != nil {
		return nil, err
	}
	prog, err := ir.Check(f, x.s.scope.Clone(), x.s.checkConfig())
	if err != nil {
		return nil, fmt.Errorf("the matched model does not check: %w", err)
	}
	def, ok := prog.Stmts[0].(*ir.DefineModel)
	if len(prog.Stmts) != 1 || !ok {
		return nil, errors.New("the matched model's text is not one model")
	}
	src, got := x.s.resolveDef(st.Source).Model, def.Model
	if len(got.Params) != len(src.Params) || len(got.Activations) != len(src.Activations) {
		return nil, fmt.Errorf("the matched model has %d parameter tensors, the source %d", len(got.Params), len(src.Params))
	}
	for k, p := range src.Params {
		q := got.Params[k]
		want := p.Prior
		if pr, ok := priors[k]; ok {
			want = pr
		}
		if q.Name != p.Name || q.Rows != p.Rows || q.Cols != p.Cols || q.Prior.Family != want.Family || q.Prior.Loc != want.Loc || q.Prior.Scale != want.Scale {
			return nil, fmt.Errorf("parameter %s of the matched model is %s %dx%d %v, want %v", p.Name, q.Name, q.Rows, q.Cols, q.Prior, want)
		}
	}
	for i, a := range src.Activations {
		want := a.Init
		if c, ok := coefs[i]; ok {
			want = c
		}
		for j, v := range got.Activations[i].Init {
			if v != want[j] {
				return nil, fmt.Errorf("activation %d of the matched model has coefficient %d = %v, want %v", i, j, v, want[j])
			}
		}
	}
	return def, nil
}
