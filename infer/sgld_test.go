package infer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// stdNormal is the fake problem of docs/algorithms.md §8 sanity test (i), d
// independent coordinates of U(θ) = |θ|²/2 (a N(0, I) target) with exact
// gradients: the likelihood is empty and the prior is the target, so every
// step sees the whole potential.
func stdNormal(d int) *infer.Problem {
	return &infer.Problem{
		Dim: d, N: 1,
		NegLogLik: func(grad, theta []float64, idx []int) float64 { clear(grad); return 0 },
		NegLogPrior: func(grad, theta []float64) float64 {
			u := 0.0
			for j, t := range theta {
				u += t * t / 2
				grad[j] += t
			}
			return u
		},
	}
}

// samples fits m to p and returns the *Samples.
func samples(t testing.TB, m infer.Method, p *infer.Problem, seed uint64) *infer.Samples {
	t.Helper()
	post, err := m.Fit(context.Background(), p, rng(seed), nil)
	if err != nil {
		t.Fatalf("%s: %v", m.Name(), err)
	}
	s, ok := post.(*infer.Samples)
	if !ok {
		t.Fatalf("%s returned a %T", m.Name(), post)
	}
	return s
}

// pooledVar returns the variance of every stored coordinate, pooled over
// coordinates, draws and chains (the coordinates share one target).
func pooledVar(s *infer.Samples) float64 {
	sum, n := 0.0, 0
	for _, ch := range s.Chains() {
		for _, th := range ch {
			for _, x := range th {
				sum += x * x
				n++
			}
		}
	}
	return sum / float64(n)
}

// docs/algorithms.md §8 sanity test (i): with exact gradients and a constant
// step ε, SGLD on N(0, 1) is the AR(1) chain θ' = (1−ε/2)θ + √ε·ξ, whose
// stationary variance is 1/(1−ε/4), not 1: the discretisation bias that a
// decaying step removes. The variance is within 2% (and, pooled over 64
// coordinates, far closer than that distinguishes ε = 0.1 from ε = 0.5).
func TestSGLDStationaryVariance(t *testing.T) {
	p := stdNormal(64)
	for _, c := range []struct {
		eps    float64
		epochs int
	}{{0.1, 12000}, {0.5, 3000}} {
		m := infer.SGLD{Epochs: c.epochs, Burnin: 200, LR: c.eps, Decay: -1, MaxSamples: c.epochs}
		got := pooledVar(samples(t, m, p, 1))
		want := 1 / (1 - c.eps/4)
		if math.Abs(got/want-1) > 0.02 {
			t.Errorf("ε = %v: stationary variance %.5f, want %.5f ± 2%%", c.eps, got, want)
		}
		t.Logf("ε = %v: variance %.5f, exact %.5f", c.eps, got, want)
	}
}

// The temperature scales the noise: T = 0.25 samples p(θ)^4, of variance
// 1/4 (times the same discretisation factor).
func TestSGLDTemperature(t *testing.T) {
	m := infer.SGLD{Epochs: 6000, Burnin: 200, LR: 0.1, Decay: -1, MaxSamples: 6000, Temperature: 0.25}
	got := pooledVar(samples(t, m, stdNormal(64), 2))
	if want := 0.25 / (1 - 0.1/4); math.Abs(got/want-1) > 0.03 {
		t.Errorf("variance %.5f at T = 0.25, want %.5f", got, want)
	}
}

// docs/algorithms.md §8 sanity test (ii): on the conjugate 1-D problem SGLD's
// samples have the exact posterior mean 50/57 = 0.877193 and variance
// 1/57 = 0.017544. With ε = 10⁻³ the chain's autocorrelation time is
// about 70 steps, so 4 chains of 30 000 kept steps give about 1 700
// effective draws: the mean is checked to ±0.012 (3.7 standard errors)
// and the variance to ±10% (4 standard errors; the discretisation adds
// 1.4%). The decaying step ends near 6.5·10⁻⁴ and mixes a little faster.
func TestSGLDConjugate1D(t *testing.T) {
	p, mean, cov := infertest.Sanity1D()
	for _, m := range []infer.Method{
		infer.SGLD{Epochs: 60000, LR: 1e-3, Decay: -1, MaxSamples: 5000},
		infer.SGLD{Epochs: 60000, LR: 5e-3, Offset: 1000, MaxSamples: 5000}, // decaying step
	} {
		mu, v := infertest.Moments(samples(t, m, p, 3).Draw(0, nil))
		if math.Abs(mu[0]-mean[0]) > 0.012 || math.Abs(v[0]/cov.At(0, 0)-1) > 0.1 {
			t.Errorf("%+v: mean %.5f var %.6f, want %.6f and %.6f", m, mu[0], v[0], mean[0], cov.At(0, 0))
		}
	}
}

