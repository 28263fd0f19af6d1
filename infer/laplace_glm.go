package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/num"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// An OutputPredictor is a posterior that draws its predictive in the space
// of the network's outputs instead of its parameters: a linearised (GLM)
// Laplace. Predict hands it the problem, the inputs, the number of draws
// and the random source when Linearised reports true.
type OutputPredictor interface {
	Posterior
	Linearised() bool
	PredictOutputs(ctx context.Context, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error)
}

// Linearised reports whether the predictive is the GLM one.
func (q *LaplacePosterior) Linearised() bool { return q.Predictive == predGLM }

// glmBudget bounds the Jacobian of one chunk of rows, in numbers (16 MiB).
const glmBudget = 1 << 21

// FunctionalCovariance returns J(x) H⁻¹ J(x)ᵀ at every row of x, rows x W x W
// (W = p.OutputWidth) row-major: the covariance of the linearised outputs
// f(x, θ_MAP) + J(x)(θ − θ_MAP) under the posterior. The Jacobian comes
// from p.Jacobian in chunks of rows; each part of H⁻¹ adds its share:
// the full part ‖U⁻ᵀ J_kᵀ‖ products, the diagonal Σ_j J_kj J_k'j Std_j²,
// a Kronecker block the products of its whitened slices of J.
func (q *LaplacePosterior) FunctionalCovariance(ctx context.Context, p *Problem, x *mat.Dense) ([]float64, error) {
	if p.Jacobian == nil || p.OutputWidth < 1 {
		return nil, fmt.Errorf("laplace: the glm predictive needs the Jacobian of the model's outputs (Problem.Jacobian)")
	}
	n, cols := x.Dims()
	d, w := len(q.Mean), p.OutputWidth
	if p.Dim != d {
		return nil, fmt.Errorf("laplace: posterior over %d parameters, model has %d", d, p.Dim)
	}
	if lay := q.layerPlan(p); lay != nil {
		return q.functionalCovKron(ctx, p, x, lay)
	}
	cov := make([]float64, n*w*w)
	chunk := max(1, min(256, glmBudget/(w*d)))
	jac := make([]float64, chunk*w*d)
	var idx []int
	var bm, jm []float64
	if q.Factor != nil {
		idx = q.varying()
		bm = make([]float64, chunk*w*len(idx))
		if q.Index != nil {
			jm = make([]float64, chunk*w*len(idx))
		}
	}
	var kw, ktmp []float64
	for _, b := range q.Kron {
		kw = make([]float64, max(len(kw), w*b.In*b.Out))
		ktmp = make([]float64, max(len(ktmp), b.In*b.Out))
	}
	for r0 := 0; r0 < n; r0 += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows := min(chunk, n-r0)
		xc := x.Slice(r0, r0+rows, 0, cols).(*mat.Dense)
		j := jac[:rows*w*d]
		p.Jacobian(j, q.Mean, xc)
		for _, v := range j {
			if !isFinite(v) {
				return nil, fmt.Errorf("laplace: the Jacobian of the outputs has entry %g", v)
			}
		}
		if q.Factor != nil {
			// B = J_I U⁻¹, so that J_I H⁻¹ J_Iᵀ = B Bᵀ.
			k := len(idx)
			b := bm[:rows*w*k]
			jI := j // the Jacobian's columns at idx
			if q.Index != nil {
				jI = jm[:rows*w*k]
				for r := range rows * w {
					src := j[r*d : (r+1)*d]
					dst := jI[r*k : (r+1)*k]
					for a, c := range idx {
						dst[a] = src[c]
					}
				}
			}
			uinv, err := q.inverseFactor()
			if err != nil {
				return nil, err
			}
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: rows * w, Cols: k, Stride: k, Data: jI},
				uinv, 0, blas64.General{Rows: rows * w, Cols: k, Stride: k, Data: b})
			for r := range rows {
				c := cov[(r0+r)*w*w : (r0+r+1)*w*w]
				for a := range w {
					ba := b[(r*w+a)*k : (r*w+a+1)*k]
					for a2 := a; a2 < w; a2++ {
						c[a*w+a2] += blas64.Dot(blas64.Vector{N: k, Inc: 1, Data: ba}, blas64.Vector{N: k, Inc: 1, Data: b[(r*w+a2)*k : (r*w+a2+1)*k]})
					}
				}
			}
		}
		if q.Std != nil {
			for r := range rows {
				c := cov[(r0+r)*w*w : (r0+r+1)*w*w]
				for a := range w {
					ja := j[(r*w+a)*d : (r*w+a+1)*d]
					for a2 := a; a2 < w; a2++ {
						jb := j[(r*w+a2)*d : (r*w+a2+1)*d]
						s := 0.0
						for t, sd := range q.Std {
							if sd != 0 {
								s += ja[t] * jb[t] * sd * sd
							}
						}
						c[a*w+a2] += s
					}
				}
			}
		}
		for bi := range q.Kron {
			blk := &q.Kron[bi]
			m := blk.In * blk.Out
			for r := range rows {
				for a := range w {
					src := j[(r*w+a)*d+blk.Off : (r*w+a)*d+blk.Off+m]
					blk.whiten(kw[a*m:(a+1)*m], src, ktmp[:m])
				}
				c := cov[(r0+r)*w*w : (r0+r+1)*w*w]
				for a := range w {
					for a2 := a; a2 < w; a2++ {
						c[a*w+a2] += blas64.Dot(blas64.Vector{N: m, Inc: 1, Data: kw[a*m : (a+1)*m]}, blas64.Vector{N: m, Inc: 1, Data: kw[a2*m : (a2+1)*m]})
					}
				}
			}
		}
	}
	mirrorBlocks(cov, n, w)
	return cov, nil
}

