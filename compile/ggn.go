package compile

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/num"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// This file holds the curvature of the likelihood that a Laplace
// approximation needs: the generalized Gauss–Newton (GGN) matrix
//
//	G = Σ_n J_nᵀ Λ_n J_n,
//
// where J_n is the Jacobian of the likelihood's arguments f_n (the network
// outputs: loc and scale, logits, log rate) in θ at example n, and Λ_n is
// the Fisher information of the observation model in f_n. For the canonical
// links (a normal location, logits, a log rate) the Fisher equals the
// Hessian of -log p(y | f), so G is the Hessian with the second-order terms
// of the network dropped: exact for a model that is linear in θ, and
// positive semi-definite always. For a scale argument and for Student-t the
// Hessian can be indefinite and the Fisher is used instead:
//
//	normal(μ, σ):         Λ = diag(1/σ², 2/σ²)
//	student_t(ν, μ, σ):   Λ = diag((ν+1)/((ν+3)σ²), 2ν/((ν+3)σ²))
//	categorical(logits):  Λ = diag(p) − ppᵀ, p = softmax(logits)
//	bernoulli(logit):     Λ = p(1−p)
//	poisson(log_rate):    Λ = exp(log_rate)
//	gamma(log_mean, α):   Λ = diag(α, ψ'(α) − 1/α)
//
// (the families of the kernel table in lik.go give their own diagonal Λ)
//
// None depends on the target, so the calls take no y. Each Λ_n is
// factorised as L_n L_nᵀ (categorical: column k of L is √p_k (e_k − p)), so
// diag(JᵀΛJ) = Σ_k (Jᵀ L_k)²: one backward pass per column k, seeded with
// L_k for the whole batch at once. The per-example gradient of a dense
// weight is a_n δ_nᵀ, so its squares summed over the batch are
// (A⊙A)ᵀ(Δ⊙Δ), one product per layer and pass, never a loop over examples.
// Nodes without batch rows (a `param`, a constant, a dense layer over a
// param) are repeated on every row for these passes, so the per-example
// gradients of the parameters they read are available before the batch sum
// that the ordinary backward pass takes.
//
// A parameter used by two dense layers (the language never builds one) would
// get the sum of the per-layer squares, without the cross terms.

// ggnWork holds the curvature workspaces of a Machine. Like the Machine's
// own, they are created on first use and grown with the batch.
type ggnWork struct {
	rows int         // batch rows the buffers hold
	val  [][]float64 // per live node: its value with one row per example
	rep  [][]float64 // storage of the repeated values of nodes without batch rows
	g    [][]float64 // per θ-dependent live node: the gradient of the current pass
	a2   [][]float64 // per live dense node: A ⊙ A (GGNDiag)
	d2   []float64   // Δ ⊙ Δ of one dense node
	pg   [][]float64 // per parameter read as a row: its per-example gradient
	prob []float64   // categorical: softmax of the logits, rows x K

	// LastLayerTerms and LastLayerGGN.
	ll   LastLayer // the program's LastLayer, found once
	llOK bool
	phi  []float64 // [Φ, 1], rows x (In+1)
	lam  []float64 // Λ̃, rows x Out x Out
	psi  []float64 // one column of Λ̃ times [Φ, 1]
	blk  []float64 // one (In+1) x (In+1) block

	// Jacobian, GGN and KronFactors (jacobian.go).
	sink  int         // what ggnReverse collects besides dst
	jac   []float64   // sinkRows: per-example gradient rows
	jacLd int         // sinkRows: stride between examples' rows in jac
	kronG [][]float64 // sinkKron: per dense node, its Out x Out factor; sinkLayer: its ∂f/∂s rows (nil: skip)
	lOut  int         // sinkLayer: the output column of the pass, and the outputs' width
	lW    int
	rest  []float64   // sinkLayer: rows x lW x len(RestParams)
	kron  []KronLayer // the program's KronLayers, found once
	jrow  []float64   // GGN: the rows of one pass, rows x Dim
}

