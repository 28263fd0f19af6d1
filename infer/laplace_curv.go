package infer

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// lapCurv is the curvature of a Laplace approximation at the mode before
// the prior is added, with what the prior precision's tuning and the
// evidence need. The coordinates it covers are split into a full block
// (fullIdx), Kronecker blocks (kron) and diagonal ones (diagIdx); the
// others stay at the mode.
type lapCurv struct {
	theta, loc, prec0 []float64 // the mode, the prior mean and P₀'s diagonal
	logLik            float64   // log p(D | θ_MAP)
	group             []int     // per coordinate: its prior-precision group (a tensor)
	ngroup            int

	fullIdx []int
	fullG   []float64 // GGN over fullIdx, symmetric, row-major
	diagIdx []int
	diagH   []float64 // GGN diagonal over diagIdx
	kron    []kronCurv
}

// kronCurv is one Kronecker block: an in x out row-major block of θ at off
// (a bias is a block with in = 1), with curvature (A ⊗ G) given by the
// eigenvalues and eigenvectors of its two factors. The model's prior
// precision prec0 is one number over the block.
type kronCurv struct {
	off, in, out int
	qa, qg       []float64 // eigenvectors as columns, in x in and out x out
	alpha, gamma []float64
	prec0        float64
	group        int
}

// covered returns the coordinates the curvature covers.
func (c *lapCurv) covered() []int {
	idx := append(append([]int(nil), c.fullIdx...), c.diagIdx...)
	for _, b := range c.kron {
		for j := range b.in * b.out {
			idx = append(idx, b.off+j)
		}
	}
	return idx
}

// laplaceAt builds the Laplace posterior around theta.
func laplaceAt(ctx context.Context, p *Problem, theta []float64, s laplaceSpec) (*LaplacePosterior, error) {
	c, err := newLapCurv(ctx, p, theta, s)
	if err != nil {
		return nil, err
	}
	post := &LaplacePosterior{Mean: theta, By: "laplace", Predictive: s.predictive, LinkApprox: s.link}
	if s.subset == subsetLastLayer {
		post.Index = append([]int(nil), p.LastLayer...)
	}
	tau := make([]float64, c.ngroup)
	switch {
	case s.tau > 0:
		for g := range tau {
			tau[g] = s.tau
		}
	default:
		lam, err := c.whitenedEigenvalues()
		if err != nil {
			return nil, err
		}
		t0 := tunePriorPrecision(lam, c.scatter(nil))
		for g := range tau {
			tau[g] = t0
		}
		if s.prior == priorLayers {
			if err := c.tuneLayers(tau); err != nil {
				return nil, err
			}
		}
	}
	logDet, err := c.build(post, tau)
	if err != nil {
		return nil, err
	}
	post.PriorPrecision = tau[0]
	if s.prior == priorLayers {
		post.PriorPrecision = 0
		post.LayerPrecision = tau
	}
	post.LogEvidence = c.logLik - 0.5*(logDet-c.logDetPrior(tau)+c.scatter(tau))
	return post, nil
}