// pSGLD samples the same posterior. Dropping Γ leaves a bias when the
// preconditioner tracks θ, which it does on this tiny problem (the mean
// likelihood gradient changes sign inside the posterior): adapting V
// throughout, with α = 0.99 the variance came out about 25% too wide. V is
// frozen after the burn-in, so Γ is zero while samples are kept and the
// default α is as tight as a slow α = 0.999.
func TestPSGLDConjugate1D(t *testing.T) {
	p, mean, cov := infertest.Sanity1D()
	for _, c := range []struct {
		m             infer.PSGLD
		meanTol, vTol float64
	}{
		{infer.PSGLD{Epochs: 40000, LR: 1e-3, Decay: -1, Alpha: 0.999, MaxSamples: 5000}, 0.01, 0.1},
		{infer.PSGLD{Epochs: 40000, LR: 1e-3, Decay: -1, MaxSamples: 5000}, 0.01, 0.1},
	} {
		mu, v := infertest.Moments(samples(t, c.m, p, 4).Draw(0, nil))
		if math.Abs(mu[0]-mean[0]) > c.meanTol || math.Abs(v[0]/cov.At(0, 0)-1) > c.vTol {
			t.Errorf("%+v: mean %.5f var %.6f, want %.6f ± %g and %.6f ± %g%%", c.m, mu[0], v[0], mean[0], c.meanTol, cov.At(0, 0), 100*c.vTol)
		}
	}
}

// Cyclical SG-MCMC samples the posterior when its sampling stages are
// long enough to mix; the samples come only from the sampling stages.
func TestCSGMCMCConjugate1D(t *testing.T) {
	p, mean, cov := infertest.Sanity1D()
	m := infer.CSGMCMC{Epochs: 40000, LR: 3e-2, Cycles: 20, Beta: 0.5, MaxSamples: 5000}
	mu, v := infertest.Moments(samples(t, m, p, 6).Draw(0, nil))
	if math.Abs(mu[0]-mean[0]) > 0.01 || math.Abs(v[0]/cov.At(0, 0)-1) > 0.15 {
		t.Errorf("mean %.5f var %.6f, want %.6f and %.6f", mu[0], v[0], mean[0], cov.At(0, 0))
	}
	// 4 cycles of 50 one-step epochs: with beta 0.3 the last 17 of each
	// end in the second half of the sampling stage (r ≥ 0.65).
	s := samples(t, infer.CSGMCMC{Epochs: 200, LR: 1e-2, Cycles: 4, Chains: 1, MaxSamples: 100}, p, 6)
	if n := len(s.Chains()[0]); n != 68 {
		t.Errorf("%d samples, want 4 cycles × 17 sampling epochs", n)
	}
}

// At their defaults, cyclical SG-MCMC and SGLD sample the same spread: on
// a conjugate linear regression (200 rows, two features, so that the
// posterior precision grows with N as a network's does) every
// coordinate's variance is within 30% of the closed form for both. The
// paper's schedule, still falling through its sampling stage, left the
// chains at the spread of the mode each cycle found: on four small
// networks 0.1 - 0.16 of the exact epistemic size.
func TestCSGMCMCDefaultSpread(t *testing.T) {
	x, y := infertest.RandomData(200, 2, 1, 5)
	p, _, cov := infertest.LinearRegression(x, y, 1, 1)
	for _, m := range []infer.Method{infer.CSGMCMC{}, infer.SGLD{}} {
		_, v := infertest.Moments(samples(t, m, p, 2).Draw(0, nil))
		for j := range v {
			if r := v[j] / cov.At(j, j); r < 0.7 || r > 1.3 {
				t.Errorf("%s: θ[%d] variance %.3g of exact", m.Name(), j, r)
			}
		}
	}
}

