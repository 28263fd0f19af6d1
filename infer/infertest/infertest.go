// Package infertest holds test problems with exact posteriors for the
// inference backends of package infer, and a conformance check, Run, that
// every backend's tests call. Its problems allocate nothing per call, so
// they also serve allocation tests.
package infertest

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// LinearRegression returns conjugate Bayesian linear regression without a
// bias,
//
//	y_n = x_nᵀθ + ε_n,  ε_n ~ N(0, noiseVar),  θ ~ N(0, priorVar·I),
//
// as an infer.Problem offering every capability (a normal prior as
// PriorLoc/PriorScale as well as NegLogPrior, VarNegLogLik, GGNDiag,
// LastLayer with LastLayerGGN (the whole model is one bias-free dense
// layer), Predict, Fork),
// together with the exact posterior N(mean, cov):
//
//	Λ = XᵀX/noiseVar + I/priorVar,  cov = Λ⁻¹,  mean = cov·Xᵀy/noiseVar.
//
// A test removes a capability by setting its field to nil. Init draws
// θ_j ~ N(0, 0.1²). The data are copied.
//
// VarNegLogLik is exact local reparameterisation for this model: under
// q = N(μ, diag σ²) the pre-activation x_nᵀθ is N(x_nᵀμ, Σ_j x_nj²σ_j²),
// and one draw of it is taken per example.
func LinearRegression(x *mat.Dense, y []float64, noiseVar, priorVar float64) (*infer.Problem, []float64, *mat.SymDense) {
	n, d := x.Dims()
	if len(y) != n {
		panic("infertest: len(y) != rows of x")
	}
	m := &linreg{n: n, d: d, x: make([]float64, n*d), y: append([]float64(nil), y...),
		noiseVar: noiseVar, priorVar: priorVar}
	for i := range n {
		for j := range d {
			m.x[i*d+j] = x.At(i, j)
		}
	}
	mean, cov := m.exact()
	return m.problem(), mean, cov
}

// Sanity1D is docs/algorithms.md §3 sanity test 3: x = [1, 2, 3], y = [1, 2, 2.5],
// noise variance 0.25, prior variance 1; the exact posterior is
// N(50/57, 1/57).
func Sanity1D() (*infer.Problem, []float64, *mat.SymDense) {
	return LinearRegression(mat.NewDense(3, 1, []float64{1, 2, 3}), []float64{1, 2, 2.5}, 0.25, 1)
}

// RandomData returns n rows of d standard-normal features and targets
// y = xθ* + ε with θ*_j = 1, −0.5, 0.25, ... and ε ~ N(0, noiseVar), drawn
// from a PCG source seeded with seed.
func RandomData(n, d int, noiseVar float64, seed uint64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	x := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	sd := math.Sqrt(noiseVar)
	for i := range n {
		s := 0.0
		w := 1.0
		for j := range d {
			v := rng.NormFloat64()
			x.Set(i, j, v)
			s += w * v
			w *= -0.5
		}
		y[i] = s + sd*rng.NormFloat64()
	}
	return x, y
}

// MeanFieldVar returns 1/Λ_jj for the precision Λ = cov⁻¹: the variances
// of the mean-field Gaussian closest to N(mean, cov) in KL(q‖p), which is
// what mean-field VI converges to on a Gaussian posterior. They are below
// the marginal variances cov_jj unless cov is diagonal.
func MeanFieldVar(cov *mat.SymDense) []float64 {
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		panic("infertest: covariance is not positive definite")
	}
	var prec mat.SymDense
	if err := ch.InverseTo(&prec); err != nil {
		panic(err)
	}
	v := make([]float64, cov.SymmetricDim())
	for j := range v {
		v[j] = 1 / prec.At(j, j)
	}
	return v
}

type linreg struct {
	n, d               int
	x, y               []float64 // x row-major n×d
	noiseVar, priorVar float64
}