// newLapCurv computes the curvature the spec asks for over all N rows.
func newLapCurv(ctx context.Context, p *Problem, theta []float64, s laplaceSpec) (*lapCurv, error) {
	d := p.Dim
	c := &lapCurv{theta: theta, loc: make([]float64, d), prec0: make([]float64, d), group: make([]int, d)}
	for j := range d {
		c.prec0[j] = 1
		if p.PriorScale != nil {
			c.loc[j] = p.PriorLoc[j]
			c.prec0[j] = 1 / (p.PriorScale[j] * p.PriorScale[j])
		}
		c.group[j] = -1
	}
	for t, tn := range p.Tensors {
		for j := tn.Off; j < tn.Off+tn.Size && j < d; j++ {
			c.group[j] = t
		}
	}
	c.ngroup = len(p.Tensors)
	rest := false
	for j, g := range c.group {
		if g < 0 {
			c.group[j] = c.ngroup
			rest = true
		}
	}
	if rest {
		c.ngroup++
	}

	rows := make([]int, p.N)
	for i := range rows {
		rows[i] = i
	}
	chunksOf := func(size int, f func(idx []int)) error {
		for lo := 0; lo < p.N; lo += size {
			if err := ctx.Err(); err != nil {
				return err
			}
			f(rows[lo:min(lo+size, p.N)])
		}
		return nil
	}
	chunks := func(f func(idx []int)) error { return chunksOf(laplaceChunk, f) }
	if err := chunks(func(idx []int) { c.logLik -= p.NegLogLik(nil, theta, idx) }); err != nil {
		return nil, err
	}
	if !isFinite(c.logLik) {
		return nil, fmt.Errorf("laplace: the log-likelihood at the mode is %g", c.logLik)
	}

	// diagOver fills the diagonal part over idx from GGNDiag.
	diagOver := func(idx []int) error {
		h := make([]float64, d)
		if err := chunks(func(ix []int) { p.GGNDiag(h, theta, ix) }); err != nil {
			return err
		}
		c.diagIdx, c.diagH = idx, make([]float64, len(idx))
		for i, j := range idx {
			if v := h[j]; !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("laplace: the curvature of parameter %d is %g", j, v)
			}
			c.diagH[i] = h[j]
		}
		return nil
	}

	switch s.hessian {
	case hessDiag:
		idx := p.LastLayer
		if s.subset == subsetAll {
			idx = make([]int, d)
			for j := range idx {
				idx[j] = j
			}
		}
		if err := diagOver(idx); err != nil {
			return nil, err
		}
	case hessFull:
		var g []float64
		var err error
		if s.subset == subsetLastLayer {
			k := len(p.LastLayer)
			g = make([]float64, k*k)
			err = chunksOf(laplaceLastChunk, func(idx []int) { p.LastLayerGGN(g, theta, idx) })
			c.fullIdx = p.LastLayer
		} else {
			g = make([]float64, d*d)
			err = chunks(func(idx []int) { p.GGN(g, theta, idx) })
			c.fullIdx = make([]int, d)
			for j := range d {
				c.fullIdx[j] = j
			}
		}
		if err != nil {
			return nil, err
		}
		k := len(c.fullIdx)
		upper := s.subset == subsetAll // GGN writes the upper triangle only
		for a := range k {
			for b := a; b < k; b++ {
				v := g[a*k+b]
				if !upper {
					v = 0.5 * (v + g[b*k+a])
				}
				if !isFinite(v) {
					return nil, fmt.Errorf("laplace: the curvature at (%d, %d) is %g", c.fullIdx[a], c.fullIdx[b], v)
				}
				g[a*k+b], g[b*k+a] = v, v
			}
		}
		c.fullG = g
	case hessKron:
		if err := c.kronCurvature(p, chunks, s.subset == subsetLastLayer); err != nil {
			return nil, err
		}
		if s.subset == subsetAll {
			inKron := make([]bool, d)
			for _, b := range c.kron {
				for j := range b.in * b.out {
					inKron[b.off+j] = true
				}
			}
			var restIdx []int
			for j, in := range inKron {
				if !in {
					restIdx = append(restIdx, j)
				}
			}
			if len(restIdx) > 0 {
				if err := diagOver(restIdx); err != nil {
					return nil, err
				}
			}
		}
	}
	return c, nil
}

