package compile

import (
	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/floats"
)

// backward runs reverse mode over the live nodes after negLogLik has seeded
// the gradients of the likelihood's arguments. Parameter gradients are added
// into grad (θ layout). With lrt set, grad is the gradient in μ, dense layers
// add d loss/d σ² into gSig2 and parameter rows add g ⊙ ε into m.gSigRows;
// theta then holds μ.
func (m *Machine) backward(grad, theta []float64) { m.reverse(grad, nil, theta, false) }

func (m *Machine) reverse(grad, gSig2, theta []float64, lrt bool) {
	p := m.p
	for k := len(p.order) - 1; k >= 0; k-- {
		i := p.order[k]
		n := &p.nodes[i]
		if !n.grad {
			continue
		}
		g := m.gval[i]
		var ga []float64
		if n.a >= 0 && p.nodes[n.a].grad {
			ga = m.gval[n.a]
		}
		switch n.op {
		case ir.OpParam:
			floats.Add(grad[n.wOff:n.wOff+n.width], g)
			if lrt {
				gs, e := m.gSigRows[n.wOff:n.wOff+n.width], m.eps[n.wOff:]
				for j, v := range g {
					gs[j] += v * e[j]
				}
			}
		case ir.OpDense:
			switch {
			case lrt:
				m.lrtBackward(i, grad, gSig2, theta, ga)
			case m.dropping(i):
				m.dropBackward(i, grad, theta, ga)
			default:
				m.denseBackward(i, grad, theta, ga)
			}
		case ir.OpFrozen:
			if ga != nil {
				m.frozenBackward(n, m.rows[i], g, ga)
			}
		case ir.OpAct:
			if ga != nil {
				actBackward(n.act, ga, g, m.val[n.a], m.val[i])
			}
		case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
			var gb []float64
			if p.nodes[n.b].grad {
				gb = m.gval[n.b]
			}
			if ga == nil && gb == nil {
				continue
			}
			a, b := &p.nodes[n.a], &p.nodes[n.b]
			binBackward(n.op, g, m.rows[i], n.width,
				ga, m.val[n.a], m.rows[n.a], a.width,
				gb, m.val[n.b], m.rows[n.b], b.width)
		case ir.OpNeg:
			if ga != nil {
				floats.AddScaled(ga[:len(g)], -1, g)
			}
		case ir.OpIndex:
			if ga != nil {
				w := p.nodes[n.a].width
				for r, v := range g {
					ga[r*w+n.col] += v
				}
			}
		}
	}
}

// denseBackward adds Aᵀ·g to the weight's gradient, the column sums of g to
// the bias's, and g·Wᵀ to the input's gradient ga (when non-nil).
func (m *Machine) denseBackward(i int, grad, theta, ga []float64) {
	n := &m.p.nodes[i]
	rows, g := m.rows[i], m.gval[i]
	m.gemm(true, false, n.in, n.width, rows, 1, m.val[n.a], n.in, g, n.width, 1, grad[n.wOff:], n.width)
	if n.bOff >= 0 {
		colSumAdd(grad[n.bOff:], g, rows, n.width)
	}
	if ga != nil {
		m.gemm(false, true, rows, n.in, n.width, 1, g, n.width, theta[n.wOff:], n.width, 1, ga, n.in)
	}
}