// inverseFactor returns U⁻¹ (upper triangular, as a dense matrix) for the
// full part, computed on first use: J U⁻¹ by a dense product runs on the
// fast kernels, where a triangular solve per chunk of rows did not (32 ms
// per test row for 2260 parameters).
func (q *LaplacePosterior) inverseFactor() (blas64.General, error) {
	q.uinvOnce.Do(func() {
		var inv mat.TriDense
		if err := inv.InverseTri(q.Factor); err != nil {
			q.uinvErr = fmt.Errorf("laplace: inverting the posterior's factor: %v", err)
			return
		}
		k, _ := inv.Triangle()
		d := mat.NewDense(k, k, nil)
		d.Copy(&inv)
		q.uinv = d.RawMatrix()
	})
	return q.uinv, q.uinvErr
}

// PredictOutputs returns the linearised predictive at the rows of x: the
// outputs are Gaussian, N(f(x, θ_MAP), J Σ Jᵀ), and samples draws of them
// are taken with rng, so every metric of a Predictive applies unchanged.
//
// Regression: the location is drawn with its moments exact (the draws are
// standardised per row), so the predictive mean is f(x, θ_MAP) and its
// epistemic variance J Σ Jᵀ exactly, the closed form of laplace-torch; the
// scale stays at the MAP network's (a learned noise output is not
// linearised). Classification: the logits are drawn from the full W x W
// Gaussian (laplace-torch's link_approx 'mc'); with LinkApprox "probit"
// the predictive is one draw holding MacKay's probit approximation,
// softmax(κ ⊙ μ) with κ_k = (1 + π Σ_kk / 8)^{-½} (for one logit,
// sigmoid(μ κ)), which carries no epistemic split.
func (q *LaplacePosterior) PredictOutputs(ctx context.Context, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	if err := checkGLM("laplace", p, samples, rng); err != nil {
		return nil, err
	}
	cov, err := q.FunctionalCovariance(ctx, p, x)
	if err != nil {
		return nil, err
	}
	return outputPredictive(ctx, "laplace", p, x, q.Mean, cov, samples, rng, q.LinkApprox == linkProbit)
}

// checkGLM says whether p offers what a linearised predictive needs.
func checkGLM(name string, p *Problem, samples int, rng *rand.Rand) error {
	if p.Outputs == nil || p.Predict == nil || p.Jacobian == nil || p.OutputWidth < 1 {
		return fmt.Errorf("%s: the glm predictive needs the model's outputs and their Jacobian (Problem.Outputs, Problem.Jacobian)", name)
	}
	if samples < 1 || rng == nil {
		return fmt.Errorf("%s: the glm predictive needs a positive number of draws and a random source", name)
	}
	return nil
}

