package compile

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// The output capability: the network's raw outputs and the gradient of an
// arbitrary loss on them. A distilled student (docs/algorithms.md §6) reads a
// classifier's logits as Dirichlet concentrations or soft-label scores, a
// loss the likelihood knows nothing about, so training needs "forward to
// the output node, then backpropagate from a given gradient on it".
//
// The output node is the likelihood's first argument: a classifier's logits
// (B x K; bernoulli B x 1), a Poisson model's log rate, a location-scale
// model's location. Its rows may be a broadcast row (a model whose output
// does not depend on the input); the outputs are then repeated on every row
// and the gradient summed over them.

// outputWork holds the workspaces of OutputGrad, created on first use.
type outputWork struct {
	out  []float64 // the outputs when the node is a broadcast row
	dOut []float64 // the loss's gradient in the outputs
}

// OutputWidth is the number of columns of the output node (the number of
// logits of a categorical model).
func (p *Program) OutputWidth() int { return p.nodes[p.lik.args[0]].width }

// Outputs evaluates the network at the rows of x (N x InputWidth) and
// writes its outputs into dst (N x OutputWidth). Rows are processed in
// chunks of at most 4096, so the workspaces stay bounded whatever N is.
// The pass runs on the caller's goroutine and, once the workspaces have
// grown to the chunk size, allocates nothing.
func (m *Machine) Outputs(dst *mat.Dense, theta []float64, x *mat.Dense) {
	p := m.p
	p.checkTheta(theta, "Outputs")
	n := m.checkBatch("Outputs", x, nil)
	o := p.lik.args[0]
	w := p.nodes[o].width
	if r, c := dst.Dims(); r != n || c != w {
		panic(fmt.Sprintf("compile: Outputs: dst is %d x %d, want %d x %d", r, c, n, w))
	}
	m.predicting = false
	raw := dst.RawMatrix()
	for r0 := 0; r0 < n; r0 += m.maxRows {
		rows := min(m.maxRows, n-r0)
		m.setRows(rows)
		m.setInput(x, r0, rows)
		m.forward(p.order, theta, nil)
		v, step := m.val[o], m.step(o)
		for r := 0; r < rows; r++ {
			copy(raw.Data[(r0+r)*raw.Stride:(r0+r)*raw.Stride+w], v[r*step*w:r*step*w+w])
		}
	}
}

// OutputGrad evaluates the network at the minibatch x (B x InputWidth) and
// calls loss(dOut, out) once, where out holds the outputs (B x OutputWidth,
// row-major; read only) and dOut, zeroed and of the same shape, receives
// the gradient of the loss in them. It returns what loss returns. When grad
// is non-nil it is overwritten with the gradient of that loss in θ, by
// reverse mode from dOut; with a nil grad only the forward pass and loss
// run. out and dOut are valid only during the call.
//
// A steady-state call (same or smaller batch, a loss that does not
// allocate) allocates nothing.
func (m *Machine) OutputGrad(grad, theta []float64, x *mat.Dense, loss func(dOut, out []float64) float64) float64 {
	p := m.p
	p.checkTheta(theta, "OutputGrad")
	b := m.checkBatch("OutputGrad", x, nil)
	o := p.lik.args[0]
	w := p.nodes[o].width
	m.predicting = false
	m.setRows(b)
	m.setInput(x, 0, b)
	m.forward(p.order, theta, nil)

	if m.out == nil {
		m.out = &outputWork{}
	}
	ow := m.out
	if cap(ow.dOut) < b*w {
		ow.dOut = make([]float64, max(b, m.vcap)*w)
	}
	dOut := ow.dOut[:b*w]
	clear(dOut)
	out := m.val[o]
	if m.rows[o] != b { // a broadcast row: repeat it
		if cap(ow.out) < b*w {
			ow.out = make([]float64, max(b, m.vcap)*w)
		}
		rep := ow.out[:b*w]
		for r := 0; r < b; r++ {
			copy(rep[r*w:(r+1)*w], out[:w])
		}
		out = rep
	}
	v := loss(dOut, out[:b*w])
	if grad == nil {
		return v
	}
	p.checkTheta(grad, "OutputGrad")
	m.setGradRows(b)
	clear(grad)
	if !p.nodes[o].grad {
		return v // the outputs do not depend on θ
	}
	g := m.gval[o]
	if m.rows[o] == b {
		copy(g, dOut)
	} else {
		for r := 0; r < b; r++ {
			for j, d := range dOut[r*w : (r+1)*w] {
				g[j] += d
			}
		}
	}
	m.backward(grad, theta)
	return v
}