// rowDiagnostics returns the largest split-R̂ and the median bulk ESS over
// the training rows of the draws' log-likelihoods: the statistics a run of
// default length stops on.
func rowDiagnostics(p *infer.Problem, s *infer.Samples) (maxRhat, medianESS float64) {
	chains := s.Chains()
	n := len(chains[0])
	var ess []float64
	for i := range p.N {
		split := make([][]float64, len(chains))
		for c, ch := range chains {
			split[c] = make([]float64, n)
			for k, th := range ch[len(ch)-n:] {
				split[c][k] = -p.NegLogLik(nil, th, []int{i})
			}
		}
		maxRhat = max(maxRhat, infer.RankRhat(split))
		ess = append(ess, infer.BulkESS(split))
	}
	slices.Sort(ess)
	return maxRhat, ess[len(ess)/2]
}

// A run of default length grows until the chains reach the target ESS:
// with a step too small to mix in the first round of 10 000 steps, the
// run doubles (its Progress reports the new total) and stops, before its
// bound, with the target met. With Epochs as the bound and an unreachable
// target the run ends at the bound.
func TestSamplerESSStopping(t *testing.T) {
	p, _, _ := infertest.Sanity1D() // posterior precision 57
	total := 0
	obs := func(pr infer.Progress) { total = pr.Epochs }
	const target = 100
	post, err := infer.SGLD{LR: 2e-4, Decay: -1, ESS: target}.Fit(context.Background(), p, rng(3), obs)
	if err != nil {
		t.Fatal(err)
	}
	if total <= 10000 || total >= 160000 {
		t.Errorf("ran %d epochs, want more than the first round's 10 000 and fewer than 160 000", total)
	}
	if r, e := rowDiagnostics(p, post.(*infer.Samples)); r >= 1.1 || e < target {
		t.Errorf("stopped at %d epochs with split-R̂ %.3f and median ESS %.0f, want < 1.1 and ≥ %d", total, r, e, target)
	}
	if _, err := (infer.SGLD{LR: 2e-5, Decay: -1, ESS: 1000, Epochs: 30000}).Fit(context.Background(), p, rng(3), obs); err != nil || total != 30000 {
		t.Errorf("bounded run: %d epochs (%v), want 30000", total, err)
	}
	// With its inputs the Problem is diagnosed as the fit summary
	// diagnoses it, by its predictions.
	x := mat.NewDense(3, 1, []float64{1, 2, 3})
	p.Inputs = x
	post, err = infer.SGLD{LR: 2e-4, Decay: -1, ESS: target}.Fit(context.Background(), p, rng(4), obs)
	if err != nil {
		t.Fatal(err)
	}
	d, err := infer.Diagnose(context.Background(), post, p, x)
	if err != nil || total <= 10000 || total >= 160000 || d.MaxRhat >= 1.1 || d.MedianESS < target {
		t.Errorf("with inputs: %d epochs, split-R̂ %.3f, median ESS %.0f (%v)", total, d.MaxRhat, d.MedianESS, err)
	}
}

// The conformance check of every backend, with a variance check as tight
// as the sampling error allows: ε = 5·10⁻⁴ keeps the discretisation bias of
// the marginal variances under 2% (the stiffest direction of the 3-D
// problem, precision 634, is widened by 8%, but it carries little of any
// marginal), and 4 chains of 70 000 kept steps give about 2 000 effective
// draws on the slowest problem (1-D, precision 57), a 3% standard error
// on a variance. Over seeds the worst errors are about 6%.
func TestConformanceSGLD(t *testing.T) {
	infertest.Run(t, &infer.SGLD{Epochs: 140000, LR: 5e-4, Decay: -1, MaxSamples: 5000},
		infertest.Want{MeanTol: 0.01, VarTol: 0.1})
}