// curvature returns the Machine's curvature workspaces, creating them on
// first use.
func (m *Machine) curvature() *ggnWork {
	if m.ggn == nil {
		p := m.p
		n := len(p.nodes)
		m.ggn = &ggnWork{val: make([][]float64, n), rep: make([][]float64, n), g: make([][]float64, n),
			a2: make([][]float64, n), pg: make([][]float64, len(p.params))}
		m.ggn.ll, m.ggn.llOK = p.LastLayer()
	}
	return m.ggn
}

// ggnSetup runs the forward pass on x at theta and points w.val at values
// with one row per example. It returns the workspace and the number of rows.
func (m *Machine) ggnSetup(fn string, theta []float64, x *mat.Dense) (*ggnWork, int) {
	p := m.p
	p.checkTheta(theta, fn)
	b := m.checkBatch(fn, x, nil)
	m.predicting = false
	m.setRows(b)
	m.setInput(x, 0, b)
	m.forward(p.order, theta, nil)

	w := m.curvature()
	if b > w.rows {
		d2 := 0
		for _, i := range p.order {
			nd := &p.nodes[i]
			if !nd.batch {
				w.rep[i] = make([]float64, b*nd.width)
			}
			if nd.grad {
				w.g[i] = make([]float64, b*nd.width)
			}
			if nd.op == ir.OpDense {
				w.a2[i] = make([]float64, b*nd.in)
				d2 = max(d2, b*nd.width)
			}
		}
		w.d2 = make([]float64, d2)
		for k, q := range p.params {
			if q.scalar {
				w.pg[k] = make([]float64, b*q.size)
			}
		}
		if p.lik.family == ir.LikCategorical {
			w.prob = make([]float64, b*p.lik.classes)
		}
		w.rows = b
	}
	for _, i := range p.order {
		nd := &p.nodes[i]
		if nd.batch {
			w.val[i] = m.val[i]
			continue
		}
		v, src := w.rep[i][:b*nd.width], m.val[i][:nd.width]
		for r := range b {
			copy(v[r*nd.width:(r+1)*nd.width], src)
		}
		w.val[i] = v
	}
	if p.lik.family == ir.LikCategorical {
		k := p.lik.classes
		logits, prob := w.val[p.lik.args[0]], w.prob[:b*k]
		for r := range b {
			lp := num.LogSoftmax(prob[r*k:(r+1)*k], logits[r*k:(r+1)*k])
			for j, v := range lp {
				lp[j] = math.Exp(v)
			}
		}
	}
	return w, b
}

// ggnPasses is the number of columns of the factor L of Λ: the backward
// passes a curvature call makes.
func (p *Program) ggnPasses() int {
	switch p.lik.family {
	case ir.LikCategorical:
		return p.lik.classes
	}
	if p.lik.args[1] >= 0 {
		return 2
	}
	return 1
}

// ggnSeed zeroes the gradients and seeds the likelihood's arguments with
// column k of L, row by row. It reports false when the pass has nothing to
// propagate (the seeded argument does not depend on θ).
func (m *Machine) ggnSeed(w *ggnWork, k, b int) bool {
	p := m.p
	l := &p.lik
	arg := l.args[0]
	if l.family != ir.LikCategorical && k == 1 {
		arg = l.args[1]
	}
	if !p.nodes[arg].grad {
		return false
	}
	for _, i := range p.order {
		if p.nodes[i].grad {
			clear(w.g[i][:b*p.nodes[i].width])
		}
	}
	g, f := w.g[arg], w.val[l.args[0]]
	switch l.family {
	case ir.LikCategorical:
		nk := l.classes
		prob := w.prob[:b*nk]
		for r := range b {
			pr, gr := prob[r*nk:(r+1)*nk], g[r*nk:(r+1)*nk]
			s := math.Sqrt(pr[k])
			for j, v := range pr {
				gr[j] -= s * v
			}
			gr[k] += s
		}
	case ir.LikBernoulli:
		for r, v := range f[:b] {
			q := num.Sigmoid(v)
			g[r] += math.Sqrt(q * (1 - q))
		}
	default: // a kernel's: the square root of the diagonal Fisher of argument k
		var f1 []float64
		if l.args[1] >= 0 {
			f1 = w.val[l.args[1]]
		}
		sqrtFisher, v1 := kernels[l.family].sqrtFisher, 0.0
		for r, v := range f[:b] {
			if f1 != nil {
				v1 = f1[r]
			}
			ca, cb := sqrtFisher(l, v, v1)
			g[r] += [...]float64{ca, cb}[k]
		}
	}
	return true
}

