package compile

import (
	"math/rand/v2"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/vec"
	"gonum.org/v1/gonum/mat"
)

// lrtJitter keeps sqrt(δ) and its derivative finite when every σ is zero.
const lrtJitter = 1e-16

// VarNegLogLik is one Monte-Carlo draw of -Σ_rows log p(y | x, θ) under the
// factorised Gaussian q(θ) = N(mu, diag(sigma²)), using the local
// reparameterisation trick (Kingma, Salimans & Welling 2015). For each dense
// layer with input A the pre-activations are sampled directly,
//
//	γ = A·μ_W + μ_b,  δ = (A⊙A)·(σ_W⊙σ_W) + σ_b²,  out = γ + sqrt(δ + 1e-16)⊙ζ,
//
// with ζ ~ N(0, 1) fresh for every example and unit. Parameters read as rows
// (`param` blocks) are sampled once per call, θ = μ + σ⊙ε. gMu and gSigma are
// overwritten with the gradients in mu and sigma; pass both nil to skip the
// backward pass. Draws come from rng only, in a fixed order (the ε of the
// parameter rows in parameter order, then, layer by layer, four words that
// seed the generator of the layer's ζ, stdlib/vec.Normals), so equal seeds
// give equal results. A steady-state call allocates nothing.
func (m *Machine) VarNegLogLik(gMu, gSigma, mu, sigma []float64, x *mat.Dense, y []float64, rng *rand.Rand) float64 {
	p := m.p
	p.checkTheta(mu, "VarNegLogLik")
	p.checkTheta(sigma, "VarNegLogLik")
	if (gMu == nil) != (gSigma == nil) {
		panic("compile: VarNegLogLik: gMu and gSigma must both be nil or both be set")
	}
	b := m.checkBatch("VarNegLogLik", x, y)
	m.predicting = false
	m.setRows(b)
	m.setInput(x, 0, b)
	m.setLRTRows(b)
	for _, q := range p.params {
		if q.dense {
			s, s2 := sigma[q.off:q.off+q.size], m.sig2[q.off:q.off+q.size]
			for j, v := range s {
				s2[j] = v * v
			}
		}
		if q.scalar {
			e, t := m.eps[q.off:q.off+q.size], m.sample[q.off:q.off+q.size]
			s, u := sigma[q.off:q.off+q.size], mu[q.off:q.off+q.size]
			for j := range e {
				e[j] = rng.NormFloat64()
				t[j] = u[j] + s[j]*e[j]
			}
		}
	}
	m.forward(p.order, mu, rng)
	if gMu == nil {
		return m.negLogLik(y, false)
	}
	p.checkTheta(gMu, "VarNegLogLik")
	p.checkTheta(gSigma, "VarNegLogLik")
	m.setGradRows(b)
	clear(gMu)
	clear(gSigma)
	for _, q := range p.params {
		if q.scalar {
			clear(m.gSigRows[q.off : q.off+q.size])
		}
	}
	loss := m.negLogLik(y, true)
	m.reverse(gMu, gSigma, mu, true)
	// gSigma holds d loss/d σ² for dense parameters: chain through σ² = σ·σ,
	// then add the contributions of parameters read as rows.
	for _, q := range p.params {
		if q.dense {
			s, g := sigma[q.off:q.off+q.size], gSigma[q.off:q.off+q.size]
			for j, v := range s {
				g[j] *= 2 * v
			}
		}
		if q.scalar {
			g, h := gSigma[q.off:q.off+q.size], m.gSigRows[q.off:q.off+q.size]
			for j, v := range h {
				g[j] += v
			}
		}
	}
	return loss
}