func (m *linreg) exact() ([]float64, *mat.SymDense) {
	d := m.d
	x := mat.NewDense(m.n, d, m.x)
	prec := mat.NewSymDense(d, nil)
	prec.SymOuterK(1/m.noiseVar, x.T()) // XᵀX/noiseVar
	for j := range d {
		prec.SetSym(j, j, prec.At(j, j)+1/m.priorVar)
	}
	var ch mat.Cholesky
	if !ch.Factorize(prec) {
		panic("infertest: posterior precision is not positive definite")
	}
	cov := mat.NewSymDense(d, nil)
	if err := ch.InverseTo(cov); err != nil {
		panic(err)
	}
	var xty, mean mat.VecDense
	xty.MulVec(x.T(), mat.NewVecDense(m.n, m.y))
	xty.ScaleVec(1/m.noiseVar, &xty)
	if err := ch.SolveVecTo(&mean, &xty); err != nil {
		panic(err)
	}
	return mat.Col(nil, 0, &mean), cov
}

func (m *linreg) problem() *infer.Problem {
	loc := make([]float64, m.d)
	scale := make([]float64, m.d)
	all := make([]int, m.d)
	for j := range scale {
		scale[j] = math.Sqrt(m.priorVar)
		all[j] = j
	}
	return &infer.Problem{
		Dim:  m.d,
		N:    m.n,
		Kind: predictive.Regression,
		Init: func(theta []float64, rng *rand.Rand) {
			for j := range theta {
				theta[j] = 0.1 * rng.NormFloat64()
			}
		},
		NegLogLik:    m.negLogLik,
		NegLogPrior:  m.negLogPrior,
		PriorLoc:     loc,
		PriorScale:   scale,
		VarNegLogLik: m.varNegLogLik,
		GGNDiag:      m.ggnDiag,
		LastLayer:    all,
		LastLayerGGN: m.ggn,
		Predict:      m.predict,
		Fork:         func() *infer.Problem { return m.problem() },
		GGN:          m.ggn, // the whole matrix: a superset of the upper triangle
		KronLayers:   []infer.KronLayer{{In: m.d, Out: 1, WOff: 0, BOff: -1}},
		KronFactors:  m.kronFactors,
		Jacobian:     m.jacobian,
		OutputWidth:  1,
		Outputs:      m.outputs,
	}
}

// kronFactors adds Σ x_n x_nᵀ and Σ 1/s²: the model is one dense layer
// with one output and no bias, whose K-FAC factorisation is exact.
func (m *linreg) kronFactors(a, g [][]float64, theta []float64, idx []int) {
	d := m.d
	for _, i := range idx {
		row := m.x[i*d : (i+1)*d]
		if a[0] != nil {
			for p, vp := range row {
				for q, vq := range row {
					a[0][p*d+q] += vp * vq
				}
			}
		}
		if g[0] != nil {
			g[0][0] += 1 / m.noiseVar
		}
	}
}

// jacobian writes the rows of x: the output x_nᵀθ is linear in θ.
func (m *linreg) jacobian(dst, theta []float64, x *mat.Dense) {
	rows, _ := x.Dims()
	for r := range rows {
		for j := range m.d {
			dst[r*m.d+j] = x.At(r, j)
		}
	}
}

// outputs writes x_nᵀθ.
func (m *linreg) outputs(dst *mat.Dense, theta []float64, x *mat.Dense) {
	rows, _ := x.Dims()
	for r := range rows {
		a := 0.0
		for j := range m.d {
			a += x.At(r, j) * theta[j]
		}
		dst.Set(r, 0, a)
	}
}

// ggnDiag adds Σ_{n∈idx} x_nj²/s²: for a linear model with a normal
// likelihood the Gauss-Newton matrix is the Hessian XᵀX/s².
func (m *linreg) ggnDiag(dst, theta []float64, idx []int) {
	d := m.d
	for _, i := range idx {
		for j, v := range m.x[i*d : (i+1)*d] {
			dst[j] += v * v / m.noiseVar
		}
	}
}