// The stored states never exceed max_samples per chain, however long the
// run; the thinning interval grows instead, and the last state is kept.
func TestSamplerStoredBound(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	for _, m := range []infer.Method{
		infer.SGLD{Epochs: 1000, Burnin: 100, MaxSamples: 7, Chains: 3},
		infer.SGLD{Epochs: 1000, MaxSamples: 1000, Thin: 10, Chains: 2},
		infer.PSGLD{Epochs: 500, MaxSamples: 3},
		infer.CSGMCMC{Epochs: 1000, Cycles: 10, MaxSamples: 7},
		infer.CSGMCMC{Epochs: 1000, Cycles: 10, MaxSamples: 25},
	} {
		s := samples(t, m, p, 1)
		var want, chains int
		switch m := m.(type) {
		case infer.SGLD:
			want, chains = min(m.MaxSamples, 500/max(1, m.Thin)), m.Chains
			if m.Burnin > 0 {
				want = min(m.MaxSamples, 900)
			}
		case infer.PSGLD:
			want, chains = m.MaxSamples, 4
		case infer.CSGMCMC:
			want, chains = min(m.MaxSamples, 100), 4 // 10 cycles × 10 sampling epochs
		}
		if len(s.Chains()) != chains {
			t.Errorf("%+v: %d chains", m, len(s.Chains()))
		}
		for c, ch := range s.Chains() {
			if len(ch) > want || len(ch) < want*2/3 {
				t.Errorf("%+v: chain %d stores %d states, want about %d and at most max_samples", m, c, len(ch), want)
			}
		}
		if s.StoredNumbers() != s.Len()*p.Dim || s.Len() != len(s.Chains())*len(s.Chains()[0]) {
			t.Errorf("%+v: StoredNumbers %d, Len %d", m, s.StoredNumbers(), s.Len())
		}
	}
}

// sameSamples reports whether two sample sets are identical bit for bit.
func sameSamples(a, b *infer.Samples) bool {
	return slices.EqualFunc(a.Chains(), b.Chains(), func(x, y [][]float64) bool {
		return slices.EqualFunc(x, y, func(u, v []float64) bool {
			return slices.EqualFunc(u, v, func(p, q float64) bool { return math.Float64bits(p) == math.Float64bits(q) })
		})
	})
}

// The same seed gives the same samples bit for bit, whether the chains
// run concurrently on forked problems or one after another, and whatever
// GOMAXPROCS is; a different seed gives different ones.
func TestSamplerDeterminism(t *testing.T) {
	p, _, _ := linreg3(40, 1)
	seq := *p
	seq.Fork = nil
	var forks atomic.Int64
	counting := *p
	counting.Fork = func() *infer.Problem { forks.Add(1); return p.Fork() }
	for _, m := range []infer.Method{
		infer.SGLD{Epochs: 60, Batch: 8, Chains: 5},
		infer.PSGLD{Epochs: 60, Batch: 8, Chains: 3},
		infer.CSGMCMC{Epochs: 60, Batch: 8, Cycles: 3, Beta: 0.5},
		// Runs of default length over three rounds (250, 500 and 1000
		// epochs of 40 steps; the target is out of reach).
		infer.SGLD{Epochs: 1000, ESS: 1000, Batch: 1, Chains: 3},
		infer.CSGMCMC{Epochs: 1000, ESS: 1000, Batch: 1, Cycles: 2},
	} {
		a := samples(t, m, p, 11)
		b := samples(t, m, &seq, 11)
		prev := runtime.GOMAXPROCS(1)
		c := samples(t, m, p, 11)
		runtime.GOMAXPROCS(prev)
		d := samples(t, m, &counting, 11)
		if !sameSamples(a, b) || !sameSamples(a, c) || !sameSamples(a, d) {
			t.Errorf("%s: concurrent and sequential runs differ", m.Name())
		}
		if sameSamples(a, samples(t, m, p, 12)) {
			t.Errorf("%s: seeds 11 and 12 give the same samples", m.Name())
		}
		// Chains differ from each other.
		ch := a.Chains()
		if slices.Equal(ch[0][len(ch[0])-1], ch[1][len(ch[1])-1]) {
			t.Errorf("%s: chains 1 and 2 end in the same state", m.Name())
		}
	}
	if runtime.GOMAXPROCS(0) > 1 && forks.Load() == 0 {
		t.Error("the chains never ran on a forked problem")
	}
}

