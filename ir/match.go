package ir

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// This file checks the statement that matches a network's prior to a
// Gaussian process in function space (docs/algorithms.md §5):
//
//	model net_gp = match prior of net to gp(rbf(lengthscale: 0.5))
//	    over uniform(-3, 3, 64) using w2(steps: 2000, lr: 0.01, samples: 128)
//
// It binds a new model (or rebinds the old name) whose structure is the
// source model's and whose prior scales and learnable activations are what
// the matching finds when the statement runs. Kernels are written as calls,
// combined with + and *:
//
//	rbf(lengthscale: ℓ, variance: σ²)           matern12, matern32, matern52 alike
//	periodic(lengthscale: ℓ, period: p, variance: σ²)
//	linear(variance: σ², offset: c)
//	rbf(lengthscale: 2) * periodic(period: 1) + linear(variance: 0.1)

// KernelKind names a GP kernel.
type KernelKind int

// Kernels.
const (
	KernelRBF KernelKind = iota
	KernelMatern12
	KernelMatern32
	KernelMatern52
	KernelPeriodic
	KernelLinear
	KernelSum
	KernelProduct
)

var kernelNames = [...]string{"rbf", "matern12", "matern32", "matern52", "periodic", "linear", "sum", "product"}

func (k KernelKind) String() string { return kernelNames[k] }

// kernelParams are each base kernel's hyperparameters, in the order they
// are printed, with their defaults.
var kernelParams = map[KernelKind][]struct {
	name string
	def  float64
}{
	KernelRBF:      {{"lengthscale", 1}, {"variance", 1}},
	KernelMatern12: {{"lengthscale", 1}, {"variance", 1}},
	KernelMatern32: {{"lengthscale", 1}, {"variance", 1}},
	KernelMatern52: {{"lengthscale", 1}, {"variance", 1}},
	KernelPeriodic: {{"lengthscale", 1}, {"period", 1}, {"variance", 1}},
	KernelLinear:   {{"variance", 1}, {"offset", 0}},
}

// Kernel is a checked GP covariance: a base kernel with its
// hyperparameters, or a sum or product of Terms. lang turns it into a
// stdlib/gp kernel (gpytorch conventions, see that package).
type Kernel struct {
	Kind                                  KernelKind
	Lengthscale, Variance, Period, Offset float64
	Terms                                 []*Kernel // KernelSum, KernelProduct
	Span                                  source.Span
}

