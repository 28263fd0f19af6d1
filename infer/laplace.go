package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Laplace is the Laplace approximation around a MAP fit, in the sense of
// laplace-torch (Daxberger et al. 2021): the posterior is the Gaussian
// N(θ_MAP, H⁻¹) whose precision H is the curvature of the negative log
// joint at the mode. It returns a *LaplacePosterior. Training is a point
// fit, and the uncertainty comes afterwards from one pass of curvature over
// the data: a cheap way to turn any trained network into a Bayesian one.
// The zero value is ready to use.
//
// The curvature is the generalized Gauss–Newton matrix (GGN) of the
// likelihood, Σ_n J_nᵀ Λ_n J_n with J_n the Jacobian of the network outputs
// and Λ_n the Fisher information of the likelihood in them, plus the
// prior's precision. Unlike the Hessian it is positive semi-definite at any
// θ, and for a model that is linear in θ with a normal likelihood it is
// the Hessian, so the approximation is then exact. Hessian chooses its
// structure:
//
//   - "last_layer" (default; laplace-torch's default subset too, where it
//     uses a Kronecker-factored GGN instead): the full GGN over the
//     last dense layer's weights and
//     bias (Problem.LastLayer, Problem.LastLayerGGN), every other
//     parameter fixed at the MAP; the correlations within the layer are
//     kept, at k(k+1)/2 numbers for k = (features+1)·units.
//   - "diag": the diagonal of the GGN over every parameter
//     (Problem.GGNDiag); a mean-field Gaussian with 2·Dim numbers.
//
// The prior precision is P = τ·P₀, with P₀ the model's own per-coordinate
// prior precision 1/scale² (Problem.PriorScale; when some prior is not
// normal there is none, and P₀ = I around 0) and τ one scalar for the
// whole network, not one per layer: the model's priors already set the
// layers' relative scales. With PriorPrecision zero
// (prior_precision: optimize, the default) τ maximises the Laplace
// approximation of the marginal likelihood at θ_MAP,
//
//	log p(D | τ) ≈ log p(D | θ) − ½τ(θ−μ₀)ᵀP₀(θ−μ₀) − ½ Σ_i log(1 + λ_i/τ),
//
// where λ_i are the eigenvalues of P₀^{-1/2} G P₀^{-1/2} (for "diag", the
// ratios G_jj/P₀_jj). With q = (θ−μ₀)ᵀP₀(θ−μ₀), its derivative in log τ
// is ½(Σ λ_i/(λ_i+τ) − τq), a decreasing function, so the maximiser is the unique root of MacKay's
// fixed-point condition τ = γ/q (γ the effective number of parameters),
// found by bisection on log τ within [1e-8, 1e8]. The mean stays at θ_MAP,
// as in laplace-torch: changing τ does not refit.
//
// Predictions sample θ ~ N(θ_MAP, H⁻¹) and run the network at each draw.
// Over the last layer that is also the linearised (GLM) predictive, since
// that layer's outputs are linear in its weights. Over every parameter
// ("diag") it is not: the directions the data leave undetermined keep the
// prior's width, and a deep network run at such draws can lose most of its
// fit (the weakness of the sampling predictive that laplace-torch avoids
// by linearising). For deep classifiers prefer last_layer, or priors
// scaled by fan-in.
type Laplace struct {
	Hessian string `bl:"hessian,oneof=diag|last_layer"` // "last_layer" (default) or "diag"

	// PriorPrecision is τ, the multiple of the model's prior precision the
	// approximation uses; 0 (prior_precision: optimize) tunes it by the
	// marginal likelihood. τ = 1 is the prior the MAP fit used.
	PriorPrecision float64 `bl:"prior_precision,pos"`

	// The settings of the inner MAP fit when Method is nil; see MAP.
	Epochs int     `bl:"epochs,pos"`
	LR     float64 `bl:"lr,pos"`
	Batch  int     `bl:"batch,pos"`

	// Method finds the mode; nil means MAP{Epochs, LR, Batch}. A script
	// sets it with method: map(...), and then not Epochs, LR or Batch.
	Method PointMethod
}

