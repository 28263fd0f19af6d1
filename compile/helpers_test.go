package compile

import (
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/dist"
	"gonum.org/v1/gonum/mat"
)

// builder assembles an ir.Model by hand, the way ir's checker would.
type builder struct {
	m    *ir.Model
	line int
}

func newBuilder(inWidth int) *builder {
	b := &builder{m: &ir.Model{Name: "test", InputName: "x", InputWidth: inWidth}}
	b.add(ir.Node{Op: ir.OpInput, Width: inWidth, Batch: true})
	return b
}

func (b *builder) span() source.Span {
	b.line++
	return source.Span{Start: source.Pos{Line: b.line, Col: 1}, End: source.Pos{Line: b.line, Col: 5}}
}

func normalPrior(loc, scale float64) ir.Prior {
	return ir.Prior{Family: ir.PriorNormal, Loc: loc, Scale: scale}
}

func (b *builder) param(name string, role ir.Role, rows, cols int, pr ir.Prior) int {
	off := b.m.Dim()
	fan := 1
	if role == ir.Weight {
		fan = rows
	}
	b.m.Params = append(b.m.Params, &ir.Param{Name: name, Role: role, Rows: rows, Cols: cols, Offset: off, Prior: pr, FanIn: fan, Span: b.span()})
	return len(b.m.Params) - 1
}

func (b *builder) add(n ir.Node) int {
	n.ID = len(b.m.Nodes)
	n.Span = b.span()
	b.m.Nodes = append(b.m.Nodes, &n)
	return n.ID
}

func (b *builder) node(i int) *ir.Node { return b.m.Nodes[i] }

// dense adds a dense layer; wp and bp are the weight and bias priors (a zero
// bias prior scale means no bias).
func (b *builder) dense(x, out int, wp, bp ir.Prior) int {
	a := b.node(x)
	w := b.param("w", ir.Weight, a.Width, out, wp)
	bi := -1
	if bp.Scale != 0 {
		bi = b.param("b", ir.Bias, 1, out, bp)
	}
	return b.add(ir.Node{Op: ir.OpDense, Args: []int{x}, W: w, B: bi, Width: out, Batch: a.Batch})
}

func (b *builder) act(x int, act ir.Act) int {
	a := b.node(x)
	return b.add(ir.Node{Op: ir.OpAct, Act: act, Args: []int{x}, Width: a.Width, Batch: a.Batch})
}

func (b *builder) bin(op ir.Op, x, y int) int {
	a, c := b.node(x), b.node(y)
	return b.add(ir.Node{Op: op, Args: []int{x, y}, Width: max(a.Width, c.Width), Batch: a.Batch || c.Batch})
}

func (b *builder) neg(x int) int {
	a := b.node(x)
	return b.add(ir.Node{Op: ir.OpNeg, Args: []int{x}, Width: a.Width, Batch: a.Batch})
}

func (b *builder) index(x, col int) int {
	return b.add(ir.Node{Op: ir.OpIndex, Args: []int{x}, Col: col, Width: 1, Batch: b.node(x).Batch})
}

func (b *builder) konst(v float64) int {
	return b.add(ir.Node{Op: ir.OpConst, Value: v, Width: 1})
}

func (b *builder) prm(name string, cols int, pr ir.Prior) int {
	k := b.param(name, ir.Scalar, 1, cols, pr)
	return b.add(ir.Node{Op: ir.OpParam, W: k, Width: cols})
}

func (b *builder) lik(f ir.LikFamily, df float64, classes int, args ...int) *ir.Model {
	b.m.Lik = &ir.Likelihood{Family: f, Args: args, DF: df, Classes: classes, Target: "y", Span: b.span()}
	return b.m
}

// data draws a minibatch with targets that suit the model's likelihood.
func data(m *ir.Model, rows int, rng *rand.Rand) (*mat.Dense, []float64) {
	x := mat.NewDense(rows, m.InputWidth, nil)
	for r := 0; r < rows; r++ {
		for c := 0; c < m.InputWidth; c++ {
			x.Set(r, c, rng.NormFloat64())
		}
	}
	y := make([]float64, rows)
	for r := range y {
		switch m.Lik.Family {
		case ir.LikCategorical:
			y[r] = float64(rng.IntN(m.Lik.Classes))
		case ir.LikBernoulli:
			y[r] = float64(rng.IntN(2))
		case ir.LikPoisson:
			y[r] = float64(rng.IntN(5))
		case ir.LikGamma:
			y[r] = math.Exp(rng.NormFloat64())
		default:
			y[r] = rng.NormFloat64()
		}
	}
	return x, y
}

