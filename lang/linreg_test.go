package lang

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/stdlib/data"
	"gonum.org/v1/gonum/mat"
)

// exactLinReg returns the exact Gaussian posterior of (w, b) for
// y = w x + b + N(0, noise^2) with N(0, 1) priors, on standardised data.
func exactLinReg(x, y []float64, noise float64) (mean []float64, cov *mat.SymDense) {
	prec := mat.NewSymDense(2, []float64{1, 0, 0, 1})
	rhs := mat.NewVecDense(2, nil)
	for i := range x {
		phi := []float64{x[i], 1}
		for a := 0; a < 2; a++ {
			for b := a; b < 2; b++ {
				prec.SetSym(a, b, prec.At(a, b)+phi[a]*phi[b]/(noise*noise))
			}
			rhs.SetVec(a, rhs.AtVec(a)+phi[a]*y[i]/(noise*noise))
		}
	}
	var chol mat.Cholesky
	chol.Factorize(prec)
	var m mat.VecDense
	chol.SolveVecTo(&m, rhs)
	cov = mat.NewSymDense(2, nil)
	chol.InverseTo(cov)
	return []float64{m.AtVec(0), m.AtVec(1)}, cov
}

// TestLinearRegressionAnchor fits Bayesian linear regression written in the
// language and compares MAP and VI with the exact conjugate posterior.
func TestLinearRegressionAnchor(t *testing.T) {
	src, err := os.ReadFile("testdata/linreg.bl")
	if err != nil {
		t.Fatal(err)
	}
	var preds *Table
	s := NewSession(&Config{Seed: 3, Dir: "testdata", Samples: 400, Emit: func(r Result) {
		if r.Kind == "predict" {
			preds = r.Table
		}
	}})
	if err := s.Run(context.Background(), "linreg.bl", src); err != nil {
		t.Fatal(err)
	}
	d := mustData(t, s, "d")
	sc := data.FitScaler(d, true)
	xs := mat.DenseCopyOf(d.X)
	sc.TransformX(xs, xs)
	ys := append([]float64(nil), d.Y...)
	sc.TransformY(ys, ys)
	mean, cov := exactLinReg(mat.Col(nil, 0, xs), ys, 0.5)
	sd := []float64{math.Sqrt(cov.At(0, 0)), math.Sqrt(cov.At(1, 1))}
	t.Logf("exact posterior mean %.6f sd %.6f", mean, sd)

	pmap := posteriorOf(t, s, "p_map")
	theta := pmap.post.Draw(1, rand.New(rand.NewPCG(1, 1)))[0]
	for j := range mean {
		if math.Abs(theta[j]-mean[j]) > 1e-5 {
			t.Errorf("MAP θ[%d] = %.8f, exact posterior mean %.8f", j, theta[j], mean[j])
		}
	}

	g, ok := posteriorOf(t, s, "p_vi").post.(*infer.Gaussian)
	if !ok {
		t.Fatalf("vi posterior is %T", posteriorOf(t, s, "p_vi").post)
	}
	t.Logf("VI mean %.6f sd %.6f", g.Mean, g.Std)
	for j := range mean {
		if math.Abs(g.Mean[j]-mean[j]) > 0.25*sd[j] {
			t.Errorf("VI mean[%d] = %.5f, exact %.5f (tolerance a quarter posterior sd, %.5f)", j, g.Mean[j], mean[j], 0.25*sd[j])
		}
		// Standardised x makes the exact posterior factorise, so mean-field VI is exact.
		if r := g.Std[j] / sd[j]; r < 0.85 || r > 1.15 {
			t.Errorf("VI sd[%d] = %.5f, exact %.5f (ratio %.3f, want within 15%%)", j, g.Std[j], sd[j], r)
		}
	}

	// Predictive means in the data's units against the exact ones.
	if preds == nil || preds.Rows() != 3 {
		t.Fatalf("predictions: %+v", preds)
	}
	for i, x := range []float64{50, 70, 90} {
		xz := (x - sc.XMean[0]) / sc.XStd[0]
		exact := sc.UnscaleLoc(mean[0]*xz + mean[1])
		got := cell(t, preds, preds.Columns[0].Strings[i], "mean")
		if math.Abs(got-exact) > 0.02 {
			t.Errorf("predictive mean at %v: %.4f, exact %.4f", x, got, exact)
		}
		// Total variance: noise plus the epistemic part x*ᵀΣx*, in data units.
		phi := []float64{xz, 1}
		epi := 0.0
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				epi += phi[a] * cov.At(a, b) * phi[b]
			}
		}
		exactSD := sc.YStd * math.Sqrt(0.25+epi)
		if gotSD := cell(t, preds, preds.Columns[0].Strings[i], "sd"); math.Abs(gotSD-exactSD)/exactSD > 0.02 {
			t.Errorf("predictive sd at %v: %.4f, exact %.4f", x, gotSD, exactSD)
		}
	}
}