var (
	_ Method      = (*Laplace)(nil)
	_ EpochCapper = (*Laplace)(nil)
)

// Name returns "laplace".
func (Laplace) Name() string { return "laplace" }

// Hessian structures.
const (
	hessDiag      = "diag"
	hessLastLayer = "last_layer"
)

// laplaceChunk is the number of rows per curvature call.
const laplaceChunk = 128

// laplaceLastChunk is the number of rows per last-layer curvature call:
// each call adds its blocks into the whole k x k matrix, so larger calls
// scatter into it less often (128 rows made the scatter 60% of the
// curvature on digits); its workspace is a few MB at most.
const laplaceLastChunk = 2048

// maxLastLayer bounds the parameters of a last-layer approximation: its
// k x k precision takes 8k² bytes (128 MiB at the bound) and tuning τ needs
// its eigenvalues, about (4/3)k³ flops.
const maxLastLayer = 4096

// Bounds of the tuned prior-precision multiplier τ.
const (
	minPriorPrecision = 1e-8
	maxPriorPrecision = 1e8
)

func (l Laplace) withDefaults() Laplace {
	if l.Hessian == "" {
		l.Hessian = hessLastLayer
	}
	if l.Method == nil {
		l.Method = &MAP{Epochs: l.Epochs, LR: l.LR, Batch: l.Batch}
		l.Epochs, l.LR, l.Batch = 0, 0, 0
	}
	return l
}

// CapEpochs returns a copy whose MAP fit runs at most n epochs.
func (l Laplace) CapEpochs(n int) Method {
	l = l.withDefaults()
	if c, ok := CapEpochs(l.Method, n).(PointMethod); ok {
		l.Method = c
	}
	return &l
}

// Fit finds the mode with the inner method (its progress is reported under
// the name "laplace"), then computes the curvature over all N training rows
// in chunks, tunes τ and returns the Gaussian. It fails when the Problem
// lacks the capability the Hessian setting needs, when the inner fit fails
// (a *DivergenceError passes through), or when the curvature is not finite.
func (l Laplace) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSettings(l); err != nil {
		return nil, fmt.Errorf("laplace: %w", err)
	}
	if math.IsInf(l.PriorPrecision, 0) {
		return nil, fmt.Errorf("laplace: %w", &SettingError{-1, "prior_precision must be finite"})
	}
	if l.Method != nil && (l.Epochs != 0 || l.LR != 0 || l.Batch != 0) {
		return nil, fmt.Errorf("laplace: %w", &SettingError{-1, "epochs, lr and batch configure the inner map fit; with Method set, set them there"})
	}
	if err := checkProblem("laplace", p); err != nil {
		return nil, err
	}
	l = l.withDefaults()
	switch l.Hessian {
	case hessDiag:
		if p.GGNDiag == nil {
			return nil, fmt.Errorf("laplace: the model offers no Gauss-Newton curvature (Problem.GGNDiag)")
		}
	case hessLastLayer:
		if p.LastLayerGGN == nil || len(p.LastLayer) == 0 {
			return nil, fmt.Errorf("laplace: hessian last_layer needs a model whose output comes from a dense layer over its inputs (Problem.LastLayer)")
		}
		if k := len(p.LastLayer); k > maxLastLayer {
			return nil, fmt.Errorf("laplace: the last layer has %d parameters; its %d x %d precision matrix would need %d MiB (at most %d parameters): use hessian: diag",
				k, k, k, k*k*8>>20, maxLastLayer)
		}
		seen := make(map[int]bool, len(p.LastLayer))
		for _, j := range p.LastLayer {
			if j < 0 || j >= p.Dim || seen[j] {
				return nil, fmt.Errorf("laplace: last-layer index %d is out of range or repeated", j)
			}
			seen[j] = true
		}
	}
	if rng == nil {
		return nil, fmt.Errorf("laplace: %w", errNilRNG)
	}
	var inner Observer
	if obs != nil {
		inner = func(pr Progress) {
			pr.Method = "laplace"
			obs(pr)
		}
	}
	pt, err := l.Method.FitPoint(ctx, p, rng, inner)
	if err != nil {
		var div *DivergenceError
		if errors.As(err, &div) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("laplace: %w", err)
	}
	if len(pt.Theta) != p.Dim {
		return nil, fmt.Errorf("laplace: %s returned %d parameters, want %d", l.Method.Name(), len(pt.Theta), p.Dim)
	}
	post, err := laplaceAt(ctx, p, pt.Theta, l.Hessian, l.PriorPrecision)
	if err != nil {
		return nil, err
	}
	return post, nil
}

