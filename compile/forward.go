package compile

import (
	"math/rand/v2"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/mat"
)

// NegLogLik returns -Σ_rows log p(y | x, θ) for the minibatch x (B x
// InputWidth) with targets y (length B; a class index as a float64 for
// classification). When grad is non-nil it is overwritten with the gradient
// in θ. A non-positive or non-finite scale yields a +Inf or NaN loss rather
// than a panic; a target outside the likelihood's support (a class index out
// of range, a negative count) panics.
func (m *Machine) NegLogLik(grad, theta []float64, x *mat.Dense, y []float64) float64 {
	p := m.p
	p.checkTheta(theta, "NegLogLik")
	b := m.checkBatch("NegLogLik", x, y)
	m.predicting = false
	m.setRows(b)
	m.setInput(x, 0, b)
	m.forward(p.order, theta, nil)
	if grad == nil {
		return m.negLogLik(y, false)
	}
	p.checkTheta(grad, "NegLogLik")
	m.setGradRows(b)
	clear(grad)
	loss := m.negLogLik(y, true)
	m.backward(grad, theta)
	return loss
}

// forward evaluates the nodes of list in order. theta holds the parameters;
// with a non-nil rng dense layers are sampled by local reparameterisation
// (theta then holds μ and m.sig2 holds σ²) and parameter rows read m.sample.
func (m *Machine) forward(list []int, theta []float64, rng *rand.Rand) {
	p := m.p
	for _, i := range list {
		n := &p.nodes[i]
		switch n.op {
		case ir.OpInput, ir.OpConst:
			// Set by setInput and NewMachine.
		case ir.OpParam:
			src := theta
			if rng != nil {
				src = m.sample
			}
			m.val[i] = src[n.wOff : n.wOff+n.width]
		case ir.OpDense:
			switch {
			case rng != nil:
				m.lrtForward(i, theta, rng)
			case m.dropping(i):
				m.dropForward(i, theta)
			case m.predicting && !m.noWide && m.wide[i] != nil:
				m.wideForward(i, theta)
			default:
				m.denseForward(i, theta)
			}
		case ir.OpFrozen:
			m.frozenForward(i)
		case ir.OpAct:
			actForward(n.act, m.val[i], m.val[n.a])
		case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
			a, b := &p.nodes[n.a], &p.nodes[n.b]
			binForward(n.op, m.val[i], m.rows[i], n.width,
				m.val[n.a], m.rows[n.a], a.width, m.val[n.b], m.rows[n.b], b.width)
		case ir.OpNeg:
			out, a := m.val[i], m.val[n.a]
			for j, v := range a {
				out[j] = -v
			}
		case ir.OpIndex:
			out, a, w := m.val[i], m.val[n.a], p.nodes[n.a].width
			for r := range out {
				out[r] = a[r*w+n.col]
			}
		}
	}
}

// denseForward computes X·W + b.
func (m *Machine) denseForward(i int, theta []float64) {
	n := &m.p.nodes[i]
	rows, out := m.rows[i], m.val[i]
	mm := m.gemm
	if m.predicting {
		mm = gemmSplit
	}
	mm(false, false, rows, n.width, n.in, 1, m.val[n.a], n.in, theta[n.wOff:], n.width, 0, out, n.width)
	if n.bOff >= 0 {
		addRows(out, rows, n.width, theta[n.bOff:])
	}
}
