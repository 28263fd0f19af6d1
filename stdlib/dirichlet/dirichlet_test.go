package dirichlet_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
	"github.com/bayesl/bayesl/stdlib/num"
	"gonum.org/v1/gonum/stat/distmv"
	"gonum.org/v1/gonum/stat/distuv"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// draws returns s draws from Dir(alpha) as a flat s×K slice.
func draws(alpha []float64, s int, seed uint64) []float64 {
	k := len(alpha)
	d := distmv.NewDirichlet(alpha, rand.New(rand.NewPCG(seed, 99)))
	out := make([]float64, s*k)
	for m := range s {
		d.Rand(out[m*k : (m+1)*k])
	}
	return out
}

func TestLogProbValues(t *testing.T) {
	if got, want := dirichlet.LogProb([]float64{.2, .3, .5}, []float64{2, 3, 5}), 2.140654; !near(got, want, 1e-6) {
		t.Errorf("log Dir((.2,.3,.5) | (2,3,5)) = %.9f, want %v", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 1; k <= 6; k++ {
		ones := make([]float64, k)
		for i := range ones {
			ones[i] = 1
		}
		want := num.Lgamma(float64(k))
		for range 5 {
			pi := draws(ones, 1, rng.Uint64())
			if got := dirichlet.LogProb(pi, ones); !near(got, want, 1e-12) {
				t.Errorf("K=%d: log Dir(%v | 1) = %v, want log Γ(K) = %v", k, pi, got, want)
			}
		}
	}
	// π_k = 0 with α_k = 1 is a zero term, not 0·(−Inf).
	if got := dirichlet.LogProb([]float64{0, 1}, []float64{1, 1}); got != 0 {
		t.Errorf("log Dir((0,1) | (1,1)) = %v, want 0", got)
	}
	if got := dirichlet.LogProb([]float64{0, 1}, []float64{2, 1}); !math.IsInf(got, -1) {
		t.Errorf("log Dir((0,1) | (2,1)) = %v, want -Inf", got)
	}
	// Against gonum on random points and concentrations.
	for range 50 {
		k := 2 + rng.IntN(6)
		alpha := make([]float64, k)
		for i := range alpha {
			alpha[i] = 0.2 + 10*rng.Float64()
		}
		pi := draws(alpha, 1, rng.Uint64())
		want := distmv.NewDirichlet(alpha, nil).LogProb(pi)
		if got := dirichlet.LogProb(pi, alpha); !near(got, want, 1e-9*max(1, math.Abs(want))) {
			t.Errorf("LogProb(%v, %v) = %v, gonum %v", pi, alpha, got, want)
		}
	}
}

// teacher returns random concentrations and a small weighted teacher: s
// draws from a random Dirichlet, with positive weights that do not sum to one.
func teacher(rng *rand.Rand, k, s int) (alpha, samples, weights []float64) {
	alpha = make([]float64, k)
	conc := make([]float64, k)
	for i := range alpha {
		alpha[i] = 0.5 + 4.5*rng.Float64()
		conc[i] = 1 + 3*rng.Float64()
	}
	samples = draws(conc, s, rng.Uint64())
	weights = make([]float64, s)
	for i := range weights {
		weights[i] = 0.1 + rng.Float64()
	}
	return alpha, samples, weights
}

func TestNLLMatchesLogProb(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		k, s := 2+rng.IntN(5), 1+rng.IntN(8)
		alpha, samples, weights := teacher(rng, k, s)
		var want float64
		for m := range s {
			want -= weights[m] * dirichlet.LogProb(samples[m*k:(m+1)*k], alpha)
		}
		got := dirichlet.NLL(nil, alpha, samples, weights)
		// The only difference is the Eps guard: about Σ w |α_k−1| Eps/π_k.
		if !near(got, want, 1e-5) {
			t.Errorf("NLL = %v, −Σ w LogProb = %v", got, want)
		}
		// Sufficient statistics give the same value and gradient.
		g1 := make([]float64, k)
		g2 := make([]float64, k)
		l1 := dirichlet.NLL(g1, alpha, samples, weights)
		var wsum float64
		for _, w := range weights {
			wsum += w
		}
		ml := dirichlet.MeanLog(make([]float64, k), samples, weights)
		l2 := dirichlet.NLLStats(g2, alpha, ml, wsum)
		if !near(l1, l2, 1e-10*max(1, math.Abs(l1))) {
			t.Errorf("NLL = %v, NLLStats = %v", l1, l2)
		}
		for j := range g1 {
			if !near(g1[j], g2[j], 1e-10*max(1, math.Abs(g1[j]))) {
				t.Errorf("grad[%d]: NLL %v, NLLStats %v", j, g1[j], g2[j])
			}
		}
		// Nil weights are all ones.
		ones := make([]float64, s)
		for i := range ones {
			ones[i] = 1
		}
		if a, b := dirichlet.NLL(nil, alpha, samples, nil), dirichlet.NLL(nil, alpha, samples, ones); a != b {
			t.Errorf("nil weights: %v, ones: %v", a, b)
		}
	}
}

func TestAddLogStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const k, s = 4, 10
	_, samples, weights := teacher(rng, k, s)
	want := dirichlet.MeanLog(make([]float64, k), samples, weights)
	acc := make([]float64, k)
	var w float64
	for _, cut := range [][2]int{{0, 3}, {3, 4}, {4, 10}} {
		w += dirichlet.AddLog(acc, samples[cut[0]*k:cut[1]*k], weights[cut[0]:cut[1]])
	}
	for j := range acc {
		if got := acc[j] / w; !near(got, want[j], 1e-12) {
			t.Errorf("streamed mean log [%d] = %v, MeanLog %v", j, got, want[j])
		}
	}
	// The guard keeps a ruled-out class finite.
	ml := dirichlet.MeanLog(make([]float64, 2), []float64{0, 1}, nil)
	if !near(ml[0], math.Log(dirichlet.Eps), 1e-12) || !near(ml[1], dirichlet.Eps, 1e-15) {
		t.Errorf("MeanLog((0,1)) = %v, want (log Eps, log1p Eps)", ml)
	}
	for _, v := range dirichlet.MeanLog(make([]float64, 3), nil, nil) {
		if !math.IsNaN(v) {
			t.Errorf("MeanLog of no samples = %v, want NaN", v)
		}
	}
}

func TestNLLGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const h = 1e-6
	for range 20 {
		k, s := 2+rng.IntN(5), 1+rng.IntN(8)
		alpha, samples, weights := teacher(rng, k, s)
		grad := make([]float64, k)
		dirichlet.NLL(grad, alpha, samples, weights)
		for j := range alpha {
			a := append([]float64(nil), alpha...)
			a[j] += h
			up := dirichlet.NLL(nil, a, samples, weights)
			a[j] -= 2 * h
			down := dirichlet.NLL(nil, a, samples, weights)
			fd := (up - down) / (2 * h)
			if !near(grad[j], fd, 1e-6*max(1, math.Abs(fd))) {
				t.Errorf("K=%d S=%d: ∂L/∂α_%d = %v, finite difference %v", k, s, j, grad[j], fd)
			}
		}

		// Through α = softplus(z) + 1.
		z := make([]float64, k)
		for i := range z {
			z[i] = 4*rng.Float64() - 2
		}
		alpha = dirichlet.Alpha(nil, z)
		dirichlet.NLL(grad, alpha, samples, weights)
		gz := dirichlet.GradLogits(nil, grad, z)
		for j := range z {
			zz := append([]float64(nil), z...)
			zz[j] += h
			up := dirichlet.NLL(nil, dirichlet.Alpha(nil, zz), samples, weights)
			zz[j] -= 2 * h
			down := dirichlet.NLL(nil, dirichlet.Alpha(nil, zz), samples, weights)
			fd := (up - down) / (2 * h)
			if !near(gz[j], fd, 1e-6*max(1, math.Abs(fd))) {
				t.Errorf("∂L/∂z_%d = %v, finite difference %v", j, gz[j], fd)
			}
		}
	}
}

