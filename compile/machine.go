package compile

import (
	"fmt"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/mat"
)

// Machine runs a Program on one goroutine. It owns every workspace the
// forward and backward passes, the local reparameterisation and Predict need;
// they are sized for the largest batch seen so far and reused afterwards, so a
// steady-state step allocates nothing. Create one Machine per goroutine with
// Program.NewMachine; its methods must not be called concurrently. Training
// calls run entirely on the caller's goroutine; Predict shares its large
// products with short-lived goroutines of its own.
type Machine struct {
	p *Program

	// Forward values. val[i] is node i's current value (rows[i] x width); it
	// aliases own[i], x, θ or a sample buffer.
	vcap int
	own  [][]float64
	val  [][]float64
	rows []int

	// Backward: gval[i] is the gradient of the loss in node i's value.
	gcap int
	gown [][]float64
	gval [][]float64
	krow []float64 // one row of class scores

	// Local reparameterisation workspaces, per dense node.
	lcap     int
	a2       [][]float64 // A ⊙ A, rows x in
	sd       [][]float64 // sqrt(δ + 1e-16), rows x out
	zeta     [][]float64 // ζ ~ N(0, 1), rows x out
	tbuf     []float64   // dout ⊙ ζ / (2 sd) of one dense node
	ubuf     []float64   // t · (σ_W²)ᵀ of one dense node
	sig2     []float64   // σ ⊙ σ, length Dim
	sample   []float64   // θ = μ + σε for parameters read as rows, length Dim
	eps      []float64   // the ε of those parameters
	gSigRows []float64   // Σ g ⊙ ε of those parameters

	// Predict workspaces.
	predicting bool        // inside Predict: threaded BLAS, wide first layers
	pack       [][]float64 // per wide dense node: [W_1 | ... | W_G], in x G*out
	wide       [][]float64 // per wide dense node: X·pack, rows x G*out
	wideG      int         // samples in the current group
	wideS      int         // index of the current sample within the group
	noWide     bool        // benchmark switch: per-sample products for first layers too
	packBudget int         // packBudget; tests lower these to exercise chunking
	wideBudget int         // wideBudget
	maxRows    int         // predictRows

	// serial keeps training products on this goroutine (SetSerial).
	serial bool

	ggn  *ggnWork    // curvature workspaces (ggn.go), created on first use
	out  *outputWork // OutputGrad workspaces (output.go), created on first use
	drop *dropWork   // DropoutNegLogLik workspaces (dropout.go), created on first use
}

// NewMachine returns a Machine with empty workspaces; they are created on
// first use.
func (p *Program) NewMachine() *Machine {
	n := len(p.nodes)
	m := &Machine{
		p:    p,
		own:  make([][]float64, n),
		val:  make([][]float64, n),
		rows: make([]int, n),
		gown: make([][]float64, n),
		gval: make([][]float64, n),

		packBudget: packBudget,
		wideBudget: wideBudget,
		maxRows:    predictRows,
	}
	for _, i := range p.order {
		nd := &p.nodes[i]
		switch {
		case nd.op == ir.OpConst:
			m.own[i] = []float64{nd.value}
		case !nd.batch && ownsValue(nd.op):
			m.own[i] = make([]float64, nd.width)
		}
	}
	return m
}

// setRows points every live node's value at storage for a batch of b rows,
// growing the storage when b exceeds what was allocated before.
func (m *Machine) setRows(b int) {
	p := m.p
	if b > m.vcap {
		for _, i := range p.order {
			nd := &p.nodes[i]
			if nd.batch && ownsValue(nd.op) {
				m.own[i] = make([]float64, b*nd.width)
			}
		}
		m.vcap = b
	}
	for _, i := range p.order {
		nd := &p.nodes[i]
		r := 1
		if nd.batch {
			r = b
		}
		m.rows[i] = r
		if ownsValue(nd.op) || nd.op == ir.OpConst {
			m.val[i] = m.own[i][:r*nd.width]
		}
	}
}

// ownsValue reports whether the node's value lives in Machine storage (as
// opposed to aliasing the input matrix or θ).
func ownsValue(op ir.Op) bool { return op != ir.OpInput && op != ir.OpParam && op != ir.OpConst }

// setGradRows points every gradient buffer at storage for b rows and zeroes it.
func (m *Machine) setGradRows(b int) {
	p := m.p
	if b > m.gcap {
		for _, i := range p.order {
			nd := &p.nodes[i]
			if nd.grad && nd.batch {
				m.gown[i] = make([]float64, b*nd.width)
			}
		}
		m.gcap = b
	}
	if m.krow == nil && p.lik.classes > 0 {
		m.krow = make([]float64, p.lik.classes)
	}
	for _, i := range p.order {
		nd := &p.nodes[i]
		if !nd.grad {
			continue
		}
		if !nd.batch && m.gown[i] == nil {
			m.gown[i] = make([]float64, nd.width)
		}
		g := m.gown[i][:m.rows[i]*nd.width]
		clear(g)
		m.gval[i] = g
	}
}

// setInput points the input node at rows [r0, r0+b) of x, copying only when
// x's rows are not contiguous.
func (m *Machine) setInput(x *mat.Dense, r0, b int) {
	i := m.p.input
	if i < 0 {
		return
	}
	raw := x.RawMatrix()
	w := m.p.model.InputWidth
	if raw.Stride == w {
		m.val[i] = raw.Data[r0*w : (r0+b)*w]
		return
	}
	if len(m.own[i]) < b*w {
		m.own[i] = make([]float64, max(b, m.vcap)*w)
	}
	v := m.own[i][:b*w]
	for r := 0; r < b; r++ {
		copy(v[r*w:(r+1)*w], raw.Data[(r0+r)*raw.Stride:])
	}
	m.val[i] = v
}

// checkBatch panics when the shapes of a call disagree with the program.
func (m *Machine) checkBatch(fn string, x *mat.Dense, y []float64) int {
	r, c := x.Dims()
	if c != m.p.model.InputWidth {
		panic(fmt.Sprintf("compile: %s: x has %d columns, the model's input has width %d", fn, c, m.p.model.InputWidth))
	}
	if y != nil && len(y) != r {
		panic(fmt.Sprintf("compile: %s: x has %d rows but y has %d values", fn, r, len(y)))
	}
	return r
}

// SetSerial makes the machine keep every product of its training calls on
// the caller's goroutine, as the default build always does: with the
// OpenBLAS build, products above a small size otherwise go to OpenBLAS and
// its threads. Set it on machines that run beside each other (chains and
// ensemble members on every core), which would otherwise oversubscribe the
// cores. It changes which kernel computes a product, so results can differ
// in the last bits from those of a machine without it.
func (m *Machine) SetSerial(on bool) { m.serial = on }

// gemm is the package's gemm on this machine's setting.
func (m *Machine) gemm(tA, tB bool, rows, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemmOn(m.serial, tA, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