// kronCurvature collects the K-FAC factors over the data and
// eigendecomposes them: per layer a weight block (A/N) ⊗ G and a bias
// block G (laplace-torch's separate bias).
func (c *lapCurv) kronCurvature(p *Problem, chunks func(func([]int)) error, lastOnly bool) error {
	nl := len(p.KronLayers)
	a, g := make([][]float64, nl), make([][]float64, nl)
	last := lastKronLayer(p)
	for l, ly := range p.KronLayers {
		if lastOnly && l != last {
			continue
		}
		a[l], g[l] = make([]float64, ly.In*ly.In), make([]float64, ly.Out*ly.Out)
	}
	if err := chunks(func(idx []int) { p.KronFactors(a, g, c.theta, idx) }); err != nil {
		return err
	}
	for l, ly := range p.KronLayers {
		if a[l] == nil {
			continue
		}
		for i := range a[l] {
			a[l][i] /= float64(p.N)
		}
		qa, alpha, err := eigenSym(a[l], ly.In)
		if err != nil {
			return err
		}
		qg, gamma, err := eigenSym(g[l], ly.Out)
		if err != nil {
			return err
		}
		w := kronCurv{off: ly.WOff, in: ly.In, out: ly.Out, qa: qa, qg: qg, alpha: alpha, gamma: gamma}
		if err := c.addKron(w); err != nil {
			return err
		}
		if ly.BOff >= 0 {
			b := kronCurv{off: ly.BOff, in: 1, out: ly.Out, qa: []float64{1}, qg: qg, alpha: []float64{1}, gamma: gamma}
			if err := c.addKron(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// addKron appends a block after checking that the model's prior precision
// is one number over it, which a Kronecker-factored precision needs.
func (c *lapCurv) addKron(b kronCurv) error {
	b.prec0, b.group = c.prec0[b.off], c.group[b.off]
	for j := b.off; j < b.off+b.in*b.out; j++ {
		if c.prec0[j] != b.prec0 || c.group[j] != b.group {
			return fmt.Errorf("laplace: hessian kron needs one prior scale per weight matrix and per bias, but it varies within the block at parameter %d: use hessian: full or diag", b.off)
		}
	}
	c.kron = append(c.kron, b)
	return nil
}

// eigenSym returns the eigenvectors (as columns, row-major n x n) and the
// eigenvalues, clamped at 0, of the symmetric n x n matrix a.
func eigenSym(a []float64, n int) ([]float64, []float64, error) {
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := 0.5 * (a[i*n+j] + a[j*n+i])
			if !isFinite(v) {
				return nil, nil, fmt.Errorf("laplace: a Kronecker factor has entry %g", v)
			}
			a[i*n+j], a[j*n+i] = v, v
		}
		if !isFinite(a[i*n+i]) {
			return nil, nil, fmt.Errorf("laplace: a Kronecker factor has entry %g", a[i*n+i])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(n, a), true) {
		return nil, nil, fmt.Errorf("laplace: the eigenvalues of a Kronecker factor did not converge")
	}
	vals := eig.Values(nil)
	for i, v := range vals {
		vals[i] = max(v, 0) // rounding leaves tiny negative ones
	}
	var q mat.Dense
	eig.VectorsTo(&q)
	return q.RawMatrix().Data, vals, nil
}

// scatter is Σ δ_j (θ_j − μ_j)² over the covered coordinates, with
// δ_j = τ_g P₀_j; a nil tau means τ = 1 (the q of the scalar tuning).
func (c *lapCurv) scatter(tau []float64) float64 {
	s := 0.0
	for _, j := range c.covered() {
		dv := c.theta[j] - c.loc[j]
		t := 1.0
		if tau != nil {
			t = tau[c.group[j]]
		}
		s += t * c.prec0[j] * dv * dv
	}
	return s
}

// logDetPrior is Σ log δ_j over the covered coordinates.
func (c *lapCurv) logDetPrior(tau []float64) float64 {
	s := 0.0
	for _, j := range c.covered() {
		s += math.Log(tau[c.group[j]] * c.prec0[j])
	}
	return s
}

// whitenedEigenvalues returns the eigenvalues λ_i of P₀^{-1/2} G P₀^{-1/2},
// with which the evidence of H = G + τP₀ is a function of the scalar τ
// alone (tunePriorPrecision).
func (c *lapCurv) whitenedEigenvalues() ([]float64, error) {
	var lam []float64
	if k := len(c.fullIdx); k > 0 {
		h := make([]float64, k*k)
		r := make([]float64, k) // P₀^{-1/2}, once: a root and a division per entry took 40 ms at k = 1290
		for a, ja := range c.fullIdx {
			r[a] = 1 / math.Sqrt(c.prec0[ja])
		}
		for a, ra := range r {
			ga, ha := c.fullG[a*k:(a+1)*k], h[a*k:(a+1)*k]
			for b, rb := range r {
				ha[b] = ga[b] * ra * rb
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(mat.NewSymDense(k, h), false) {
			return nil, fmt.Errorf("laplace: the eigenvalues of the curvature did not converge")
		}
		for _, v := range eig.Values(nil) {
			lam = append(lam, max(v, 0))
		}
	}
	for i, j := range c.diagIdx {
		lam = append(lam, c.diagH[i]/c.prec0[j])
	}
	for _, b := range c.kron {
		for _, a := range b.alpha {
			for _, g := range b.gamma {
				lam = append(lam, a*g/b.prec0)
			}
		}
	}
	return lam, nil
}

// tuneLayers runs MacKay's fixed point on one τ per group from tau:
// γ_g = Σ_{j∈g} (1 − δ_j [H⁻¹]_jj), τ_g ← γ_g / q_g with q_g the scatter
// of group g at τ_g = 1, until no τ moves by more than 1e-6 relatively.
// With θ fixed (post hoc, as laplace-torch) each step raises the evidence.
func (c *lapCurv) tuneLayers(tau []float64) error {
	q := make([]float64, c.ngroup)
	for _, j := range c.covered() {
		dv := c.theta[j] - c.loc[j]
		q[c.group[j]] += c.prec0[j] * dv * dv
	}
	iters := 200
	if k := len(c.fullIdx); k > 1000 {
		iters = 20 // each step inverts the k x k precision
	}
	gamma := make([]float64, c.ngroup)
	for range iters {
		clear(gamma)
		if err := c.effectiveParams(gamma, tau); err != nil {
			return err
		}
		moved := 0.0
		for g := range tau {
			if q[g] == 0 && gamma[g] == 0 {
				continue // a group the curvature does not cover
			}
			t := maxPriorPrecision
			if q[g] > 0 {
				t = min(max(gamma[g]/q[g], minPriorPrecision), maxPriorPrecision)
			}
			moved = max(moved, math.Abs(math.Log(t/tau[g])))
			tau[g] = t
		}
		if moved < 1e-6 {
			break
		}
	}
	return nil
}

// effectiveParams adds to gamma[g] the effective number of parameters of
// group g at the precisions tau: Σ_{j∈g} (1 − δ_j [H⁻¹]_jj).
func (c *lapCurv) effectiveParams(gamma, tau []float64) error {
	if k := len(c.fullIdx); k > 0 {
		sym := c.fullPrecision(tau)
		var ch mat.Cholesky
		if !ch.Factorize(sym) {
			return fmt.Errorf("laplace: the posterior precision is not positive definite")
		}
		inv := mat.NewSymDense(k, nil)
		if err := ch.InverseTo(inv); err != nil {
			return fmt.Errorf("laplace: %v", err)
		}
		for a, j := range c.fullIdx {
			gamma[c.group[j]] += 1 - tau[c.group[j]]*c.prec0[j]*inv.At(a, a)
		}
	}
	for i, j := range c.diagIdx {
		dl := tau[c.group[j]] * c.prec0[j]
		gamma[c.group[j]] += c.diagH[i] / (c.diagH[i] + dl)
	}
	for _, b := range c.kron {
		dl := tau[b.group] * b.prec0
		for _, a := range b.alpha {
			for _, g := range b.gamma {
				gamma[b.group] += a * g / (a*g + dl)
			}
		}
	}
	return nil
}

// fullPrecision returns G + diag(δ) over fullIdx.
func (c *lapCurv) fullPrecision(tau []float64) *mat.SymDense {
	k := len(c.fullIdx)
	h := make([]float64, k*k)
	copy(h, c.fullG)
	for a, j := range c.fullIdx {
		h[a*k+a] += tau[c.group[j]] * c.prec0[j]
	}
	return mat.NewSymDense(k, h)
}

// build sets the posterior's covariance at the precisions tau and returns
// log det H over the covered coordinates.
func (c *lapCurv) build(post *LaplacePosterior, tau []float64) (float64, error) {
	logDet := 0.0
	d := len(c.theta)
	if k := len(c.fullIdx); k > 0 {
		var ch mat.Cholesky
		if !ch.Factorize(c.fullPrecision(tau)) {
			return 0, fmt.Errorf("laplace: the posterior precision is not positive definite")
		}
		logDet += ch.LogDet()
		// The factor is taken over, not copied (UTo copies element by
		// element: 50 ms at k = 1290); ch is not used again.
		u, ok := ch.RawU().(*mat.TriDense)
		if !ok {
			u = mat.NewTriDense(k, mat.Upper, nil)
			ch.UTo(u)
		}
		post.Factor = u
	}
	if len(c.diagIdx) > 0 {
		post.Std = make([]float64, d)
		for i, j := range c.diagIdx {
			h := c.diagH[i] + tau[c.group[j]]*c.prec0[j]
			logDet += math.Log(h)
			post.Std[j] = 1 / math.Sqrt(h)
		}
	}
	for _, b := range c.kron {
		dl := tau[b.group] * b.prec0
		e := make([]float64, b.in*b.out)
		for i, a := range b.alpha {
			for j, g := range b.gamma {
				e[i*b.out+j] = a*g + dl
				logDet += math.Log(e[i*b.out+j])
			}
		}
		post.Kron = append(post.Kron, KronBlock{Off: b.off, In: b.in, Out: b.out, QA: b.qa, QG: b.qg, E: e})
	}
	if post.Kron != nil && post.Std == nil {
		post.Std = make([]float64, d)
	}
	return logDet, nil
}

// KronBlock is one Kronecker-factored block of a Laplace posterior's
// precision: over the In x Out row-major block of θ at Off it is
// (Q_A ⊗ Q_G) diag(E) (Q_A ⊗ Q_G)ᵀ, with Q_A (In x In) and Q_G (Out x Out)
// the factors' eigenvectors as columns and E_ij = α_i γ_j + δ.
type KronBlock struct {
	Off, In, Out int
	QA, QG, E    []float64
}

// sample adds Q_A (Z ⊙ E^{-½}) Q_Gᵀ to v at the block, for Z (In x Out)
// held in z, which it overwrites; tmp has In·Out numbers.
func (b *KronBlock) sample(v, z, tmp []float64) {
	for i, e := range b.E {
		z[i] /= math.Sqrt(e)
	}
	qa := blas64.General{Rows: b.In, Cols: b.In, Stride: b.In, Data: b.QA}
	qg := blas64.General{Rows: b.Out, Cols: b.Out, Stride: b.Out, Data: b.QG}
	zm := blas64.General{Rows: b.In, Cols: b.Out, Stride: b.Out, Data: z}
	tm := blas64.General{Rows: b.In, Cols: b.Out, Stride: b.Out, Data: tmp}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, qa, zm, 0, tm)
	out := blas64.General{Rows: b.In, Cols: b.Out, Stride: b.Out, Data: v[b.Off : b.Off+b.In*b.Out]}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, tm, qg, 1, out)
}

// whiten writes (Q_Aᵀ V Q_G) ⊙ E^{-½} into dst for the block's slice v of a
// vector (In x Out); tmp has In·Out numbers. Then ‖dst‖² = vᵀ H⁻¹ v.
func (b *KronBlock) whiten(dst, v, tmp []float64) {
	qa := blas64.General{Rows: b.In, Cols: b.In, Stride: b.In, Data: b.QA}
	qg := blas64.General{Rows: b.Out, Cols: b.Out, Stride: b.Out, Data: b.QG}
	vm := blas64.General{Rows: b.In, Cols: b.Out, Stride: b.Out, Data: v}
	tm := blas64.General{Rows: b.In, Cols: b.Out, Stride: b.Out, Data: tmp}
	dm := blas64.General{Rows: b.In, Cols: b.Out, Stride: b.Out, Data: dst}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, qa, vm, 0, tm)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, tm, qg, 0, dm)
	for i, e := range b.E {
		dst[i] /= math.Sqrt(e)
	}
}
