package ir

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// This file lowers the learnable activations of docs/algorithms.md §5:
//
//	h = dense(x, 32) |> rational                 rational_5_4, version B, starting as leaky ReLU
//	h = dense(x, 32) |> rational(init: tanh)     ... starting as tanh
//	h = dense(x, 32) |> rational(coefficients: [a0, a1, a2, a3, a4, a5, b1, b2, b3, b4])
//	h = dense(x, 32) |> periodic                 fourier2: Σ_i v_i g_i(2π f_i z)
//	h = dense(x, 32) |> periodic(frequencies: [f0, ..., f9], amplitudes: [v0, ..., v9])
//
// An activation is not a new kernel: it lowers into a subgraph of the
// existing elementwise operations (mul, add, div, relu, sin) over one
// parameter block δ of role Scalar, so every pass of compile — training,
// the local reparameterisation, batched prediction, the GGN — handles it
// unchanged. Its coefficients are c + δ: c are constants of the graph (the
// start, or what a prior match found), δ is a trainable row whose prior,
// N(0, 0.01²) unless the call says prior: ..., keeps the activation close
// to c, as the reference code freezes it after matching. The block is named
// rational0, periodic1, ... in the order activations are written.
//
// Cost per activation over a B x W input: rational evaluates both
// polynomials by Horner's rule and |q| as relu(q) + relu(−q), 23 elementwise
// passes; periodic evaluates ten sines (a cosine is a sine shifted by π/2),
// 45 passes. The coefficient arithmetic is on 1 x 1 rows and costs nothing.
// So a rational layer costs about as much as a 1 x 23 dense layer, and a
// periodic one as a 1 x 45 one, per unit.

// ActivationKind names a learnable activation.
type ActivationKind int

// Learnable activations.
const (
	Rational ActivationKind = iota // rational_5_4 version B: (a0 + … + a5 z⁵)/(1 + |b1 z + … + b4 z⁴|)
	Periodic                       // fourier2: Σ_{i<10} v_i g_i(2π f_i z), g_i = sin (even i), cos (odd i)
)

func (k ActivationKind) String() string { return [...]string{"rational", "periodic"}[k] }

// Activation is a learnable activation of a model: the graph computes with
// the coefficients Init + δ, where δ is Model.Params[Param], a 1 x len(Init)
// row of role Scalar.
//
// Rational: Init is [a0 … a5, b1 … b4]. Periodic: Init is [f0 … f9,
// v0 … v9], frequencies then amplitudes.
type Activation struct {
	Kind  ActivationKind
	Param int
	Init  []float64
	Span  source.Span
}

// Numbers of coefficients.
const (
	rationalNum   = 6  // a0 … a5
	rationalDen   = 4  // b1 … b4
	periodicTerms = 10 // fourier2's ten sines and cosines
)

// DefaultActivationPrior is the prior of an activation's offsets δ when its
// call does not give one: tight, so that a fit keeps the activation close to
// its coefficients (docs/algorithms.md §5 freezes it after matching).
var DefaultActivationPrior = Prior{Family: PriorNormal, Scale: 0.01}