func TestAlpha(t *testing.T) {
	z := []float64{-800, -1, 0, 3, 800}
	a := dirichlet.Alpha(nil, z)
	for i, v := range a {
		if want := num.Softplus(z[i]) + 1; v != want || v < 1 {
			t.Errorf("Alpha(%v) = %v, want %v ≥ 1", z[i], v, want)
		}
	}
	dirichlet.Alpha(z, z) // in place
	for i := range z {
		if z[i] != a[i] {
			t.Errorf("in-place Alpha[%d] = %v, want %v", i, z[i], a[i])
		}
	}
}

// TestMLERecovery is §6's check: fit α to 20,000 draws of Dir(2,3,5) by
// Adam on the NLL in the student's parametrisation α = softplus(z) + 1.
func TestMLERecovery(t *testing.T) {
	truth := []float64{2, 3, 5}
	const s = 20000
	samples := draws(truth, s, 11)
	ml := dirichlet.MeanLog(make([]float64, 3), samples, nil)

	z := make([]float64, 3) // α = softplus(0) + 1 ≈ 1.69 each
	m := make([]float64, 3)
	v := make([]float64, 3)
	grad := make([]float64, 3)
	alpha := make([]float64, 3)
	const lr, b1, b2 = 0.05, 0.9, 0.999
	for it := 1; it <= 4000; it++ {
		dirichlet.Alpha(alpha, z)
		dirichlet.NLLStats(grad, alpha, ml, 1)
		dirichlet.GradLogits(grad, grad, z)
		for j := range z {
			m[j] = b1*m[j] + (1-b1)*grad[j]
			v[j] = b2*v[j] + (1-b2)*grad[j]*grad[j]
			mh := m[j] / (1 - math.Pow(b1, float64(it)))
			vh := v[j] / (1 - math.Pow(b2, float64(it)))
			z[j] -= lr * mh / (math.Sqrt(vh) + 1e-12)
		}
	}
	dirichlet.Alpha(alpha, z)
	dirichlet.NLLStats(grad, alpha, ml, 1)
	for j := range truth {
		if math.Abs(alpha[j]/truth[j]-1) > 0.05 {
			t.Errorf("fitted α = %v, want %v within 5%%", alpha, truth)
			break
		}
		if math.Abs(grad[j]) > 1e-6 {
			t.Errorf("not converged: gradient %v at α = %v", grad, alpha)
			break
		}
	}
	t.Logf("fitted α = %.4f (truth %v)", alpha, truth)
}

func TestPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"LogProb lengths":   func() { dirichlet.LogProb([]float64{1}, []float64{1, 1}) },
		"NLL ragged":        func() { dirichlet.NLL(nil, []float64{1, 1}, []float64{.5, .5, 1}, nil) },
		"NLL weights":       func() { dirichlet.NLL(nil, []float64{1, 1}, []float64{.5, .5}, []float64{1, 1}) },
		"NLL grad":          func() { dirichlet.NLL(make([]float64, 3), []float64{1, 1}, nil, nil) },
		"NLL empty":         func() { dirichlet.NLL(nil, nil, nil, nil) },
		"MeanLog nil dst":   func() { dirichlet.MeanLog(nil, []float64{1}, nil) },
		"NLLStats meanLog":  func() { dirichlet.NLLStats(nil, []float64{1, 1}, []float64{0}, 1) },
		"GradLogits":        func() { dirichlet.GradLogits(nil, []float64{1}, []float64{1, 2}) },
		"Alpha dst":         func() { dirichlet.Alpha(make([]float64, 1), []float64{1, 2}) },
		"Batch k":           func() { dirichlet.UncertaintyBatch(nil, nil, nil, nil, []float64{1, 2}, 0) },
		"Batch ragged":      func() { dirichlet.UncertaintyBatch(nil, nil, nil, nil, []float64{1, 2, 3}, 2) },
		"Batch total":       func() { dirichlet.UncertaintyBatch(nil, make([]float64, 2), nil, nil, []float64{1, 2}, 2) },
		"Batch prob length": func() { dirichlet.UncertaintyBatch(make([]float64, 1), nil, nil, nil, []float64{1, 2}, 2) },
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "dirichlet: ") {
					t.Errorf("%s: recovered %v, want a panic prefixed \"dirichlet: \"", name, r)
				}
			}()
			f()
		}()
	}
}

