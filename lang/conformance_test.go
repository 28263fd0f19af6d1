package lang

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/bayesl/bayesl/stdlib/data"
	"gonum.org/v1/gonum/mat"
)

// conformance lists every backend with settings that suit the conjugate
// problem, and how closely its epistemic variance must match the exact one
// (as a ratio band). A point method has none, nor has a plain ensemble of
// MAPs on a convex problem; Laplace is exact for a linear-Gaussian model, and
// NUTS samples the exact posterior; SWAG's covariance matches the
// posterior only for a tuned learning rate (Mandt et al. 2017), so it gets a
// loose band.
var conformance = []struct {
	method     string
	epiLo      float64 // lowest allowed ratio epistemic/exact
	epiHi      float64 // highest
	meanTolSDs float64 // predictive mean tolerance in posterior sds
}{
	{"map(epochs: 300, lr: 0.05, batch: 1000)", 0, 1e-9, 0.05},
	{"vi(epochs: 1500, lr: 0.01, batch: 1000, samples: 4)", 0.7, 1.3, 0.3},
	{"swag(epochs: 300, lr: 0.01, swa_lr: 0.01, batch: 16)", 0.33, 3, 0.5},
	{"ensemble(members: 3, kind: plain, method: map(epochs: 300, lr: 0.05, batch: 1000))", 0, 1e-6, 0.05},
	// Anchored members with perturbed targets are exact posterior draws
	// here; 50 of them estimate the variance to about 20%.
	{"ensemble(members: 50, method: map(epochs: 300, lr: 0.05, batch: 1000))", 0.5, 1.6, 0.6},
	{"laplace(prior_precision: 1, epochs: 300, lr: 0.05, batch: 1000)", 0.9, 1.1, 0.1},
	{"laplace(hessian: diag, prior_precision: 1, epochs: 300, lr: 0.05, batch: 1000)", 0.9, 1.1, 0.1},
	{"sgld(epochs: 4000, lr: 0.0002, batch: 1000, decay: 0, chains: 4, max_samples: 1000)", 0.85, 1.15, 0.3},
	{"multiswag(members: 2, epochs: 300, lr: 0.01, swa_lr: 0.01, batch: 16)", 0.33, 3, 0.5},
	{"nuts(warmup: 300, samples: 500, chains: 4)", 0.9, 1.1, 0.15},
	// MC dropout drops the inputs of dense layers after the first; a
	// linear model has none, so it is MAP, with no spread to invent.
	{"mc_dropout(epochs: 300, lr: 0.05, batch: 1000)", 0, 1e-9, 0.05},
}

// TestConformance runs every backend on Bayesian linear regression written
// in the language and checks the predictive mean and its epistemic variance
// against the exact conjugate answer.
func TestConformance(t *testing.T) {
	d, err := data.ReadCSV("testdata/faithful.csv", data.CSVSpec{X: []data.ColumnRef{{From: "waiting"}}, Y: "eruptions", Standardize: true})
	if err != nil {
		t.Fatal(err)
	}
	sc := data.FitScaler(d, true)
	xs := mat.DenseCopyOf(d.X)
	sc.TransformX(xs, xs)
	ys := append([]float64(nil), d.Y...)
	sc.TransformY(ys, ys)
	mean, cov := exactLinReg(mat.Col(nil, 0, xs), ys, 0.5)
	grid := []float64{45, 70, 95}
	type exact struct{ mean, epi, sd float64 }
	want := make([]exact, len(grid))
	for i, x := range grid {
		xz := (x - sc.XMean[0]) / sc.XStd[0]
		phi := []float64{xz, 1}
		v := 0.0
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				v += phi[a] * cov.At(a, b) * phi[b]
			}
		}
		want[i] = exact{sc.UnscaleLoc(mean[0]*xz + mean[1]), sc.YStd * sc.YStd * v, sc.YStd * math.Sqrt(v)}
	}
	for _, tc := range conformance {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			script := fmt.Sprintf(`data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model lin(x: 1) {
  prior weights ~ normal(0, 1)
  prior biases ~ normal(0, 1)
  y ~ normal(dense(x, 1)[0], 0.5)
}
posterior p = fit lin on d using %s
`, tc.method)
			s := NewSession(&Config{Seed: 7, Dir: "testdata"})
			if err := s.Run(context.Background(), "conformance.bl", []byte(script)); err != nil {
				t.Fatal(err)
			}
			p := posteriorOf(t, s, "p")
			pred, err := p.Predict(context.Background(), mat.NewDense(len(grid), 1, grid), &PredictOptions{Samples: 4000, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i := range grid {
				if diff := math.Abs(pred.Mean[i] - want[i].mean); diff > tc.meanTolSDs*want[i].sd {
					t.Errorf("x=%v: predictive mean %.5f, exact %.5f (off by %.2f posterior sds, allowed %.2f)", grid[i], pred.Mean[i], want[i].mean, diff/want[i].sd, tc.meanTolSDs)
				}
				r := pred.Epistemic[i] / want[i].epi
				if r < tc.epiLo || r > tc.epiHi {
					t.Errorf("x=%v: epistemic variance %.3g, exact %.3g (ratio %.3f, allowed %g..%g)", grid[i], pred.Epistemic[i], want[i].epi, r, tc.epiLo, tc.epiHi)
				}
				t.Logf("x=%v: mean %.4f (exact %.4f), epistemic %.3g (exact %.3g, ratio %.2f)", grid[i], pred.Mean[i], want[i].mean, pred.Epistemic[i], want[i].epi, r)
			}
		})
	}
}