// outputPredictive draws the predictive of the outputs N(f(x, mean), cov)
// at the rows of x, cov rows x W x W as FunctionalCovariance returns it;
// see LaplacePosterior.PredictOutputs. probit asks a classifier for
// MacKay's approximation instead of draws.
func outputPredictive(ctx context.Context, name string, p *Problem, x *mat.Dense, mean, cov []float64, samples int, rng *rand.Rand, probit bool) (*predictive.Predictive, error) {
	n, _ := x.Dims()
	w := p.OutputWidth
	out := new(predictive.Predictive)
	if p.Kind == predictive.Regression {
		if w != 1 {
			return nil, fmt.Errorf("%s: a regression model with %d outputs", name, w)
		}
		base := new(predictive.Predictive)
		p.Predict(base, [][]float64{mean}, x)
		out.Resize(predictive.Regression, samples, n, 0)
		out.Obs = base.Obs
		z := make([]float64, samples)
		for r := range n {
			standardNormals(z, rng)
			sd := math.Sqrt(max(cov[r], 0))
			for s, v := range z {
				out.Loc[s*n+r] = base.Loc[r] + sd*v
				out.Scale[s*n+r] = base.Scale[r]
			}
		}
		return out, ctx.Err()
	}
	f := mat.NewDense(n, w, nil)
	p.Outputs(f, mean, x)
	k := p.Classes
	bern := w == 1
	if !bern && w != k {
		return nil, fmt.Errorf("%s: a classifier with %d outputs and %d classes", name, w, k)
	}
	fr := f.RawMatrix()
	if probit {
		out.Resize(predictive.Classification, 1, n, k)
		z := make([]float64, w)
		for r := range n {
			mu := fr.Data[r*fr.Stride : r*fr.Stride+w]
			c := cov[r*w*w : (r+1)*w*w]
			for a := range w {
				z[a] = mu[a] / math.Sqrt(1+math.Pi/8*max(c[a*w+a], 0))
			}
			writeLogProb(out.LogProb[r*k:(r+1)*k], z, bern)
		}
		return out, ctx.Err()
	}
	out.Resize(predictive.Classification, samples, n, k)
	l := make([]float64, w*w)
	z, fs := make([]float64, w), make([]float64, w)
	for r := range n {
		mu := fr.Data[r*fr.Stride : r*fr.Stride+w]
		sqrtFactor(l, cov[r*w*w:(r+1)*w*w], w)
		for s := range samples {
			for a := range z {
				z[a] = rng.NormFloat64()
			}
			for a := range w {
				v := mu[a]
				for b := 0; b <= a; b++ {
					v += l[a*w+b] * z[b]
				}
				fs[a] = v
			}
			writeLogProb(out.LogProb[(s*n+r)*k:(s*n+r+1)*k], fs, bern)
		}
	}
	return out, ctx.Err()
}

// writeLogProb writes the class log-probabilities of logits z: log-softmax,
// or for one bernoulli logit [log σ(−z), log σ(z)].
func writeLogProb(dst, z []float64, bern bool) {
	if bern {
		dst[0], dst[1] = -num.Softplus(z[0]), -num.Softplus(-z[0])
		return
	}
	num.LogSoftmax(dst, z)
}

// standardNormals fills z with normal draws standardised to mean 0 and
// mean square 1, so that a location drawn with them has exactly the wanted
// mean and variance; one draw is 0, the mean.
func standardNormals(z []float64, rng *rand.Rand) {
	if len(z) == 1 {
		z[0] = 0
		return
	}
	m := 0.0
	for i := range z {
		z[i] = rng.NormFloat64()
		m += z[i]
	}
	m /= float64(len(z))
	ss := 0.0
	for i := range z {
		z[i] -= m
		ss += z[i] * z[i]
	}
	if ss == 0 {
		return
	}
	c := 1 / math.Sqrt(ss/float64(len(z)))
	for i := range z {
		z[i] *= c
	}
}

// sqrtFactor writes into l (w x w, lower) a factor with l lᵀ = c for the
// symmetric positive semi-definite c: its Cholesky factor, with the
// pivots that rounding leaves at or below zero (a direction of no
// variance, as the categorical logits' common shift) taken as zero.
func sqrtFactor(l, c []float64, w int) {
	clear(l)
	tol := 0.0
	for a := range w {
		tol = max(tol, c[a*w+a])
	}
	tol *= 1e-12
	for a := range w {
		for b := 0; b <= a; b++ {
			s := c[a*w+b]
			for t := range b {
				s -= l[a*w+t] * l[b*w+t]
			}
			if a == b {
				if s <= tol {
					l[a*w+a] = 0
				} else {
					l[a*w+a] = math.Sqrt(s)
				}
				continue
			}
			if l[b*w+b] > 0 {
				l[a*w+b] = s / l[b*w+b]
			}
		}
	}
}

