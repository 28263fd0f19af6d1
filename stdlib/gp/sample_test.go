package gp

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestSampleCovariance(t *testing.T) {
	X := mat.NewDense(5, 1, []float64{-1, -0.5, 0, 0.7, 2})
	k := Matern52{Lengthscale: 1, Variance: 2}
	const S = 20000
	F := mat.NewDense(S, 5, nil)
	if err := Sample(F, k, X, rand.New(rand.NewPCG(3, 4))); err != nil {
		t.Fatal(err)
	}
	var K mat.SymDense
	if err := Matrix(&K, k, X); err != nil {
		t.Fatal(err)
	}
	var C mat.SymDense
	stat.CovarianceMatrix(&C, F, nil)
	for i := range 5 {
		col := mat.Col(nil, i, F)
		se := math.Sqrt(K.At(i, i) / S)
		if m := stat.Mean(col, nil); math.Abs(m) > 5*se {
			t.Errorf("mean at point %d = %.4f, want 0 ± %.4f", i, m, 5*se)
		}
		for j := range 5 {
			// Standard error of a Gaussian sample covariance.
			want := K.At(i, j)
			se := math.Sqrt((K.At(i, i)*K.At(j, j) + want*want) / S)
			if got := C.At(i, j); math.Abs(got-want) > 5*se {
				t.Errorf("cov[%d,%d] = %.4f, want %.4f ± %.4f", i, j, got, want, 5*se)
			}
		}
	}
}

func TestSampleDeterministic(t *testing.T) {
	X := mat.NewDense(4, 2, []float64{0, 0, 1, 0, 0, 1, 1, 1})
	k := Sum{RBF{Lengthscale: 1, Variance: 1}, Linear{Variance: 0.1}}
	a, b := mat.NewDense(3, 4, nil), mat.NewDense(3, 4, nil)
	if err := Sample(a, k, X, rand.New(rand.NewPCG(9, 9))); err != nil {
		t.Fatal(err)
	}
	if err := Sample(b, k, X, rand.New(rand.NewPCG(9, 9))); err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(a, b) {
		t.Error("same seed, different draws")
	}
}

// shifted subtracts shift from the diagonal of its base kernel, making the
// kernel matrix indefinite with smallest eigenvalue about −shift when the
// base matrix is close to singular.
type shifted struct {
	base  Kernel
	shift float64
}

func (k shifted) Eval(x, y []float64) float64 {
	v := k.base.Eval(x, y)
	if sqDist(x, y) == 0 {
		v -= k.shift
	}
	return v
}

func (k shifted) Validate() error { return k.base.Validate() }

func TestRootJitter(t *testing.T) {
	// 30 points in [0, 1] under an RBF of lengthscale 50: numerically rank
	// one, with eigenvalues at rounding level, some of them negative.
	n := 30
	X := mat.NewDense(n, 1, nil)
	for i := range n {
		X.Set(i, 0, float64(i)/float64(n-1))
	}
	flat := RBF{Lengthscale: 50, Variance: 1}

	t.Run("singular", func(t *testing.T) {
		// Exact duplicates make K exactly singular as well.
		Xd := mat.NewDense(4, 1, []float64{0.5, 0.5, 0.5, 1})
		for _, x := range []*mat.Dense{X, Xd} {
			var L mat.Dense
			j, err := Root(&L, flat, x)
			if err != nil {
				t.Fatal(err)
			}
			if j != Jitter {
				t.Errorf("jitter %g, want the first try %g", j, Jitter)
			}
			var K mat.SymDense
			if err := Matrix(&K, flat, x); err != nil {
				t.Fatal(err)
			}
			var LLt mat.Dense
			LLt.Mul(&L, L.T())
			m, _ := x.Dims()
			for a := range m {
				for b := range m {
					want := K.At(a, b)
					if a == b {
						want += j
					}
					if math.Abs(LLt.At(a, b)-want) > 1e-12 {
						t.Fatalf("(L·Lᵀ)[%d,%d] = %.15g, want %.15g", a, b, LLt.At(a, b), want)
					}
					if b > a && L.At(a, b) != 0 {
						t.Fatalf("L[%d,%d] = %g above the diagonal", a, b, L.At(a, b))
					}
				}
			}
			F := mat.NewDense(2, m, nil)
			if err := Sample(F, flat, x, rand.New(rand.NewPCG(1, 1))); err != nil {
				t.Errorf("Sample on a singular kernel: %v", err)
			}
		}
	})
	t.Run("escalates", func(t *testing.T) {
		// Smallest eigenvalue ≈ −5e-5: 1e-6 and 1e-5 fail, 1e-4 works.
		var L mat.Dense
		j, err := Root(&L, shifted{flat, 5e-5}, X)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(j-1e-4) > 1e-12 {
			t.Errorf("jitter %g, want 1e-4", j)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		var L mat.Dense
		_, err := Root(&L, shifted{flat, 0.5}, X)
		if err == nil || !strings.Contains(err.Error(), "not positive definite even with jitter 0.01") {
			t.Errorf("err = %v", err)
		}
		F := mat.NewDense(2, n, nil)
		if err := Sample(F, shifted{flat, 0.5}, X, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Error("Sample: no error")
		}
	})
}

func TestSampleErrors(t *testing.T) {
	X := mat.NewDense(3, 1, []float64{0, 1, 2})
	k := RBF{Lengthscale: 1, Variance: 1}
	rng := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name string
		dst  *mat.Dense
		k    Kernel
		rng  *rand.Rand
		want string
	}{
		{"nil rng", mat.NewDense(2, 3, nil), k, nil, "random source"},
		{"empty dst", &mat.Dense{}, k, rng, "S×n destination"},
		{"wrong width", mat.NewDense(2, 4, nil), k, rng, "4 columns, want one per input point (3)"},
		{"bad kernel", mat.NewDense(2, 3, nil), Matern32{Lengthscale: 1}, rng, "matern32: variance"},
	}
	for _, tt := range tests {
		err := Sample(tt.dst, tt.k, X, tt.rng)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	var L mat.Dense
	L.ReuseAs(2, 2)
	if _, err := Root(&L, k, X); err == nil || !strings.Contains(err.Error(), "2×2, want 3×3") {
		t.Errorf("Root into a wrong-size matrix: %v", err)
	}
}
