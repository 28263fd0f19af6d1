package infer_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// ar1 returns m chains of n draws of x_t = ρx_{t−1} + √(1−ρ²)·ξ_t started
// in the stationary N(0, 1), shifted by shift[c].
func ar1(m, n int, rho float64, shift []float64, seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	out := make([][]float64, m)
	s := math.Sqrt(1 - rho*rho)
	for c := range out {
		x := r.NormFloat64()
		out[c] = make([]float64, n)
		for i := range n {
			out[c][i] = x
			x = rho*x + s*r.NormFloat64()
		}
		if shift != nil {
			for i := range out[c] {
				out[c][i] += shift[c]
			}
		}
	}
	return out
}

// R̂ and ESS on chains with known answers, over several seeds. A single
// ESS estimate of an AR(1) chain with ρ = 0.9 over 4 × 10 000 draws has a
// relative spread of about 5.5% (iid over 4 × 1 000: 4%), so each estimate
// is held to about 3.5 spreads and their mean over the seeds more tightly.
func TestRhatESSKnownAnswers(t *testing.T) {
	const seeds = 5
	sum := map[string]float64{}
	check := func(name string, seed uint64, got, want, tol float64) {
		t.Helper()
		sum[name] += got / want / seeds
		if math.Abs(got/want-1) > tol {
			t.Errorf("seed %d: %s ESS = %.0f, want %.0f ± %g%%", seed, name, got, want, 100*tol)
		}
	}
	for seed := range uint64(seeds) {
		// Independent draws: R̂ ≈ 1 and ESS ≈ the number of draws.
		iid := ar1(4, 1000, 0, nil, seed)
		if r := infer.RankRhat(iid); !(r < 1.01 && r > 0.99) {
			t.Errorf("seed %d: iid R̂ = %v", seed, r)
		}
		check("iid", seed, infer.BulkESS(iid), 4000, 0.15)
		// A chain off by 2 standard deviations: R̂ far above 1.
		shifted := ar1(4, 1000, 0, []float64{0, 0, 0, 2}, seed)
		if r := infer.RankRhat(shifted); !(r > 1.3) {
			t.Errorf("seed %d: shifted R̂ = %v", seed, r)
		}
		// A chain that drifts within itself: split-R̂ sees its halves differ.
		drift := ar1(4, 1000, 0, nil, seed)
		for i := range drift[2] {
			drift[2][i] += 3 * float64(i) / 1000
		}
		if r := infer.RankRhat(drift); !(r > 1.1) {
			t.Errorf("seed %d: drifting R̂ = %v", seed, r)
		}
		// Same location, one chain 5 times wider: only the folded R̂ sees it.
		wide := ar1(4, 1000, 0, nil, seed)
		for i := range wide[1] {
			wide[1][i] *= 5
		}
		if r := infer.RankRhat(wide); !(r > 1.1) {
			t.Errorf("seed %d: wide-chain R̂ = %v", seed, r)
		}
		// AR(1): ESS ≈ n(1−ρ)/(1+ρ).
		for _, c := range []struct{ rho, tol float64 }{{0.5, 0.1}, {0.9, 0.2}} {
			x := ar1(4, 10000, c.rho, nil, seed)
			check(fmt.Sprintf("AR(1) ρ = %v", c.rho), seed, infer.BulkESS(x), 40000*(1-c.rho)/(1+c.rho), c.tol)
			if r := infer.RankRhat(x); !(r < 1.02) {
				t.Errorf("seed %d: AR(1) ρ = %v: R̂ = %v", seed, c.rho, r)
			}
		}
	}
	for name, mean := range sum {
		if math.Abs(mean-1) > 0.06 {
			t.Errorf("%s: ESS/expected averages %.3f over %d seeds", name, mean, seeds)
		}
		t.Logf("%s: ESS/expected averages %.3f over %d seeds", name, mean, seeds)
	}
	// Rank-based: a monotone transform changes nothing.
	x := ar1(3, 400, 0.7, []float64{0, 0.3, 0}, 1)
	y := make([][]float64, len(x))
	for c := range x {
		y[c] = make([]float64, len(x[c]))
		for i, v := range x[c] {
			y[c][i] = math.Exp(3 * v)
		}
	}
	if a, b := infer.RankRhat(x), infer.RankRhat(y); a != b || infer.BulkESS(x) != infer.BulkESS(y) {
		t.Errorf("R̂ %v vs %v after exp", a, b)
	}
	// Too short, or constant.
	if r := infer.RankRhat([][]float64{{1, 2, 3}}); !math.IsNaN(r) {
		t.Errorf("3 draws: R̂ %v", r)
	}
	if r := infer.RankRhat([][]float64{{1, 1, 1, 1}, {1, 1, 1, 1}}); !math.IsNaN(r) {
		t.Errorf("constant: R̂ %v", r)
	}
	if e := infer.BulkESS([][]float64{{1, 1, 1, 1}, {1, 1, 1, 1}}); e != 8 {
		t.Errorf("constant: ESS %v", e)
	}
}

