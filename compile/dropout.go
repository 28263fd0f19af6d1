package compile

import (
	"fmt"
	"math/rand/v2"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/mat"
)

// DenseLayer is a dense layer that acts on the inputs row by row: its
// weight is an In x Out block of θ at WOff, row-major (input unit i's
// outgoing weights are the row at WOff + i·Out), its bias Out values at
// BOff (-1 when it has none). OnInput is set when the layer reads the
// model's input directly (its input does not depend on θ).
type DenseLayer struct {
	Node       int // the dense node's ID in the model
	In, Out    int
	WOff, BOff int
	OnInput    bool
}

// DenseLayers returns the live dense layers over the batch, in evaluation
// order: the layers whose inputs dropout acts on (DropoutNegLogLik). A
// dense layer over a `param` row is not among them.
func (p *Program) DenseLayers() []DenseLayer {
	var ls []DenseLayer
	for _, i := range p.order {
		n := &p.nodes[i]
		if n.op != ir.OpDense || !n.batch {
			continue
		}
		ls = append(ls, DenseLayer{Node: i, In: n.in, Out: n.width, WOff: n.wOff, BOff: n.bOff, OnInput: !p.nodes[n.a].dep})
	}
	return ls
}

// dropWork holds the dropout workspaces, per dense node.
type dropWork struct {
	layers []DenseLayer
	on     []bool      // per node: its input is dropped in this call
	mask   [][]float64 // per node: 0 or 1/(1-rate) per row and input unit
	masked [][]float64 // per node: A ⊙ mask, the product's input
	tmp    []float64   // g·Wᵀ of one node, before the mask
	cap    int
	active bool // inside DropoutNegLogLik
}

// DropoutNegLogLik is NegLogLik with dropout (inverted, as Keras and
// PyTorch do it) on the inputs of the dense layers listed in layers
// (indices into DenseLayers): in every row each input unit of those layers
// is kept with probability 1-rate and then scaled by 1/(1-rate), or set to
// zero, with a fresh mask per row and call. The masks are drawn from rng in
// a fixed order (layer by layer in evaluation order, row-major), so equal
// seeds give equal results. When grad is non-nil it is overwritten with
// the gradient in θ of the loss under those masks. A steady-state call
// allocates nothing. It panics when rate is not in [0, 1) or a layer index
// is out of range.
func (m *Machine) DropoutNegLogLik(grad, theta []float64, x *mat.Dense, y []float64, rate float64, layers []int, rng *rand.Rand) float64 {
	p := m.p
	p.checkTheta(theta, "DropoutNegLogLik")
	if !(rate >= 0 && rate < 1) {
		panic(fmt.Sprintf("compile: DropoutNegLogLik: rate %g is not in [0, 1)", rate))
	}
	b := m.checkBatch("DropoutNegLogLik", x, y)
	w := m.dropSetup(b, layers)
	m.predicting = false
	m.setRows(b)
	m.setInput(x, 0, b)
	w.active = true
	defer func() { w.active = false }()
	scale := 1 / (1 - rate)
	for _, i := range p.order {
		if !w.on[i] {
			continue
		}
		mk := w.mask[i][:b*p.nodes[i].in]
		for j := range mk {
			if rng.Float64() < rate {
				mk[j] = 0
			} else {
				mk[j] = scale
			}
		}
	}
	m.forward(p.order, theta, nil)
	if grad == nil {
		return m.negLogLik(y, false)
	}
	p.checkTheta(grad, "DropoutNegLogLik")
	m.setGradRows(b)
	clear(grad)
	loss := m.negLogLik(y, true)
	m.backward(grad, theta)
	return loss
}

// dropSetup marks the dropped layers and sizes the workspaces for b rows.
func (m *Machine) dropSetup(b int, layers []int) *dropWork {
	p := m.p
	if m.drop == nil {
		m.drop = &dropWork{layers: p.DenseLayers(), on: make([]bool, len(p.nodes)),
			mask: make([][]float64, len(p.nodes)), masked: make([][]float64, len(p.nodes))}
	}
	w := m.drop
	clear(w.on)
	for _, k := range layers {
		if k < 0 || k >= len(w.layers) {
			panic(fmt.Sprintf("compile: DropoutNegLogLik: layer %d out of range [0, %d)", k, len(w.layers)))
		}
		w.on[w.layers[k].Node] = true
	}
	if b > w.cap {
		tmax := 0
		for _, l := range w.layers {
			w.mask[l.Node] = make([]float64, b*l.In)
			w.masked[l.Node] = make([]float64, b*l.In)
			tmax = max(tmax, b*l.In)
		}
		w.tmp = make([]float64, tmax)
		w.cap = b
	}
	return w
}

// dropping reports whether dense node i's input is dropped in this call.
func (m *Machine) dropping(i int) bool { return m.drop != nil && m.drop.active && m.drop.on[i] }

// dropForward computes (A ⊙ mask)·W + b.
func (m *Machine) dropForward(i int, theta []float64) {
	n := &m.p.nodes[i]
	rows, out := m.rows[i], m.val[i]
	a := m.val[n.a][:rows*n.in]
	am := m.drop.masked[i][:rows*n.in]
	mk := m.drop.mask[i]
	for j, v := range a {
		am[j] = v * mk[j]
	}
	m.gemm(false, false, rows, n.width, n.in, 1, am, n.in, theta[n.wOff:], n.width, 0, out, n.width)
	if n.bOff >= 0 {
		addRows(out, rows, n.width, theta[n.bOff:])
	}
}

// dropBackward is the reverse of dropForward: it adds (A ⊙ mask)ᵀ·g to the
// weight's gradient, the column sums of g to the bias's, and (g·Wᵀ) ⊙ mask
// to the input's gradient ga (when non-nil).
func (m *Machine) dropBackward(i int, grad, theta, ga []float64) {
	n := &m.p.nodes[i]
	rows, g := m.rows[i], m.gval[i]
	m.gemm(true, false, n.in, n.width, rows, 1, m.drop.masked[i], n.in, g, n.width, 1, grad[n.wOff:], n.width)
	if n.bOff >= 0 {
		colSumAdd(grad[n.bOff:], g, rows, n.width)
	}
	if ga == nil {
		return
	}
	t := m.drop.tmp[:rows*n.in]
	m.gemm(false, true, rows, n.in, n.width, 1, g, n.width, theta[n.wOff:], n.width, 0, t, n.in)
	mk := m.drop.mask[i]
	for j, v := range t {
		ga[j] += v * mk[j]
	}
}
