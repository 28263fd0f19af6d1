package infer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// linreg3 is the correlated 3-feature conjugate problem of the tests.
func linreg3(n int, priorVar float64) (*infer.Problem, []float64, *mat.SymDense) {
	x, y := infertest.RandomData(n, 3, 0.25, 3)
	for i := range n {
		x.Set(i, 1, x.At(i, 1)+0.8*x.At(i, 0))
	}
	return infertest.LinearRegression(x, y, 0.25, priorVar)
}

// variants returns copies of p with the VI capabilities switched on and off.
func variants(p *infer.Problem) map[string]*infer.Problem {
	out := map[string]*infer.Problem{}
	for _, lrt := range []bool{true, false} {
		for _, closed := range []bool{true, false} {
			q := *p
			name := "lrt"
			if !lrt {
				q.VarNegLogLik = nil
				name = "sampled"
			}
			if closed {
				name += "/closedKL"
			} else {
				q.PriorLoc, q.PriorScale = nil, nil
				name += "/mcKL"
			}
			out[name] = &q
		}
	}
	return out
}

func TestMAPConjugate(t *testing.T) {
	p1, mean1, _ := infertest.Sanity1D()
	p3, mean3, _ := linreg3(60, 1)
	for _, opt := range []string{"adam", "sgd"} {
		for name, c := range map[string]struct {
			p    *infer.Problem
			mean []float64
		}{"1d": {p1, mean1}, "3d": {p3, mean3}} {
			m := infer.MAP{Epochs: 3000, Optimizer: opt}
			if opt == "sgd" {
				m.LR = 1e-2
			}
			post, err := m.Fit(context.Background(), c.p, rng(1), nil)
			if err != nil {
				t.Fatal(err)
			}
			pt := post.(*infer.Point)
			if pt.Method() != "map" || pt.Dim() != c.p.Dim {
				t.Errorf("%s/%s: posterior %q of dim %d", opt, name, pt.Method(), pt.Dim())
			}
			for j, want := range c.mean {
				if d := math.Abs(pt.Theta[j] - want); d > 1e-6 {
					t.Errorf("%s/%s: θ[%d] = %.9f, exact posterior mean %.9f (|Δ| = %.2g)", opt, name, j, pt.Theta[j], want, d)
				}
			}
		}
	}
	if got, want := mean1[0], 50.0/57; math.Abs(got-want) > 1e-14 {
		t.Errorf("Sanity1D exact mean = %v, want 50/57", got)
	}
}

// With a strong prior and small minibatches, the per-example objective
// NLL/B + prior/N must still find the posterior mode; weighting the prior
// by 1/M instead of 1/N would shrink θ far more.
func TestMAPMinibatchPriorScaling(t *testing.T) {
	p, mean, _ := linreg3(200, 0.01)
	for _, m := range []infer.MAP{
		{Epochs: 2000, Batch: 10, Optimizer: "sgd", LR: 1e-4},
		{Epochs: 2000, Batch: 10, LR: 1e-3},
	} {
		post, err := m.Fit(context.Background(), p, rng(2), nil)
		if err != nil {
			t.Fatal(err)
		}
		th := post.(*infer.Point).Theta
		for j := range mean {
			if math.Abs(th[j]-mean[j]) > 5e-3 {
				t.Errorf("%+v: θ[%d] = %.5f, exact posterior mean %.5f", m, j, th[j], mean[j])
			}
		}
	}
}