// Converged SGLD chains agree in function space; no warning.
func TestDiagnoseConverged(t *testing.T) {
	p, _, _ := linreg3(40, 1)
	s := samples(t, infer.SGLD{Epochs: 20000, LR: 2e-3, Decay: -1, MaxSamples: 200}, p, 1)
	x, _ := infertest.RandomData(20, 3, 0.25, 8)
	d, err := infer.Diagnose(context.Background(), s, p, x)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outputs != 20 || d.Chains != 4 || d.Draws != 200 {
		t.Errorf("%+v", d)
	}
	if !(d.MaxRhat < 1.05) || d.Warning != "" || !(d.MinESS > 100) || !(d.MedianRhat <= d.MaxRhat) || !(d.MinESS <= d.MedianESS) {
		t.Errorf("converged chains: %+v", d)
	}
	t.Logf("%+v", *d)
}

// linear is a fake one-parameter model for Diagnose: regression predicts
// θ·x; classification has logits (θ·x, 0).
func linear(kind predictive.Kind) *infer.Problem {
	return &infer.Problem{Dim: 1, N: 1, Kind: kind, Classes: 2,
		Predict: func(out *predictive.Predictive, thetas [][]float64, x *mat.Dense) {
			rows, _ := x.Dims()
			k := 1
			if kind == predictive.Classification {
				k = 2
			}
			out.Resize(kind, len(thetas), rows, k)
			for s, th := range thetas {
				for i := range rows {
					a := th[0] * x.At(i, 0)
					if kind == predictive.Regression {
						out.Loc[s*rows+i], out.Scale[s*rows+i] = a, 1
						continue
					}
					lse := math.Max(a, 0) + math.Log1p(math.Exp(-math.Abs(a)))
					out.LogProb[(s*rows+i)*2] = a - lse
					out.LogProb[(s*rows+i)*2+1] = -lse
				}
			}
		}}
}

func samplesFrom(t *testing.T, chains [][]float64) *infer.Samples {
	t.Helper()
	var cs [][][]float64
	for _, ch := range chains {
		var c [][]float64
		for _, v := range ch {
			c = append(c, []float64{v})
		}
		cs = append(cs, c)
	}
	s, err := infer.NewSamples("sgld", cs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Chains stuck in different places disagree on predictions: Diagnose
// warns. Inputs where the prediction does not depend on θ (x = 0) are
// skipped; classification diagnoses each class probability.
func TestDiagnoseDisagreement(t *testing.T) {
	x := mat.NewDense(3, 1, []float64{1, 0, -2})
	good := samplesFrom(t, ar1(4, 100, 0.3, nil, 1))
	bad := samplesFrom(t, ar1(4, 100, 0.3, []float64{0, 0, 1.5, 0}, 1))
	for _, kind := range []predictive.Kind{predictive.Regression, predictive.Classification} {
		p := linear(kind)
		outputs := 2
		if kind == predictive.Classification {
			outputs = 4
		}
		d, err := infer.Diagnose(context.Background(), good, p, x)
		if err != nil {
			t.Fatal(err)
		}
		if d.Outputs != outputs || d.Warning != "" || !(d.MaxRhat < 1.05) {
			t.Errorf("%v, mixing chains: %+v", kind, d)
		}
		d, err = infer.Diagnose(context.Background(), bad, p, x)
		if err != nil {
			t.Fatal(err)
		}
		if d.Outputs != outputs || !(d.MaxRhat > 1.05) || !strings.Contains(d.Warning, "disagree") {
			t.Errorf("%v, stuck chain: %+v", kind, d)
		}
	}
	// Only x = 0: nothing varies.
	d, err := infer.Diagnose(context.Background(), good, linear(predictive.Regression), mat.NewDense(1, 1, nil))
	if err != nil || d.Outputs != 0 || d.Warning == "" || !math.IsNaN(d.MaxRhat) {
		t.Errorf("constant outputs: %+v, %v", d, err)
	}
}

func TestDiagnoseErrors(t *testing.T) {
	p := linear(predictive.Regression)
	x := mat.NewDense(1, 1, []float64{1})
	ctx := context.Background()
	if _, err := infer.Diagnose(ctx, &infer.Point{Theta: []float64{1}, By: "map"}, p, x); err == nil || !strings.Contains(err.Error(), "no chains") {
		t.Errorf("point: %v", err)
	}
	if d, err := infer.Diagnose(ctx, samplesFrom(t, [][]float64{{1, 2, 3}, {3, 2, 1}}), p, x); err != nil || d.Warning == "" || !math.IsNaN(d.MaxRhat) || d.Draws != 3 {
		t.Errorf("3 draws: %+v, %v", d, err)
	}
	s := samplesFrom(t, ar1(2, 10, 0, nil, 1))
	q := *p
	q.Predict = nil
	if _, err := infer.Diagnose(ctx, s, &q, x); err == nil {
		t.Error("problem without Predict accepted")
	}
	if _, err := infer.Diagnose(ctx, s, p, nil); err == nil {
		t.Error("nil inputs accepted")
	}
	q = *p
	q.Dim = 2
	if _, err := infer.Diagnose(ctx, s, &q, x); err == nil {
		t.Error("dimension mismatch accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := infer.Diagnose(cctx, s, p, x); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
