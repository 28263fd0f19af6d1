package gp

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestKernelValues(t *testing.T) {
	x, y := []float64{0, 0}, []float64{3, 4} // r = 5
	s3, s5 := math.Sqrt(3)*2.5, math.Sqrt(5)*2.5
	tests := []struct {
		name string
		k    Kernel
		x, y []float64
		want float64
	}{
		{"rbf", RBF{Lengthscale: 2, Variance: 1.5}, x, y, 1.5 * math.Exp(-25.0/8)},
		{"rbf at zero distance", RBF{Lengthscale: 2, Variance: 1.5}, y, y, 1.5},
		{"matern12", Matern12{Lengthscale: 2, Variance: 1.5}, x, y, 1.5 * math.Exp(-2.5)},
		{"matern32", Matern32{Lengthscale: 2, Variance: 1.5}, x, y, 1.5 * (1 + s3) * math.Exp(-s3)},
		{"matern52", Matern52{Lengthscale: 2, Variance: 1.5}, x, y,
			1.5 * (1 + s5 + 5*25/(3*4.0)) * math.Exp(-s5)},
		{"matern52 at zero distance", Matern52{Lengthscale: 0.3, Variance: 2}, x, x, 2},
		// sin²(π·0.5/2) = 1/2, so exp(−2·(1/2)/0.5) = e⁻².
		{"periodic 1-D", Periodic{Lengthscale: 0.5, Period: 2, Variance: 1.5}, []float64{0.5}, []float64{0}, 1.5 * math.Exp(-2)},
		// One full period apart: k = variance.
		{"periodic full period", Periodic{Lengthscale: 0.5, Period: 2, Variance: 1.5}, []float64{3}, []float64{1}, 1.5},
		// Per-dimension sum: sin²(π/4) + sin²(π/2) = 1.5, so exp(−2·1.5/2).
		{"periodic 2-D", Periodic{Lengthscale: 2, Period: 4, Variance: 1}, []float64{1, 2}, []float64{0, 0}, math.Exp(-1.5)},
		{"linear", Linear{Variance: 2, Offset: 0.5}, []float64{1, 2}, []float64{3, 4}, 2*11 + 0.5},
		{"linear no offset", Linear{Variance: 1}, []float64{1, -1}, []float64{1, 1}, 0},
		{"sum", Sum{RBF{Lengthscale: 2, Variance: 1.5}, Linear{Variance: 1}}, x, y, 1.5 * math.Exp(-25.0/8)},
		{"product", Product{Periodic{Lengthscale: 0.5, Period: 2, Variance: 2}, RBF{Lengthscale: 1, Variance: 3}},
			[]float64{0.5}, []float64{0}, 2 * math.Exp(-2) * 3 * math.Exp(-0.125)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.k.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tt.k.Eval(tt.x, tt.y)
			if !near(got, tt.want, 1e-14) {
				t.Errorf("k(x, y) = %.17g, want %.17g", got, tt.want)
			}
			if back := tt.k.Eval(tt.y, tt.x); back != got {
				t.Errorf("k(y, x) = %.17g, k(x, y) = %.17g", back, got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		k    Kernel
		want string
	}{
		{RBF{Lengthscale: 0, Variance: 1}, "rbf: lengthscale must be finite and positive, got 0"},
		{RBF{Lengthscale: 1}, "rbf: variance must be finite and positive, got 0"},
		{Matern12{Lengthscale: math.NaN(), Variance: 1}, "matern12: lengthscale must be finite and positive, got NaN"},
		{Matern32{Lengthscale: 1, Variance: -1}, "matern32: variance must be finite and positive, got -1"},
		{Matern52{Lengthscale: math.Inf(1), Variance: 1}, "matern52: lengthscale must be finite and positive, got +Inf"},
		{Periodic{Lengthscale: 1, Variance: 1}, "periodic: period must be finite and positive, got 0"},
		{Periodic{Period: 1, Variance: 1}, "periodic: lengthscale must be finite and positive, got 0"},
		{Linear{}, "linear: variance must be finite and positive, got 0"},
		{Linear{Variance: 1, Offset: -0.5}, "linear: offset must be finite and non-negative, got -0.5"},
		{Sum{}, "sum: needs at least one kernel"},
		{Product{RBF{Lengthscale: 1, Variance: 1}, nil}, "product: term 2 is nil"},
		{Sum{RBF{Lengthscale: 1, Variance: 1}, Product{Matern52{Lengthscale: -2, Variance: 1}}},
			"sum: term 2: product: term 1: matern52: lengthscale must be finite and positive, got -2"},
	}
	for _, tt := range tests {
		err := tt.k.Validate()
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v: Validate() = %v, want %q", tt.k, err, tt.want)
		}
	}
	// Every function validates first.
	X := mat.NewDense(2, 1, []float64{0, 1})
	var K mat.SymDense
	if err := Matrix(&K, RBF{Lengthscale: -1, Variance: 1}, X); err == nil || !strings.Contains(err.Error(), "lengthscale") {
		t.Errorf("Matrix with a bad kernel: %v", err)
	}
	if err := Matrix(&K, nil, X); err == nil {
		t.Error("Matrix with a nil kernel: no error")
	}
}

func TestString(t *testing.T) {
	k := Sum{Product{Periodic{Lengthscale: 1, Period: 2, Variance: 1}, RBF{Lengthscale: 0.5, Variance: 1}}, Linear{Variance: 1}}
	want := "sum(product(periodic(lengthscale=1, period=2, variance=1), rbf(lengthscale=0.5, variance=1)), linear(variance=1, offset=0))"
	if got := k.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// allKernels returns one of each kernel, compositions included.
func allKernels() []Kernel {
	return []Kernel{
		RBF{Lengthscale: 0.7, Variance: 1.3},
		Matern12{Lengthscale: 0.7, Variance: 1.3},
		Matern32{Lengthscale: 0.7, Variance: 1.3},
		Matern52{Lengthscale: 1, Variance: 1},
		Periodic{Lengthscale: 0.8, Period: 1.5, Variance: 1.3},
		Linear{Variance: 0.5, Offset: 0.2},
		Sum{Periodic{Lengthscale: 1, Period: 2, Variance: 1}, RBF{Lengthscale: 0.5, Variance: 0.5}},
		Product{Periodic{Lengthscale: 1, Period: 2, Variance: 1}, RBF{Lengthscale: 2, Variance: 1}},
	}
}

func TestMatrixPSD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 40, 2
	X := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			X.Set(i, j, 6*rng.Float64()-3)
		}
	}
	for _, k := range allKernels() {
		var K mat.SymDense
		if err := Matrix(&K, k, X); err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		for i := range n {
			for j := range n {
				if K.At(i, j) != k.Eval(X.RawRowView(i), X.RawRowView(j)) {
					t.Fatalf("%v: K[%d,%d] = %v, k(x_i, x_j) = %v", k, i, j, K.At(i, j), k.Eval(X.RawRowView(i), X.RawRowView(j)))
				}
			}
		}
		var es mat.EigenSym
		if !es.Factorize(&K, false) {
			t.Fatalf("%v: eigendecomposition failed", k)
		}
		vals := es.Values(nil)
		top := vals[len(vals)-1]
		if vals[0] < -1e-12*float64(n)*top {
			t.Errorf("%v: smallest eigenvalue %g (largest %g): not PSD", k, vals[0], top)
		}
	}
}

func TestMatrixErrors(t *testing.T) {
	k := RBF{Lengthscale: 1, Variance: 1}
	X := mat.NewDense(3, 1, []float64{0, 1, 2})
	K := mat.NewSymDense(2, nil)
	if err := Matrix(K, k, X); err == nil || !strings.Contains(err.Error(), "2×2, want 3×3") {
		t.Errorf("wrong-size destination: %v", err)
	}
	X.Set(1, 0, math.NaN())
	var K2 mat.SymDense
	if err := Matrix(&K2, k, X); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN input: %v", err)
	}
	if err := Matrix(&K2, k, nil); err == nil {
		t.Error("nil inputs: no error")
	}
}