func TestInvalidAlpha(t *testing.T) {
	for _, alpha := range [][]float64{nil, {1, 0}, {1, -1}, {math.NaN(), 1}, {math.Inf(1), 1}} {
		pi := make([]float64, len(alpha))
		if v := dirichlet.LogProb(pi, alpha); !math.IsNaN(v) {
			t.Errorf("LogProb(α=%v) = %v, want NaN", alpha, v)
		}
		if v := dirichlet.Entropy(alpha); !math.IsNaN(v) {
			t.Errorf("Entropy(%v) = %v, want NaN", alpha, v)
		}
		p, a, b, c := dirichlet.Uncertainty(alpha)
		if !math.IsNaN(a) || !math.IsNaN(b) || !math.IsNaN(c) {
			t.Errorf("Uncertainty(%v) = %v %v %v, want NaN", alpha, a, b, c)
		}
		for _, v := range p {
			if !math.IsNaN(v) {
				t.Errorf("Uncertainty(%v) prob = %v, want NaN", alpha, p)
			}
		}
		if len(alpha) == 0 {
			continue
		}
		grad := make([]float64, len(alpha))
		if v := dirichlet.NLL(grad, alpha, []float64{.5, .5}, nil); !math.IsNaN(v) || !math.IsNaN(grad[0]) {
			t.Errorf("NLL(α=%v) = %v, grad %v, want NaN", alpha, v, grad)
		}
		if v := dirichlet.NLLStats(grad, alpha, []float64{-1, -1}, 1); !math.IsNaN(v) || !math.IsNaN(grad[1]) {
			t.Errorf("NLLStats(α=%v) = %v, grad %v, want NaN", alpha, v, grad)
		}
	}
}

func TestAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	alpha, samples, weights := teacher(rng, 4, 6)
	grad := make([]float64, 4)
	ml := dirichlet.MeanLog(make([]float64, 4), samples, weights)
	batch := make([]float64, 5*4)
	for i := range batch {
		batch[i] = 1 + 5*rng.Float64()
	}
	prob := make([]float64, 20)
	tot, ale, epi := make([]float64, 5), make([]float64, 5), make([]float64, 5)
	for name, f := range map[string]func(){
		"NLL":              func() { dirichlet.NLL(grad, alpha, samples, weights) },
		"NLLStats":         func() { dirichlet.NLLStats(grad, alpha, ml, 1) },
		"MeanLog":          func() { dirichlet.MeanLog(ml, samples, weights) },
		"UncertaintyBatch": func() { dirichlet.UncertaintyBatch(prob, tot, ale, epi, batch, 4) },
		"Entropy":          func() { dirichlet.Entropy(alpha) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, n)
		}
	}
}

func TestEntropy(t *testing.T) {
	for k := 1; k <= 6; k++ {
		ones := make([]float64, k)
		for i := range ones {
			ones[i] = 1
		}
		if got, want := dirichlet.Entropy(ones), -num.Lgamma(float64(k)); !near(got, want, 1e-12) {
			t.Errorf("H[Dir(1_%d)] = %v, want −log Γ(K) = %v", k, got, want)
		}
	}
	// K = 2 is a Beta distribution in the first coordinate.
	for _, ab := range [][2]float64{{0.5, 0.5}, {2, 3}, {10, 1}, {100, 250}} {
		want := distuv.Beta{Alpha: ab[0], Beta: ab[1]}.Entropy()
		if got := dirichlet.Entropy(ab[:]); !near(got, want, 1e-10) {
			t.Errorf("H[Dir(%v)] = %v, Beta entropy %v", ab, got, want)
		}
	}
	// Monte Carlo: H = −E[log Dir(π | α)].
	alpha := []float64{0.7, 2, 4, 1.5}
	const s = 20000
	pis := draws(alpha, s, 12)
	var sum, sum2 float64
	for m := range s {
		l := -dirichlet.LogProb(pis[m*4:(m+1)*4], alpha)
		sum += l
		sum2 += l * l
	}
	mean := sum / s
	se := math.Sqrt((sum2/s - mean*mean) / s)
	if got := dirichlet.Entropy(alpha); !near(got, mean, 4*se) {
		t.Errorf("H[Dir(%v)] = %v, Monte Carlo %v ± %v", alpha, got, mean, se)
	}
}