func TestMAPWithoutPriorIsLeastSquares(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	q := *p
	q.NegLogPrior, q.PriorLoc, q.PriorScale = nil, nil, nil
	post, err := infer.MAP{Epochs: 2000}.Fit(context.Background(), &q, rng(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Σxy/Σx² = 12.5/14
	if th := post.(*infer.Point).Theta[0]; math.Abs(th-12.5/14) > 1e-9 {
		t.Errorf("θ = %v, want %v", th, 12.5/14)
	}
}

// Mean-field VI on a Gaussian posterior converges to the exact mean and to
// the variances 1/Λ_jj (exactly the posterior variance in 1-D; below the
// marginal variances when the posterior is correlated).
func TestVIConjugate(t *testing.T) {
	p1, mean1, cov1 := infertest.Sanity1D()
	p3, mean3, cov3 := linreg3(60, 1)
	mfv3 := infertest.MeanFieldVar(cov3)
	for j := range mfv3 {
		if !(mfv3[j] < 0.95*cov3.At(j, j)) && j < 2 {
			t.Fatalf("test problem is not correlated enough: mean-field var %v vs marginal %v", mfv3[j], cov3.At(j, j))
		}
	}
	cases := []struct {
		name string
		p    *infer.Problem
		mean []float64
		v    []float64
	}{
		{"1d", p1, mean1, []float64{cov1.At(0, 0)}},
		{"3d", p3, mean3, mfv3},
	}
	m := infer.VI{Epochs: 40000, LR: 5e-4, Samples: 8}
	for _, c := range cases {
		for name, p := range variants(c.p) {
			post, err := m.Fit(context.Background(), p, rng(3), nil)
			if err != nil {
				t.Fatal(err)
			}
			g := post.(*infer.Gaussian)
			if g.Method() != "vi" || g.Dim() != p.Dim {
				t.Errorf("posterior %q of dim %d", g.Method(), g.Dim())
			}
			for j := range c.mean {
				if d := math.Abs(g.Mean[j] - c.mean[j]); d > 1e-2 {
					t.Errorf("%s/%s: μ[%d] = %.5f, exact %.5f", c.name, name, j, g.Mean[j], c.mean[j])
				}
				if v := g.Std[j] * g.Std[j]; math.Abs(v/c.v[j]-1) > 0.1 {
					t.Errorf("%s/%s: σ²[%d] = %.5g, want %.5g ± 10%%", c.name, name, j, v, c.v[j])
				}
			}
		}
	}
	if math.Abs(cov1.At(0, 0)-1.0/57) > 1e-15 {
		t.Errorf("Sanity1D exact variance = %v, want 1/57", cov1.At(0, 0))
	}
}

func TestConformance(t *testing.T) {
	t.Run("map", func(t *testing.T) {
		infertest.Run(t, &infer.MAP{Epochs: 3000}, infertest.Want{MeanTol: 1e-6})
	})
	t.Run("vi", func(t *testing.T) {
		infertest.Run(t, &infer.VI{Epochs: 40000, LR: 5e-4, Samples: 8},
			infertest.Want{MeanTol: 1e-2, VarTol: 0.1, MeanField: true})
	})
}

// nanAfter wraps p so that the k-th likelihood evaluation (1-based) returns
// NaN, or, with grad set, a finite loss with an infinite gradient.
func nanAfter(p *infer.Problem, k int, grad bool) *infer.Problem {
	q := *p
	calls := 0
	nll, vnll := p.NegLogLik, p.VarNegLogLik
	q.NegLogLik = func(g, theta []float64, idx []int) float64 {
		calls++
		v := nll(g, theta, idx)
		if calls == k {
			if !grad {
				return math.NaN()
			}
			g[0] = math.Inf(1)
		}
		return v
	}
	if vnll != nil {
		q.VarNegLogLik = func(gm, gs, mu, sigma []float64, idx []int, r *rand.Rand) float64 {
			calls++
			v := vnll(gm, gs, mu, sigma, idx, r)
			if calls == k {
				if !grad {
					return math.NaN()
				}
				gs[0] = math.Inf(1)
			}
			return v
		}
	}
	return &q
}

func TestDivergence(t *testing.T) {
	p, _, _ := infertest.Sanity1D() // 3 rows; batch 1 gives 3 steps per epoch
	k := 11*3 + 3                   // epoch 12, step 3
	for _, tc := range []struct {
		m    infer.Method
		p    *infer.Problem
		grad bool
		msg  string
	}{
		{infer.MAP{Batch: 1}, nanAfter(p, k, false), false, "map: loss became NaN at epoch 12, step 3"},
		{infer.MAP{Batch: 1}, nanAfter(p, k, true), true, "map: gradient became +Inf at epoch 12, step 3"},
		{infer.VI{Batch: 1}, nanAfter(p, k, false), false, "vi: loss became NaN at epoch 12, step 3"},
		{infer.VI{Batch: 1}, nanAfter(p, k, true), true, "vi: gradient became +Inf at epoch 12, step 3"},
	} {
		post, err := tc.m.Fit(context.Background(), tc.p, rng(1), nil)
		var de *infer.DivergenceError
		if !errors.As(err, &de) {
			t.Fatalf("%s: err = %v, want *DivergenceError", tc.m.Name(), err)
		}
		if post != nil {
			t.Errorf("%s: a posterior came back with the error", tc.m.Name())
		}
		if de.Epoch != 12 || de.Step != 3 || de.Grad != tc.grad || de.Method != tc.m.Name() {
			t.Errorf("got %+v", *de)
		}
		if err.Error() != tc.msg {
			t.Errorf("message %q, want %q", err.Error(), tc.msg)
		}
	}
}

func TestCancel(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	for _, m := range []infer.Method{infer.MAP{}, infer.VI{}} {
		ctx, cancel := context.WithCancel(context.Background())
		epochs := 0
		post, err := m.Fit(ctx, p, rng(1), func(pr infer.Progress) {
			epochs = pr.Epoch
			if pr.Epoch == 2 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) || post != nil {
			t.Errorf("%s: got %v, %v; want nil, context.Canceled", m.Name(), post, err)
		}
		if epochs != 2 {
			t.Errorf("%s: ran %d epochs after cancelling at 2", m.Name(), epochs)
		}

		// A context that is already done stops before any step.
		called := false
		_, err = m.Fit(ctx, nanAfter(p, 1, false), rng(1), func(infer.Progress) { called = true })
		if !errors.Is(err, context.Canceled) || called {
			t.Errorf("%s: pre-cancelled fit: err %v, progress reported %v", m.Name(), err, called)
		}
	}
}

func TestProgress(t *testing.T) {
	p, _, _ := linreg3(50, 1)
	for _, m := range []infer.Method{infer.MAP{Epochs: 30, Batch: 16}, infer.VI{Epochs: 30, Batch: 16}} {
		var got []infer.Progress
		if _, err := m.Fit(context.Background(), p, rng(1), func(pr infer.Progress) { got = append(got, pr) }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 {
			t.Fatalf("%s: %d reports, want 30", m.Name(), len(got))
		}
		for i, pr := range got {
			if pr.Method != m.Name() || pr.Epoch != i+1 || pr.Epochs != 30 || !(pr.Elapsed >= 0) {
				t.Errorf("%s: report %d = %+v", m.Name(), i, pr)
			}
		}
		if !(got[29].Loss < got[0].Loss) {
			t.Errorf("%s: loss went from %v to %v", m.Name(), got[0].Loss, got[29].Loss)
		}
	}
}

func TestDeterminism(t *testing.T) {
	p, _, _ := linreg3(50, 1)
	for _, m := range []infer.Method{infer.MAP{Epochs: 20, Batch: 7}, infer.MAP{Epochs: 20, Batch: 7, Optimizer: "sgd"}} {
		a, _ := m.Fit(context.Background(), p, rng(5), nil)
		b, _ := m.Fit(context.Background(), p, rng(5), nil)
		sameBits(t, m.Name(), a.(*infer.Point).Theta, b.(*infer.Point).Theta)
	}
	for name, q := range variants(p) {
		m := infer.VI{Epochs: 20, Batch: 7, Samples: 2}
		a, _ := m.Fit(context.Background(), q, rng(5), nil)
		b, _ := m.Fit(context.Background(), q, rng(5), nil)
		c, _ := m.Fit(context.Background(), q, rng(6), nil)
		ga, gb, gc := a.(*infer.Gaussian), b.(*infer.Gaussian), c.(*infer.Gaussian)
		sameBits(t, "vi/"+name+" mean", ga.Mean, gb.Mean)
		sameBits(t, "vi/"+name+" std", ga.Std, gb.Std)
		if ga.Mean[0] == gc.Mean[0] {
			t.Errorf("vi/%s: another seed gave the same mean", name)
		}
	}
}

func sameBits(t *testing.T, what string, a, b []float64) {
	t.Helper()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Errorf("%s: run 2 differs at %d: %v vs %v", what, i, a[i], b[i])
			return
		}
	}
}

// A fit allocates its workspace once: the allocation count does not grow
// with the number of epochs. 400 epochs are 5200 steps, so one allocation
// per step would add thousands; the slack of one allows for the runtime's
// own rare allocations (a GC cycle) during the longer run.
func TestFitStepsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	p, _, _ := linreg3(50, 1)
	obs := func(infer.Progress) {}
	check := func(name string, fit func(epochs int)) {
		t.Helper()
		few := testing.AllocsPerRun(3, func() { fit(2) })
		many := testing.AllocsPerRun(3, func() { fit(400) })
		if many > few+1 {
			t.Errorf("%s: %v allocations for 2 epochs, %v for 400", name, few, many)
		}
	}
	for _, opt := range []string{"adam", "sgd"} {
		check("map/"+opt, func(e int) {
			if _, err := (infer.MAP{Epochs: e, Batch: 16, Optimizer: opt}).Fit(context.Background(), p, rng(1), obs); err != nil {
				t.Fatal(err)
			}
		})
	}
	for name, q := range variants(p) {
		for _, s := range []int{1, 3} {
			check("vi/"+name, func(e int) {
				if _, err := (infer.VI{Epochs: e, Batch: 16, Samples: s}).Fit(context.Background(), q, rng(1), obs); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	noPrior := *p
	noPrior.NegLogPrior, noPrior.PriorLoc, noPrior.PriorScale = nil, nil, nil
	badScale := *p
	badScale.PriorScale = []float64{0}
	for _, tc := range []struct {
		name string
		m    infer.Method
		p    *infer.Problem
		r    *rand.Rand
	}{
		{"nil problem", infer.MAP{}, nil, rng(1)},
		{"nil rng", infer.MAP{}, p, nil},
		{"negative lr", infer.MAP{LR: -1}, p, rng(1)},
		{"bad optimizer", infer.VI{Optimizer: "adamw"}, p, rng(1)},
		{"momentum 1", infer.VI{Momentum: 1}, p, rng(1)},
		{"vi without prior", infer.VI{}, &noPrior, rng(1)},
		{"zero prior scale", infer.VI{}, &badScale, rng(1)},
		{"no rows", infer.VI{}, &infer.Problem{Dim: 1, NegLogLik: p.NegLogLik}, rng(1)},
	} {
		if _, err := tc.m.Fit(context.Background(), tc.p, tc.r, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	var se *infer.SettingError
	if _, err := (infer.MAP{Epochs: -3}).Fit(context.Background(), p, rng(1), nil); !errors.As(err, &se) || se.Index != -1 {
		t.Errorf("negative epochs from Go: %v", err)
	}
	// Plain SGD (no momentum) is spelt Momentum: -1.
	if _, err := (infer.MAP{Optimizer: "sgd", Momentum: -1}).Fit(context.Background(), p, rng(1), nil); err != nil {
		t.Error(err)
	}
}