// reference evaluates the model one example at a time with plain loops and
// the dist package: an independent check of the vectorised kernels. It
// returns the negative log-likelihood and, per example, the values of the
// likelihood's arguments.
func reference(m *ir.Model, theta []float64, x *mat.Dense, y []float64) (float64, [][]float64) {
	rows, _ := x.Dims()
	loss := 0.0
	var outs [][]float64
	for r := 0; r < rows; r++ {
		v := make([][]float64, len(m.Nodes))
		at := func(s []float64, j int) float64 {
			if len(s) == 1 {
				return s[0]
			}
			return s[j]
		}
		for i, n := range m.Nodes {
			out := make([]float64, n.Width)
			switch n.Op {
			case ir.OpInput:
				out = mat.Row(nil, r, x)
			case ir.OpConst:
				out[0] = n.Value
			case ir.OpParam:
				q := m.Params[n.W]
				copy(out, theta[q.Offset:q.Offset+q.Size()])
			case ir.OpDense:
				a := v[n.Args[0]]
				w := m.Params[n.W]
				for j := range out {
					for k, av := range a {
						out[j] += av * theta[w.Offset+k*w.Cols+j]
					}
					if n.B >= 0 {
						out[j] += theta[m.Params[n.B].Offset+j]
					}
				}
			case ir.OpAct:
				for j, z := range v[n.Args[0]] {
					out[j] = refAct(n.Act, z)
				}
			case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
				a, b := v[n.Args[0]], v[n.Args[1]]
				for j := range out {
					p, q := at(a, j), at(b, j)
					switch n.Op {
					case ir.OpAdd:
						out[j] = p + q
					case ir.OpSub:
						out[j] = p - q
					case ir.OpMul:
						out[j] = p * q
					case ir.OpDiv:
						out[j] = p / q
					}
				}
			case ir.OpNeg:
				for j, z := range v[n.Args[0]] {
					out[j] = -z
				}
			case ir.OpIndex:
				out[0] = v[n.Args[0]][n.Col]
			}
			v[i] = out
		}
		l := m.Lik
		a0 := v[l.Args[0]]
		var lp float64
		switch l.Family {
		case ir.LikNormal:
			lp, _, _ = dist.NormalLogProb(y[r], a0[0], v[l.Args[1]][0])
			outs = append(outs, []float64{a0[0], v[l.Args[1]][0]})
		case ir.LikStudentT:
			lp, _, _ = dist.StudentTLogProb(y[r], l.DF, a0[0], v[l.Args[1]][0])
			outs = append(outs, []float64{a0[0], v[l.Args[1]][0]})
		case ir.LikPoisson:
			lp, _ = dist.PoissonLogProb(y[r], a0[0])
			outs = append(outs, []float64{a0[0], 0})
		case ir.LikGamma:
			lp, _, _ = dist.GammaLogProb(y[r], a0[0], v[l.Args[1]][0])
			outs = append(outs, []float64{a0[0], v[l.Args[1]][0]})
		case ir.LikBernoulli:
			lp, _ = dist.BernoulliLogitLogProb(y[r], a0[0])
			l0, _ := dist.BernoulliLogitLogProb(0, a0[0])
			l1, _ := dist.BernoulliLogitLogProb(1, a0[0])
			outs = append(outs, []float64{l0, l1})
		case ir.LikCategorical:
			lp = dist.CategoricalLogitLogProb(nil, a0, int(y[r]))
			row := make([]float64, len(a0))
			for k := range row {
				row[k] = dist.CategoricalLogitLogProb(nil, a0, k)
			}
			outs = append(outs, row)
		}
		loss -= lp
	}
	return loss, outs
}

func refAct(a ir.Act, z float64) float64 {
	switch a {
	case ir.ReLU:
		if z > 0 {
			return z
		}
		return 0
	case ir.Tanh:
		return math.Tanh(z)
	case ir.Sigmoid:
		return 1 / (1 + math.Exp(-z))
	case ir.Softplus:
		return math.Log1p(math.Exp(z))
	case ir.GELU:
		return 0.5 * z * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(z+0.044715*z*z*z)))
	case ir.Sin:
		return math.Sin(z)
	case ir.Exp:
		return math.Exp(z)
	}
	return z
}

// mlp builds an MLP with ReLU hidden layers and a categorical likelihood.
func mlp(widths ...int) *ir.Model {
	b := newBuilder(widths[0])
	h := 0
	for i := 1; i < len(widths); i++ {
		h = b.dense(h, widths[i], normalPrior(0, 1), normalPrior(0, 1))
		if i < len(widths)-1 {
			h = b.act(h, ir.ReLU)
		}
	}
	return b.lik(ir.LikCategorical, 0, widths[len(widths)-1], h)
}

func mustCompile(t interface{ Fatal(...any) }, m *ir.Model) *Program {
	p, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// randomTheta is an Init draw with every coordinate nudged, so biases and
// params are not at zero.
func randomTheta(p *Program, rng *rand.Rand) []float64 {
	th := make([]float64, p.Dim())
	p.Init(th, rng)
	for j := range th {
		th[j] += 0.3 * rng.NormFloat64()
	}
	return th
}