// laplaceAt builds the Laplace posterior around theta; tau 0 means tune.
func laplaceAt(ctx context.Context, p *Problem, theta []float64, hessian string, tau float64) (*LaplacePosterior, error) {
	d := p.Dim
	loc, prec0 := make([]float64, d), make([]float64, d)
	for j := range prec0 {
		prec0[j] = 1
		if p.PriorScale != nil {
			loc[j] = p.PriorLoc[j]
			prec0[j] = 1 / (p.PriorScale[j] * p.PriorScale[j])
		}
	}
	rows := make([]int, p.N)
	for i := range rows {
		rows[i] = i
	}
	// chunksOf calls f on consecutive slices of at most size rows.
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
	logLik := 0.0
	if err := chunks(func(idx []int) { logLik -= p.NegLogLik(nil, theta, idx) }); err != nil {
		return nil, err
	}
	if !isFinite(logLik) {
		return nil, fmt.Errorf("laplace: the log-likelihood at the mode is %g", logLik)
	}
	post := &LaplacePosterior{Mean: theta, By: "laplace"}

	if hessian == hessDiag {
		h := make([]float64, d)
		if err := chunks(func(idx []int) { p.GGNDiag(h, theta, idx) }); err != nil {
			return nil, err
		}
		lam := make([]float64, d)
		q := 0.0
		for j, v := range h {
			if !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("laplace: the curvature of parameter %d is %g", j, v)
			}
			lam[j] = v / prec0[j]
			dv := theta[j] - loc[j]
			q += prec0[j] * dv * dv
		}
		if tau == 0 {
			tau = tunePriorPrecision(lam, q)
		}
		post.Std = make([]float64, d)
		for j, v := range h {
			post.Std[j] = 1 / math.Sqrt(v+tau*prec0[j])
		}
		post.PriorPrecision = tau
		post.LogEvidence = laplaceEvidence(logLik, lam, q, tau)
		return post, nil
	}

	ix := p.LastLayer
	k := len(ix)
	h := make([]float64, k*k)
	if err := chunksOf(laplaceLastChunk, func(idx []int) { p.LastLayerGGN(h, theta, idx) }); err != nil {
		return nil, err
	}
	// Work with the whitened G̃ = R G R, R = P₀^{-1/2} on the layer: its
	// eigenvalues are the λ_i of the evidence, and the Cholesky factor Ũ of
	// G̃ + τI gives that of G + τP₀ as Ũ R⁻¹.
	r := make([]float64, k)
	q := 0.0
	for a, ja := range ix {
		r[a] = 1 / math.Sqrt(prec0[ja])
		dv := theta[ja] - loc[ja]
		q += prec0[ja] * dv * dv
	}
	// Symmetrise and whiten the upper triangle (what SymDense reads) in
	// tiles, so that the lower triangle is read a cache line at a time.
	const tile = 32
	for a0 := 0; a0 < k; a0 += tile {
		for b0 := a0; b0 < k; b0 += tile {
			for a := a0; a < min(a0+tile, k); a++ {
				for b := max(a, b0); b < min(b0+tile, k); b++ {
					v := 0.5 * (h[a*k+b] + h[b*k+a])
					if !isFinite(v) {
						return nil, fmt.Errorf("laplace: the last-layer curvature at (%d, %d) is %g", a, b, v)
					}
					h[a*k+b] = v * r[a] * r[b]
				}
			}
		}
	}
	sym := mat.NewSymDense(k, h)
	if tau == 0 {
		var eig mat.EigenSym
		if !eig.Factorize(sym, false) {
			return nil, fmt.Errorf("laplace: the eigenvalues of the last-layer curvature did not converge")
		}
		lam := eig.Values(nil)
		for i, v := range lam {
			lam[i] = max(v, 0) // rounding can leave tiny negative ones
		}
		tau = tunePriorPrecision(lam, q)
	}
	logDet := 0.0 // log det(G + τP₀) = log det(G̃ + τI) − 2 Σ log r
	for a := range k {
		sym.SetSym(a, a, sym.At(a, a)+tau)
		logDet -= 2 * math.Log(r[a])
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return nil, fmt.Errorf("laplace: the last-layer posterior precision is not positive definite")
	}
	logDet += ch.LogDet()
	// The factor is taken over, not copied (UTo copies element by
	// element: 50 ms at k = 1290); ch is not used again.
	u, ok := ch.RawU().(*mat.TriDense)
	if !ok {
		u = mat.NewTriDense(k, mat.Upper, nil)
		ch.UTo(u)
	}
	raw := u.RawTriangular()
	for a := range k {
		row := raw.Data[a*raw.Stride : a*raw.Stride+k]
		for b := a; b < k; b++ {
			row[b] /= r[b]
		}
	}
	sumLogPrior := 0.0 // Σ log(τP₀)
	for _, ja := range ix {
		sumLogPrior += math.Log(tau * prec0[ja])
	}
	post.Index = append([]int(nil), ix...)
	post.Factor = u
	post.PriorPrecision = tau
	post.LogEvidence = logLik - 0.5*tau*q + 0.5*sumLogPrior - 0.5*logDet
	return post, nil
}

