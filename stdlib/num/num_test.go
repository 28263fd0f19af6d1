package num

import (
	"math"
	"math/rand/v2"
	"testing"
)

func close(a, b, tol float64) bool {
	if a == b {
		return true // also equal infinities
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestLogSumExp(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		x    []float64
		want float64
	}{
		{"large equal", []float64{1000, 1000}, 1000 + math.Ln2},
		{"very negative", []float64{-1000, -1000, -1000}, -1000 + math.Log(3)},
		{"small", []float64{0.5, -1, 2}, math.Log(math.Exp(0.5) + math.Exp(-1) + math.Exp(2))},
		{"single", []float64{-3.25}, -3.25},
		{"mixed scale", []float64{0, -800}, math.Log1p(math.Exp(-800))},
		{"with -Inf", []float64{math.Inf(-1), 0}, 0},
		{"all -Inf", []float64{math.Inf(-1), math.Inf(-1)}, math.Inf(-1)},
		{"empty", nil, math.Inf(-1)},
		{"+Inf", []float64{0, inf}, inf},
		{"NaN", []float64{0, math.NaN()}, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := LogSumExp(tc.x)
			if math.IsNaN(tc.want) {
				if !math.IsNaN(got) {
					t.Fatalf("LogSumExp(%v) = %v, want NaN", tc.x, got)
				}
				return
			}
			if !close(got, tc.want, 1e-15) {
				t.Fatalf("LogSumExp(%v) = %v, want %v", tc.x, got, tc.want)
			}
		})
	}
}

func TestLogMeanExp(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		want float64
	}{
		{"constant", []float64{-2, -2, -2, -2}, -2},
		{"two", []float64{0, math.Log(3)}, math.Log(2)},
		{"large", []float64{1000, 1000}, 1000},
		{"empty", nil, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := LogMeanExp(tc.x)
			if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && !close(got, tc.want, 1e-15) {
				t.Fatalf("LogMeanExp(%v) = %v, want %v", tc.x, got, tc.want)
			}
		})
	}
}

func TestLogSoftmax(t *testing.T) {
	tests := []struct {
		name string
		z    []float64
	}{
		{"small", []float64{1, 2, 3}},
		{"huge logits", []float64{1000, 999, -1000}},
		{"single", []float64{42}},
		{"with -Inf", []float64{0, math.Inf(-1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := LogSoftmax(nil, tc.z)
			s := 0.0
			for i, v := range got {
				if math.IsNaN(v) || v > 0 {
					t.Fatalf("LogSoftmax(%v)[%d] = %v, want a log-probability", tc.z, i, v)
				}
				s += math.Exp(v)
			}
			if !close(s, 1, 1e-15) {
				t.Fatalf("Σ exp LogSoftmax(%v) = %v, want 1", tc.z, s)
			}
			// Differences are preserved.
			if len(tc.z) > 1 && !math.IsInf(tc.z[1], 0) && !close(got[0]-got[1], tc.z[0]-tc.z[1], 1e-15) {
				t.Fatalf("LogSoftmax(%v) changed logit differences: %v", tc.z, got)
			}
		})
	}
	t.Run("in place", func(t *testing.T) {
		z := []float64{1, 2, 3}
		want := LogSoftmax(nil, z)
		got := LogSoftmax(z, z)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("in-place LogSoftmax = %v, want %v", got, want)
			}
		}
	})
}

func TestSoftplus(t *testing.T) {
	if v := Softplus(-800); !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("Softplus(-800) = %v, want positive and finite", v)
	}
	if v := Softplus(math.Inf(-1)); v != 0 {
		t.Errorf("Softplus(-Inf) = %v, want 0", v)
	}
	if v := Softplus(800); v != 800 {
		t.Errorf("Softplus(800) = %v, want 800", v)
	}
	if v, want := Softplus(-40), math.Exp(-40); !close(v/want, 1, 1e-14) {
		t.Errorf("Softplus(-40) = %v, want ≈ %v", v, want)
	}
	for _, x := range []float64{-20, -3, -0.5, 0, 0.5, 3, 20} {
		t.Run("", func(t *testing.T) {
			if got, want := Softplus(x), math.Log(1+math.Exp(x)); !close(got, want, 1e-14) {
				t.Errorf("Softplus(%v) = %v, want %v", x, got, want)
			}
			// Sigmoid is the derivative of Softplus.
			const h = 1e-5
			fd := (Softplus(x+h) - Softplus(x-h)) / (2 * h)
			if !close(Sigmoid(x), fd, 1e-8) {
				t.Errorf("Sigmoid(%v) = %v, finite difference of Softplus = %v", x, Sigmoid(x), fd)
			}
		})
	}
}