// A chain that diverges fails the whole fit with a *DivergenceError that
// names it, its epoch and its step; no samples come back. The diverging
// chain is found from a healthy run: with a tiny step every chain stays
// at its starting point, so the problem can be made to fail above the
// highest start only.
func TestSamplerDivergenceNamesChain(t *testing.T) {
	base, _, _ := infertest.Sanity1D()
	starts := *base
	m := infer.SGLD{Epochs: 3, LR: 1e-300, Decay: -1, Burnin: -1, Chains: 6, MaxSamples: 1}
	healthy := samples(t, m, &starts, 21)
	var ends []float64
	for _, ch := range healthy.Chains() {
		ends = append(ends, ch[0][0])
	}
	order := slices.Clone(ends)
	slices.Sort(order)
	top := slices.Index(ends, order[len(order)-1])
	cut := (order[len(order)-1] + order[len(order)-2]) / 2
	bad := starts
	nll := base.NegLogLik
	bad.NegLogLik = func(grad, theta []float64, idx []int) float64 {
		v := nll(grad, theta, idx)
		if theta[0] > cut {
			return math.NaN()
		}
		return v
	}
	bad.Fork = func() *infer.Problem { f := bad; return &f }
	post, err := m.Fit(context.Background(), &bad, rng(21), nil)
	var de *infer.DivergenceError
	if !errors.As(err, &de) || post != nil {
		t.Fatalf("err = %v, posterior %v", err, post)
	}
	if de.Chain != top+1 || de.Epoch != 1 || de.Step != 1 || de.Method != "sgld" || !math.IsNaN(de.Value) {
		t.Errorf("error %+v, want chain %d at epoch 1, step 1", de, top+1)
	}
	if !strings.Contains(err.Error(), "sgld: chain ") {
		t.Errorf("message %q does not name the chain", err)
	}

	// Sequentially, the k-th likelihood call is known: chain 2 (3 rows,
	// batch 1: 3 steps per epoch, 10 epochs per chain), epoch 4, step 2.
	// A single non-finite objective or gradient there is undone: the chain
	// goes back to its last finite state with half the step, and the fit
	// says so.
	for _, grad := range []bool{false, true} {
		seq := nanAfter(base, 30+3*3+2, grad)
		seq.Fork = nil
		post, err := infer.SGLD{Epochs: 10, Batch: 1, Chains: 3}.Fit(context.Background(), seq, rng(1), nil)
		if err != nil {
			t.Fatalf("grad=%v: a single non-finite step was not undone: %v", grad, err)
		}
		if w := post.(infer.Warner).Warning(); !strings.HasPrefix(w, "1 steps reached a non-finite objective") {
			t.Errorf("grad=%v: warning %q", grad, w)
		}
	}

	// A region the chain keeps reaching fails it after a bounded number of
	// retries, and the error names where it first went wrong.
	region := *base
	calls := 0
	region.NegLogLik = func(grad, theta []float64, idx []int) float64 {
		calls++
		v := nll(grad, theta, idx)
		if calls > 30+3*3+1 {
			return math.Inf(1)
		}
		return v
	}
	region.Fork = nil
	_, err = infer.SGLD{Epochs: 10, Batch: 1, Chains: 3}.Fit(context.Background(), &region, rng(1), nil)
	if !errors.As(err, &de) || de.Chain != 2 || de.Epoch != 4 || de.Step != 2 {
		t.Errorf("persistent: err = %v", err)
	}
}

// Cancelling the context stops every chain: the fit returns ctx.Err() and
// no posterior, before it would have finished.
func TestSamplerCancel(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	epochs := 0
	obs := func(pr infer.Progress) {
		epochs = pr.Epoch
		if pr.Epoch == 5 {
			cancel()
		}
	}
	post, err := infer.SGLD{Epochs: 1_000_000}.Fit(ctx, p, rng(1), obs)
	if !errors.Is(err, context.Canceled) || post != nil {
		t.Fatalf("err = %v, posterior %v", err, post)
	}
	if epochs > 6 {
		t.Errorf("observer saw epoch %d after cancelling at 5", epochs)
	}
	post, err = infer.PSGLD{}.Fit(ctx, p, rng(1), nil)
	if !errors.Is(err, context.Canceled) || post != nil {
		t.Errorf("already cancelled: err = %v", err)
	}
}

// The Observer hears each epoch once, in order, from one goroutine at a
// time, with the mean per-example Ũ of the chains.
func TestSamplerProgress(t *testing.T) {
	p, _, _ := linreg3(40, 1)
	var got []int
	var mu sync.Mutex
	obs := func(pr infer.Progress) {
		if !mu.TryLock() {
			t.Error("observer called concurrently")
			return
		}
		defer mu.Unlock()
		if pr.Method != "psgld" || pr.Epochs != 30 || !(pr.Loss > 0) {
			t.Errorf("progress %+v", pr)
		}
		got = append(got, pr.Epoch)
	}
	if _, err := (infer.PSGLD{Epochs: 30, Batch: 8, Chains: 3}).Fit(context.Background(), p, rng(1), obs); err != nil {
		t.Fatal(err)
	}
	want := make([]int, 30)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(got, want) {
		t.Errorf("epochs reported: %v", got)
	}
}