// ggn adds Σ_{n∈idx} x_n x_nᵀ/s², the whole model being its own last layer.
func (m *linreg) ggn(dst, theta []float64, idx []int) {
	d := m.d
	for _, i := range idx {
		row := m.x[i*d : (i+1)*d]
		for a, va := range row {
			for b, vb := range row {
				dst[a*d+b] += va * vb / m.noiseVar
			}
		}
	}
}

// negLogLik returns Σ_{n∈idx} (y_n − x_nᵀθ)²/(2s²) + ½ log(2πs²).
func (m *linreg) negLogLik(grad, theta []float64, idx []int) float64 {
	d := m.d
	if grad != nil {
		clear(grad)
	}
	c := 0.5 * math.Log(2*math.Pi*m.noiseVar)
	nll := 0.0
	for _, i := range idx {
		row := m.x[i*d : (i+1)*d]
		a := 0.0
		for j, v := range row {
			a += v * theta[j]
		}
		r := (a - m.y[i]) / m.noiseVar // d nll / d a
		nll += 0.5*r*(a-m.y[i]) + c
		if grad != nil {
			for j, v := range row {
				grad[j] += r * v
			}
		}
	}
	return nll
}

// negLogPrior returns Σ θ_j²/(2σp²) + ½ log(2πσp²) and adds its gradient.
func (m *linreg) negLogPrior(grad, theta []float64) float64 {
	c := 0.5 * math.Log(2*math.Pi*m.priorVar)
	s := 0.0
	for j, t := range theta {
		s += 0.5*t*t/m.priorVar + c
		if grad != nil {
			grad[j] += t / m.priorVar
		}
	}
	return s
}

// varNegLogLik draws a_n = γ_n + √δ_n·ζ_n with γ_n = x_nᵀμ and
// δ_n = Σ_j x_nj²σ_j², and returns Σ_n nll(y_n | a_n) with its gradients:
// dμ_j = Σ_n r_n x_nj, dσ_j = Σ_n r_n ζ_n x_nj² σ_j / √δ_n, r_n = d nll/d a_n.
func (m *linreg) varNegLogLik(gradMu, gradSigma, mu, sigma []float64, idx []int, rng *rand.Rand) float64 {
	d := m.d
	clear(gradMu)
	clear(gradSigma)
	c := 0.5 * math.Log(2*math.Pi*m.noiseVar)
	nll := 0.0
	for _, i := range idx {
		row := m.x[i*d : (i+1)*d]
		g, v := 0.0, 0.0
		for j, xv := range row {
			g += xv * mu[j]
			v += xv * xv * sigma[j] * sigma[j]
		}
		sd := math.Sqrt(v + 1e-16)
		z := rng.NormFloat64()
		a := g + sd*z
		r := (a - m.y[i]) / m.noiseVar
		nll += 0.5*r*(a-m.y[i]) + c
		k := r * z / sd
		for j, xv := range row {
			gradMu[j] += r * xv
			gradSigma[j] += k * xv * xv * sigma[j]
		}
	}
	return nll
}

func (m *linreg) predict(out *predictive.Predictive, thetas [][]float64, x *mat.Dense) {
	rows, cols := x.Dims()
	if cols != m.d {
		panic("infertest: predict: wrong number of features")
	}
	out.Resize(predictive.Regression, len(thetas), rows, 1)
	out.Obs = predictive.Normal{}
	sd := math.Sqrt(m.noiseVar)
	for s, th := range thetas {
		for i := range rows {
			a := 0.0
			for j := range cols {
				a += x.At(i, j) * th[j]
			}
			out.Loc[s*rows+i] = a
			out.Scale[s*rows+i] = sd
		}
	}
}

