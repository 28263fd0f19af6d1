package gp

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func randDense(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// cov returns C·Cᵀ.
func cov(c mat.Matrix) *mat.SymDense {
	n, _ := c.Dims()
	s := mat.NewSymDense(n, nil)
	s.SymOuterK(1, c)
	return s
}

func mustW2(t *testing.T, mu1 []float64, s1 mat.Symmetric, mu2 []float64, s2 mat.Symmetric) float64 {
	t.Helper()
	v, err := W2Squared(mu1, s1, mu2, s2)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRoots(t *testing.T, mu1 []float64, c1 mat.Matrix, mu2 []float64, c2 mat.Matrix) float64 {
	t.Helper()
	v, err := W2SquaredRoots(mu1, c1, mu2, c2)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestW2Identical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range []int{3, 6, 10} { // rank deficient, full, more draws than points
		c := randDense(rng, 6, s)
		mu := randVec(rng, 6)
		if v := mustW2(t, mu, cov(c), mu, cov(c)); v > 1e-12 {
			t.Errorf("S=%d: eigen form W2²(P, P) = %g", s, v)
		}
		if v := mustRoots(t, mu, c, mu, c); v > 1e-12 {
			t.Errorf("S=%d: roots form W2²(P, P) = %g", s, v)
		}
		// Centered sample roots of identical draws, as §5 asks.
		F := randDense(rng, s, 6)
		var r mat.Dense
		m := make([]float64, 6)
		if err := SampleRoot(&r, m, F); err != nil {
			t.Fatal(err)
		}
		if v := mustRoots(t, m, &r, m, &r); v > 1e-12 {
			t.Errorf("S=%d: sample roots W2²(P, P) = %g", s, v)
		}
	}
}

func TestW2OneDimensional(t *testing.T) {
	// N(0, 1) vs N(1, 4): (0−1)² + (1−2)² = 2.
	s1, s2 := mat.NewSymDense(1, []float64{1}), mat.NewSymDense(1, []float64{4})
	if v := mustW2(t, []float64{0}, s1, []float64{1}, s2); math.Abs(v-2) > 1e-14 {
		t.Errorf("eigen form = %.17g, want 2", v)
	}
	for _, c2 := range []float64{2, -2} { // a root's sign does not matter
		v := mustRoots(t, []float64{0}, mat.NewDense(1, 1, []float64{1}), []float64{1}, mat.NewDense(1, 1, []float64{c2}))
		if math.Abs(v-2) > 1e-14 {
			t.Errorf("roots form with c2=%g: %.17g, want 2", c2, v)
		}
	}
	// Nil means are zero.
	if v := mustW2(t, nil, s1, nil, s2); math.Abs(v-1) > 1e-14 {
		t.Errorf("zero means: %.17g, want 1", v)
	}
}

func TestW2Diagonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 5
	a, b := make([]float64, n), make([]float64, n)
	mu1, mu2 := randVec(rng, n), randVec(rng, n)
	want := 0.0
	for i := range n {
		a[i], b[i] = 0.1+3*rng.Float64(), 0.1+3*rng.Float64()
		d := math.Sqrt(a[i]) - math.Sqrt(b[i])
		want += (mu1[i]-mu2[i])*(mu1[i]-mu2[i]) + d*d
	}
	s1, s2 := mat.NewSymDense(n, nil), mat.NewSymDense(n, nil)
	c1, c2 := mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
	for i := range n {
		s1.SetSym(i, i, a[i])
		s2.SetSym(i, i, b[i])
		c1.Set(i, i, math.Sqrt(a[i]))
		c2.Set(i, i, math.Sqrt(b[i]))
	}
	if v := mustW2(t, mu1, s1, mu2, s2); !near(v, want, 1e-13) {
		t.Errorf("eigen form = %.17g, want %.17g", v, want)
	}
	if v := mustRoots(t, mu1, c1, mu2, c2); !near(v, want, 1e-13) {
		t.Errorf("roots form = %.17g, want %.17g", v, want)
	}
}

func TestW2Scaled(t *testing.T) {
	// Σ2 = c²Σ1: W2² = ‖Δμ‖² + (1 − c)² Tr Σ1.
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 6
	c1 := randDense(rng, n, 8)
	for _, c := range []float64{0.3, 1, 2.5} {
		var c2 mat.Dense
		c2.Scale(c, c1)
		mu1, mu2 := randVec(rng, n), randVec(rng, n)
		s1 := cov(c1)
		want := (1 - c) * (1 - c) * mat.Trace(s1)
		for i := range n {
			want += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i])
		}
		if v := mustW2(t, mu1, s1, mu2, cov(&c2)); !near(v, want, 1e-12) {
			t.Errorf("c=%g: eigen form = %.17g, want %.17g", c, v, want)
		}
		if v := mustRoots(t, mu1, c1, mu2, &c2); !near(v, want, 1e-12) {
			t.Errorf("c=%g: roots form = %.17g, want %.17g", c, v, want)
		}
	}
}

