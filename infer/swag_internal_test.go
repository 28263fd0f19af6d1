package infer

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// docs/algorithms.md §3 sanity test 1: θ = 1..5 with K = 3 give θ̄ = 3,
// θ²‾ = 11, var = 2 and the last three deviations [1, 1.5, 2], each from
// the mean after its own update. A second coordinate shifted by 1e9 has the
// same variance; the textbook θ²‾ − θ̄² loses it to cancellation there,
// Welford's update does not.
func TestCollectSanity1(t *testing.T) {
	const shift = 1e9
	c := newCollector(2, 3, false, 5)
	sumSq := 0.0
	for i := 1; i <= 5; i++ {
		x := float64(i)
		if bad := c.collect([]float64{x, x + shift}, true); bad != 0 {
			t.Fatal(bad)
		}
		sumSq += (x + shift) * (x + shift)
	}
	if naive := sumSq/5 - (3+shift)*(3+shift); math.Abs(naive-2) < 1 {
		t.Logf("θ²‾ − θ̄² = %v happens to survive here", naive)
	}
	if c.n != 5 || c.k != 3 {
		t.Fatalf("n = %d, k = %d; want 5, 3", c.n, c.k)
	}
	q := c.posterior("swag", 0.5, false)
	if q.Mean()[0] != 3 || q.Mean()[1] != 3+shift {
		t.Errorf("θ̄ = %v, want [3 %v]", q.Mean(), 3+shift)
	}
	v := q.Variance()
	if v[0] != 2 || v[1] != 2 {
		t.Errorf("var = %v, want [2 2]", v)
	}
	if sq := v[0] + q.Mean()[0]*q.Mean()[0]; sq != 11 {
		t.Errorf("θ²‾ = var + θ̄² = %v, want 11", sq)
	}
	want := []float64{1, 1.5, 2}
	cols := q.Deviations()
	if len(cols) != 3 {
		t.Fatalf("%d columns, want 3", len(cols))
	}
	for i, w := range want {
		if cols[i][0] != w || cols[i][1] != w {
			t.Errorf("column %d = %v, want [%v %v]", i, cols[i], w, w)
		}
	}
	if q.Collected() != 5 || q.StoredNumbers() != 2*(3+2) {
		t.Errorf("collected %d, stored %d", q.Collected(), q.StoredNumbers())
	}
}

// The ring keeps the newest K columns in order for every number of
// collections, full or not, wrapped or not.
func TestCollectRing(t *testing.T) {
	for _, k := range []int{2, 3, 5} {
		for n := 1; n <= 12; n++ {
			c := newCollector(1, k, false, n)
			for i := 1; i <= n; i++ {
				c.collect([]float64{float64(i * i)}, true)
			}
			q := c.posterior("swag", 1, false)
			cols := q.Deviations()
			if len(cols) != min(k, n) {
				t.Fatalf("K=%d n=%d: %d columns", k, n, len(cols))
			}
			// Column j of the newest min(k, n) is i² − mean(1², ..., i²).
			first := n - len(cols) + 1
			for j, col := range cols {
				i := first + j
				mean := float64(i+1) * float64(2*i+1) / 6 // Σ_{m≤i} m²/i
				if math.Abs(col[0]-(float64(i*i)-mean)) > 1e-9*mean {
					t.Errorf("K=%d n=%d: column %d = %v, want %v", k, n, j, col[0], float64(i*i)-mean)
				}
			}
		}
	}
	// Diagonal keeps no columns.
	c := newCollector(4, 20, true, 30)
	for range 30 {
		c.collect([]float64{1, 2, 3, 4}, true)
	}
	if q := c.posterior("swag", 1, true); len(q.Deviations()) != 0 || q.StoredNumbers() != 8 || q.Variance()[0] != varClamp {
		t.Errorf("diagonal: %d columns, %d numbers, var %v", len(q.Deviations()), q.StoredNumbers(), q.Variance()[0])
	}
	// A non-finite iterate is reported.
	c = newCollector(2, 3, false, 3)
	if bad := c.collect([]float64{1, math.Inf(-1)}, true); !math.IsInf(bad, -1) {
		t.Errorf("collect(-Inf) = %v", bad)
	}
}

