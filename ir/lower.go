package ir

import (
	"math"
	"sort"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// modelBuilder lowers one model block into a Model graph.
type modelBuilder struct {
	c       *checker
	m       *Model
	names   map[string]int // model-local name -> node ID
	params  map[string]bool
	dense   int             // dense layers so far: the default names dense0, dense1, ...
	layers  map[string]bool // layer names used so far
	wPrior  Prior
	bPrior  Prior
	wScaled bool
}

func (c *checker) model(d *parser.ModelDecl) *Model {
	b := &modelBuilder{
		c:      c,
		m:      &Model{Name: d.Name.Name, InputName: d.Input.Name, Span: d.Sp},
		names:  map[string]int{},
		params: map[string]bool{},
		// Default priors: N(0, 1) on every weight and bias, as in most BNN
		// examples; `prior weights ~ ... scaled fan_in` opts into N(0, s^2/fan_in).
		wPrior:  Prior{Family: PriorNormal, Scale: 1},
		bPrior:  Prior{Family: PriorNormal, Scale: 1},
		wScaled: false,
	}
	nerr := len(c.errs)
	width := d.Width.Value
	if width != math.Trunc(width) || width < 1 || width > 1<<20 {
		c.errorf(d.Width.Sp, source.Shape, "input width must be a positive integer, got %s", d.Width.Text)
		width = 1
	}
	b.m.InputWidth = int(width)
	b.names[d.Input.Name] = b.add(&Node{Op: OpInput, Batch: true, Width: int(width), Span: d.Input.Sp})

	// Priors apply to the whole model, wherever they are written.
	for _, s := range d.Body {
		if p, ok := s.(*parser.PriorStmt); ok {
			b.defaultPrior(p)
		}
	}
	for _, s := range d.Body {
		switch s := s.(type) {
		case *parser.ParamStmt:
			b.param(s)
		case *parser.AssignStmt:
			if s.Name.Name == d.Input.Name {
				c.errorf(s.Name.Sp, source.Name, "cannot assign to the model input %q", s.Name.Name)
				continue
			}
			if id, ok := b.expr(s.Value); ok {
				b.names[s.Name.Name] = id
			} else {
				b.names[s.Name.Name] = -1 // suppress follow-on "unknown name" errors
			}
		case *parser.ObserveStmt:
			if b.m.Lik != nil {
				c.errorf(s.Sp, source.Type, "a model has one likelihood; %q is observed already", b.m.Lik.Target)
				continue
			}
			b.likelihood(s)
		}
	}
	if b.m.Lik == nil && len(c.errs) == nerr {
		c.errorf(d.Sp, source.Type, "model %s has no likelihood: add a line such as `y ~ normal(o, 1)`", d.Name.Name)
	}
	if len(c.errs) > nerr {
		return nil
	}
	return b.m
}

func (b *modelBuilder) add(n *Node) int {
	n.ID = len(b.m.Nodes)
	b.m.Nodes = append(b.m.Nodes, n)
	return n.ID
}

func (b *modelBuilder) addParam(p *Param) int {
	p.Offset = b.m.Dim()
	b.m.Params = append(b.m.Params, p)
	b.params[p.Name] = true
	return len(b.m.Params) - 1
}

func (b *modelBuilder) defaultPrior(s *parser.PriorStmt) {
	p, ok := b.prior(s.Dist)
	if !ok {
		return
	}
	scaled := false
	if s.Scaling != nil {
		if s.Scaling.Name != "fan_in" {
			b.c.unknown(s.Scaling, "prior scaling", []string{"fan_in"})
			return
		}
		scaled = true
	}
	switch s.Target.Name {
	case "weights":
		b.wPrior, b.wScaled = p, scaled
	case "biases":
		if scaled {
			b.c.errorf(s.Scaling.Sp, source.Type, "fan_in scaling applies to weights only")
			return
		}
		b.bPrior = p
	default:
		b.c.unknown(s.Target, "prior target", []string{"weights", "biases"})
	}
}

// prior checks a prior distribution call such as normal(0, 1).
func (b *modelBuilder) prior(e parser.Expr) (Prior, bool) {
	call, ok := e.(*parser.Call)
	if !ok {
		b.c.errorf(e.Span(), source.Type, "expected a prior distribution: normal(loc, scale), laplace(loc, scale) or student_t(df, loc, scale)")
		return Prior{}, false
	}
	p := Prior{Span: call.Sp}
	var params []string
	switch call.Fun.Name {
	case "normal":
		p.Family, params = PriorNormal, []string{"loc", "scale"}
	case "laplace":
		p.Family, params = PriorLaplace, []string{"loc", "scale"}
	case "student_t":
		p.Family, params = PriorStudentT, []string{"df", "loc", "scale"}
	default:
		b.c.unknown(call.Fun, "prior", []string{"normal", "laplace", "student_t"})
		return p, false
	}
	a := b.c.args(call, params, nil)
	if a == nil {
		return p, false
	}
	vals := map[string]float64{}
	for _, n := range params {
		v, ok := b.c.number(a[n], call.Fun.Name+" "+n)
		if !ok {
			return p, false
		}
		if (n == "scale" || n == "df") && !(v > 0) {
			b.c.errorf(a[n].Span(), source.Type, "%s %s must be positive, got %v", call.Fun.Name, n, v)
			return p, false
		}
		vals[n] = v
	}
	p.Loc, p.Scale, p.DF = vals["loc"], vals["scale"], vals["df"]
	return p, true
}

func (b *modelBuilder) param(s *parser.ParamStmt) {
	if _, dup := b.names[s.Name.Name]; dup || b.params[s.Name.Name] {
		b.c.errorf(s.Name.Sp, source.Name, "%q is already defined in this model", s.Name.Name)
		return
	}
	width := 1
	if s.Width != nil {
		w := s.Width.Value
		if w != math.Trunc(w) || w < 1 || w > 1<<20 {
			b.c.errorf(s.Width.Sp, source.Shape, "parameter width must be a positive integer, got %s", s.Width.Text)
			b.names[s.Name.Name] = -1
			return
		}
		width = int(w)
	}
	pr, ok := b.prior(s.Dist)
	if !ok {
		b.names[s.Name.Name] = -1
		return
	}
	k := b.addParam(&Param{Name: s.Name.Name, Role: Scalar, Rows: 1, Cols: width, Prior: pr, FanIn: 1, Span: s.Sp})
	b.names[s.Name.Name] = b.add(&Node{Op: OpParam, W: k, B: -1, Width: width, Span: s.Name.Sp})
}

// expr lowers a model expression, returning its node ID.
func (b *modelBuilder) expr(e parser.Expr) (int, bool) {
	switch e := e.(type) {
	case *parser.Number:
		return b.add(&Node{Op: OpConst, Value: e.Value, Width: 1, Span: e.Sp}), true
	case *parser.Ident:
		id, ok := b.names[e.Name]
		if !ok {
			var cands []string
			for n := range b.names {
				cands = append(cands, n)
			}
			sort.Strings(cands)
			b.c.unknown(e, "name", cands)
			return 0, false
		}
		return id, id >= 0
	case *parser.Unary:
		x, ok := b.expr(e.X)
		if !ok {
			return 0, false
		}
		n := b.m.Nodes[x]
		return b.add(&Node{Op: OpNeg, Args: []int{x}, Batch: n.Batch, Width: n.Width, Span: e.Sp}), true
	case *parser.Binary:
		return b.binary(e)
	case *parser.Index:
		return b.index(e)
	case *parser.Call:
		return b.call(e)
	}
	b.c.errorf(e.Span(), source.Type, "this expression has no meaning inside a model")
	return 0, false
}

var binaryOps = map[string]Op{"+": OpAdd, "-": OpSub, "*": OpMul, "/": OpDiv}

func (b *modelBuilder) binary(e *parser.Binary) (int, bool) {
	op, ok := binaryOps[e.Op]
	if !ok {
		b.c.errorf(e.Sp, source.Type, "comparison %q has no meaning inside a model", e.Op)
		return 0, false
	}
	x, okX := b.expr(e.X)
	y, okY := b.expr(e.Y)
	if !okX || !okY {
		return 0, false
	}
	nx, ny := b.m.Nodes[x], b.m.Nodes[y]
	width := nx.Width
	switch {
	case nx.Width == ny.Width:
	case nx.Width == 1:
		width = ny.Width
	case ny.Width == 1:
	default:
		b.c.errorf(e.Sp, source.Shape, "cannot combine widths %d and %d with %q (widths must match, or one must be 1)", nx.Width, ny.Width, e.Op)
		return 0, false
	}
	// Fold constants so "softplus(o) + 1e-3" costs one node, and 2 * 3 is 6.
	if nx.Op == OpConst && ny.Op == OpConst {
		v := map[Op]func(a, b float64) float64{
			OpAdd: func(a, b float64) float64 { return a + b },
			OpSub: func(a, b float64) float64 { return a - b },
			OpMul: func(a, b float64) float64 { return a * b },
			OpDiv: func(a, b float64) float64 { return a / b },
		}[op](nx.Value, ny.Value)
		return b.add(&Node{Op: OpConst, Value: v, Width: 1, Span: e.Sp}), true
	}
	return b.add(&Node{Op: op, Args: []int{x, y}, Batch: nx.Batch || ny.Batch, Width: width, Span: e.Sp}), true
}

func (b *modelBuilder) index(e *parser.Index) (int, bool) {
	x, ok := b.expr(e.X)
	if !ok {
		return 0, false
	}
	k, ok := e.Index.(*parser.Number)
	if !ok || k.Value != math.Trunc(k.Value) {
		b.c.errorf(e.Index.Span(), source.Type, "an index must be an integer constant")
		return 0, false
	}
	n := b.m.Nodes[x]
	if k.Value < 0 || int(k.Value) >= n.Width {
		b.c.errorf(e.Index.Span(), source.Shape, "index %s out of range for width %d (valid: 0 .. %d)", k.Text, n.Width, n.Width-1)
		return 0, false
	}
	return b.add(&Node{Op: OpIndex, Args: []int{x}, Col: int(k.Value), Batch: n.Batch, Width: 1, Span: e.Sp}), true
}

func (b *modelBuilder) call(e *parser.Call) (int, bool) {
	if act, ok := Acts()[e.Fun.Name]; ok {
		if len(e.Args) != 1 || e.Args[0].Name != nil {
			b.c.errorf(e.Sp, source.Type, "%s takes one argument", e.Fun.Name)
			return 0, false
		}
		x, ok := b.expr(e.Args[0].Value)
		if !ok {
			return 0, false
		}
		n := b.m.Nodes[x]
		if n.Op == OpConst {
			b.c.errorf(e.Sp, source.Type, "%s of a constant: write the number instead", e.Fun.Name)
			return 0, false
		}
		return b.add(&Node{Op: OpAct, Act: act, Args: []int{x}, Batch: n.Batch, Width: n.Width, Span: e.Sp}), true
	}
	if e.Fun.Name == "dense" {
		return b.denseLayer(e)
	}
	if _, ok := learnableActs[e.Fun.Name]; ok {
		return b.learnableAct(e)
	}
	if contains(adapterKinds, e.Fun.Name) {
		b.c.errorf(e.Sp, source.Type, "an adapter is an argument of the frozen layer it adapts: dense(x, 128, from: base.h1, frozen, adapter: %s(rank: 4))", e.Fun.Name)
		return 0, false
	}
	cands := []string{"dense", "rational", "periodic"}
	for n := range Acts() {
		cands = append(cands, n)
	}
	sort.Strings(cands)
	b.c.unknown(e.Fun, "layer or activation", cands)
	return 0, false
}

func (b *modelBuilder) likelihood(s *parser.ObserveStmt) {
	call, ok := s.Dist.(*parser.Call)
	if !ok {
		b.c.errorf(s.Dist.Span(), source.Type, "expected a likelihood: %s", strings.Join(LikelihoodNames(), ", "))
		return
	}
	lik := &Likelihood{Target: s.Name.Name, Span: s.Sp}
	fam, known := LikelihoodNamed(call.Fun.Name)
	if !known {
		b.c.unknown(call.Fun, "likelihood", LikelihoodNames())
		return
	}
	lik.Family = fam
	spec := fam.Spec()
	params := spec.Params
	a := b.c.args(call, params, nil)
	if a == nil {
		return
	}
	ok = true
	for _, p := range params {
		if p == "df" {
			df, okD := b.c.number(a[p], spec.Name+" df")
			if okD && !(df > 0) {
				b.c.errorf(a[p].Span(), source.Type, "%s df must be positive, got %v", spec.Name, df)
				okD = false
			}
			lik.DF, ok = df, ok && okD
			continue
		}
		id, okE := b.expr(a[p])
		if !okE {
			ok = false
			continue
		}
		n := b.m.Nodes[id]
		switch p {
		case "logits":
			if lik.Family == LikBernoulli && n.Width != 1 {
				b.c.errorf(a[p].Span(), source.Shape, "bernoulli logits must have width 1, got %d", n.Width)
				ok = false
			}
			if lik.Family == LikCategorical && n.Width < 2 {
				b.c.errorf(a[p].Span(), source.Shape, "categorical logits need one column per class (at least 2), got width %d", n.Width)
				ok = false
			}
			if !n.Batch {
				b.c.errorf(a[p].Span(), source.Shape, "logits must depend on the input %q", b.m.InputName)
				ok = false
			}
		default:
			if n.Width != 1 {
				b.c.errorf(a[p].Span(), source.Shape, "%s %s must have width 1 (one target per example), got width %d; index a column, e.g. o[0]", call.Fun.Name, p, n.Width)
				ok = false
			}
			if contains(spec.Positive, p) && n.Op == OpConst && !(n.Value > 0) {
				b.c.errorf(a[p].Span(), source.Type, "%s %s must be positive, got %v", call.Fun.Name, p, n.Value)
				ok = false
			}
		}
		lik.Args = append(lik.Args, id)
	}
	if !ok {
		return
	}
	switch lik.Family {
	case LikCategorical:
		lik.Classes = b.m.Nodes[lik.Args[0]].Width
	case LikBernoulli:
		lik.Classes = 2
	}
	b.m.Lik = lik
}