func TestSamplerCapEpochs(t *testing.T) {
	for _, c := range []struct {
		m    infer.Method
		n    int
		want infer.Method
	}{
		{infer.SGLD{}, 10, &infer.SGLD{Epochs: 10}},
		{infer.SGLD{Epochs: 400, Burnin: 300}, 40, &infer.SGLD{Epochs: 40, Burnin: 30}},
		{infer.SGLD{Epochs: 400, Burnin: 5}, 40, &infer.SGLD{Epochs: 40, Burnin: -1}},
		{infer.SGLD{Epochs: 20}, 40, &infer.SGLD{Epochs: 20}},
		{infer.PSGLD{Epochs: 400, Burnin: -1}, 4, &infer.PSGLD{Epochs: 4, Burnin: -1}},
		{infer.CSGMCMC{Cycles: 8}, 5, &infer.CSGMCMC{Epochs: 5, Cycles: 5}},
	} {
		got := infer.CapEpochs(c.m, c.n)
		if !equalMethods(got, c.want) {
			t.Errorf("CapEpochs(%+v, %d) = %+v, want %+v", c.m, c.n, got, c.want)
		}
	}
	// A capped default run still fits.
	p, _, _ := infertest.Sanity1D()
	for _, name := range []string{"sgld", "psgld", "csgmcmc"} {
		m, _ := infer.Builtins().New(name, nil)
		if _, err := infer.CapEpochs(m, 3).Fit(context.Background(), p, rng(1), nil); err != nil {
			t.Errorf("%s capped at 3 epochs: %v", name, err)
		}
	}
}

func equalMethods(a, b infer.Method) bool {
	switch a := a.(type) {
	case *infer.SGLD:
		b, ok := b.(*infer.SGLD)
		return ok && *a == *b
	case *infer.PSGLD:
		b, ok := b.(*infer.PSGLD)
		return ok && *a == *b
	case *infer.CSGMCMC:
		b, ok := b.(*infer.CSGMCMC)
		return ok && *a == *b
	}
	return false
}