// laplaceEvidence is log p(D|θ) − ½τq − ½ Σ log(1 + λ_i/τ).
func laplaceEvidence(logLik float64, lam []float64, q, tau float64) float64 {
	s := 0.0
	for _, v := range lam {
		s += math.Log1p(v / tau)
	}
	return logLik - 0.5*tau*q - 0.5*s
}

// tunePriorPrecision returns the τ in [minPriorPrecision, maxPriorPrecision]
// that maximises −½τq − ½ Σ log(1 + λ_i/τ): the root in log τ of the
// decreasing function γ(τ) − τq, γ = Σ λ_i/(λ_i+τ), by bisection to
// rounding. With no curvature the optimum is the lower bound; with θ at the
// prior mean (q = 0), the upper.
func tunePriorPrecision(lam []float64, q float64) float64 {
	f := func(s float64) float64 {
		tau := math.Exp(s)
		g := 0.0
		for _, v := range lam {
			g += v / (v + tau)
		}
		return g - tau*q
	}
	lo, hi := math.Log(minPriorPrecision), math.Log(maxPriorPrecision)
	switch {
	case f(lo) <= 0:
		return minPriorPrecision
	case f(hi) >= 0:
		return maxPriorPrecision
	}
	for range 200 {
		mid := 0.5 * (lo + hi)
		if mid == lo || mid == hi {
			break
		}
		if f(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Exp(0.5 * (lo + hi))
}

// LaplacePosterior is the Gaussian N(Mean, H⁻¹) of a Laplace
// approximation. With a diagonal H, Std holds the standard deviation of
// every coordinate; with a last-layer H, the coordinates Index vary with
// precision H = FactorᵀFactor (Factor upper triangular, its rows and
// columns in the order of Index) and every other coordinate stays at Mean.
type LaplacePosterior struct {
	Mean   []float64     // θ_MAP
	Std    []float64     // diagonal: 1/sqrt(H_jj); nil for a last-layer posterior
	Index  []int         // last layer: the θ coordinates that vary
	Factor *mat.TriDense // last layer: the upper Cholesky factor of their precision

	PriorPrecision float64 // τ, the multiple of the model's prior precision used
	LogEvidence    float64 // the Laplace approximation of log p(D) at τ
	By             string  // the backend that learned it, "laplace"; Method returns it
}

var (
	_ Saver          = (*LaplacePosterior)(nil)
	_ StoredNumberer = (*LaplacePosterior)(nil)
)

// Method returns the backend that learned the posterior.
func (q *LaplacePosterior) Method() string { return q.By }

// Dim returns len(q.Mean).
func (q *LaplacePosterior) Dim() int { return len(q.Mean) }

// Hessian returns "diag" or "last_layer".
func (q *LaplacePosterior) Hessian() string {
	if q.Std != nil {
		return hessDiag
	}
	return hessLastLayer
}

// Covariance returns the posterior covariance of the coordinates that vary:
// diag(Std²) over all of them, or H⁻¹ over Index.
func (q *LaplacePosterior) Covariance() *mat.SymDense {
	if q.Std != nil {
		c := mat.NewSymDense(len(q.Std), nil)
		for j, s := range q.Std {
			c.SetSym(j, j, s*s)
		}
		return c
	}
	var ch mat.Cholesky
	ch.SetFromU(q.Factor)
	c := mat.NewSymDense(len(q.Index), nil)
	if err := ch.InverseTo(c); err != nil {
		panic(fmt.Sprintf("infer: laplace covariance: %v", err))
	}
	return c
}

// StoredNumbers returns how many numbers define the posterior: 2·Dim for a
// diagonal one, Dim + k(k+1)/2 for one over k last-layer coordinates.
func (q *LaplacePosterior) StoredNumbers() int {
	if q.Std != nil {
		return 2 * len(q.Mean)
	}
	k := len(q.Index)
	return len(q.Mean) + k*(k+1)/2
}

// Draw returns s fresh draws from N(Mean, H⁻¹) in newly allocated vectors
// (one backing array): Mean + Std⊙z for a diagonal H; for a last-layer H,
// Mean with Factor⁻¹z added at Index (the covariance of U⁻¹z is
// (UᵀU)⁻¹ = H⁻¹). It returns nil when s < 1.
func (q *LaplacePosterior) Draw(s int, rng *rand.Rand) [][]float64 {
	if s < 1 {
		return nil
	}
	d := len(q.Mean)
	buf := make([]float64, s*d)
	out := make([][]float64, s)
	var z []float64
	var u blas64.Triangular
	if q.Std == nil {
		z = make([]float64, len(q.Index))
		u = q.Factor.RawTriangular()
	}
	for i := range out {
		v := buf[i*d : (i+1)*d : (i+1)*d]
		out[i] = v
		if q.Std != nil {
			for j, m := range q.Mean {
				v[j] = m + q.Std[j]*rng.NormFloat64()
			}
			continue
		}
		copy(v, q.Mean)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		blas64.Trsv(blas.NoTrans, u, blas64.Vector{N: len(z), Inc: 1, Data: z})
		for j, c := range q.Index {
			v[c] += z[j]
		}
	}
	return out
}

// Kind returns "laplace", the key of its decoder.
func (q *LaplacePosterior) Kind() string { return "laplace" }

// Vectors returns the payload saved to a file: [τ, log evidence], Mean,
// then Std for a diagonal posterior, or Index (as numbers) and the upper
// triangle of Factor row by row for a last-layer one.
func (q *LaplacePosterior) Vectors() [][]float64 {
	head := []float64{q.PriorPrecision, q.LogEvidence}
	if q.Std != nil {
		return [][]float64{head, q.Mean, q.Std}
	}
	k := len(q.Index)
	idx := make([]float64, k)
	for i, j := range q.Index {
		idx[i] = float64(j)
	}
	tri := make([]float64, 0, k*(k+1)/2)
	raw := q.Factor.RawTriangular()
	for i := range k {
		tri = append(tri, raw.Data[i*raw.Stride+i:i*raw.Stride+k]...)
	}
	return [][]float64{head, q.Mean, idx, tri}
}

func decodeLaplace(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) != 3 && len(vecs) != 4 {
		return nil, fmt.Errorf("laplace posterior has %d vectors, want 3 or 4", len(vecs))
	}
	head, mean := vecs[0], vecs[1]
	if len(head) != 2 {
		return nil, fmt.Errorf("laplace posterior header has %d numbers, want 2", len(head))
	}
	q := &LaplacePosterior{Mean: mean, PriorPrecision: head[0], LogEvidence: head[1], By: method}
	if len(vecs) == 3 {
		if len(vecs[2]) != len(mean) {
			return nil, fmt.Errorf("laplace posterior has %d means and %d scales", len(mean), len(vecs[2]))
		}
		for j, s := range vecs[2] {
			if !(s >= 0) || math.IsInf(s, 0) {
				return nil, fmt.Errorf("laplace posterior has scale %g at %d", s, j)
			}
		}
		q.Std = vecs[2]
		return q, nil
	}
	idx, tri := vecs[2], vecs[3]
	k := len(idx)
	if k == 0 || len(tri) != k*(k+1)/2 {
		return nil, fmt.Errorf("laplace posterior has %d last-layer coordinates and %d factor entries", k, len(tri))
	}
	seen := make(map[int]bool, k)
	q.Index = make([]int, k)
	for i, v := range idx {
		j := int(v)
		if float64(j) != v || j < 0 || j >= len(mean) || seen[j] {
			return nil, fmt.Errorf("laplace posterior has last-layer coordinate %g", v)
		}
		seen[j] = true
		q.Index[i] = j
	}
	u := mat.NewTriDense(k, mat.Upper, nil)
	off := 0
	for i := range k {
		for j := i; j < k; j++ {
			v := tri[off]
			off++
			if !isFinite(v) || (i == j && !(v > 0)) {
				return nil, fmt.Errorf("laplace posterior has factor entry %g at (%d, %d)", v, i, j)
			}
			u.SetTri(i, j, v)
		}
	}
	q.Factor = u
	return q, nil
}

// laplaceArgs are the script settings of laplace. prior_precision:
// optimize, the default, never reaches ParseSettings.
type laplaceArgs struct {
	Hessian        string  `bl:"hessian,oneof=diag|last_layer"`
	PriorPrecision float64 `bl:"prior_precision,pos"`
	Epochs         int     `bl:"epochs,pos"`
	LR             float64 `bl:"lr,pos"`
	Batch          int     `bl:"batch,pos"`
	Method         *Call   `bl:"method"`
}

func (laplaceArgs) Name() string { return "laplace" }

// buildLaplace is the registry constructor of "laplace"; a nested method is
// built through r.
func (r Registry) buildLaplace(args []Arg) (Method, error) {
	rest := make([]Arg, 0, len(args))
	orig := make([]int, 0, len(args))
	pp := -1
	for i, a := range args {
		if a.Name == "prior_precision" {
			if pp >= 0 {
				return nil, &SettingError{i, "prior_precision is set twice"}
			}
			pp = i
			if a.Call != nil || (a.IsStr && a.Str != "optimize") {
				return nil, &SettingError{i, "prior_precision must be a positive number or optimize, got " + a.String()}
			}
			if a.IsStr {
				continue
			}
		}
		rest = append(rest, a)
		orig = append(orig, i)
	}
	var s laplaceArgs
	if err := ParseSettings(&s, rest); err != nil {
		var se *SettingError
		if errors.As(err, &se) && se.Index >= 0 && se.Index < len(orig) {
			se.Index = orig[se.Index]
		}
		return nil, err
	}
	l := &Laplace{Hessian: s.Hessian, PriorPrecision: s.PriorPrecision, Epochs: s.Epochs, LR: s.LR, Batch: s.Batch}
	if s.Method != nil {
		for _, name := range []string{"epochs", "lr", "batch"} {
			if j := settingIndex(args, name); j >= 0 {
				return nil, &SettingError{j, fmt.Sprintf("%s belongs to the inner fit: with method: set, write it there, as in method: %s(%s: ...)", name, s.Method.Name, name)}
			}
		}
		pm, err := r.nestedPoint("laplace", s.Method, settingIndex(args, "method"))
		if err != nil {
			return nil, err
		}
		l.Method = pm
	}
	return l, nil
}