func TestSoftplusInv(t *testing.T) {
	// Round trip on a log grid over [1e-6, 50], plus the endpoints.
	ys := []float64{1e-6, 50}
	for y := 1e-6; y < 50; y *= 1.5 {
		ys = append(ys, y)
	}
	for _, y := range ys {
		// Relative, which is stricter than the 1e-12 absolute of the spec.
		if got := Softplus(SoftplusInv(y)); math.Abs(got-y) > 1e-12*y {
			t.Errorf("Softplus(SoftplusInv(%v)) = %v", y, got)
		}
	}
	if v := SoftplusInv(0); !math.IsInf(v, -1) {
		t.Errorf("SoftplusInv(0) = %v, want -Inf", v)
	}
	if v := SoftplusInv(-1); !math.IsNaN(v) {
		t.Errorf("SoftplusInv(-1) = %v, want NaN", v)
	}
	if v := SoftplusInv(1000); v != 1000 {
		t.Errorf("SoftplusInv(1000) = %v, want 1000", v)
	}
}

func TestSigmoid(t *testing.T) {
	tests := []struct {
		x, want float64
	}{
		{0, 0.5},
		{800, 1},
		{-800, 0},
		{-40, 1 / (1 + math.Exp(40))},
		{2, 1 / (1 + math.Exp(-2))},
		{-2, 1 / (1 + math.Exp(2))},
	}
	for _, tc := range tests {
		if got := Sigmoid(tc.x); !close(got, tc.want, 1e-15) || math.IsNaN(got) {
			t.Errorf("Sigmoid(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	// Symmetry σ(-x) = 1 - σ(x).
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		x := rng.NormFloat64() * 10
		if got := Sigmoid(-x) + Sigmoid(x); !close(got, 1, 1e-15) {
			t.Errorf("Sigmoid(%v)+Sigmoid(%v) = %v", x, -x, got)
		}
	}
}

func TestXLogX(t *testing.T) {
	tests := []struct{ p, want float64 }{
		{0, 0},
		{1, 0},
		{0.5, -0.5 * math.Ln2},
		{math.E, math.E},
		{1e-300, 1e-300 * math.Log(1e-300)},
	}
	for _, tc := range tests {
		if got := XLogX(tc.p); !close(got, tc.want, 1e-15) {
			t.Errorf("XLogX(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestLgamma(t *testing.T) {
	tests := []struct{ x, want float64 }{
		{1, 0},
		{2, 0},
		{5, math.Log(24)},
		{0.5, 0.5 * math.Log(math.Pi)},
	}
	for _, tc := range tests {
		if got := Lgamma(tc.x); !close(got, tc.want, 1e-14) {
			t.Errorf("Lgamma(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	// log Γ(x+1) - log Γ(x) = log x.
	for _, x := range []float64{0.1, 3.3, 100.5} {
		if got := Lgamma(x+1) - Lgamma(x); !close(got, math.Log(x), 1e-12) {
			t.Errorf("Lgamma(%v+1)-Lgamma(%v) = %v, want %v", x, x, got, math.Log(x))
		}
	}
}

func TestDigamma(t *testing.T) {
	// The docs/algorithms.md §0 values, given to 10 decimals.
	tests := []struct{ x, want float64 }{
		{1, -0.5772156649},
		{2, 0.4227843351},
		{0.5, -1.9635100260},
		{10, 2.2517525891},
	}
	for _, tc := range tests {
		t.Run("", func(t *testing.T) {
			if got := Digamma(tc.x); math.Abs(got-tc.want) > 1e-10 {
				t.Errorf("Digamma(%v) = %.12f, want %.10f", tc.x, got, tc.want)
			}
		})
	}
	// 20-digit reference values (mpmath.digamma at 30 digits).
	precise := []struct{ x, want float64 }{
		{0.001, -1000.5755719318103005},
		{0.1, -10.423754940411076795},
		{0.5, -1.9635100260214234794},
		{1, -0.57721566490153286061},
		{1.5, 0.036489973978576520559},
		{3.3, 1.0348224890596217491},
		{6.9, 1.8573109513316869298},
		{7, 1.8727843350984671394},
		{7.5, 1.9467574842460867881},
		{13.7, 2.5804557238996525878},
		{19.99, 2.9700111525617639408},
		{100, 4.6001618527380874002},
	}
	for _, tc := range precise {
		if got := Digamma(tc.x); !close(got, tc.want, 1e-14) {
			t.Errorf("Digamma(%v) = %.17g, want %.17g", tc.x, got, tc.want)
		}
	}
	// Recurrence ψ(x+1) - ψ(x) = 1/x.
	for _, x := range []float64{1e-3, 0.1, 0.5, 1, 2.5, 6.9, 7, 13.7, 1e3} {
		if got := Digamma(x+1) - Digamma(x); !close(got, 1/x, 1e-13) {
			t.Errorf("Digamma(%v+1)-Digamma(%v) = %v, want %v", x, x, got, 1/x)
		}
	}
	// ψ is the derivative of log Γ.
	for _, x := range []float64{0.3, 1.7, 12} {
		const h = 1e-5
		fd := (Lgamma(x+h) - Lgamma(x-h)) / (2 * h)
		if !close(Digamma(x), fd, 1e-8) {
			t.Errorf("Digamma(%v) = %v, finite difference of Lgamma = %v", x, Digamma(x), fd)
		}
	}
}