// ggnReverse propagates the seeded gradients backward through the live nodes
// after node stop, with one row per example. With dst non-nil every
// parameter adds its per-example squared gradient, summed over the rows, to
// dst; with dst nil it only propagates (LastLayerTerms then reads the
// gradient of node stop), unless w.sink asks for per-example gradient rows
// (sinkRows) or Kronecker factors (sinkKron): see jacobian.go.
func (m *Machine) ggnReverse(w *ggnWork, dst, theta []float64, stop, b int) {
	p := m.p
	rows := w.sink == sinkRows
	for k := len(p.order) - 1; k >= 0 && p.order[k] > stop; k-- {
		i := p.order[k]
		n := &p.nodes[i]
		if !n.grad {
			continue
		}
		g := w.g[i][:b*n.width]
		var ga []float64
		if n.a >= 0 && p.nodes[n.a].grad {
			ga = w.g[n.a]
		}
		switch n.op {
		case ir.OpParam:
			if dst != nil || rows || w.sink == sinkLayer {
				floats.Add(w.pg[n.w][:len(g)], g)
			}
		case ir.OpDense:
			switch w.sink {
			case sinkRows:
				m.denseRows(w, n, g, b)
			case sinkLayer:
				if f := w.kronG[i]; f != nil {
					m.layerRows(w, f, g, n.width, b)
				}
			case sinkKron:
				if f := w.kronG[i]; f != nil {
					m.gemm(true, false, n.width, n.width, b, 1, g, n.width, g, n.width, 1, f, n.width)
				}
			}
			if dst != nil {
				d2 := w.d2[:len(g)]
				for j, v := range g {
					d2[j] = v * v
				}
				m.gemm(true, false, n.in, n.width, b, 1, w.a2[i], n.in, d2, n.width, 1, dst[n.wOff:], n.width)
				if n.bOff >= 0 {
					colSumAdd(dst[n.bOff:], d2, b, n.width)
				}
			}
			if ga != nil {
				m.gemm(false, true, b, n.in, n.width, 1, g, n.width, theta[n.wOff:], n.width, 1, ga, n.in)
			}
		case ir.OpFrozen:
			if ga != nil {
				m.frozenBackward(n, b, g, ga)
			}
		case ir.OpAct:
			if ga != nil {
				actBackward(n.act, ga, g, w.val[n.a], w.val[i])
			}
		case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv:
			var gb []float64
			if p.nodes[n.b].grad {
				gb = w.g[n.b]
			}
			if ga == nil && gb == nil {
				continue
			}
			a, bn := &p.nodes[n.a], &p.nodes[n.b]
			binBackward(n.op, g, b, n.width, ga, w.val[n.a], b, a.width, gb, w.val[n.b], b, bn.width)
		case ir.OpNeg:
			if ga != nil {
				floats.AddScaled(ga[:len(g)], -1, g)
			}
		case ir.OpIndex:
			if ga != nil {
				aw := p.nodes[n.a].width
				for r, v := range g {
					ga[r*aw+n.col] += v
				}
			}
		}
	}
	switch w.sink {
	case sinkRows:
		m.paramRows(w, b)
	case sinkLayer:
		m.restRows(w, b)
	}
	if dst == nil {
		return
	}
	for k, q := range p.params {
		if !q.scalar {
			continue
		}
		pg, d := w.pg[k][:b*q.size], dst[q.off:q.off+q.size]
		for r := range b {
			for j, v := range pg[r*q.size : (r+1)*q.size] {
				d[j] += v * v
			}
		}
		clear(pg)
	}
}