// RationalInits are the starting coefficients of rational(init: NAME): the
// rational_5_4 version B fits of the rational_activations library
// (ml-research/rational_activations, rationals_config.json) to each
// function on [−3, 3], as [a0 … a5, b1 … b4]. The default is leaky_relu
// (slope 0.01), that library's default.
var RationalInits = map[string][]float64{
	"identity":   {0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
	"leaky_relu": {0.03355815733452378, 0.5050059186781659, 1.6534697310952233, 2.0100501552600014, 0.9319195586484518, 0.15242646398275836, 4.812831860534153e-05, 3.9802479055059194, 1.5837587665720168e-05, 0.30183382839661377},
	"relu":       {0.033897129202224346, 0.4999985439606278, 1.6701363611130988, 1.9901021632350815, 0.9413089613384323, 0.1509133373584318, -2.1040152094202414e-05, 3.980247851167207, -3.166344237241501e-05, 0.30183382300945066},
	"tanh":       {2.1172949817857366e-09, 0.9999942495075363, 6.276332768876106e-07, 0.10770864506559906, 2.946556898117109e-08, 0.000871124373591946, 6.376908337817277e-07, 0.44101418051922986, 2.2747661404467182e-07, 0.014581039909092108},
	"sigmoid":    {0.5000000002774382, 0.2500039727332485, 0.05544474230118124, 0.006888449237990345, 0.00048491391666921244, 1.5646015289718136e-05, 7.956371345839366e-06, 0.11088550952772189, 7.76547864226066e-07, 0.0009697684428133153},
	"gelu":       {-0.0004221071456647063, 0.49999955516606254, 0.40270535451115536, 0.07366976895222031, -0.012954788054484537, -0.0037414002583076983, 4.9585381197087913e-05, 0.1472977407631199, 1.1645825701440633e-05, -0.007483871514842074},
}

// DefaultRationalInit names the default start of rational.
const DefaultRationalInit = "leaky_relu"

// PeriodicInit returns fourier2's default coefficients: frequencies
// f_i = i + 1 (the reference code's) and amplitudes v_i = 1/√10, so that
// every term takes part from the first step and the activation of a
// standard normal input has variance about ½.
func PeriodicInit() []float64 {
	c := make([]float64, 2*periodicTerms)
	for i := range periodicTerms {
		c[i] = float64(i + 1)
		c[periodicTerms+i] = 1 / math.Sqrt(periodicTerms)
	}
	return c
}

var learnableActs = map[string]ActivationKind{"rational": Rational, "periodic": Periodic}

// ActivationValue evaluates a learnable activation with coefficients c at z,
// as the lowered graph does (for tests and plots).
func ActivationValue(k ActivationKind, c []float64, z float64) float64 {
	switch k {
	case Rational:
		p, q := 0.0, 0.0
		for i := rationalNum - 1; i >= 0; i-- {
			p = p*z + c[i]
		}
		for i := rationalDen - 1; i >= 0; i-- {
			q = (q + c[rationalNum+i]) * z
		}
		return p / (1 + math.Abs(q))
	default:
		s := 0.0
		for i := range periodicTerms {
			a := 2 * math.Pi * c[i] * z
			if i%2 == 1 {
				a += math.Pi / 2
			}
			s += c[periodicTerms+i] * math.Sin(a)
		}
		return s
	}
}

// learnableAct lowers rational(...) or periodic(...).
func (b *modelBuilder) learnableAct(e *parser.Call) (int, bool) {
	kind := learnableActs[e.Fun.Name]
	opt := []string{"init", "coefficients", "prior"}
	if kind == Periodic {
		opt = []string{"frequencies", "amplitudes", "prior"}
	}
	a := b.c.args(e, []string{"input"}, opt)
	if a == nil {
		return 0, false
	}
	x, ok := b.expr(a["input"])
	if ok && b.m.Nodes[x].Op == OpConst {
		b.c.errorf(e.Sp, source.Type, "%s of a constant: write the number instead", e.Fun.Name)
		ok = false
	}
	var init []float64
	if kind == Rational {
		init = RationalInits[DefaultRationalInit]
		if v, has := a["init"]; has {
			id, isID := v.(*parser.Ident)
			switch {
			case !isID:
				b.c.errorf(v.Span(), source.Type, "init names a function to start from (%s)", strings.Join(rationalInitNames(), ", "))
				ok = false
			case RationalInits[id.Name] == nil:
				b.c.unknown(id, "rational init", rationalInitNames())
				ok = false
			default:
				init = RationalInits[id.Name]
			}
		}
		if v, has := a["coefficients"]; has {
			if _, both := a["init"]; both {
				b.c.errorf(v.Span(), source.Type, "give rational either init: or coefficients:, not both")
				ok = false
			}
			c, okC := b.numberList(v, "rational coefficients", rationalNum+rationalDen, "[a0, a1, a2, a3, a4, a5, b1, b2, b3, b4]")
			init, ok = c, ok && okC
		}
	} else {
		init = PeriodicInit()
		for k, name := range []string{"frequencies", "amplitudes"} {
			if v, has := a[name]; has {
				c, okC := b.numberList(v, "periodic "+name, periodicTerms, "ten numbers")
				if okC {
					copy(init[k*periodicTerms:], c)
				}
				ok = ok && okC
			}
		}
	}
	prior := DefaultActivationPrior
	prior.Span = e.Sp
	if v, has := a["prior"]; has {
		pr, okP := b.prior(v)
		prior, ok = pr, ok && okP
	}
	if !ok {
		return 0, false
	}
	init = append([]float64(nil), init...)

	n := 0
	for _, act := range b.m.Activations {
		if act.Kind == kind {
			n++
		}
	}
	name := fmt.Sprintf("%s%d", kind, n)
	for b.params[name] {
		name += "_"
	}
	sp := e.Sp
	k := b.addParam(&Param{Name: name, Role: Scalar, Rows: 1, Cols: len(init), Prior: prior, FanIn: 1, Span: sp})
	b.m.Activations = append(b.m.Activations, &Activation{Kind: kind, Param: k, Init: init, Span: sp})
	g := &actGraph{b: b, sp: sp, delta: b.add(&Node{Op: OpParam, W: k, B: -1, Width: len(init), Span: sp})}
	in := b.m.Nodes[x]
	g.batch, g.width = in.Batch, in.Width
	if kind == Rational {
		return g.rational(x, init), true
	}
	return g.periodic(x, init), true
}

func rationalInitNames() []string {
	var out []string
	for n := range RationalInits {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// numberList reads a list of exactly n number literals.
func (b *modelBuilder) numberList(e parser.Expr, what string, n int, shape string) ([]float64, bool) {
	l, isList := e.(*parser.List)
	if !isList || len(l.Elems) != n {
		b.c.errorf(e.Span(), source.Shape, "%s are a list of %d numbers, %s", what, n, shape)
		return nil, false
	}
	out := make([]float64, n)
	for i, el := range l.Elems {
		num, isNum := el.(*parser.Number)
		if !isNum || math.IsNaN(num.Value) || math.IsInf(num.Value, 0) {
			b.c.errorf(el.Span(), source.Type, "%s must be finite numbers", what)
			return nil, false
		}
		out[i] = num.Value
	}
	return out, true
}

// actGraph emits the nodes of one learnable activation over an input of
// the given rows (batch) and width.
type actGraph struct {
	b          *modelBuilder
	sp         source.Span
	delta      int // the OpParam row δ
	batch      bool
	width      int
	constCache map[float64]int
}

func (g *actGraph) node(op Op, args ...int) int {
	batch, width := false, 1
	for _, a := range args {
		n := g.b.m.Nodes[a]
		batch = batch || n.Batch
		width = max(width, n.Width)
	}
	return g.b.add(&Node{Op: op, Args: args, Batch: batch, Width: width, Span: g.sp})
}

func (g *actGraph) konst(v float64) int {
	if id, ok := g.constCache[v]; ok {
		return id
	}
	if g.constCache == nil {
		g.constCache = map[float64]int{}
	}
	id := g.b.add(&Node{Op: OpConst, Value: v, Width: 1, Span: g.sp})
	g.constCache[v] = id
	return id
}

// coef is the 1 x 1 node c_i + δ[i].
func (g *actGraph) coef(c []float64, i int) int {
	d := g.b.add(&Node{Op: OpIndex, Args: []int{g.delta}, Col: i, Width: 1, Span: g.sp})
	return g.node(OpAdd, g.konst(c[i]), d)
}

// rational builds p(z)/(1 + |q(z)|) by Horner's rule.
func (g *actGraph) rational(z int, c []float64) int {
	p := g.node(OpMul, z, g.coef(c, rationalNum-1))
	for i := rationalNum - 2; i >= 0; i-- {
		p = g.node(OpAdd, p, g.coef(c, i))
		if i > 0 {
			p = g.node(OpMul, p, z)
		}
	}
	q := g.node(OpMul, z, g.coef(c, rationalNum+rationalDen-1))
	for i := rationalDen - 2; i >= 0; i-- {
		q = g.node(OpAdd, q, g.coef(c, rationalNum+i))
		q = g.node(OpMul, q, z)
	}
	pos := g.b.add(&Node{Op: OpAct, Act: ReLU, Args: []int{q}, Batch: g.batch, Width: g.width, Span: g.sp})
	neg := g.b.add(&Node{Op: OpNeg, Args: []int{q}, Batch: g.batch, Width: g.width, Span: g.sp})
	negPos := g.b.add(&Node{Op: OpAct, Act: ReLU, Args: []int{neg}, Batch: g.batch, Width: g.width, Span: g.sp})
	abs := g.node(OpAdd, pos, negPos)
	den := g.node(OpAdd, abs, g.konst(1))
	return g.node(OpDiv, p, den)
}

// periodic builds Σ_i v_i g_i(2π f_i z).
func (g *actGraph) periodic(z int, c []float64) int {
	acc := -1
	for i := range periodicTerms {
		w := g.node(OpMul, g.coef(c, i), g.konst(2*math.Pi)) // 2π f_i, 1 x 1
		arg := g.node(OpMul, z, w)
		if i%2 == 1 {
			arg = g.node(OpAdd, arg, g.konst(math.Pi/2))
		}
		s := g.b.add(&Node{Op: OpAct, Act: Sin, Args: []int{arg}, Batch: g.batch, Width: g.width, Span: g.sp})
		t := g.node(OpMul, s, g.coef(c, periodicTerms+i))
		if acc < 0 {
			acc = t
		} else {
			acc = g.node(OpAdd, acc, t)
		}
	}
	return acc
}