func TestW2Symmetry(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 7
	c1, c2 := randDense(rng, n, 4), randDense(rng, n, 9)
	mu1, mu2 := randVec(rng, n), randVec(rng, n)
	a, b := mustW2(t, mu1, cov(c1), mu2, cov(c2)), mustW2(t, mu2, cov(c2), mu1, cov(c1))
	if !near(a, b, 1e-12) {
		t.Errorf("eigen form: W2(P,Q) = %.17g, W2(Q,P) = %.17g", a, b)
	}
	a, b = mustRoots(t, mu1, c1, mu2, c2), mustRoots(t, mu2, c2, mu1, c1)
	if !near(a, b, 1e-12) {
		t.Errorf("roots form: W2(P,Q) = %.17g, W2(Q,P) = %.17g", a, b)
	}
}

// TestW2FormsAgree checks the nuclear-norm form against the eigen form on
// random SPD covariances built from roots (S ≥ n), and on rank-deficient ones
// (S < n), where the eigen form relies on treating rounding-level
// eigenvalues as zero.
func TestW2FormsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 20 {
		n := 2 + rng.IntN(8)
		s1, s2 := n+rng.IntN(5), n+rng.IntN(5)
		if trial%2 == 1 {
			s1, s2 = 1+rng.IntN(n), 1+rng.IntN(n)
		}
		c1, c2 := randDense(rng, n, s1), randDense(rng, n, s2)
		c2.Scale(0.1+2*rng.Float64(), c2)
		mu1, mu2 := randVec(rng, n), randVec(rng, n)
		e := mustW2(t, mu1, cov(c1), mu2, cov(c2))
		r := mustRoots(t, mu1, c1, mu2, c2)
		if math.Abs(e-r) > 1e-9 {
			t.Errorf("trial %d (n=%d, S1=%d, S2=%d): eigen %.15g, roots %.15g, differ by %.3g", trial, n, s1, s2, e, r, e-r)
		}
	}
}

// TestW2ExactRoot checks the roots form with a Cholesky root on one side
// (the exact-GP target of §5) against the eigen form.
func TestW2ExactRoot(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	X := mat.NewDense(8, 1, nil)
	for i := range 8 {
		X.Set(i, 0, -3+6*float64(i)/7)
	}
	k := Matern52{Lengthscale: 1, Variance: 1}
	var L mat.Dense
	j, err := Root(&L, k, X)
	if err != nil {
		t.Fatal(err)
	}
	var K mat.SymDense
	if err := Matrix(&K, k, X); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		K.SetSym(i, i, K.At(i, i)+j)
	}
	F := randDense(rng, 50, 8)
	var c mat.Dense
	mu := make([]float64, 8)
	if err := SampleRoot(&c, mu, F); err != nil {
		t.Fatal(err)
	}
	e := mustW2(t, mu, cov(&c), nil, &K)
	r := mustRoots(t, mu, &c, nil, &L)
	if math.Abs(e-r) > 1e-9 {
		t.Errorf("eigen %.15g, roots %.15g", e, r)
	}
}

