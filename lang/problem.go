package lang

import (
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// newProblem wires a compiled program and its (already standardised)
// training data into the inference seam. x may be nil for a problem that is
// only used to predict (a loaded posterior).
func newProblem(prog *compile.Program, x *mat.Dense, y []float64) *infer.Problem {
	p, _ := newProblemMachine(prog, x, y)
	return p
}

// newProblemMachine is newProblem, also returning the machine it runs on.
func newProblemMachine(prog *compile.Program, x *mat.Dense, y []float64) (*infer.Problem, *compile.Machine) {
	m := prog.Model()
	mach := prog.NewMachine()
	g := &gatherer{x: x, y: y}
	p := &infer.Problem{
		Dim:  prog.Dim(),
		Kind: predictive.Regression,
		Init: func(theta []float64, rng *rand.Rand) { prog.Init(theta, rng) },
		NegLogPrior: func(grad, theta []float64) float64 {
			return prog.NegLogPrior(grad, theta)
		},
		Predict: func(out *predictive.Predictive, thetas [][]float64, x *mat.Dense) {
			mach.Predict(out, thetas, x)
		},
		Outputs: func(dst *mat.Dense, theta []float64, x *mat.Dense) {
			mach.Outputs(dst, theta, x)
		},
	}
	p.Jacobian = func(dst, theta []float64, x *mat.Dense) { mach.Jacobian(dst, theta, x) }
	p.LayerJacobians = func(a, js [][]float64, rest []float64, theta []float64, x *mat.Dense) {
		mach.LayerJacobians(a, js, rest, theta, x)
	}
	p.RestParams = prog.RestParams()
	for _, l := range prog.KronLayers() {
		p.KronLayers = append(p.KronLayers, infer.KronLayer{In: l.In, Out: l.Out, WOff: l.WOff, BOff: l.BOff})
	}
	p.OutputWidth = prog.OutputWidth()
	for _, q := range m.Params {
		p.Tensors = append(p.Tensors, infer.Tensor{Name: q.Name, Off: q.Offset, Size: q.Size()})
	}
	if m.Lik.Family.Classification() {
		p.Kind = predictive.Classification
		p.Classes = m.Lik.Classes
	}
	if loc, scale, ok := prog.PriorNormal(); ok {
		p.PriorLoc, p.PriorScale = loc, scale
	}
	if x != nil {
		p.N = len(y)
		p.Inputs = x
		p.NegLogLik = func(grad, theta []float64, idx []int) float64 {
			xb, yb := g.gather(idx)
			return mach.NegLogLik(grad, theta, xb, yb)
		}
		p.VarNegLogLik = func(gMu, gSigma, mu, sigma []float64, idx []int, rng *rand.Rand) float64 {
			xb, yb := g.gather(idx)
			return mach.VarNegLogLik(gMu, gSigma, mu, sigma, xb, yb, rng)
		}
		p.OutputGrad = func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
			xb, _ := g.gather(idx)
			return mach.OutputGrad(grad, theta, xb, loss)
		}
		p.GGNDiag = func(dst, theta []float64, idx []int) {
			xb, _ := g.gather(idx)
			mach.GGNDiag(dst, theta, xb)
		}
		p.GGN = func(dst, theta []float64, idx []int) {
			xb, _ := g.gather(idx)
			mach.GGN(dst, theta, xb)
		}
		p.KronFactors = func(a, gf [][]float64, theta []float64, idx []int) {
			xb, _ := g.gather(idx)
			mach.KronFactors(a, gf, theta, xb)
		}
		if ls := prog.DenseLayers(); len(ls) > 0 {
			for _, l := range ls {
				p.DenseLayers = append(p.DenseLayers, infer.DenseLayer{WOff: l.WOff, In: l.In, Out: l.Out, OnInput: l.OnInput})
			}
			p.DropoutNegLogLik = func(grad, theta []float64, idx []int, rate float64, layers []int, rng *rand.Rand) float64 {
				xb, yb := g.gather(idx)
				return mach.DropoutNegLogLik(grad, theta, xb, yb, rate, layers, rng)
			}
		}
		if ll, ok := prog.LastLayer(); ok {
			p.LastLayer = ll.Params()
			p.LastLayerGGN = func(dst, theta []float64, idx []int) {
				xb, _ := g.gather(idx)
				mach.LastLayerGGN(dst, theta, xb)
			}
		}
	}
	if x != nil && len(y) > 0 && m.Lik.Family == ir.LikNormal && !fixedNormalScale(m) {
		var pred predictive.Predictive
		th := make([][]float64, 1)
		p.NoiseScale = func(dst, theta []float64, idx []int) {
			xb, _ := g.gather(idx)
			th[0] = theta
			mach.Predict(&pred, th, xb)
			copy(dst, pred.Scale[:len(idx)])
		}
	}
	if x != nil && len(y) > 0 && fixedNormalScale(m) {
		// The scale is a constant: its value at any θ and any row.
		var out predictive.Predictive
		mach.Predict(&out, [][]float64{make([]float64, prog.Dim())}, x.Slice(0, 1, 0, x.RawMatrix().Cols).(*mat.Dense))
		if sd := out.Scale[0]; sd > 0 && !math.IsInf(sd, 0) {
			p.TargetNoise = sd
			p.ShiftTargets = func(shift []float64) *infer.Problem {
				ys := make([]float64, len(y))
				for i := range ys {
					ys[i] = y[i] + shift[i]
				}
				mach.SetSerial(true)
				q, qm := newProblemMachine(prog, x, ys)
				qm.SetSerial(true)
				return q
			}
		}
	}
	// Problems forked to run beside each other (chains, members) keep
	// their products on their own goroutines, the parent's included: in
	// the OpenBLAS build each would otherwise start OpenBLAS's threads.
	p.Fork = func() *infer.Problem {
		mach.SetSerial(true)
		q, qm := newProblemMachine(prog, x, y)
		qm.SetSerial(true)
		return q
	}
	return p, mach
}

// fixedNormalScale reports whether m's likelihood is normal with a scale
// computed from constants alone: not learned, not a function of the input.
func fixedNormalScale(m *ir.Model) bool {
	if m.Lik == nil || m.Lik.Family != ir.LikNormal || len(m.Lik.Args) != 2 {
		return false
	}
	var constant func(id int) bool
	constant = func(id int) bool {
		n := m.Nodes[id]
		switch n.Op {
		case ir.OpConst:
			return true
		case ir.OpAct, ir.OpNeg, ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
			for _, a := range n.Args {
				if !constant(a) {
					return false
				}
			}
			return true
		}
		return false
	}
	return constant(m.Lik.Args[1])
}

// gatherer copies minibatch rows into reused buffers. Views are cached per
// batch size, so a steady-state step allocates nothing.
type gatherer struct {
	x     *mat.Dense
	y     []float64
	buf   []float64
	yb    []float64
	views map[int]*mat.Dense
}

func (g *gatherer) gather(idx []int) (*mat.Dense, []float64) {
	_, d := g.x.Dims()
	n := len(idx)
	if cap(g.buf) < n*d {
		g.buf = make([]float64, n*d)
		g.yb = make([]float64, n)
		g.views = map[int]*mat.Dense{}
	}
	v, ok := g.views[n]
	if !ok {
		v = mat.NewDense(n, d, g.buf[:n*d])
		g.views[n] = v
	}
	raw := g.x.RawMatrix()
	for i, r := range idx {
		copy(g.buf[i*d:(i+1)*d], raw.Data[r*raw.Stride:r*raw.Stride+d])
		g.yb[i] = g.y[r]
	}
	return v, g.yb[:n]
}
