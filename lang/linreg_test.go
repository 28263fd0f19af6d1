package lang

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
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
	theta := pmap.Draw(1, rand.New(rand.NewPCG(1, 1)))[0]
	for j := range mean {
		if math.Abs(theta[j]-mean[j]) > 1e-5 {
			t.Errorf("MAP θ[%d] = %.8f, exact posterior mean %.8f", j, theta[j], mean[j])
		}
	}

	g, ok := posteriorOf(t, s, "p_vi").Posterior.(*infer.Gaussian)
	if !ok {
		t.Fatalf("vi posterior is %T", posteriorOf(t, s, "p_vi").Posterior)
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
	if preds == nil || len(preds.Rows) != 3 {
		t.Fatalf("predictions: %+v", preds)
	}
	for i, x := range []float64{50, 70, 90} {
		xz := (x - sc.XMean[0]) / sc.XStd[0]
		exact := sc.UnscaleLoc(mean[0]*xz + mean[1])
		got := cell(t, preds, preds.Rows[i].Label, "mean")
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
		if gotSD := cell(t, preds, preds.Rows[i].Label, "sd"); math.Abs(gotSD-exactSD)/exactSD > 0.02 {
			t.Errorf("predictive sd at %v: %.4f, exact %.4f", x, gotSD, exactSD)
		}
	}
}

func posteriorOf(t *testing.T, s *Session, name string) *Posterior {
	t.Helper()
	v, _ := s.Value(name)
	p, ok := v.(*Posterior)
	if !ok {
		t.Fatalf("%s is not a posterior", name)
	}
	return p
}