// layerPlan says how the posterior's parts sit in the model's dense layers,
// when they all do: each Kronecker block is a layer's weight or bias, and
// every coordinate with a diagonal part is in a layer or in RestParams.
// Then the functional covariance needs only the layers' inputs and the
// Jacobians in their outputs (Problem.LayerJacobians), not the W x Dim
// Jacobian of every row. It returns nil otherwise.
type layerPlan struct {
	blockLayer []int  // per Kronecker block: its layer
	blockBias  []bool // per Kronecker block: the layer's bias, not its weight
	diag       bool   // a diagonal part to add
}

func (q *LaplacePosterior) layerPlan(p *Problem) *layerPlan {
	if q.Factor != nil || p.LayerJacobians == nil || len(p.KronLayers) == 0 {
		return nil
	}
	d := len(q.Mean)
	inLayer := make([]bool, d)
	for _, ly := range p.KronLayers {
		for j := ly.WOff; j < ly.WOff+ly.In*ly.Out && j < d; j++ {
			inLayer[j] = true
		}
		if ly.BOff >= 0 {
			for j := ly.BOff; j < ly.BOff+ly.Out && j < d; j++ {
				inLayer[j] = true
			}
		}
	}
	for _, j := range p.RestParams {
		if j >= 0 && j < d {
			inLayer[j] = true
		}
	}
	plan := &layerPlan{}
	for j, s := range q.Std {
		if s != 0 {
			if !inLayer[j] {
				return nil
			}
			plan.diag = true
		}
	}
	for _, b := range q.Kron {
		found := false
		for l, ly := range p.KronLayers {
			switch {
			case b.Off == ly.WOff && b.In == ly.In && b.Out == ly.Out:
				plan.blockLayer, plan.blockBias = append(plan.blockLayer, l), append(plan.blockBias, false)
				found = true
			case b.Off == ly.BOff && b.In == 1 && b.Out == ly.Out:
				plan.blockLayer, plan.blockBias = append(plan.blockLayer, l), append(plan.blockBias, true)
				found = true
			}
			if found {
				break
			}
		}
		if !found {
			return nil
		}
	}
	return plan
}

// weightGaussian is a Gaussian posterior in weight space as the linearised
// predictive reads it, N(mean, diag(std²) + U Uᵀ), never formed as a d x d
// matrix: VI's mean-field (u nil) and low-rank families, SWAG's
// diagonal-plus-low-rank Gaussian (u its scaled deviation columns).
type weightGaussian struct {
	mean []float64
	std  []float64 // nil: no diagonal part
	u    []float64 // d x k, row-major; nil: no low-rank part
	k    int
}

// functionalCovariance returns J Σ Jᵀ at every row of x, rows x W x W, as
// LaplacePosterior.FunctionalCovariance does: (J∘σ)(J∘σ)ᵀ + (J U)(J U)ᵀ,
// at d·W² + d·W·k a row. A diagonal alone goes through Laplace's diagonal
// path, which uses the layers' parts when the model offers them.
func (g weightGaussian) functionalCovariance(ctx context.Context, name string, p *Problem, x *mat.Dense) ([]float64, error) {
	d, w := len(g.mean), p.OutputWidth
	if p.Dim != d {
		return nil, fmt.Errorf("%s: posterior over %d parameters, model has %d", name, d, p.Dim)
	}
	if g.u == nil || g.k == 0 {
		q := &LaplacePosterior{Mean: g.mean, Std: g.std}
		if q.Std == nil {
			q.Std = make([]float64, d)
		}
		return q.FunctionalCovariance(ctx, p, x)
	}
	n, cols := x.Dims()
	k := g.k
	cov := make([]float64, n*w*w)
	chunk := max(1, min(256, glmBudget/(w*d)))
	jac := make([]float64, chunk*w*d)
	bm := make([]float64, chunk*w*k)
	for r0 := 0; r0 < n; r0 += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows := min(chunk, n-r0)
		xc := x.Slice(r0, r0+rows, 0, cols).(*mat.Dense)
		j := jac[:rows*w*d]
		p.Jacobian(j, g.mean, xc)
		if x := firstNonFinite(j); x != 0 {
			return nil, fmt.Errorf("%s: the Jacobian of the outputs has entry %g", name, x)
		}
		// B = J U, so that J U Uᵀ Jᵀ = B Bᵀ.
		b := bm[:rows*w*k]
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: rows * w, Cols: d, Stride: d, Data: j},
			blas64.General{Rows: d, Cols: k, Stride: k, Data: g.u}, 0, blas64.General{Rows: rows * w, Cols: k, Stride: k, Data: b})
		for r := range rows {
			c := cov[(r0+r)*w*w : (r0+r+1)*w*w]
			for a := range w {
				ja := j[(r*w+a)*d : (r*w+a+1)*d]
				ba := b[(r*w+a)*k : (r*w+a+1)*k]
				for a2 := a; a2 < w; a2++ {
					s := dot(ba, b[(r*w+a2)*k:(r*w+a2+1)*k])
					if g.std != nil {
						jb := j[(r*w+a2)*d : (r*w+a2+1)*d]
						for t, sd := range g.std {
							s += ja[t] * jb[t] * sd * sd
						}
					}
					c[a*w+a2] = s
				}
			}
		}
	}
	mirrorBlocks(cov, n, w)
	return cov, nil
}