func posteriorOf(t *testing.T, s *Session, name string) *Posterior {
	t.Helper()
	p, err := s.Posterior(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAnchoredEnsembleLinReg fits the known-noise linear regression with
// an anchored ensemble written in the language: the problem offers the
// likelihood's fixed scale for perturbed targets, and the members are then
// exact posterior draws, so their mean and covariance match the conjugate
// posterior's within sampling error (four standard errors of m draws).
func TestAnchoredEnsembleLinReg(t *testing.T) {
	const m = 200
	src := `data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model lin(x: 1) {
  prior weights ~ normal(0, 1)
  prior biases ~ normal(0, 1)
  y ~ normal(dense(x, 1)[0], 0.5)
}
posterior p = fit lin on d using ensemble(members: 200, method: map(epochs: 500, lr: 0.05, batch: 1000))
`
	s := NewSession(&Config{Seed: 5, Dir: "testdata"})
	if err := s.Run(context.Background(), "anchored.bl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	d := mustData(t, s, "d")
	sc := data.FitScaler(d, true)
	xs := mat.DenseCopyOf(d.X)
	sc.TransformX(xs, xs)
	ys := append([]float64(nil), d.Y...)
	sc.TransformY(ys, ys)
	mean, cov := exactLinReg(mat.Col(nil, 0, xs), ys, 0.5)

	p := posteriorOf(t, s, "p")
	if q := newProblem(p.prog, xs, ys); q.TargetNoise != 0.5 || q.ShiftTargets == nil {
		t.Errorf("target noise %g, want the model's fixed 0.5", q.TargetNoise)
	}
	thetas := p.post.Draw(m, nil)
	if len(thetas) != m {
		t.Fatalf("%d members", len(thetas))
	}
	got := make([]float64, 2)
	for _, th := range thetas {
		got[0] += th[0] / m
		got[1] += th[1] / m
	}
	for a := range 2 {
		if se := math.Sqrt(cov.At(a, a) / m); math.Abs(got[a]-mean[a]) > 4*se {
			t.Errorf("mean[%d] = %.5f, exact %.5f (4 SE %.5f)", a, got[a], mean[a], 4*se)
		}
		for b := range 2 {
			c := 0.0
			for _, th := range thetas {
				c += (th[a] - got[a]) * (th[b] - got[b])
			}
			c /= m - 1
			want := cov.At(a, b)
			if se := math.Sqrt((cov.At(a, a)*cov.At(b, b) + want*want) / m); math.Abs(c-want) > 4*se {
				t.Errorf("cov[%d][%d] = %.3g, exact %.3g (4 SE %.2g)", a, b, c, want, 4*se)
			}
			t.Logf("cov[%d][%d] = %.4g, exact %.4g", a, b, c, want)
		}
	}
}

// Only a fixed normal scale offers target noise; a learned or
// input-dependent one is offered per row as NoiseScale instead, and
// another family offers neither.
func TestTargetNoiseOnlyForAFixedScale(t *testing.T) {
	for model, want := range map[string]float64{
		"y ~ normal(dense(x, 1)[0], 0.5)":                                   0.5,
		"y ~ normal(dense(x, 1)[0], 0.4 + 0.1)":                             0.5,
		"param s ~ normal(0, 1)\n  y ~ normal(dense(x, 1)[0], softplus(s))": 0,
		"o = dense(x, 2)\n  y ~ normal(o[0], softplus(o[1]))":               0,
		"y ~ student_t(3, dense(x, 1)[0], 0.5)":                             0,
	} {
		src := "data d = csv(\"faithful.csv\", x: [waiting], y: eruptions, standardize: true)\nmodel lin(x: 1) {\n  " + model +
			"\n}\nposterior p = fit lin on d using map(epochs: 1)\n"
		s := NewSession(&Config{Seed: 5, Dir: "testdata"})
		if err := s.Run(context.Background(), "noise.bl", []byte(src)); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		d := mustData(t, s, "d")
		q := newProblem(posteriorOf(t, s, "p").prog, d.X, d.Y)
		if math.Abs(q.TargetNoise-want) > 1e-12 || (q.ShiftTargets != nil) != (want > 0) {
			t.Errorf("%s: target noise %g, want %g", model, q.TargetNoise, want)
		}
		// A learned or input-dependent normal scale is reported per row.
		learned := strings.Contains(model, "softplus")
		if (q.NoiseScale != nil) != learned {
			t.Errorf("%s: NoiseScale offered: %v", model, q.NoiseScale != nil)
		}
		if learned {
			theta := make([]float64, q.Dim) // s = 0, or o[1] = 0 at every row
			sd := make([]float64, 3)
			q.NoiseScale(sd, theta, []int{0, 5, 9})
			for _, v := range sd {
				if math.Abs(v-math.Log(2)) > 1e-12 {
					t.Errorf("%s: scale %v at θ = 0, want softplus(0) = log 2", model, sd)
				}
			}
		}
	}
}