func TestSamplerSettings(t *testing.T) {
	reg := infer.Builtins()
	m, err := reg.New("sgld", []infer.Arg{num("epochs", 300), num("lr", 1e-4), num("decay", 0), num("burnin", 0),
		num("thin", 2), num("chains", 2), num("max_samples", 20), num("temperature", 0.5), num("offset", 50), num("batch", 32)})
	if err != nil {
		t.Fatal(err)
	}
	if want := (infer.SGLD{Epochs: 300, LR: 1e-4, Decay: -1, Burnin: -1, Thin: 2, Chains: 2, MaxSamples: 20,
		Temperature: 0.5, Offset: 50, Batch: 32}); *m.(*infer.SGLD) != want {
		t.Errorf("sgld: %+v", *m.(*infer.SGLD))
	}
	m, err = reg.New("psgld", []infer.Arg{num("alpha", 0), num("lambda", 1e-8)})
	if err != nil || *m.(*infer.PSGLD) != (infer.PSGLD{Alpha: -1, Lambda: 1e-8}) {
		t.Errorf("psgld: %+v, %v", m, err)
	}
	m, err = reg.New("csgmcmc", []infer.Arg{num("cycles", 5), num("beta", 0), num("epochs", 5)})
	if err != nil || *m.(*infer.CSGMCMC) != (infer.CSGMCMC{Cycles: 5, Beta: -1, Epochs: 5}) {
		t.Errorf("csgmcmc: %+v, %v", m, err)
	}

	for _, c := range []struct {
		method string
		args   []infer.Arg
		index  int
		msg    string
	}{
		{"sgld", []infer.Arg{num("epochs", 10), num("lr", -1)}, 1, "lr must be positive"},
		{"sgld", []infer.Arg{num("chains", 0)}, 0, "chains must be positive"},
		{"psgld", []infer.Arg{num("max_samples", 2.5)}, 0, "whole number"},
		{"sgld", []infer.Arg{num("lr", 1e-3), num("burnin", 200)}, 1, "burnin (200 epochs) must be less than epochs (200)"},
		{"sgld", []infer.Arg{num("burnin", 5), num("epochs", 5)}, 0, "burnin (5 epochs) must be less than epochs (5)"},
		{"psgld", []infer.Arg{num("epochs", 1), num("burnin", 1)}, 1, "must be less than epochs"},
		{"sgld", []infer.Arg{num("decay", 1.5)}, 0, "decay must be at most 1"},
		{"sgld", []infer.Arg{num("temperature", 0)}, 0, "temperature must be positive"},
		{"psgld", []infer.Arg{num("alpha", 1)}, 0, "alpha must be in [0, 1)"},
		{"csgmcmc", []infer.Arg{num("beta", 1)}, 0, "beta must be in [0, 1)"},
		{"csgmcmc", []infer.Arg{num("epochs", 3), num("cycles", 4)}, 1, "cycles (4) must not exceed epochs (3)"},
		{"csgmcmc", []infer.Arg{num("epochs", 3)}, 0, "cycles (4) must not exceed epochs (3)"},
		{"csgmcmc", []infer.Arg{num("cycle", 3)}, 0, `unknown setting "cycle" for csgmcmc; did you mean cycles?`},
		{"sgld", []infer.Arg{num("epochs", 3), num("thin", -2)}, 1, "thin must be positive"},
	} {
		_, err := reg.New(c.method, c.args)
		var se *infer.SettingError
		if !errors.As(err, &se) || se.Index != c.index || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s%v: err = %v, want %q at argument %d", c.method, c.args, err, c.msg, c.index)
		}
	}

	// From Go, the same checks give a *SettingError without an argument.
	p, _, _ := infertest.Sanity1D()
	for _, m := range []infer.Method{
		infer.SGLD{Epochs: 10, Burnin: 10}, infer.SGLD{LR: -1}, infer.PSGLD{Chains: -1},
		infer.CSGMCMC{Epochs: 10, Cycles: 11}, infer.SGLD{Decay: 2},
	} {
		_, err := m.Fit(context.Background(), p, rng(1), nil)
		var se *infer.SettingError
		if !errors.As(err, &se) || se.Index != -1 || !strings.HasPrefix(err.Error(), m.Name()+": ") {
			t.Errorf("%+v: err = %v", m, err)
		}
	}
	// Cycles too short to reach r ≥ β still end with a sample each.
	s := samples(t, infer.CSGMCMC{Epochs: 20, Cycles: 4, Chains: 1}, p, 1)
	if n := len(s.Chains()[0]); n != 4 {
		t.Errorf("4 short cycles gave %d samples", n)
	}
	if _, err := (infer.SGLD{}).Fit(context.Background(), p, nil, nil); err == nil {
		t.Error("nil rng accepted")
	}
}

// A panic inside a chain, on whichever goroutine it runs, fails the fit
// with an error naming the chain rather than killing the program.
func TestSamplerPanicReachesCaller(t *testing.T) {
	base, _, _ := linreg3(20, 1)
	p := *base
	p.NegLogLik = func(grad, theta []float64, idx []int) float64 { panic("model bug") }
	p.Fork = func() *infer.Problem { q := p; return &q }
	_, err := infer.SGLD{Epochs: 10, Chains: 4}.Fit(context.Background(), &p, rng(1), nil)
	var pe *infer.PanicError
	if !errors.As(err, &pe) || pe.Value != "model bug" || err.Error() != "chain 1 of 4: panic: model bug" {
		t.Errorf("err = %v", err)
	}
}