// String prints the kernel as it could be written.
func (k *Kernel) String() string {
	switch k.Kind {
	case KernelSum, KernelProduct:
		op := " + "
		if k.Kind == KernelProduct {
			op = " * "
		}
		parts := make([]string, len(k.Terms))
		for i, t := range k.Terms {
			parts[i] = t.String()
			if k.Kind == KernelProduct && t.Kind == KernelSum {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		return strings.Join(parts, op)
	}
	var args []string
	for _, p := range kernelParams[k.Kind] {
		args = append(args, p.name+": "+strconv.FormatFloat(*k.param(p.name), 'g', -1, 64))
	}
	return k.Kind.String() + "(" + strings.Join(args, ", ") + ")"
}

func (k *Kernel) param(name string) *float64 {
	switch name {
	case "lengthscale":
		return &k.Lengthscale
	case "variance":
		return &k.Variance
	case "period":
		return &k.Period
	}
	return &k.Offset
}

// MatchMethods lists the divergences `match ... using NAME(...)` accepts.
var MatchMethods = []string{"w2"}

// Defaults of the w2 matching method: modest sample and step counts so a
// 1-D match takes seconds (the reference uses 512 draws and 2001 steps).
const (
	DefaultMatchSteps   = 1000
	DefaultMatchLR      = 0.01
	DefaultMatchSamples = 128
	// MinMatchPoints is the fewest measurement points a match may use: a
	// covariance over fewer says nothing about a function's shape.
	MinMatchPoints = 2
)

// MatchPrior is `model NAME = match prior of MODEL to gp(KERNEL) over
// uniform(lo, hi, n) using w2(...)`: fit the prior scales σ (one per
// parameter tensor that reaches the output) and the coefficients of the
// learnable activations so that the network's prior over its output, at n
// points drawn uniformly in the box each step, matches the GP in the
// 2-Wasserstein distance between Gaussian moment fits.
type MatchPrior struct {
	Name string
	// Source is the model matched, as bound when the statement was
	// checked (a matched model itself, possibly).
	Source *DefineModel
	// Define is what Name is bound to: a copy of Source's model under the
	// new name, which stands for the matched model. Its priors are the
	// source's: lang binds the matched model it builds when the statement
	// runs in its place, and every later statement that names it (a fit,
	// a plot, a simulation) reaches the matched model through it.
	Define *DefineModel
	Kernel *Kernel
	// Lo and Hi bound the measurement box, one pair per input feature.
	Lo, Hi         []float64
	Points         int
	Steps, Samples int
	LR             float64
	Activations    bool // learn the learnable activations' coefficients (default true)
	Span           source.Span
	// Spans of the parts, for errors found when the statement runs.
	ModelSpan, TargetSpan, OverSpan, MethodSpan source.Span
}

func (s *MatchPrior) stmtSpan() source.Span { return s.Span }

// modelBind checks `model NAME = EXPR`.
func (c *checker) modelBind(s *parser.ModelBindStmt) Stmt {
	m, ok := s.Value.(*parser.Match)
	if !ok {
		c.errorf(s.Value.Span(), source.Type, "a model is declared model NAME(x: WIDTH) { ... } or bound to a match: model NAME = match prior of MODEL to gp(...) over uniform(lo, hi, n) using w2(...)")
		c.bind(s.Name, Invalid)
		return nil
	}
	st := c.match(m)
	if st == nil {
		c.bind(s.Name, Invalid)
		return nil
	}
	st.Name = s.Name.Name
	st.Span = s.Sp
	cp := *st.Source.Model
	cp.Name = st.Name
	st.Define = &DefineModel{Model: &cp, Text: st.Source.Text, Span: s.Sp}
	c.bind(s.Name, ModelT)
	c.scope.models[st.Name] = st.Define
	return st
}

// sourceModel resolves a model name.
func (c *checker) sourceModel(id *parser.Ident) *DefineModel {
	if _, has := c.scope.types[id.Name]; !has {
		var cands []string
		for n := range c.scope.models {
			cands = append(cands, n)
		}
		c.unknown(id, "model", cands)
		return nil
	}
	if _, ok := c.ref(id, ModelT); !ok {
		return nil
	}
	return c.scope.models[id.Name]
}

// singleOutput reports a model whose output is not one function.
func (c *checker) singleOutput(id *parser.Ident, m *Model, what string) bool {
	if m.Lik.Family == LikCategorical {
		c.errorf(id.Sp, source.Shape, "model %s has %d outputs (the logits of a categorical likelihood), but %s is over a single function: use a model with one output (a normal, student_t, bernoulli or poisson likelihood)", m.Name, m.Lik.Classes, what)
		return false
	}
	return true
}

func (c *checker) match(e *parser.Match) *MatchPrior {
	st := &MatchPrior{ModelSpan: e.Model.Sp, TargetSpan: e.Target.Span(), OverSpan: e.Over.Span(), MethodSpan: e.Method.Span(),
		Steps: DefaultMatchSteps, LR: DefaultMatchLR, Samples: DefaultMatchSamples, Activations: true}
	ok := true
	def := c.sourceModel(e.Model)
	if def == nil {
		ok = false
	} else {
		st.Source = def
		ok = c.singleOutput(e.Model, def.Model, "a GP prior") && ok
	}

	// to gp(KERNEL)
	if k, okK := c.gp(e.Target); okK {
		st.Kernel = k
	} else {
		ok = false
	}

	// over uniform(lo, hi, n)
	width := 0
	if def != nil {
		width = def.Model.InputWidth
	}
	if !c.uniform(e.Over, width, st) {
		ok = false
	}

	// using w2(settings)
	if !c.matchMethod(e.Method, st) {
		ok = false
	}
	if !ok {
		return nil
	}
	return st
}

// gp checks gp(KERNEL).
func (c *checker) gp(e parser.Expr) (*Kernel, bool) {
	call, isCall := e.(*parser.Call)
	if !isCall || call.Fun.Name != "gp" || len(call.Args) != 1 || call.Args[0].Name != nil {
		c.errorf(e.Span(), source.Type, "expected a Gaussian process: gp(KERNEL), e.g. gp(rbf(lengthscale: 0.5))")
		return nil, false
	}
	return c.kernel(call.Args[0].Value)
}

var kernelKinds = map[string]KernelKind{
	"rbf": KernelRBF, "matern12": KernelMatern12, "matern32": KernelMatern32,
	"matern52": KernelMatern52, "periodic": KernelPeriodic, "linear": KernelLinear,
}

// kernel checks a kernel expression: calls combined with + and *.
func (c *checker) kernel(e parser.Expr) (*Kernel, bool) {
	switch e := e.(type) {
	case *parser.Binary:
		var kind KernelKind
		switch e.Op {
		case "+":
			kind = KernelSum
		case "*":
			kind = KernelProduct
		default:
			c.errorf(e.Sp, source.Type, "kernels combine with + and *, not %q", e.Op)
			return nil, false
		}
		x, okX := c.kernel(e.X)
		y, okY := c.kernel(e.Y)
		if !okX || !okY {
			return nil, false
		}
		out := &Kernel{Kind: kind, Span: e.Sp}
		for _, t := range []*Kernel{x, y} {
			if t.Kind == kind { // flatten a + b + c into one sum
				out.Terms = append(out.Terms, t.Terms...)
			} else {
				out.Terms = append(out.Terms, t)
			}
		}
		return out, true
	case *parser.Call:
		kind, known := kernelKinds[e.Fun.Name]
		if !known {
			c.unknown(e.Fun, "kernel", sortedKeys(kernelKinds))
			return nil, false
		}
		var names []string
		for _, p := range kernelParams[kind] {
			names = append(names, p.name)
		}
		a := c.args(e, nil, names)
		if a == nil {
			return nil, false
		}
		k := &Kernel{Kind: kind, Span: e.Sp}
		ok := true
		for _, p := range kernelParams[kind] {
			v := p.def
			if arg, has := a[p.name]; has {
				n, okN := c.number(arg, e.Fun.Name+" "+p.name)
				if okN {
					switch {
					case p.name == "offset" && !(n >= 0 && !math.IsInf(n, 0)):
						c.errorf(arg.Span(), source.Type, "%s offset must be finite and non-negative, got %v", e.Fun.Name, n)
						okN = false
					case p.name != "offset" && !(n > 0 && !math.IsInf(n, 0)):
						c.errorf(arg.Span(), source.Type, "%s %s must be finite and positive, got %v", e.Fun.Name, p.name, n)
						okN = false
					}
				}
				v, ok = n, ok && okN
			}
			*k.param(p.name) = v
		}
		return k, ok
	case *parser.Ident:
		if _, known := kernelKinds[e.Name]; known {
			return c.kernel(&parser.Call{Fun: e, Sp: e.Sp})
		}
		c.unknown(e, "kernel", sortedKeys(kernelKinds))
		return nil, false
	}
	c.errorf(e.Span(), source.Type, "expected a kernel such as rbf(lengthscale: 0.5), or kernels combined with + and *")
	return nil, false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// uniform checks uniform(lo, hi, n): lo and hi are numbers (the same bounds
// for every input) or lists with one number per input.
func (c *checker) uniform(e parser.Expr, width int, st *MatchPrior) bool {
	call, isCall := e.(*parser.Call)
	if !isCall || call.Fun.Name != "uniform" {
		c.errorf(e.Span(), source.Type, "measurement points are drawn uniformly in a box: uniform(low, high, n), e.g. uniform(-3, 3, 64)")
		return false
	}
	a := c.args(call, []string{"low", "high", "n"}, nil)
	if a == nil {
		return false
	}
	lo, okL := c.bounds(a["low"], width, "low")
	hi, okH := c.bounds(a["high"], width, "high")
	ok := okL && okH
	if ok {
		for i := range lo {
			if !(lo[i] < hi[i]) {
				c.errorf(call.Sp, source.Type, "uniform's low must be below its high, got %v and %v", lo[i], hi[i])
				ok = false
				break
			}
		}
	}
	n, okN := c.integer(a["n"], "number of measurement points")
	if okN && n < MinMatchPoints {
		c.errorf(a["n"].Span(), source.Shape, "too few measurement points: a covariance needs at least %d, got %d (the reference uses 512)", MinMatchPoints, n)
		okN = false
	}
	st.Lo, st.Hi, st.Points = lo, hi, n
	return ok && okN
}

// bounds reads one corner of a box: a number for every input, or a list.
func (c *checker) bounds(e parser.Expr, width int, what string) ([]float64, bool) {
	if l, isList := e.(*parser.List); isList {
		if width > 0 && len(l.Elems) != width {
			c.errorf(l.Sp, source.Shape, "%s has %d numbers, but the model takes %d inputs", what, len(l.Elems), width)
			return nil, false
		}
		out := make([]float64, len(l.Elems))
		for i, el := range l.Elems {
			v, ok := c.number(el, what)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	}
	v, ok := c.number(e, what)
	if !ok {
		return nil, false
	}
	out := make([]float64, max(width, 1))
	for i := range out {
		out[i] = v
	}
	return out, true
}

// matchMethod checks w2(steps:, lr:, samples:, activations:).
func (c *checker) matchMethod(e parser.Expr, st *MatchPrior) bool {
	var id *parser.Ident
	var call *parser.Call
	switch e := e.(type) {
	case *parser.Ident:
		id = e
	case *parser.Call:
		id, call = e.Fun, e
	default:
		c.errorf(e.Span(), source.Type, "expected a matching method such as w2(steps: 1000)")
		return false
	}
	if !contains(MatchMethods, id.Name) {
		msg := fmt.Sprintf("unknown matching method %q (known: %s)", id.Name, strings.Join(MatchMethods, ", "))
		if near := source.Nearest(id.Name, MatchMethods); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		c.errorf(id.Sp, source.Name, "%s", msg)
		return false
	}
	if call == nil {
		return true
	}
	a := c.args(call, nil, []string{"steps", "lr", "samples", "activations"})
	if a == nil {
		return false
	}
	ok := true
	if v, has := a["steps"]; has {
		n, okN := c.integer(v, "steps")
		if okN && n < 1 {
			c.errorf(v.Span(), source.Type, "steps must be at least 1")
			okN = false
		}
		st.Steps, ok = n, ok && okN
	}
	if v, has := a["lr"]; has {
		x, okX := c.number(v, "lr")
		if okX && !(x > 0) {
			c.errorf(v.Span(), source.Type, "lr must be positive, got %v", x)
			okX = false
		}
		st.LR, ok = x, ok && okX
	}
	if v, has := a["samples"]; has {
		n, okN := c.integer(v, "samples")
		if okN && n < 2 {
			c.errorf(v.Span(), source.Type, "samples must be at least 2 (a covariance needs two draws), got %d", n)
			okN = false
		}
		st.Samples, ok = n, ok && okN
	}
	if v, has := a["activations"]; has {
		b, okB := c.boolLit(v, "activations")
		st.Activations, ok = b, ok && okB
	}
	return ok
}
