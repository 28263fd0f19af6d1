package compile

import (
	"fmt"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// This file holds the per-example curvature a Laplace approximation over
// every parameter needs (docs/algorithms.md §12), on the backward passes of
// ggn.go: the Jacobian of the network outputs at given inputs (the
// linearised predictive's J Σ Jᵀ), the full GGN as a sum of outer products
// of per-example gradient rows, and the Kronecker factors of K-FAC.
//
// A pass seeded with a vector u_r on every row r propagates u_rᵀ ∂f_r/∂θ,
// one gradient row per example: a dense weight's is a_r δ_rᵀ, its bias's
// δ_r, a param read as a row its own gradient on that row. The GGN is
// Σ_r Σ_k g_rk g_rkᵀ with g_rk the row of the pass seeded with column k of
// Λ_r's factor (ggnSeed); the Jacobian's rows are the passes seeded with
// the unit vectors.

// What ggnReverse collects besides the diagonal.
const (
	sinkNone  = iota
	sinkRows  // per-example gradient rows into w.jac
	sinkKron  // per dense node, Σ_r δ_r δ_rᵀ into w.kronG
	sinkLayer // per dense node, its output's gradient rows into w.kronG; params' into w.rest
)

// denseRows adds the per-example gradient of dense node n's weight and bias
// (g is the gradient of its output, b x width) to the rows of w.jac.
func (m *Machine) denseRows(w *ggnWork, n *node, g []float64, b int) {
	a := w.val[n.a]
	in, out := n.in, n.width
	for r := range b {
		row := w.jac[r*w.jacLd:]
		gr := g[r*out : (r+1)*out]
		wr := row[n.wOff : n.wOff+in*out]
		for i, v := range a[r*in : (r+1)*in] {
			if v != 0 {
				floats.AddScaled(wr[i*out:(i+1)*out], v, gr)
			}
		}
		if n.bOff >= 0 {
			floats.Add(row[n.bOff:n.bOff+out], gr)
		}
	}
}

// paramRows moves the per-example gradients of the params read as rows
// into the rows of w.jac and clears them.
func (m *Machine) paramRows(w *ggnWork, b int) {
	for k, q := range m.p.params {
		if !q.scalar {
			continue
		}
		pg := w.pg[k][:b*q.size]
		for r := range b {
			floats.Add(w.jac[r*w.jacLd+q.off:r*w.jacLd+q.off+q.size], pg[r*q.size:(r+1)*q.size])
		}
		clear(pg)
	}
}

// Jacobian writes into dst (rows x OutputWidth x Dim, row-major) the
// Jacobian in θ of the network outputs (the likelihood's first argument:
// logits, a location, a log rate; see Outputs) at the rows of x:
// dst[(r·W + k)·Dim + j] = ∂f_rk/∂θ_j. It costs one forward pass and one
// backward pass per output column, each over the whole batch; the caller
// chooses the batch so that dst stays small (W·Dim numbers per row).
func (m *Machine) Jacobian(dst, theta []float64, x *mat.Dense) {
	p := m.p
	w, b := m.ggnSetup("Jacobian", theta, x)
	o := p.lik.args[0]
	k, d := p.nodes[o].width, p.dim
	if len(dst) != b*k*d {
		panic(fmt.Sprintf("compile: Jacobian: dst has length %d, want %d x %d x %d", len(dst), b, k, d))
	}
	clear(dst)
	if !p.nodes[o].grad {
		return // the outputs do not depend on θ
	}
	w.sink, w.jacLd = sinkRows, k*d
	defer func() { w.sink, w.jac = sinkNone, nil }()
	for c := range k {
		m.clearGGNGrads(w, b)
		g := w.g[o]
		for r := range b {
			g[r*k+c] = 1
		}
		w.jac = dst[c*d:]
		m.ggnReverse(w, nil, theta, -1, b)
	}
}

// clearGGNGrads zeroes the per-example gradients of every θ-dependent node.
func (m *Machine) clearGGNGrads(w *ggnWork, b int) {
	for _, i := range m.p.order {
		if m.p.nodes[i].grad {
			clear(w.g[i][:b*m.p.nodes[i].width])
		}
	}
}

// GGN adds to the upper triangle (row ≤ column) of dst, a row-major
// Dim x Dim matrix, the generalized Gauss–Newton matrix of the minibatch x
// at theta, Σ_r J_rᵀ Λ_r J_r (Λ as at the top of ggn.go); the lower
// triangle is not written. Per column k of Λ's factor it builds the rows
// g_rk = J_rᵀ L_rk of the batch (rows x Dim) and adds their Gram matrix by
// a rank-k update, so a call costs rows·Dim²/2 multiply-adds per column:
// for the small networks a full Laplace is meant for. A steady-state call
// allocates nothing.
func (m *Machine) GGN(dst, theta []float64, x *mat.Dense) {
	p := m.p
	d := p.dim
	if len(dst) != d*d {
		panic(fmt.Sprintf("compile: GGN: dst has length %d, want %d x %d", len(dst), d, d))
	}
	w, b := m.ggnSetup("GGN", theta, x)
	w.jrow = growTo(w.jrow, b*d)
	rows := w.jrow[:b*d]
	w.sink, w.jac, w.jacLd = sinkRows, rows, d
	defer func() { w.sink, w.jac = sinkNone, nil }()
	for k := range p.ggnPasses() {
		if !m.ggnSeed(w, k, b) {
			continue
		}
		clear(rows)
		m.ggnReverse(w, nil, theta, -1, b)
		if haveFMA {
			rankK(blas.Upper, true, d, b, 1, rows, d, nil, 0, 1, dst, d)
		} else { // no assembly kernel: BLAS's own Dsyrk
			blas64.Implementation().Dsyrk(blas.Upper, blas.Trans, d, b, 1, rows, d, 1, dst, d)
		}
	}
}

// KronLayer is one dense layer of a Kronecker-factored (K-FAC) curvature:
// its weight, an In x Out block of θ at WOff (row-major), and its bias, Out
// values at BOff (-1 without one).
type KronLayer struct {
	Node       int
	In, Out    int
	WOff, BOff int
}

// KronLayers returns the live dense layers, in evaluation order: the
// layers KronFactors factorises.
func (p *Program) KronLayers() []KronLayer {
	var ls []KronLayer
	for _, i := range p.order {
		n := &p.nodes[i]
		if n.op == ir.OpDense {
			ls = append(ls, KronLayer{Node: i, In: n.in, Out: n.width, WOff: n.wOff, BOff: n.bOff})
		}
	}
	return ls
}

// KronFactors adds, for each layer l of KronLayers, the two Kronecker
// factors of its GGN block over the minibatch x at theta:
//
//	a[l] (In x In)   += Σ_r a_r a_rᵀ               (a_r the layer's input)
//	g[l] (Out x Out) += Σ_r Σ_k δ_rk δ_rkᵀ          (δ_rk = ∂f_r/∂s_rᵀ L_rk)
//
// with s_r the layer's output and L_rk column k of Λ_r's factor, so that
// g[l] is the exact Σ_r J_{s,r}ᵀ Λ_r J_{s,r} (curvlinops' "type-2", the
// laplace-torch default). K-FAC's weight block is then (a/N) ⊗ g and the
// bias block g. A nil a[l] or g[l] skips that factor. A steady-state call
// allocates nothing.
func (m *Machine) KronFactors(a, g [][]float64, theta []float64, x *mat.Dense) {
	p := m.p
	w0 := m.curvature()
	if w0.kron == nil {
		w0.kron = p.KronLayers()
	}
	ls := w0.kron
	if len(a) != len(ls) || len(g) != len(ls) {
		panic(fmt.Sprintf("compile: KronFactors: %d and %d factors for %d layers", len(a), len(g), len(ls)))
	}
	w, b := m.ggnSetup("KronFactors", theta, x)
	if len(w.kronG) != len(p.nodes) {
		w.kronG = make([][]float64, len(p.nodes))
	}
	for l, ly := range ls {
		if a[l] != nil {
			if len(a[l]) != ly.In*ly.In {
				panic(fmt.Sprintf("compile: KronFactors: factor a[%d] has length %d, want %d", l, len(a[l]), ly.In*ly.In))
			}
			in := w.val[p.nodes[ly.Node].a]
			m.gemm(true, false, ly.In, ly.In, b, 1, in, ly.In, in, ly.In, 1, a[l], ly.In)
		}
		if g[l] != nil && len(g[l]) != ly.Out*ly.Out {
			panic(fmt.Sprintf("compile: KronFactors: factor g[%d] has length %d, want %d", l, len(g[l]), ly.Out*ly.Out))
		}
		w.kronG[ly.Node] = g[l]
	}
	w.sink = sinkKron
	defer func() {
		w.sink = sinkNone
		clear(w.kronG)
	}()
	for k := range p.ggnPasses() {
		if m.ggnSeed(w, k, b) {
			m.ggnReverse(w, nil, theta, -1, b)
		}
	}
}

// RestParams returns the θ indices of the parameters outside dense layers
// (the params read as rows), in the order LayerJacobians writes them.
func (p *Program) RestParams() []int {
	var idx []int
	for _, q := range p.params {
		if q.scalar {
			for j := range q.size {
				idx = append(idx, q.off+j)
			}
		}
	}
	return idx
}

// LayerJacobians writes, for the rows of x at theta, the parts the
// Jacobian of the outputs (those of Outputs, W of them) is made of, without
// forming it: for each layer l of KronLayers, its input a_r into a[l]
// (rows x In) and the Jacobian of the outputs in the layer's output s_r,
// ∂f_rk/∂s_r, into js[l] (rows x W x Out). The Jacobian in the weight
// W[i, c] is then a_ri·js[l][r, k, c] and in the bias js[l][r, k, c]. The
// Jacobian in the parameters RestParams lists goes into rest (rows x W x
// len(RestParams)). A nil a[l] or js[l] is skipped. It costs what Jacobian
// costs in passes, but writes Σ_l (In + W·Out) numbers per row instead of
// W·Dim, which is what a Kronecker-factored or diagonal posterior's
// functional variance needs. A steady-state call allocates nothing.
func (m *Machine) LayerJacobians(a, js [][]float64, rest []float64, theta []float64, x *mat.Dense) {
	p := m.p
	w0 := m.curvature()
	if w0.kron == nil {
		w0.kron = p.KronLayers()
	}
	ls := w0.kron
	if len(a) != len(ls) || len(js) != len(ls) {
		panic(fmt.Sprintf("compile: LayerJacobians: %d inputs and %d Jacobians for %d layers", len(a), len(js), len(ls)))
	}
	w, b := m.ggnSetup("LayerJacobians", theta, x)
	o := p.lik.args[0]
	wd := p.nodes[o].width
	nRest := 0
	for _, q := range p.params {
		if q.scalar {
			nRest += q.size
		}
	}
	if len(rest) != b*wd*nRest {
		panic(fmt.Sprintf("compile: LayerJacobians: rest has length %d, want %d x %d x %d", len(rest), b, wd, nRest))
	}
	if len(w.kronG) != len(p.nodes) {
		w.kronG = make([][]float64, len(p.nodes))
	}
	for l, ly := range ls {
		if a[l] != nil {
			if len(a[l]) != b*ly.In {
				panic(fmt.Sprintf("compile: LayerJacobians: a[%d] has length %d, want %d", l, len(a[l]), b*ly.In))
			}
			copy(a[l], w.val[p.nodes[ly.Node].a][:b*ly.In])
		}
		if js[l] != nil {
			if len(js[l]) != b*wd*ly.Out {
				panic(fmt.Sprintf("compile: LayerJacobians: js[%d] has length %d, want %d", l, len(js[l]), b*wd*ly.Out))
			}
			clear(js[l])
		}
		w.kronG[ly.Node] = js[l]
	}
	clear(rest)
	w.sink, w.lW, w.rest = sinkLayer, wd, rest
	defer func() {
		w.sink, w.rest = sinkNone, nil
		clear(w.kronG)
	}()
	if !p.nodes[o].grad {
		return
	}
	for c := range wd {
		m.clearGGNGrads(w, b)
		g := w.g[o]
		for r := range b {
			g[r*wd+c] = 1
		}
		w.lOut = c
		m.ggnReverse(w, nil, theta, -1, b)
	}
}

// layerRows adds a dense node's output gradient (b x out) for the pass's
// output column to its rows x W x Out block.
func (m *Machine) layerRows(w *ggnWork, f, g []float64, out, b int) {
	for r := range b {
		floats.Add(f[(r*w.lW+w.lOut)*out:(r*w.lW+w.lOut+1)*out], g[r*out:(r+1)*out])
	}
}

// restRows moves the per-example gradients of the params read as rows into
// w.rest at the pass's output column and clears them.
func (m *Machine) restRows(w *ggnWork, b int) {
	nRest := len(w.rest) / max(1, b*w.lW)
	pos := 0
	for k, q := range m.p.params {
		if !q.scalar {
			continue
		}
		pg := w.pg[k][:b*q.size]
		for r := range b {
			dst := w.rest[(r*w.lW+w.lOut)*nRest+pos:]
			floats.Add(dst[:q.size], pg[r*q.size:(r+1)*q.size])
		}
		clear(pg)
		pos += q.size
	}
}