func TestSWASchedule(t *testing.T) {
	const lr, swa = 0.1, 0.02
	for _, tc := range []struct{ t, want float64 }{
		{0, 0.1}, {0.25, 0.1}, {0.5, 0.1}, {0.7, 0.06}, {0.9, 0.02}, {0.95, 0.02}, {3, 0.02},
	} {
		if got := swaSchedule(tc.t, lr, swa); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("schedule(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	// Epoch e runs at t = (e−1)/swa_start.
	m := SWAG{Epochs: 300, LR: lr, SWALR: swa, SWAStart: 100}.withDefaults()
	for e, want := range map[int]float64{1: 0.1, 26: 0.1, 51: 0.1, 71: 0.06, 91: 0.02, 101: 0.02, 300: 0.02} {
		if got := m.lr(e); math.Abs(got-want) > 1e-15 {
			t.Errorf("lr(epoch %d) = %v, want %v", e, got, want)
		}
	}
	m.SWAStart = -1
	if m.lr(1) != swa {
		t.Errorf("swa_start -1: lr(1) = %v, want swa_lr", m.lr(1))
	}
	for _, name := range []string{optAdam, optSGD} {
		o := newOptimizer(name, 1, 1, 0.9)
		setLR(o, 0.25)
		x := []float64{0}
		o.step(x, []float64{1}, 1)
		if math.Abs(x[0]+0.25) > 1e-6 { // both take a first step of lr along −sign(g)
			t.Errorf("%s after setLR(0.25): step to %v", name, x[0])
		}
	}
}

// docs/algorithms.md §3 sanity test 2: with fixed θ̄, var and D̂, 20000 draws
// have the covariance scale·(diag(var) + D̂D̂ᵀ/(K−1)) within 4 Monte-Carlo
// standard errors in every entry, and the quadratic form
// (θ̃−θ̄)ᵀΣ⁻¹(θ̃−θ̄) follows χ²_d (Kolmogorov-Smirnov at the 0.1% level).
func TestSWAGSamplingCovariance(t *testing.T) {
	const d, k, S, scale = 5, 4, 20000, 0.5
	r := rand.New(rand.NewPCG(3, 4))
	mean := []float64{1, -2, 0.5, 3, 1e3}
	variance := []float64{0.5, 1, 2, 0.1, 0.3}
	cols := make([][]float64, k)
	for i := range cols {
		cols[i] = make([]float64, d)
		for j := range cols[i] {
			cols[i][j] = r.NormFloat64()
		}
	}
	q := newSWAGPosterior("swag", scale, false, 30, mean, variance, cols)
	sigma := mat.NewSymDense(d, nil)
	for a := range d {
		for b := a; b < d; b++ {
			s := 0.0
			for _, c := range cols {
				s += c[a] * c[b]
			}
			s /= k - 1
			if a == b {
				s += variance[a]
			}
			sigma.SetSym(a, b, scale*s)
		}
	}
	draws := q.Draw(S, r)
	if len(draws) != S {
		t.Fatalf("%d draws", len(draws))
	}
	emp := make([]float64, d*d)
	for _, th := range draws {
		for a := range d {
			for b := range d {
				emp[a*d+b] += (th[a] - mean[a]) * (th[b] - mean[b])
			}
		}
	}
	for a := range d {
		for b := range d {
			got, want := emp[a*d+b]/S, sigma.At(a, b)
			se := math.Sqrt((sigma.At(a, a)*sigma.At(b, b) + want*want) / S)
			if math.Abs(got-want) > 4*se {
				t.Errorf("cov[%d,%d] = %.4f, want %.4f ± 4·%.4f", a, b, got, want, se)
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sigma) {
		t.Fatal("Σ not positive definite")
	}
	qf := make([]float64, S)
	dv, x := mat.NewVecDense(d, nil), mat.NewVecDense(d, nil)
	for i, th := range draws {
		for j := range d {
			dv.SetVec(j, th[j]-mean[j])
		}
		if err := ch.SolveVecTo(x, dv); err != nil {
			t.Fatal(err)
		}
		qf[i] = mat.Dot(dv, x)
	}
	sort.Float64s(qf)
	chi := distuv.ChiSquared{K: d}
	ks := 0.0
	for i, v := range qf {
		f := chi.CDF(v)
		ks = max(ks, math.Abs(f-float64(i)/S), math.Abs(f-float64(i+1)/S))
	}
	if crit := 1.95 / math.Sqrt(S); ks > crit {
		t.Errorf("quadratic form vs χ²_%d: KS distance %.4f > %.4f", d, ks, crit)
	}

	// Fewer than two columns, or diagonal: the diagonal term only.
	for _, q := range []*SWAGPosterior{
		newSWAGPosterior("swag", scale, false, 1, mean, variance, cols[:1]),
		newSWAGPosterior("swag", scale, true, 30, mean, variance, nil),
	} {
		_, v := moments(q.Draw(S, r))
		for j := range v {
			if want := scale * variance[j]; math.Abs(v[j]-want) > 4*want*math.Sqrt(2.0/S) {
				t.Errorf("diagonal-only var[%d] = %.4f, want %.4f", j, v[j], want)
			}
		}
	}
}

func moments(draws [][]float64) (mean, variance []float64) {
	d := len(draws[0])
	mean, variance = make([]float64, d), make([]float64, d)
	for _, th := range draws {
		for j, v := range th {
			mean[j] += v / float64(len(draws))
		}
	}
	for _, th := range draws {
		for j, v := range th {
			variance[j] += (v - mean[j]) * (v - mean[j]) / float64(len(draws))
		}
	}
	return mean, variance
}

// Collecting an iterate and drawing into a vector allocate nothing.
func TestSWAGAllocations(t *testing.T) {
	d := 50
	theta := make([]float64, d)
	r := rand.New(rand.NewPCG(1, 2))
	for _, diag := range []bool{false, true} {
		c := newCollector(d, 20, diag, 1000)
		if a := testing.AllocsPerRun(1000, func() {
			theta[3] += 0.01
			c.collect(theta, true)
		}); a != 0 {
			t.Errorf("collect (diagonal %v): %v allocations", diag, a)
		}
		q := c.posterior("swag", 0.5, diag)
		v := make([]float64, d)
		if a := testing.AllocsPerRun(1000, func() { q.drawInto(v, r) }); a != 0 {
			t.Errorf("drawInto (diagonal %v): %v allocations", diag, a)
		}
	}
	p := quadratic(40, 5)
	st := &mapState{p: p, theta: make([]float64, p.Dim), grad: make([]float64, p.Dim), opt: newOptimizer(optSGD, p.Dim, 1e-2, 0.9)}
	idx := []int{3, 1, 4, 15}
	if a := testing.AllocsPerRun(1000, func() {
		setLR(st.opt, 1e-3)
		st.step(idx)
	}); a != 0 {
		t.Errorf("scheduled step: %v allocations", a)
	}
}

// Collecting an iterate of the digits MLP's size (26122 parameters) into a
// full ring of 20 columns.
func BenchmarkSWAGCollect(b *testing.B) {
	const d = 26122
	theta := make([]float64, d)
	c := newCollector(d, 20, false, 1000)
	for b.Loop() {
		theta[0]++
		c.collect(theta, true)
	}
}

// One draw from a rank-20 SWAG posterior of the same size.
func BenchmarkSWAGDraw(b *testing.B) {
	const d = 26122
	theta := make([]float64, d)
	c := newCollector(d, 20, false, 20)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		for j := range theta {
			theta[j] = r.NormFloat64()
		}
		c.collect(theta, true)
	}
	q := c.posterior("swag", 0.5, false)
	v := make([]float64, d)
	for b.Loop() {
		q.drawInto(v, r)
	}
}

// orthonormalBasis keeps one vector per independent direction: a column
// that repeats a combination of the earlier ones is dropped, and the kept
// ones are orthonormal to rounding.
func TestOrthonormalBasis(t *testing.T) {
	cols := [][]float64{{1, 1, 0, 0}, {1, 1.000001, 0, 0}, {2, 2.000001, 0, 0}, {0, 0, 0, 3}, {0, 0, 0, 0}}
	q := orthonormalBasis(cols, 4)
	if len(q) != 3 {
		t.Fatalf("%d vectors, want 3 (the third column is a combination of the first two, the last is 0)", len(q))
	}
	for i := range q {
		for j := range q {
			want := 0.0
			if i == j {
				want = 1
			}
			if got := swagDot(q[i], q[j]); math.Abs(got-want) > 1e-12 {
				t.Errorf("q%d·q%d = %g, want %g", i, j, got, want)
			}
		}
	}
}

// Where the likelihood bends down along a direction of the subspace (here
// NegLogLik = −½·c·θ₀² on c = 2 rows, a concave term), the total curvature
// (−2 + 4) is below the prior's and the prior's stands in for it, as a GGN
// would have the likelihood add none: the variance along θ₀ is the
// prior's, 1/4; along θ₁, where the likelihood curves up, it is 1/(3 + 4).
// Off the subspace (θ₂) there is none.
func TestSubspaceCurvatureFloor(t *testing.T) {
	p := &Problem{Dim: 3, N: 2,
		NegLogLik: func(g, th []float64, idx []int) float64 {
			c := float64(len(idx))
			if g != nil {
				g[0], g[1], g[2] = -c*th[0], 1.5*c*th[1], 0
			}
			return -0.5*c*th[0]*th[0] + 0.75*c*th[1]*th[1]
		},
		NegLogPrior: func(g, th []float64) float64 {
			s := 0.0
			for j, x := range th {
				s += 2 * x * x
				if g != nil {
					g[j] += 4 * x
				}
			}
			return s
		},
	}
	q := newSWAGPosterior("swag", 1, false, 10, []float64{0.1, -0.2, 0.3}, []float64{1, 1, 1},
		[][]float64{{1, 0.5, 0}, {-1, 0.5, 0}, {0.2, 0.1, 0}})
	if err := subspaceCurvature(p, q, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	var cov [3][3]float64
	for _, c := range q.cols {
		for i := range 3 {
			for j := range 3 {
				cov[i][j] += c[i] * c[j] / float64(len(q.cols)-1)
			}
		}
	}
	want := [3][3]float64{{0.25, 0, 0}, {0, 1.0 / 7, 0}, {0, 0, 0}}
	for i := range 3 {
		if q.variance[i] != 0 {
			t.Errorf("diagonal term %d = %g, want 0", i, q.variance[i])
		}
		for j := range 3 {
			if math.Abs(cov[i][j]-want[i][j]) > 1e-6 {
				t.Errorf("cov[%d][%d] = %.8f, want %.8f", i, j, cov[i][j], want[i][j])
			}
		}
	}
}
