package lang

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/stdlib/data"
	"gonum.org/v1/gonum/mat"
)

// TestLaplaceInTheLanguage: on Bayesian linear regression written in the
// language, the default laplace (every parameter, full GGN, GLM predictive,
// the model's own prior) is the exact posterior. Its predictive mean and
// epistemic variance are the conjugate ones, its log marginal likelihood
// (in the fit's summary and the evidence column) is the exact evidence of
// the standardised data, and after save and load it predicts the same.
func TestLaplaceInTheLanguage(t *testing.T) {
	d, err := data.ReadCSV("testdata/faithful.csv", data.CSVSpec{X: []data.ColumnRef{{From: "waiting"}}, Y: "eruptions", Standardize: true})
	if err != nil {
		t.Fatal(err)
	}
	sc := data.FitScaler(d, true)
	xs := mat.DenseCopyOf(d.X)
	sc.TransformX(xs, xs)
	ys := append([]float64(nil), d.Y...)
	sc.TransformY(ys, ys)
	const noise = 0.5
	mean, cov := exactLinReg(mat.Col(nil, 0, xs), ys, noise)
	// log N(y; 0, σ²I + ΦΦᵀ), Φ = [x, 1] under the N(0, I) prior.
	n := len(ys)
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := xs.At(i, 0)*xs.At(j, 0) + 1
			if i == j {
				v += noise * noise
			}
			k.SetSym(i, j, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(k) {
		t.Fatal("covariance not positive definite")
	}
	var alpha mat.VecDense
	if err := ch.SolveVecTo(&alpha, mat.NewVecDense(n, ys)); err != nil {
		t.Fatal(err)
	}
	wantEv := -0.5*mat.Dot(mat.NewVecDense(n, ys), &alpha) - 0.5*ch.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)

	file := filepath.Join(t.TempDir(), "p.post")
	script := fmt.Sprintf(`data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model lin(x: 1) {
  prior weights ~ normal(0, 1)
  prior biases ~ normal(0, 1)
  y ~ normal(dense(x, 1)[0], 0.5)
}
posterior p = fit lin on d using laplace(epochs: 500, lr: 0.05)
save p to %q
posterior q = load(%q)
evaluate [p, q] on d: evidence
`, file, file)
	var fit *FitSummary
	var tab *Table
	s := NewSession(&Config{Seed: 7, Dir: "testdata", Emit: func(r Result) {
		switch r.Kind {
		case "fit":
			fit = r.Fit
		case "evaluate":
			tab = r.Table
		}
	}})
	if err := s.Run(context.Background(), "laplace.bl", []byte(script)); err != nil {
		t.Fatal(err)
	}
	if fit == nil || fit.LogEvidence == nil {
		t.Fatal("the fit summary has no log marginal likelihood")
	}
	if got := *fit.LogEvidence; math.Abs(got-wantEv) > 1e-6*math.Abs(wantEv) {
		t.Errorf("log marginal likelihood %.10g, exact %.10g", got, wantEv)
	}
	if tab == nil || tab.Rows() != 2 || tab.Columns[1].Floats[0] != *fit.LogEvidence || tab.Columns[1].Floats[1] != *fit.LogEvidence {
		t.Errorf("evidence column %+v, want %g twice", tab, *fit.LogEvidence)
	}
	grid := mat.NewDense(3, 1, []float64{45, 70, 95})
	p, q := posteriorOf(t, s, "p"), posteriorOf(t, s, "q")
	pp, err := p.Predict(context.Background(), grid, &PredictOptions{Samples: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pq, err := q.Predict(context.Background(), grid, &PredictOptions{Samples: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		xz := (grid.At(i, 0) - sc.XMean[0]) / sc.XStd[0]
		phi := []float64{xz, 1}
		v := 0.0
		for a := range 2 {
			for b := range 2 {
				v += phi[a] * cov.At(a, b) * phi[b]
			}
		}
		wantMean, wantEpi := sc.UnscaleLoc(mean[0]*xz+mean[1]), sc.YStd*sc.YStd*v
		if math.Abs(pp.Mean[i]-wantMean) > 1e-6*sc.YStd || math.Abs(pp.Epistemic[i]-wantEpi) > 1e-5*wantEpi {
			t.Errorf("x=%v: mean %.8g epistemic %.8g, exact %.8g %.8g", grid.At(i, 0), pp.Mean[i], pp.Epistemic[i], wantMean, wantEpi)
		}
		if pq.Mean[i] != pp.Mean[i] || pq.Epistemic[i] != pp.Epistemic[i] {
			t.Errorf("x=%v: loaded posterior predicts mean %g epistemic %g, fitted %g %g", grid.At(i, 0), pq.Mean[i], pq.Epistemic[i], pp.Mean[i], pp.Epistemic[i])
		}
	}
}

// The functional covariance of a Kronecker-factored or diagonal posterior
// from the layers' parts (Problem.LayerJacobians) equals the one from the
// whole Jacobian, on a classifier and on a regression with a param outside
// the dense layers.
func TestLaplaceLayerFunctionalCovariance(t *testing.T) {
	for _, c := range []struct{ data, model string }{
		{`data d = csv("iris.csv", x: [sepal_length .. petal_width], y: species, classes: 3, standardize: true)`,
			`model net(x: 4) {
  prior weights ~ normal(0, 1) scaled fan_in
  prior biases ~ normal(0, 1)
  h = dense(x, 5) |> tanh
  y ~ categorical(logits: dense(h, 3))
}`},
		{`data d = csv("faithful.csv", x: [eruptions], y: waiting, standardize: true)`,
			`model net(x: 1) {
  prior weights ~ normal(0, 1) scaled fan_in
  prior biases ~ normal(0, 1)
  param s ~ normal(0, 1)
  h = dense(x, 4) |> tanh
  h = dense(h, 3, bias: false) |> tanh
  y ~ normal(dense(h, 1)[0], softplus(s) + 0.01)
}`},
	} {
		for _, h := range []string{"kron", "diag"} {
			script := fmt.Sprintf("%s\n%s\nposterior p = fit net on d using laplace(hessian: %s, epochs: 50)\n", c.data, c.model, h)
			s := NewSession(&Config{Seed: 3, Dir: "../examples/data"})
			if err := s.Run(context.Background(), "layers.bl", []byte(script)); err != nil {
				t.Fatal(err)
			}
			p := posteriorOf(t, s, "p")
			lp := p.post.(*infer.LaplacePosterior)
			rows := 300 // more than one chunk of the layered path
			x := mat.NewDense(rows, p.model.InputWidth, nil)
			for i := range rows {
				for j := range p.model.InputWidth {
					x.Set(i, j, float64(i%9-4)*0.4+0.1*float64(j)+0.001*float64(i))
				}
			}
			got, err := lp.FunctionalCovariance(context.Background(), p.problem, x)
			if err != nil {
				t.Fatal(err)
			}
			whole := *p.problem
			whole.LayerJacobians = nil
			want, err := lp.FunctionalCovariance(context.Background(), &whole, x)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-10*max(1, math.Abs(want[i])) {
					t.Fatalf("%s, %s: entry %d: from the layers %.15g, from the Jacobian %.15g", p.model.Name, h, i, got[i], want[i])
				}
			}
		}
	}
}