// Want sets what Run checks.
type Want struct {
	// MeanTol bounds |E[θ_j] − exact mean_j| for every j; default 1e-2.
	MeanTol float64
	// VarTol bounds the relative error of every marginal variance; zero
	// skips the check (point estimates).
	VarTol float64
	// MeanField compares variances with the mean-field optimum 1/Λ_jj
	// (MeanFieldVar) instead of the exact marginals cov_jj.
	MeanField bool
	// Draws is the number of draws used to estimate the moments; default
	// 20000. A finite posterior gives its own vectors.
	Draws int
	// Seed seeds the fits and the draws; zero is a fixed seed.
	Seed uint64
}

// Run is the conformance check for a backend: it fits m to Sanity1D and to
// a correlated 3-feature LinearRegression (50 rows, noise variance 0.25,
// prior variance 1), estimates the posterior moments from draws, and
// reports through t every coordinate outside the tolerances of w. m's own
// settings (epochs, learning rate) must be enough to converge.
func Run(t testing.TB, m infer.Method, w Want) {
	t.Helper()
	if w.MeanTol == 0 {
		w.MeanTol = 1e-2
	}
	if w.Draws == 0 {
		w.Draws = 20000
	}
	x, y := RandomData(50, 3, 0.25, 1)
	for i := range 50 { // correlate the features
		x.Set(i, 1, x.At(i, 1)+0.8*x.At(i, 0))
		x.Set(i, 2, x.At(i, 2)-0.5*x.At(i, 1))
	}
	p3, mean3, cov3 := LinearRegression(x, y, 0.25, 1)
	p1, mean1, cov1 := Sanity1D()
	cases := []struct {
		name string
		p    *infer.Problem
		mean []float64
		cov  *mat.SymDense
	}{{"sanity1d", p1, mean1, cov1}, {"linreg3d", p3, mean3, cov3}}
	for _, c := range cases {
		rng := rand.New(rand.NewPCG(w.Seed, 1))
		post, err := m.Fit(context.Background(), c.p, rng, nil)
		if err != nil {
			t.Errorf("%s on %s: %v", m.Name(), c.name, err)
			continue
		}
		if post.Dim() != c.p.Dim {
			t.Errorf("%s on %s: posterior dim %d, want %d", m.Name(), c.name, post.Dim(), c.p.Dim)
			continue
		}
		gotMean, gotVar := Moments(post.Draw(w.Draws, rng))
		wantVar := make([]float64, c.p.Dim)
		for j := range wantVar {
			wantVar[j] = c.cov.At(j, j)
		}
		if w.MeanField {
			wantVar = MeanFieldVar(c.cov)
		}
		for j := range gotMean {
			if math.Abs(gotMean[j]-c.mean[j]) > w.MeanTol {
				t.Errorf("%s on %s: mean[%d] = %.6g, want %.6g ± %g", m.Name(), c.name, j, gotMean[j], c.mean[j], w.MeanTol)
			}
			if w.VarTol > 0 && math.Abs(gotVar[j]-wantVar[j]) > w.VarTol*wantVar[j] {
				t.Errorf("%s on %s: var[%d] = %.6g, want %.6g ± %g%%", m.Name(), c.name, j, gotVar[j], wantVar[j], 100*w.VarTol)
			}
		}
	}
}

// Moments returns the coordinate-wise mean and variance (1/S normaliser)
// of the vectors in draws.
func Moments(draws [][]float64) (mean, variance []float64) {
	if len(draws) == 0 {
		return nil, nil
	}
	d := len(draws[0])
	mean = make([]float64, d)
	variance = make([]float64, d)
	for _, th := range draws {
		for j, v := range th {
			mean[j] += v
		}
	}
	s := float64(len(draws))
	for j := range mean {
		mean[j] /= s
	}
	for _, th := range draws {
		for j, v := range th {
			dv := v - mean[j]
			variance[j] += dv * dv
		}
	}
	for j := range variance {
		variance[j] /= s
	}
	return mean, variance
}