// setLRTRows sizes the local-reparameterisation workspaces for b rows.
func (m *Machine) setLRTRows(b int) {
	p := m.p
	if m.sig2 == nil {
		m.sig2 = make([]float64, p.dim)
		m.sample = make([]float64, p.dim)
		m.eps = make([]float64, p.dim)
		m.gSigRows = make([]float64, p.dim)
		n := len(p.nodes)
		m.a2, m.sd, m.zeta = make([][]float64, n), make([][]float64, n), make([][]float64, n)
	}
	if b <= m.lcap {
		return
	}
	tmax, umax := 0, 0
	for _, i := range p.order {
		n := &p.nodes[i]
		if n.op != ir.OpDense {
			continue
		}
		r := 1
		if n.batch {
			r = b
		}
		m.a2[i] = make([]float64, r*n.in)
		m.sd[i] = make([]float64, r*n.width)
		m.zeta[i] = make([]float64, r*n.width)
		tmax, umax = max(tmax, r*n.width), max(umax, r*n.in)
	}
	m.tbuf, m.ubuf = make([]float64, tmax), make([]float64, umax)
	m.lcap = b
}

// lrtForward samples a dense layer's output by local reparameterisation.
func (m *Machine) lrtForward(i int, mu []float64, rng *rand.Rand) {
	n := &m.p.nodes[i]
	rows, w, in := m.rows[i], n.width, n.in
	a, out := m.val[n.a], m.val[i]
	m.gemm(false, false, rows, w, in, 1, a, in, mu[n.wOff:], w, 0, out, w)
	a2 := m.a2[i][:rows*in]
	vec.Mul(a2, a[:rows*in], a[:rows*in])
	sd := m.sd[i][:rows*w]
	m.gemm(false, false, rows, w, in, 1, a2, in, m.sig2[n.wOff:], w, 0, sd, w)
	if n.bOff >= 0 {
		addRows(out, rows, w, mu[n.bOff:])
		addRows(sd, rows, w, m.sig2[n.bOff:])
	}
	// ζ from a ziggurat generator seeded by four words of rng (2.3 ns a draw
	// against 6 for rng.NormFloat64, which was 18% of a digits VI step), then
	// sd = sqrt(δ + jitter) and out += sd ⊙ ζ four at a time.
	z := m.zeta[i][:rows*w]
	var g vec.Normals
	g.Seed(rng)
	g.Fill(z)
	vec.SqrtNoise(sd, z, out[:rows*w], lrtJitter)
}

// lrtBackward is the reverse of lrtForward: with t = dout⊙ζ/(2 sqrt δ) it adds
// Aᵀ·dout to dμ_W, (A⊙A)ᵀ·t to dσ²_W, the column sums of dout and t to dμ_b and
// dσ²_b, and dout·μ_Wᵀ + 2A⊙(t·(σ_W²)ᵀ) to the input's gradient ga.
func (m *Machine) lrtBackward(i int, gMu, gSig2, mu, ga []float64) {
	n := &m.p.nodes[i]
	rows, w, in := m.rows[i], n.width, n.in
	g, a := m.gval[i], m.val[n.a]
	sd, z := m.sd[i][:rows*w], m.zeta[i][:rows*w]
	t := m.tbuf[:rows*w]
	vec.HalfMulDiv(t, g[:rows*w], z, sd)
	m.gemm(true, false, in, w, rows, 1, a, in, g, w, 1, gMu[n.wOff:], w)
	m.gemm(true, false, in, w, rows, 1, m.a2[i], in, t, w, 1, gSig2[n.wOff:], w)
	if n.bOff >= 0 {
		colSumAdd(gMu[n.bOff:], g, rows, w)
		colSumAdd(gSig2[n.bOff:], t, rows, w)
	}
	if ga == nil {
		return
	}
	m.gemm(false, true, rows, in, w, 1, g, w, mu[n.wOff:], w, 1, ga, in)
	u := m.ubuf[:rows*in]
	m.gemm(false, true, rows, in, w, 1, t, w, m.sig2[n.wOff:], w, 0, u, in)
	vec.AddMul2(ga[:rows*in], a[:rows*in], u)
}
