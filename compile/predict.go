package compile

import (
	"math"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Memory bounds of Predict, in float64s: the packed weights of one sample
// group stay under packBudget, the wide products of one row chunk under
// wideBudget, and no chunk has more than predictRows rows. (A cache-sized
// wideBudget, 2 MiB, measured slower: it shrinks the chunks, and with them
// the per-sample products of the later layers.)
const (
	packBudget  = 1 << 22 // 32 MiB
	wideBudget  = 1 << 22 // 32 MiB
	predictRows = 4096
)

// Predict fills out with the model's outputs at the rows of x for each
// parameter vector in thetas. Regression sets out.Loc and out.Scale (S x N;
// Poisson: Loc is the log rate and Scale is 0) and out.Obs; classification
// sets out.LogProb (S x N x K log-softmax; bernoulli gives K = 2 with
// log σ(-l), log σ(l)).
//
// Samples are batched through BLAS: every dense layer whose input does not
// depend on θ (the first layer) is computed for a group of samples at once as
// X·[W_1 | W_2 | ... | W_G], one wide product; the layers after it run per
// sample. Rows are processed in chunks so memory stays bounded. Predict uses
// the BLAS's threads and, unlike the training calls, may allocate.
func (m *Machine) Predict(out *predictive.Predictive, thetas [][]float64, x *mat.Dense) {
	p := m.p
	n := m.checkBatch("Predict", x, nil)
	for _, th := range thetas {
		p.checkTheta(th, "Predict")
	}
	ns := len(thetas)
	l := &p.lik
	switch l.family {
	case ir.LikCategorical, ir.LikBernoulli:
		out.Resize(predictive.Classification, ns, n, l.classes)
		out.Obs = nil
	default:
		out.Resize(predictive.Regression, ns, n, 0)
		out.Obs = kernels[l.family].obs(l)
	}
	if ns == 0 {
		return
	}
	m.predicting = true
	defer func() { m.predicting = false }()

	var wide []int
	if !m.noWide {
		wide = p.wide
	}
	if m.wide == nil {
		m.wide, m.pack = make([][]float64, len(p.nodes)), make([][]float64, len(p.nodes))
	}
	packPer, outPer := 0, 0 // floats per sample: packed weights, wide outputs per row
	for _, i := range wide {
		packPer += p.nodes[i].in * p.nodes[i].width
		outPer += p.nodes[i].width
	}
	group, chunk := ns, min(n, m.maxRows)
	if len(wide) > 0 {
		if packPer*group > m.packBudget {
			group = max(1, m.packBudget/packPer)
		}
		chunk = min(chunk, max(1, m.wideBudget/(group*outPer)))
	}

	for s0 := 0; s0 < ns; s0 += group {
		g := min(group, ns-s0)
		for _, i := range wide {
			m.packWeights(i, thetas[s0:s0+g])
		}
		for r0 := 0; r0 < n; r0 += chunk {
			rows := min(chunk, n-r0)
			m.setRows(rows)
			m.setInput(x, r0, rows)
			m.forward(p.shared, nil, nil)
			m.wideG = g
			for _, i := range wide {
				nd := &p.nodes[i]
				cols := g * nd.width
				m.wide[i] = growTo(m.wide[i], rows*cols)
				gemmSplit(false, false, rows, cols, nd.in, 1, m.val[nd.a], nd.in, m.pack[i], cols, 0, m.wide[i], cols)
			}
			for t := 0; t < g; t++ {
				m.wideS = t
				m.forward(p.perS, thetas[s0+t], nil)
				m.emit(out, s0+t, r0, rows)
			}
		}
	}
}

// packWeights lays the weight matrices of dense node i for the given samples
// side by side: row r of the result is [W_1[r,:] | ... | W_G[r,:]].
func (m *Machine) packWeights(i int, thetas [][]float64) {
	n := &m.p.nodes[i]
	w, g := n.width, len(thetas)
	pk := growTo(m.pack[i], n.in*g*w)
	m.pack[i] = pk
	for t, th := range thetas {
		src := th[n.wOff : n.wOff+n.in*w]
		for r := 0; r < n.in; r++ {
			copy(pk[r*g*w+t*w:r*g*w+(t+1)*w], src[r*w:(r+1)*w])
		}
	}
}

// wideForward takes the current sample's block out of the wide product and
// adds its bias.
func (m *Machine) wideForward(i int, theta []float64) {
	n := &m.p.nodes[i]
	rows, w := m.rows[i], n.width
	ld, off := m.wideG*w, m.wideS*w
	src, out := m.wide[i], m.val[i]
	for r := 0; r < rows; r++ {
		copy(out[r*w:(r+1)*w], src[r*ld+off:r*ld+off+w])
	}
	if n.bOff >= 0 {
		addRows(out, rows, w, theta[n.bOff:])
	}
}

// emit writes the likelihood's arguments for sample s at rows [r0, r0+rows).
func (m *Machine) emit(out *predictive.Predictive, s, r0, rows int) {
	p := m.p
	l := &p.lik
	a0 := l.args[0]
	v0, s0 := m.val[a0], m.step(a0)
	base := s*out.N + r0
	switch l.family {
	case ir.LikCategorical:
		k := l.classes
		dst := out.LogProb[base*k : (base+rows)*k]
		for r := 0; r < rows; r++ {
			logSoftmax(dst[r*k:(r+1)*k], v0[r*s0*k:r*s0*k+k])
		}
	case ir.LikBernoulli:
		dst := out.LogProb[base*2 : (base+rows)*2]
		for r := 0; r < rows; r++ {
			z := v0[r*s0]
			dst[2*r] = -softplus(z)
			dst[2*r+1] = -softplus(-z)
		}
	default: // a kernel's one or two arguments, as Loc and Scale
		var v1 []float64
		s1 := 0
		if a1 := l.args[1]; a1 >= 0 {
			v1, s1 = m.val[a1], m.step(a1)
		}
		loc, scale := out.Loc[base:base+rows], out.Scale[base:base+rows]
		for r := range loc {
			loc[r], scale[r] = v0[r*s0], 0
			if v1 != nil {
				scale[r] = v1[r*s1]
			}
		}
	}
}

// logSoftmax writes z - LogSumExp(z) into dst.
func logSoftmax(dst, z []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - mx)
	}
	lse := mx + math.Log(s)
	for j, v := range z {
		dst[j] = v - lse
	}
}

func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

func growTo(b []float64, n int) []float64 {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]float64, n)
}