// GGNDiag adds to dst (length Dim) the diagonal of the generalized
// Gauss–Newton matrix of the minibatch x at theta, Σ_rows diag(J_rᵀ Λ_r J_r)
// (see the comment at the top of ggn.go for Λ). Its cost is one forward pass
// and one backward pass per column of Λ's factor (1 for a fixed-scale normal,
// bernoulli or poisson; 2 with a learned scale; K for K classes). A
// steady-state call allocates nothing. A non-positive scale gives Inf or
// NaN entries.
func (m *Machine) GGNDiag(dst, theta []float64, x *mat.Dense) {
	p := m.p
	p.checkTheta(dst, "GGNDiag")
	w, b := m.ggnSetup("GGNDiag", theta, x)
	for _, i := range p.order {
		n := &p.nodes[i]
		if n.op != ir.OpDense {
			continue
		}
		a, a2 := w.val[n.a][:b*n.in], w.a2[i][:b*n.in]
		for j, v := range a {
			a2[j] = v * v
		}
	}
	for k := range p.ggnPasses() {
		if m.ggnSeed(w, k, b) {
			m.ggnReverse(w, dst, theta, -1, b)
		}
	}
}

// LastLayer describes the dense layer that a last-layer Laplace
// approximation treats as random: its weight, an In x Out block of θ at
// WOff, and its bias, Out values at BOff (-1 when the layer has none).
type LastLayer struct {
	Node       int // the dense node's ID in the model
	In, Out    int
	WOff, BOff int
}

// Params returns the θ indices of the layer's parameters in the order of
// LastLayerGGN's rows: the weight row-major (feature i, unit c at i·Out+c),
// then the bias. Feature In is the constant 1 that multiplies the bias.
func (l LastLayer) Params() []int {
	idx := make([]int, 0, l.Size())
	for j := range l.In * l.Out {
		idx = append(idx, l.WOff+j)
	}
	if l.BOff >= 0 {
		for c := range l.Out {
			idx = append(idx, l.BOff+c)
		}
	}
	return idx
}

// Size is the number of parameters of the layer, (In+1)·Out with a bias and
// In·Out without.
func (l LastLayer) Size() int {
	if l.BOff >= 0 {
		return (l.In + 1) * l.Out
	}
	return l.In * l.Out
}

// LastLayer returns the last dense layer of the network: among the dense
// layers that the likelihood's first argument (the location, logits or log
// rate) depends on, the one evaluated last. ok is false when there is none
// or it does not act on the inputs row by row (a dense layer over a
// `param`).
func (p *Program) LastLayer() (l LastLayer, ok bool) {
	anc := make([]bool, len(p.nodes))
	anc[p.lik.args[0]] = true
	best := -1
	for i := len(p.nodes) - 1; i >= 0; i-- {
		if !anc[i] {
			continue
		}
		n := &p.nodes[i]
		if n.op == ir.OpDense && best < 0 {
			best = i
		}
		if n.a >= 0 {
			anc[n.a] = true
		}
		if n.b >= 0 {
			anc[n.b] = true
		}
	}
	if best < 0 || !p.nodes[best].batch {
		return LastLayer{}, false
	}
	n := &p.nodes[best]
	return LastLayer{Node: best, In: n.in, Out: n.width, WOff: n.wOff, BOff: n.bOff}, true
}

// LastLayerTerms writes, for the minibatch x at theta, the features of the
// last dense layer (its input φ_r, rows x In, into phi) and the curvature of
// the likelihood in that layer's outputs o_r (rows x Out x Out into lam):
//
//	Λ̃_r = G_rᵀ Λ_r G_r,  G_r = ∂f_r/∂o_r,
//
// where f_r are the likelihood's arguments and every parameter outside the
// layer is held fixed. The GGN over the layer's parameters is then
// Σ_r ([φ_r, 1][φ_r, 1]ᵀ) ⊗ Λ̃_r. It panics when the model has no last
// layer (see LastLayer).
func (m *Machine) LastLayerTerms(phi, lam, theta []float64, x *mat.Dense) {
	w := m.curvature()
	ll, ok := w.ll, w.llOK
	if !ok {
		panic("compile: LastLayerTerms: the model has no dense layer over its inputs before the likelihood")
	}
	w, b := m.lastLayerTerms("LastLayerTerms", ll, theta, x)
	if len(phi) != b*ll.In || len(lam) != b*ll.Out*ll.Out {
		panic(fmt.Sprintf("compile: LastLayerTerms: phi and lam have lengths %d and %d, want %d and %d", len(phi), len(lam), b*ll.In, b*ll.Out*ll.Out))
	}
	copy(phi, w.val[m.p.nodes[ll.Node].a][:b*ll.In])
	copy(lam, w.lam[:b*ll.Out*ll.Out])
}