func TestSampleRoot(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	F := randDense(rng, 12, 5)
	var c mat.Dense
	mean := make([]float64, 5)
	if err := SampleRoot(&c, mean, F); err != nil {
		t.Fatal(err)
	}
	if r, s := c.Dims(); r != 5 || s != 12 {
		t.Fatalf("root is %d×%d, want 5×12", r, s)
	}
	var want mat.SymDense
	stat.CovarianceMatrix(&want, F, nil)
	if got := cov(&c); !mat.EqualApprox(got, &want, 1e-13) {
		t.Errorf("C·Cᵀ = %v, want the sample covariance %v", mat.Formatted(got), mat.Formatted(&want))
	}
	for j := range 5 {
		if m := stat.Mean(mat.Col(nil, j, F), nil); !near(mean[j], m, 1e-14) {
			t.Errorf("mean[%d] = %g, want %g", j, mean[j], m)
		}
	}
	if err := SampleRoot(&c, nil, F); err != nil {
		t.Errorf("nil mean: %v", err)
	}
	for _, tt := range []struct {
		root *mat.Dense
		mean []float64
		f    mat.Matrix
		want string
	}{
		{&mat.Dense{}, nil, mat.NewDense(1, 3, nil), "at least 2 draws"},
		{&mat.Dense{}, make([]float64, 2), F, "mean has length 2, want 5"},
		{mat.NewDense(12, 5, nil), nil, F, "root is 12×5, want 5×12"},
	} {
		if err := SampleRoot(tt.root, tt.mean, tt.f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
}

// TestW2RootsGrad checks the gradient against central finite differences,
// for full-rank G = C1ᵀC2 and for centered sample roots, whose G is always
// rank deficient.
func TestW2RootsGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	type tcase struct {
		name     string
		c1, c2   *mat.Dense
		mu1, mu2 []float64
		centered bool // perturb C1 only within centered roots (rows sum to 0)
	}
	var cases []tcase
	cases = append(cases, tcase{"full rank", randDense(rng, 5, 3), randDense(rng, 5, 4), randVec(rng, 5), randVec(rng, 5), false})
	cases = append(cases, tcase{"wide", randDense(rng, 3, 6), randDense(rng, 3, 5), randVec(rng, 3), nil, false})
	{
		var c1, c2 mat.Dense
		m1, m2 := make([]float64, 6), make([]float64, 6)
		if err := SampleRoot(&c1, m1, randDense(rng, 4, 6)); err != nil {
			t.Fatal(err)
		}
		if err := SampleRoot(&c2, m2, randDense(rng, 7, 6)); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tcase{"sample roots", &c1, &c2, m1, m2, true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, s1 := tc.c1.Dims()
			var g mat.Dense
			gm := make([]float64, n)
			v, err := W2SquaredRootsGrad(&g, gm, tc.mu1, tc.c1, tc.mu2, tc.c2)
			if err != nil {
				t.Fatal(err)
			}
			if w := mustRoots(t, tc.mu1, tc.c1, tc.mu2, tc.c2); !near(v, w, 1e-13) {
				t.Errorf("value %g, W2SquaredRoots %g", v, w)
			}
			const h = 1e-6
			f := func() float64 {
				v, err := W2SquaredRootsGrad(nil, nil, tc.mu1, tc.c1, tc.mu2, tc.c2)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			// The nuclear norm is not differentiable where G is rank
			// deficient, and centered roots always make it so: a central
			// difference across the kink is off by O(h). Centered roots are
			// what SampleRoot produces, so for them the test perturbs C1
			// within the centered subspace (row i moves by h·(e_j − 1/S1)),
			// along which W2² is smooth, and compares with the projected
			// gradient g_ij − mean_k g_ik.
			for i := range n {
				row := tc.c1.RawRowView(i)
				orig := append([]float64(nil), row...)
				move := func(step float64, j int) {
					for k := range row {
						row[k] = orig[k]
						if tc.centered {
							row[k] -= step / float64(s1)
						}
					}
					row[j] += step
				}
				var rowMean float64
				for k := range s1 {
					rowMean += g.At(i, k) / float64(s1)
				}
				for j := range s1 {
					move(h, j)
					up := f()
					move(-h, j)
					down := f()
					copy(row, orig)
					fd := (up - down) / (2 * h)
					want := g.At(i, j)
					if tc.centered {
						want -= rowMean
					}
					if math.Abs(fd-want) > 1e-6*math.Max(1, math.Abs(fd)) {
						t.Errorf("∂/∂C1[%d,%d] = %.10g, finite difference %.10g", i, j, want, fd)
					}
				}
			}
			if tc.mu1 == nil {
				return
			}
			for i := range n {
				x := tc.mu1[i]
				tc.mu1[i] = x + h
				up := f()
				tc.mu1[i] = x - h
				down := f()
				tc.mu1[i] = x
				fd := (up - down) / (2 * h)
				if math.Abs(fd-gm[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Errorf("∂/∂μ1[%d] = %.10g, finite difference %.10g", i, gm[i], fd)
				}
			}
		})
	}
}

// TestW2RootsGradDescent is the use the gradient exists for: gradient
// descent on C1 drives W2² towards zero.
func TestW2RootsGradDescent(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c1, c2 := randDense(rng, 4, 6), randDense(rng, 4, 6)
	mu1, mu2 := randVec(rng, 4), randVec(rng, 4)
	first := mustRoots(t, mu1, c1, mu2, c2)
	var g mat.Dense
	gm := make([]float64, 4)
	for range 500 {
		if _, err := W2SquaredRootsGrad(&g, gm, mu1, c1, mu2, c2); err != nil {
			t.Fatal(err)
		}
		g.Scale(-0.05, &g)
		c1.Add(c1, &g)
		for i := range mu1 {
			mu1[i] -= 0.05 * gm[i]
		}
	}
	if last := mustRoots(t, mu1, c1, mu2, c2); last > 1e-6*first {
		t.Errorf("W2² went from %g to only %g", first, last)
	}
}

func TestW2Errors(t *testing.T) {
	id := func(n int) *mat.SymDense {
		s := mat.NewSymDense(n, nil)
		for i := range n {
			s.SetSym(i, i, 1)
		}
		return s
	}
	indefinite := mat.NewSymDense(2, []float64{1, 2, 2, 1}) // eigenvalues 3, −1
	nan := mat.NewSymDense(2, []float64{1, 0, 0, math.NaN()})
	tests := []struct {
		mu1    []float64
		s1     mat.Symmetric
		mu2    []float64
		s2     mat.Symmetric
		substr string
	}{
		{nil, id(2), nil, id(3), "2×2 and 3×3"},
		{[]float64{1}, id(2), nil, id(2), "mean 1 has length 1, want 2"},
		{nil, id(2), []float64{0, math.Inf(1)}, id(2), "mean 2 has +Inf"},
		{nil, indefinite, nil, id(2), "covariance 1 is not positive semidefinite: eigenvalue -1"},
		{nil, id(2), nil, nan, "covariance 2 has NaN at (1, 1)"},
		{nil, nil, nil, id(2), "nil covariance"},
	}
	for _, tt := range tests {
		_, err := W2Squared(tt.mu1, tt.s1, tt.mu2, tt.s2)
		if err == nil || !strings.Contains(err.Error(), tt.substr) {
			t.Errorf("err = %v, want %q", err, tt.substr)
		}
	}
	c := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	rootTests := []struct {
		g      *mat.Dense
		gm     []float64
		c1, c2 mat.Matrix
		substr string
	}{
		{nil, nil, c, mat.NewDense(2, 2, nil), "3 and 2 rows"},
		{nil, nil, c, mat.NewDense(3, 1, []float64{0, math.NaN(), 0}), "root 2 has NaN at (1, 0)"},
		{mat.NewDense(2, 3, nil), nil, c, c, "gradient destination is 2×3, want 3×2"},
		{nil, make([]float64, 2), c, c, "mean gradient has length 2, want 3"},
	}
	for _, tt := range rootTests {
		_, err := W2SquaredRootsGrad(tt.g, tt.gm, nil, tt.c1, nil, tt.c2)
		if err == nil || !strings.Contains(err.Error(), tt.substr) {
			t.Errorf("err = %v, want %q", err, tt.substr)
		}
	}
}

func BenchmarkW2SquaredRootsGrad(b *testing.B) {
	// The §5 reference size: n = S = 512 would dominate a CI run, so this
	// uses n = 256 points and S = 128 draws on each side.
	rng := rand.New(rand.NewPCG(1, 1))
	c1, c2 := randDense(rng, 256, 128), randDense(rng, 256, 128)
	var g mat.Dense
	for b.Loop() {
		if _, err := W2SquaredRootsGrad(&g, nil, nil, c1, nil, c2); err != nil {
			b.Fatal(err)
		}
	}
}

func TestW2RootsGradAliased(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	c1, c2 := randDense(rng, 5, 3), randDense(rng, 5, 4)
	var want mat.Dense
	if _, err := W2SquaredRootsGrad(&want, nil, nil, c1, nil, c2); err != nil {
		t.Fatal(err)
	}
	// The gradient may overwrite the root it is taken at.
	var g mat.Dense
	g.CloneFrom(c1)
	if _, err := W2SquaredRootsGrad(&g, nil, nil, &g, nil, c2); err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(&g, &want, 1e-13) {
		t.Errorf("aliased gradient %v, want %v", mat.Formatted(&g), mat.Formatted(&want))
	}
}