// predict is the linearised predictive of the Gaussian at the rows of x:
// the outputs drawn from N(f(x, mean), J Σ Jᵀ) (see outputPredictive).
func (g weightGaussian) predict(ctx context.Context, name string, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	if err := checkGLM(name, p, samples, rng); err != nil {
		return nil, err
	}
	cov, err := g.functionalCovariance(ctx, name, p, x)
	if err != nil {
		return nil, err
	}
	return outputPredictive(ctx, name, p, x, g.mean, cov, samples, rng, false)
}

// mixturePredictive is the linearised predictive of an equal-weight
// mixture of Gaussians (MultiSWAG): each component linearised at its own
// mean, the draws shared out round-robin (component i gets ⌊s/M⌋ or
// ⌈s/M⌉) and stacked, the same split as the mixture's Draw.
func mixturePredictive(ctx context.Context, name string, parts []weightGaussian, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	m := len(parts)
	var out *predictive.Predictive
	for i, g := range parts {
		s := samples / m
		if i < samples%m {
			s++
		}
		if s == 0 {
			continue
		}
		pr, err := g.predict(ctx, name, p, x, s, rng)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = pr
			continue
		}
		// Draws are the slowest index of every field, so stacking is appending.
		out.S += pr.S
		out.Loc = append(out.Loc, pr.Loc...)
		out.Scale = append(out.Scale, pr.Scale...)
		out.LogProb = append(out.LogProb, pr.LogProb...)
	}
	return out, nil
}

// Predictive settings of the Gaussian families (vi, swag, multiswag), as
// laplace's: resolvePredictive fills the default and checks that the
// problem offers what glm needs.
func resolvePredictive(name, set, def string, p *Problem) (string, error) {
	glmOK := p.Jacobian != nil && p.Outputs != nil && p.OutputWidth > 0
	if set == "" {
		if def == predGLM && !glmOK {
			return predNN, nil
		}
		return def, nil
	}
	if set == predGLM && !glmOK {
		return "", fmt.Errorf("%s: predictive glm needs the Jacobian of the model's outputs (Problem.Jacobian), which this model does not offer: use predictive: nn", name)
	}
	return set, nil
}

// glmMark is the number a saved Gaussian posterior (vi's, swag's) appends
// when its predictive is glm. An nn posterior is written without it, in
// the layout of the files written before the setting, which therefore
// load as nn, the predictive they were written with; and every file
// re-encodes to its own bytes.
const glmMark = 1

// checkGLMMark checks the appended number of a saved posterior.
func checkGLMMark(v float64) error {
	if v != glmMark {
		return fmt.Errorf("predictive code %g, want %d (glm) or none (nn)", v, glmMark)
	}
	return nil
}

// mirrorBlocks copies the upper triangle of each of the n row-major w x w
// blocks of cov into its lower triangle.
func mirrorBlocks(cov []float64, n, w int) {
	for r := range n {
		c := cov[r*w*w : (r+1)*w*w]
		for a := range w {
			for a2 := a + 1; a2 < w; a2++ {
				c[a2*w+a] = c[a*w+a2]
			}
		}
	}
}