// lastLayerTerms computes Λ̃ into w.lam; the features are w.val of the
// layer's input.
func (m *Machine) lastLayerTerms(fn string, ll LastLayer, theta []float64, x *mat.Dense) (*ggnWork, int) {
	w, b := m.ggnSetup(fn, theta, x)
	o := ll.Out
	if len(w.lam) < b*o*o {
		w.lam = make([]float64, b*o*o)
		w.phi = make([]float64, b*(ll.In+1))
		w.psi = make([]float64, b*(ll.In+1))
		w.blk = make([]float64, (ll.In+1)*(ll.In+1))
	}
	lam := w.lam[:b*o*o]
	clear(lam)
	for k := range m.p.ggnPasses() {
		if !m.ggnSeed(w, k, b) {
			continue
		}
		m.ggnReverse(w, nil, theta, ll.Node, b)
		u := w.g[ll.Node][:b*o]
		for r := range b {
			ur, lr := u[r*o:(r+1)*o], lam[r*o*o:(r+1)*o*o]
			for c, v := range ur {
				if v != 0 {
					floats.AddScaled(lr[c*o:(c+1)*o], v, ur)
				}
			}
		}
	}
	return w, b
}

// LastLayerGGN adds to dst, a row-major P x P matrix with P = ll.Size() for
// ll = LastLayer(), the generalized Gauss–Newton matrix of the minibatch x
// over the last dense layer's parameters (in the order of ll.Params), with
// every other parameter held at theta:
//
//	Σ_r ([φ_r, 1][φ_r, 1]ᵀ) ⊗ Λ̃_r.
//
// The block of units (c, c') is Φ̃ᵀ diag(Λ̃[:, c, c']) Φ̃, one product per pair
// c ≤ c', so a call costs Out(Out+1)/2 products of (In+1)² x rows on top
// of LastLayerTerms. A steady-state call allocates nothing. It panics when
// the model has no last layer.
func (m *Machine) LastLayerGGN(dst, theta []float64, x *mat.Dense) {
	ll, ok := m.curvature().ll, m.curvature().llOK
	if !ok {
		panic("compile: LastLayerGGN: the model has no dense layer over its inputs before the likelihood")
	}
	P := ll.Size()
	if len(dst) != P*P {
		panic(fmt.Sprintf("compile: LastLayerGGN: dst has length %d, want %d x %d", len(dst), P, P))
	}
	w, b := m.lastLayerTerms("LastLayerGGN", ll, theta, x)
	in, o := ll.In, ll.Out
	f := in // columns of Φ̃
	if ll.BOff >= 0 {
		f++
	}
	phi, a := w.phi[:b*f], w.val[m.p.nodes[ll.Node].a]
	for r := range b {
		copy(phi[r*f:r*f+in], a[r*in:(r+1)*in])
		if f > in {
			phi[r*f+in] = 1
		}
	}
	psi, blk, lam := w.psi[:b*f], w.blk[:f*f], w.lam[:b*o*o]
	for c := range o {
		for c2 := c; c2 < o; c2++ {
			for r := range b {
				s := lam[r*o*o+c*o+c2]
				pr, sr := phi[r*f:(r+1)*f], psi[r*f:(r+1)*f]
				for j, v := range pr {
					sr[j] = s * v
				}
			}
			gemm(true, false, f, f, b, 1, phi, f, psi, f, 0, blk, f)
			for i := range f {
				row := (i*o + c) * P
				for i2, v := range blk[i*f : (i+1)*f] {
					dst[row+i2*o+c2] += v
				}
			}
			if c2 == c {
				continue
			}
			// The mirror block (c2, c) is blkᵀ: walk dst along its rows
			// (and blk down its columns, which stay in cache); walking dst
			// down its columns was 70% of the call at 2570 x 2570.
			for i2 := range f {
				row := (i2*o + c2) * P
				for i := range f {
					dst[row+i*o+c] += blk[i*f+i2]
				}
			}
		}
	}
}
