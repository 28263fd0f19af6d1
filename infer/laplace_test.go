package infer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

// converged is a MAP fit that reaches the mode of the conjugate problems
// of these tests to rounding (full batch, 2000 Adam steps).
var converged = &infer.MAP{Epochs: 2000, Batch: 1 << 20}

func fitLaplace(t *testing.T, l infer.Laplace, p *infer.Problem) *infer.LaplacePosterior {
	t.Helper()
	post, err := l.Fit(context.Background(), p, rng(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	return post.(*infer.LaplacePosterior)
}

// exactEvidence is log p(y) of the conjugate linear regression, from its
// exact posterior: log p(y|m) + log p(m) + (d/2) log 2π + ½ log det cov.
func exactEvidence(p *infer.Problem, mean []float64, cov *mat.SymDense) float64 {
	all := make([]int, p.N)
	for i := range all {
		all[i] = i
	}
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		panic("covariance not positive definite")
	}
	d := float64(len(mean))
	return -p.NegLogLik(nil, mean, all) - p.NegLogPrior(nil, mean) + 0.5*d*math.Log(2*math.Pi) + 0.5*ch.LogDet()
}

// On a linear-Gaussian model the GGN is the Hessian, so with the model's
// own prior (τ = 1) the Laplace approximation is the exact posterior: the
// full one over the last layer (here: every weight), the mean-field
// optimum 1/Λ_jj on the diagonal, and the exact evidence.
func TestLaplaceExactOnLinearRegression(t *testing.T) {
	p, mean, cov := linreg3(50, 2)
	wantEv := exactEvidence(p, mean, cov)
	mf := infertest.MeanFieldVar(cov)
	structure := map[string]string{"diag": "diag", "last_layer": "full", "full": "full", "kron": "kron"}
	for _, h := range []string{"diag", "last_layer", "full", "kron"} {
		t.Run(h, func(t *testing.T) {
			post := fitLaplace(t, infer.Laplace{Hessian: h, PriorPrecision: 1, Method: converged}, p)
			if post.Hessian() != structure[h] || post.PriorPrecision != 1 {
				t.Errorf("Hessian() %q, τ %g", post.Hessian(), post.PriorPrecision)
			}
			for j := range mean {
				if math.Abs(post.Mean[j]-mean[j]) > 1e-6 {
					t.Errorf("mean[%d] = %.12g, want %.12g", j, post.Mean[j], mean[j])
				}
			}
			got := post.Covariance()
			for a := range mean {
				for b := range mean {
					want := cov.At(a, b)
					if h == "diag" {
						want = 0
						if a == b {
							want = mf[a]
						}
					}
					if math.Abs(got.At(a, b)-want) > 1e-6*math.Abs(cov.At(a, a)) {
						t.Errorf("cov[%d,%d] = %.12g, want %.12g", a, b, got.At(a, b), want)
					}
				}
			}
			if h != "diag" && math.Abs(post.LogEvidence-wantEv) > 1e-8*math.Abs(wantEv) {
				t.Errorf("log evidence %.12g, exact %.12g", post.LogEvidence, wantEv)
			}
		})
	}
	// In one dimension the diagonal is the whole matrix.
	p1, mean1, cov1 := infertest.Sanity1D()
	post := fitLaplace(t, infer.Laplace{Hessian: "diag", PriorPrecision: 1, Method: converged}, p1)
	if math.Abs(post.Mean[0]-mean1[0]) > 1e-9 || math.Abs(post.Std[0]*post.Std[0]-cov1.At(0, 0)) > 1e-12 {
		t.Errorf("sanity1d: N(%.12g, %.12g²), exact N(%.12g, %.12g)", post.Mean[0], post.Std[0], mean1[0], cov1.At(0, 0))
	}
	if want := exactEvidence(p1, mean1, cov1); math.Abs(post.LogEvidence-want) > 1e-10 {
		t.Errorf("sanity1d: log evidence %.12g, exact %.12g", post.LogEvidence, want)
	}
}

// Marginal-likelihood tuning on data drawn from the prior: 200 weights
// θ ~ N(0, 0.25 I) and 1000 rows; the model's prior is N(0, 1), so the
// right multiplier is τ = 4. The evidence-optimal τ differs from the true
// one by about √(2/200) = 10% (one sd); we allow 25%. The tuned τ must also
// sit at the maximum of the exact evidence (computed on a grid around it,
// with the exact posterior mean for every τ) to 2%: the Laplace evidence is
// evaluated at the τ = 1 mode, which moves a little with τ.
func TestLaplaceTunesPriorPrecision(t *testing.T) {
	const n, d, noise, trueVar = 1000, 200, 0.25, 0.25
	r := rng(42)
	x := mat.NewDense(n, d, nil)
	theta := make([]float64, d)
	for j := range theta {
		theta[j] = math.Sqrt(trueVar) * r.NormFloat64()
	}
	y := make([]float64, n)
	for i := range n {
		s := 0.0
		for j := range d {
			v := r.NormFloat64()
			x.Set(i, j, v)
			s += v * theta[j]
		}
		y[i] = s + math.Sqrt(noise)*r.NormFloat64()
	}
	p, mean, _ := infertest.LinearRegression(x, y, noise, 1)
	exactMode := &fixedPoint{theta: mean}
	full := fitLaplace(t, infer.Laplace{Hessian: "last_layer", PriorTuning: "optimize", Method: exactMode}, p)
	diag := fitLaplace(t, infer.Laplace{Hessian: "diag", PriorTuning: "optimize", Method: exactMode}, p)
	// With one group (the problem lists no tensors) MacKay's fixed point
	// reaches the same τ as the bisection.
	layers := fitLaplace(t, infer.Laplace{Hessian: "full", PriorTuning: "optimize_layers", Method: exactMode}, p)
	if len(layers.LayerPrecision) != 1 || math.Abs(math.Log(layers.LayerPrecision[0]/full.PriorPrecision)) > 1e-5 {
		t.Errorf("optimize_layers with one group: τ %v, optimize %.8g", layers.LayerPrecision, full.PriorPrecision)
	}
	t.Logf("tuned τ: last_layer %.4g, diag %.4g (true 4)", full.PriorPrecision, diag.PriorPrecision)
	for name, q := range map[string]*infer.LaplacePosterior{"last_layer": full, "diag": diag} {
		if tau := q.PriorPrecision; math.Abs(tau-4) > 0.25*4 {
			t.Errorf("%s: tuned τ = %.4g, want 4 ± 25%%", name, tau)
		}
	}
	// The exact evidence as a function of τ, on a grid of ±6% in 0.3% steps.
	var xtx mat.SymDense
	xtx.SymOuterK(1, x.T())
	var xty mat.VecDense
	xty.MulVec(x.T(), mat.NewVecDense(n, y))
	yty := mat.Dot(mat.NewVecDense(n, y), mat.NewVecDense(n, y))
	best, bestEv := 0.0, math.Inf(-1)
	for k := -20; k <= 20; k++ {
		tau := full.PriorPrecision * math.Exp(0.003*float64(k))
		if ev := linregEvidence(&xtx, &xty, yty, n, noise, 1/tau); ev > bestEv {
			best, bestEv = tau, ev
		}
	}
	t.Logf("exact evidence peaks at τ = %.4g", best)
	if math.Abs(math.Log(best/full.PriorPrecision)) > 0.02 {
		t.Errorf("tuned τ %.5g, exact evidence peaks at %.5g", full.PriorPrecision, best)
	}
	// The tuned τ maximises the reported (Laplace) evidence.
	for _, f := range []float64{0.9, 1.1} {
		q := fitLaplace(t, infer.Laplace{Hessian: "last_layer", PriorPrecision: full.PriorPrecision * f, Method: exactMode}, p)
		if q.LogEvidence >= full.LogEvidence {
			t.Errorf("τ × %g gives log evidence %.10g ≥ the tuned %.10g", f, q.LogEvidence, full.LogEvidence)
		}
	}
}

// linregEvidence is the exact log p(y) of linear regression with noise
// variance s2 and prior N(0, v·I), from XᵀX, Xᵀy and yᵀy: at the posterior
// mean m (precision Λ = XᵀX/s2 + I/v),
//
//	log p(y|m) + log p(m) + (d/2) log 2π − ½ log det Λ.
func linregEvidence(xtx *mat.SymDense, xty *mat.VecDense, yty float64, n int, s2, v float64) float64 {
	d := xtx.SymmetricDim()
	prec := mat.NewSymDense(d, nil)
	prec.ScaleSym(1/s2, xtx)
	for j := range d {
		prec.SetSym(j, j, prec.At(j, j)+1/v)
	}
	var ch mat.Cholesky
	if !ch.Factorize(prec) {
		panic("posterior precision not positive definite")
	}
	var b, m, xm mat.VecDense
	b.ScaleVec(1/s2, xty)
	if err := ch.SolveVecTo(&m, &b); err != nil {
		panic(err)
	}
	xm.MulVec(xtx, &m)
	rss := yty - 2*mat.Dot(&m, xty) + mat.Dot(&m, &xm)
	mm := mat.Dot(&m, &m)
	fn, fd := float64(n), float64(d)
	return -0.5*fn*math.Log(2*math.Pi*s2) - rss/(2*s2) - 0.5*fd*math.Log(2*math.Pi*v) - mm/(2*v) +
		0.5*fd*math.Log(2*math.Pi) - 0.5*ch.LogDet()
}

// With a prior that differs by coordinate, the last-layer precision is
// G + τ·diag(1/scale²) and the evidence is computed around the prior's
// location; the tuned τ is the evidence's maximum.
func TestLaplaceLastLayerUnevenPrior(t *testing.T) {
	p, _, _ := linreg3(40, 1)
	p.PriorLoc = []float64{0.1, 0, -0.2}
	p.PriorScale = []float64{0.5, 1, 2}
	theta := []float64{0.3, -0.1, 0.2}
	all := make([]int, p.N)
	for i := range all {
		all[i] = i
	}
	g := make([]float64, 9)
	p.LastLayerGGN(g, theta, all)
	const tau = 1.7
	prec := mat.NewSymDense(3, nil)
	q, sumLog := 0.0, 0.0
	for a := range 3 {
		p0 := 1 / (p.PriorScale[a] * p.PriorScale[a])
		for b := a; b < 3; b++ {
			prec.SetSym(a, b, g[a*3+b])
		}
		prec.SetSym(a, a, prec.At(a, a)+tau*p0)
		dv := theta[a] - p.PriorLoc[a]
		q += p0 * dv * dv
		sumLog += math.Log(tau * p0)
	}
	var ch mat.Cholesky
	ch.Factorize(prec)
	var cov mat.SymDense
	ch.InverseTo(&cov)
	wantEv := -p.NegLogLik(nil, theta, all) - 0.5*tau*q + 0.5*sumLog - 0.5*ch.LogDet()

	post := fitLaplace(t, infer.Laplace{Hessian: "last_layer", PriorPrecision: tau, Method: &fixedPoint{theta}}, p)
	got := post.Covariance()
	for a := range 3 {
		for b := range 3 {
			if math.Abs(got.At(a, b)-cov.At(a, b)) > 1e-12 {
				t.Errorf("cov[%d,%d] = %.15g, want %.15g", a, b, got.At(a, b), cov.At(a, b))
			}
		}
	}
	if math.Abs(post.LogEvidence-wantEv) > 1e-10*math.Abs(wantEv) {
		t.Errorf("log evidence %.15g, want %.15g", post.LogEvidence, wantEv)
	}
	tuned := fitLaplace(t, infer.Laplace{Hessian: "last_layer", PriorTuning: "optimize", Method: &fixedPoint{theta}}, p)
	for _, f := range []float64{0.99, 1.01} {
		q := fitLaplace(t, infer.Laplace{Hessian: "last_layer", PriorPrecision: tuned.PriorPrecision * f, Method: &fixedPoint{theta}}, p)
		if q.LogEvidence >= tuned.LogEvidence {
			t.Errorf("τ × %g gives log evidence %.12g ≥ the tuned %.12g", f, q.LogEvidence, tuned.LogEvidence)
		}
	}
}

// fixedPoint is a PointMethod that returns a given vector.
type fixedPoint struct{ theta []float64 }

func (fixedPoint) Name() string { return "fixed" }
func (f *fixedPoint) Fit(ctx context.Context, p *infer.Problem, r *rand.Rand, obs infer.Observer) (infer.Posterior, error) {
	return f.FitPoint(ctx, p, r, obs)
}
func (f *fixedPoint) FitPoint(ctx context.Context, p *infer.Problem, r *rand.Rand, obs infer.Observer) (*infer.Point, error) {
	return &infer.Point{Theta: append([]float64(nil), f.theta...), By: "fixed"}, nil
}

func TestLaplaceConformance(t *testing.T) {
	inner := &infer.MAP{Epochs: 2000}
	t.Run("diag", func(t *testing.T) {
		// The diagonal is the mean-field optimum 1/Λ_jj; 5% is about 5 sd
		// of a variance estimated from 20000 draws.
		infertest.Run(t, &infer.Laplace{Hessian: "diag", PriorPrecision: 1, Method: inner}, infertest.Want{VarTol: 0.05, MeanField: true})
	})
	for _, h := range []string{"last_layer", "full", "kron"} {
		t.Run(h, func(t *testing.T) {
			infertest.Run(t, &infer.Laplace{Hessian: h, PriorPrecision: 1, Method: inner}, infertest.Want{VarTol: 0.05})
		})
	}
}

func TestLaplaceSettings(t *testing.T) {
	reg := infer.Builtins()
	m, err := reg.New("laplace", []infer.Arg{str("hessian", "last_layer"), str("prior_precision", "optimize"), num("epochs", 30), num("lr", 0.1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&infer.Laplace{Hessian: "last_layer", PriorTuning: "optimize", Epochs: 30, LR: 0.1}); !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	m, err = reg.New("laplace", []infer.Arg{num("prior_precision", 2.5), {Name: "method", Call: &infer.Call{Name: "map", Args: []infer.Arg{num("epochs", 7)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&infer.Laplace{PriorPrecision: 2.5, Method: &infer.MAP{Epochs: 7}}); !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	mapCall := func(args ...infer.Arg) infer.Arg {
		return infer.Arg{Name: "method", Call: &infer.Call{Name: "map", Args: args}}
	}
	for _, tc := range []struct {
		args  []infer.Arg
		index int
		msg   string
	}{
		{[]infer.Arg{str("hessian", "block")}, 0, `hessian must be one of "full", "kron", "diag", "last_layer", got "block"`},
		{[]infer.Arg{str("subset", "first_layer")}, 0, `subset must be one of "all", "last_layer", got "first_layer"; did you mean "last_layer"?`},
		{[]infer.Arg{str("predictive", "glm"), str("link_approx", "bridge")}, 1, `link_approx must be one of "mc", "probit", got "bridge"`},
		{[]infer.Arg{str("subset", "all"), str("hessian", "last_layer")}, 0, `hessian: last_layer is subset: last_layer with hessian: full; it cannot go with subset: all`},
		{[]infer.Arg{num("epochs", 3), str("prior_precision", "max")}, 1, `prior_precision must be a positive number or one of "model", "optimize", "optimize_layers", got "max"`},
		{[]infer.Arg{num("prior_precision", 0)}, 0, `prior_precision must be positive, got 0`},
		{[]infer.Arg{str("prior_precision", "optimize"), num("prior_precision", 1)}, 1, `prior_precision is set twice`},
		{[]infer.Arg{str("prior_precision", "optimize"), num("epoch", 1)}, 1, `unknown setting "epoch" for laplace; did you mean epochs? (known: batch, epochs, hessian, link_approx, lr, method, predictive, prior_precision, subset)`},
		{[]infer.Arg{num("lr", 0.1), mapCall()}, 0, `lr belongs to the inner fit: with method: set, write it there, as in method: map(lr: ...)`},
		{[]infer.Arg{str("hessian", "diag"), mapCall(num("lr", -1))}, 1, `method map: lr must be positive, got -1`},
		{[]infer.Arg{str("method", "vi")}, 0, `laplace needs a method that learns one parameter vector (map); vi learns a distribution`},
		{[]infer.Arg{num("method", 2)}, 0, `method must be a method such as map(epochs: 100), got 2`},
	} {
		_, err := reg.New("laplace", tc.args)
		var se *infer.SettingError
		if !errors.As(err, &se) || se.Index != tc.index || se.Msg != tc.msg {
			t.Errorf("%v: got %v (%#v), want %q at %d", tc.args, err, err, tc.msg, tc.index)
		}
	}
	// Go-side values are checked by Fit.
	p, _, _ := infertest.Sanity1D()
	for _, l := range []infer.Laplace{{PriorPrecision: -1}, {Hessian: "block"}, {PriorPrecision: math.Inf(1)}, {Epochs: 5, Method: converged},
		{Subset: "all", Hessian: "last_layer"}, {PriorTuning: "optimize", PriorPrecision: 2}, {Predictive: "linear"}} {
		if _, err := l.Fit(context.Background(), p, rng(1), nil); err == nil {
			t.Errorf("%+v: no error", l)
		}
	}
}

func TestLaplaceNeedsCapabilities(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	p.GGNDiag = nil
	if _, err := (infer.Laplace{Hessian: "diag", Method: converged}).Fit(context.Background(), p, rng(1), nil); err == nil || !strings.Contains(err.Error(), "GGNDiag") {
		t.Errorf("no GGNDiag: %v", err)
	}
	p, _, _ = infertest.Sanity1D()
	p.LastLayer, p.LastLayerGGN = nil, nil
	if _, err := (infer.Laplace{Hessian: "last_layer", Method: converged}).Fit(context.Background(), p, rng(1), nil); err == nil || !strings.Contains(err.Error(), "LastLayer") {
		t.Errorf("no LastLayer: %v", err)
	}
	p, _, _ = infertest.Sanity1D()
	p.LastLayer = make([]int, 5000)
	if _, err := (infer.Laplace{Hessian: "last_layer", Method: converged}).Fit(context.Background(), p, rng(1), nil); err == nil || !strings.Contains(err.Error(), "hessian: kron or diag") {
		t.Errorf("huge last layer: %v", err)
	}
	p, _, _ = infertest.Sanity1D()
	p.LastLayer = []int{0, 0}
	if _, err := (infer.Laplace{Hessian: "last_layer", Method: converged}).Fit(context.Background(), p, rng(1), nil); err == nil {
		t.Error("repeated last-layer index: no error")
	}
	p, _, _ = infertest.Sanity1D()
	p.GGNDiag = func(dst, theta []float64, idx []int) { dst[0] = math.NaN() }
	if _, err := (infer.Laplace{Hessian: "diag", Method: converged}).Fit(context.Background(), p, rng(1), nil); err == nil || !strings.Contains(err.Error(), "curvature") {
		t.Errorf("NaN curvature: %v", err)
	}
	// A diverging inner fit gives its *DivergenceError.
	p, _, _ = infertest.Sanity1D()
	_, err := (infer.Laplace{}).Fit(context.Background(), nanAfter(p, 3, false), rng(1), nil)
	var div *infer.DivergenceError
	if !errors.As(err, &div) {
		t.Errorf("diverging map: %v", err)
	}
}

func TestLaplaceSaveLoad(t *testing.T) {
	p, _, _ := linreg3(50, 1)
	for _, h := range []string{"diag", "last_layer", "full", "kron"} {
		post := fitLaplace(t, infer.Laplace{Hessian: h, Epochs: 20}, p)
		var buf bytes.Buffer
		if err := infer.Encode(&buf, post, nil); err != nil {
			t.Fatal(err)
		}
		back, _, err := infer.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		got := back.(*infer.LaplacePosterior)
		if got.Method() != "laplace" || got.Hessian() != post.Hessian() || got.Subset() != post.Subset() || got.Linearised() != post.Linearised() || got.StoredNumbers() != post.StoredNumbers() {
			t.Errorf("%s: loaded %s %s with %d numbers", h, got.Method(), got.Hessian(), got.StoredNumbers())
		}
		for i, v := range post.Vectors() {
			sameBits(t, fmt.Sprintf("%s vector %d", h, i), got.Vectors()[i], v)
		}
		a, b := post.Draw(3, rng(5)), got.Draw(3, rng(5))
		for s := range a {
			sameBits(t, h+" draw", b[s], a[s])
		}
		// The loaded posterior predicts as the fitted one.
		x, _ := linreg3x(4)
		pa, err := infer.Predict(context.Background(), post, p, x, 5, rng(6))
		if err != nil {
			t.Fatal(err)
		}
		pb, err := infer.Predict(context.Background(), got, p, x, 5, rng(6))
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, h+" predictive", pb.Loc, pa.Loc)
	}
	if post := fitLaplace(t, infer.Laplace{Hessian: "last_layer", Epochs: 20}, p); post.StoredNumbers() != 3+3+6 {
		t.Errorf("last-layer StoredNumbers = %d, want 3 + 3 + 3·4/2", post.StoredNumbers())
	}
	// Damaged payloads are errors, not panics.
	for _, vecs := range [][][]float64{
		{{1, 0}, {0.5}},
		{{1, 0}, {0.5}, {-1}},
		{{1}, {0.5}, {1}},
		{{1, 0}, {0.5, 1}, {0, 0}, {1, 0, 1}},
		{{1, 0}, {0.5, 1}, {0, 2}, {1, 0, 1}},
		{{1, 0}, {0.5, 1}, {0, 1}, {1, 0, -1}},
		{{1, 0}, {0.5, 1}, {0, 1}, {1, 0}},
		{{1, 0}, {0.5, 1}, {0.5, 1}, {1, 0, 1}},
		{{1, 0, 0, 0, 0}, {0.5, 1}, {}, {1, 0}},
		{{1, 0, 2, 0, 0}, {0.5, 1}, {}, {1, -1}},
		{{1, 0, 1, 0, 0}, {0.5, 1}, {}, {0, 0}, {1, 1, 2}, {1}, {1, 0, 0, 1}, {1, 1}},
		{{1, 0, 1, 0, 0}, {0.5, 1}, {}, {0, 0}, {0, 1, 2}, {1}, {1, 0, 0, 1}, {1, 0}},
		{{1, 0, 7, 0, 0}, {0.5, 1}, {}, {0, 0}},
	} {
		var buf bytes.Buffer
		if err := infer.Encode(&buf, rawPosterior{"laplace", vecs}, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := infer.Decode(&buf); !errors.Is(err, infer.ErrCorrupt) {
			t.Errorf("%v: %v", vecs, err)
		}
	}
}

// rawPosterior saves arbitrary vectors under a kind.
type rawPosterior struct {
	kind string
	vecs [][]float64
}

func (r rawPosterior) Method() string                       { return "laplace" }
func (r rawPosterior) Dim() int                             { return 0 }
func (r rawPosterior) Draw(s int, _ *rand.Rand) [][]float64 { return nil }
func (r rawPosterior) Kind() string                         { return r.kind }
func (r rawPosterior) Vectors() [][]float64                 { return r.vecs }

func TestLaplaceCapEpochs(t *testing.T) {
	got := infer.CapEpochs(&infer.Laplace{Hessian: "last_layer", LR: 0.1}, 3)
	want := &infer.Laplace{Hessian: "last_layer", Method: &infer.MAP{Epochs: 3, LR: 0.1, Optimizer: "adam", Batch: 128, Momentum: 0.9}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	m, _ := infer.Builtins().New("laplace", []infer.Arg{{Name: "method", Call: &infer.Call{Name: "map", Args: []infer.Arg{num("epochs", 2)}}}})
	if got := infer.CapEpochs(m, 10).(*infer.Laplace).Method.(*infer.MAP).Epochs; got != 2 {
		t.Errorf("cap above the nested epochs: %d", got)
	}
}

// Progress of the inner fit is reported under laplace's name.
func TestLaplaceProgress(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	var seen []infer.Progress
	if _, err := (infer.Laplace{Epochs: 4}).Fit(context.Background(), p, rng(1), func(pr infer.Progress) { seen = append(seen, pr) }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || seen[3].Method != "laplace" || seen[3].Epoch != 4 || seen[3].Epochs != 4 {
		t.Errorf("progress %+v", seen)
	}
}

// The Laplace approximation of N(50/57, 1/57): exact here, since the model
// is linear with a normal likelihood. With prior_precision: optimize the
// prior's scale is tuned by the marginal likelihood instead.
func ExampleLaplace() {
	p, exact, cov := infertest.Sanity1D()
	for _, m := range []infer.Laplace{
		{Hessian: "diag", Epochs: 1000},                          // the model's own prior, τ = 1
		{Hessian: "diag", PriorTuning: "optimize", Epochs: 1000}, // τ tuned
	} {
		post, err := m.Fit(context.Background(), p, rng(1), nil)
		if err != nil {
			panic(err)
		}
		q := post.(*infer.LaplacePosterior)
		fmt.Printf("τ = %.3f: mean %.3f sd %.3f, log evidence %.3f\n", q.PriorPrecision, q.Mean[0], q.Std[0], q.LogEvidence)
	}
	fmt.Printf("exact:     mean %.3f sd %.3f\n", exact[0], math.Sqrt(cov.At(0, 0)))
	// Output:
	// τ = 1.000: mean 0.877 sd 0.132, log evidence -3.269
	// τ = 1.271: mean 0.877 sd 0.132, log evidence -3.256
	// exact:     mean 0.877 sd 0.132
}

// For the linear-Gaussian model the GLM predictive with the model's own
// prior is the exact posterior predictive: at every test row the draws of
// the location have mean xᵀm and (1/S-normalised) variance xᵀΣx to
// rounding, with the noise scale beside them; for diag, Σ is the
// mean-field diagonal. K-FAC on this single-layer, single-output,
// bias-free model is exact, so kron is the full posterior too.
func TestLaplaceGLMPredictiveExact(t *testing.T) {
	p, mean, cov := linreg3(50, 2)
	x, _ := linreg3x(6)
	mf := infertest.MeanFieldVar(cov)
	for _, h := range []string{"full", "kron", "diag", "last_layer"} {
		t.Run(h, func(t *testing.T) {
			post := fitLaplace(t, infer.Laplace{Hessian: h, Predictive: "glm", Method: &fixedPoint{mean}}, p)
			if !post.Linearised() {
				t.Fatal("not linearised")
			}
			const S = 50
			pred, err := infer.Predict(context.Background(), post, p, x, S, rng(3))
			if err != nil {
				t.Fatal(err)
			}
			if pred.S != S || pred.N != 6 {
				t.Fatalf("predictive %d x %d", pred.S, pred.N)
			}
			for r := range 6 {
				xr := x.RawRowView(r)
				wantMean, wantVar := 0.0, 0.0
				for a := range 3 {
					wantMean += xr[a] * mean[a]
					for b := range 3 {
						c := cov.At(a, b)
						if h == "diag" {
							c = 0
							if a == b {
								c = mf[a]
							}
						}
						wantVar += xr[a] * c * xr[b]
					}
				}
				m, v := 0.0, 0.0
				for s := range S {
					m += pred.Loc[s*6+r]
				}
				m /= S
				for s := range S {
					d := pred.Loc[s*6+r] - m
					v += d * d
				}
				v /= S
				if math.Abs(m-wantMean) > 1e-9 || math.Abs(v-wantVar) > 1e-9*wantVar || pred.Scale[r] != 0.5 {
					t.Errorf("row %d: mean %.12g var %.12g scale %g, want %.12g, %.12g, 0.5", r, m, v, pred.Scale[r], wantMean, wantVar)
				}
			}
		})
	}
	// kron and full agree on the whole posterior and the evidence.
	full := fitLaplace(t, infer.Laplace{Hessian: "full", Method: &fixedPoint{mean}}, p)
	kron := fitLaplace(t, infer.Laplace{Hessian: "kron", Method: &fixedPoint{mean}}, p)
	cf, ck := full.Covariance(), kron.Covariance()
	for a := range 3 {
		for b := range 3 {
			if math.Abs(cf.At(a, b)-ck.At(a, b)) > 1e-12 {
				t.Errorf("cov[%d,%d]: full %.15g, kron %.15g", a, b, cf.At(a, b), ck.At(a, b))
			}
		}
	}
	if math.Abs(full.LogEvidence-kron.LogEvidence) > 1e-10*math.Abs(full.LogEvidence) {
		t.Errorf("log evidence: full %.15g, kron %.15g", full.LogEvidence, kron.LogEvidence)
	}
}

// Per-tensor tuning reaches MacKay's fixed point: each group's τ_g equals
// its effective number of parameters over its scatter, so that the
// evidence does not rise when any one τ_g moves; and it is at least the
// evidence of the one tuned scalar.
func TestLaplaceOptimizeLayers(t *testing.T) {
	p, mean, _ := linreg3(60, 1)
	p.Tensors = []infer.Tensor{{Name: "a", Off: 0, Size: 1}, {Name: "bc", Off: 1, Size: 2}}
	for _, h := range []string{"full", "diag", "last_layer"} {
		layers := fitLaplace(t, infer.Laplace{Hessian: h, PriorTuning: "optimize_layers", Method: &fixedPoint{mean}}, p)
		scalar := fitLaplace(t, infer.Laplace{Hessian: h, PriorTuning: "optimize", Method: &fixedPoint{mean}}, p)
		if len(layers.LayerPrecision) != 2 || layers.LogEvidence < scalar.LogEvidence-1e-9 {
			t.Errorf("%s: per layer τ %v, log evidence %.10g < scalar's %.10g", h, layers.LayerPrecision, layers.LogEvidence, scalar.LogEvidence)
		}
		t.Logf("%s: τ per tensor %.4g, one τ %.4g; log evidence %.6f vs %.6f", h, layers.LayerPrecision, scalar.PriorPrecision, layers.LogEvidence, scalar.LogEvidence)
	}
}