// tanhNet is a classifier with two hidden tanh layers of width h on n rows
// of 2-D inputs (3 classes by angle) with the fan-in-scaled normal prior of
// the README's example: weights N(0, 1/fan_in), biases N(0, 1). Rows are
// forwarded one at a time; it is small enough for a test.
func tanhNet(n, h int, seed uint64) *infer.Problem {
	const in, k = 2, 3
	sizes := []int{in, h, h, k}
	r := rng(seed)
	x := make([]float64, n*in)
	y := make([]int, n)
	for i := range n {
		a, b := r.NormFloat64(), r.NormFloat64()
		x[i*in], x[i*in+1] = a, b
		y[i] = int((math.Atan2(b, a) + math.Pi) / (2 * math.Pi / k))
		y[i] = min(y[i], k-1)
	}
	d := 0
	for l := range 3 {
		d += sizes[l]*sizes[l+1] + sizes[l+1]
	}
	loc, scale := make([]float64, d), make([]float64, d)
	off := 0
	for l := range 3 {
		w := sizes[l] * sizes[l+1]
		for j := off; j < off+w; j++ {
			scale[j] = 1 / math.Sqrt(float64(sizes[l]))
		}
		for j := off + w; j < off+w+sizes[l+1]; j++ {
			scale[j] = 1
		}
		off += w + sizes[l+1]
	}
	act := [][]float64{nil, make([]float64, h), make([]float64, h), make([]float64, k)}
	dact := [][]float64{nil, make([]float64, h), make([]float64, h), make([]float64, k)}
	p := &infer.Problem{Dim: d, N: n, Kind: predictive.Classification, Classes: k, PriorLoc: loc, PriorScale: scale}
	p.Init = func(theta []float64, rng *rand.Rand) {
		for j := range theta {
			theta[j] = 0.1 * scale[j] * rng.NormFloat64()
		}
	}
	p.NegLogPrior = func(grad, theta []float64) float64 {
		u := 0.0
		for j, t := range theta {
			prec := 1 / (scale[j] * scale[j])
			u += 0.5 * prec * t * t
			if grad != nil {
				grad[j] += prec * t
			}
		}
		return u
	}
	p.NegLogLik = func(grad, theta []float64, idx []int) float64 {
		if grad != nil {
			clear(grad)
		}
		nll := 0.0
		for _, i := range idx {
			act[0] = x[i*in : (i+1)*in]
			off := 0
			for l := range 3 {
				a, b := sizes[l], sizes[l+1]
				w, bias := theta[off:off+a*b], theta[off+a*b:off+a*b+b]
				for o := range b {
					s := bias[o]
					for q := range a {
						s += act[l][q] * w[q*b+o]
					}
					if l < 2 {
						s = math.Tanh(s)
					}
					act[l+1][o] = s
				}
				off += a*b + b
			}
			logits := act[3]
			m := slices.Max(logits)
			z := 0.0
			for _, v := range logits {
				z += math.Exp(v - m)
			}
			lse := m + math.Log(z)
			nll += lse - logits[y[i]]
			if grad == nil {
				continue
			}
			for c := range k {
				dact[3][c] = math.Exp(logits[c] - lse)
			}
			dact[3][y[i]]--
			for l := 2; l >= 0; l-- {
				a, b := sizes[l], sizes[l+1]
				off -= a*b + b
				w := theta[off : off+a*b]
				gw, gb := grad[off:off+a*b], grad[off+a*b:off+a*b+b]
				for o := range b {
					gb[o] += dact[l+1][o]
					for q := range a {
						gw[q*b+o] += act[l][q] * dact[l+1][o]
					}
				}
				if l > 0 {
					for q := range a {
						s := 0.0
						for o := range b {
							s += w[q*b+o] * dact[l+1][o]
						}
						dact[l][q] = s * (1 - act[l][q]*act[l][q])
					}
				}
			}
		}
		return nll
	}
	return p
}

// pSGLD's default on a two-hidden-layer net of width 48: where a weight's
// likelihood gradient vanishes V decays to 0, G to 1/λ, and before the
// preconditioner was bounded by the prior's precision the prior's own pull
// overshot until the loss became +Inf, in every chain within a few hundred
// steps on iris and faithful at width 64. The default's first 400 steps
// must stay finite and keep the weights near the prior's scale.
func TestPSGLDDefaultTwoHiddenLayers(t *testing.T) {
	p := tanhNet(30, 48, 1)
	for seed := range uint64(3) {
		s := samples(t, infer.PSGLD{}.CapEpochs(400), p, seed+1)
		for c, ch := range s.Chains() {
			last := ch[len(ch)-1]
			for j, v := range last {
				if math.Abs(v-p.PriorLoc[j]) > 20*p.PriorScale[j] {
					t.Fatalf("seed %d chain %d: θ[%d] = %g, %g prior sds out", seed+1, c+1, j, v, v/p.PriorScale[j])
				}
			}
		}
	}
}
