package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is the distance between a and b in units of the last place of b
// (at least the smallest normal's, so tiny values compare absolutely).
func ulps(a, b float64) float64 {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return 0
	}
	ulp := math.Max(math.Abs(math.Nextafter(b, math.Inf(1))-b), 0x1p-1022)
	return math.Abs(a-b) / ulp
}

// inputs mixes a dense grid over lo..hi with random values and specials.
func inputs(lo, hi float64, rng *rand.Rand) []float64 {
	var x []float64
	for i := 0; i <= 20000; i++ {
		x = append(x, lo+(hi-lo)*float64(i)/20000)
	}
	for range 20000 {
		x = append(x, lo+(hi-lo)*rng.Float64())
	}
	for _, e := range []float64{1e-300, 1e-20, 1e-10, 1e-5, 0.1, 0.17, 0.35, 0.4142, 0.5, 1} {
		x = append(x, e, -e)
	}
	return append(x, 0, math.Copysign(0, -1))
}

func maxULPs(t *testing.T, name string, got, want, in []float64, bound float64) {
	t.Helper()
	worst, at := 0.0, 0
	for i := range want {
		if u := ulps(got[i], want[i]); u > worst {
			worst, at = u, i
		}
	}
	t.Logf("%s: worst %.2f ulp at %g", name, worst, in[at])
	if worst > bound {
		t.Errorf("%s: %.2f ulp at %g (got %v, want %v), bound %g", name, worst, in[at], got[at], want[at], bound)
	}
}

func TestExp(t *testing.T) {
	x := inputs(-750, 720, rand.New(rand.NewPCG(1, 1)))
	x = append(x, inputs(-3, 3, rand.New(rand.NewPCG(1, 2)))...)
	got, want := make([]float64, len(x)), make([]float64, len(x))
	Exp(got, x)
	for i, v := range x {
		want[i] = math.Exp(v)
	}
	maxULPs(t, "exp", got, want, x, 2)
	special := []float64{math.NaN(), -1e6, 0, 710, math.Inf(1), -740, math.Inf(-1)}
	Exp(got[:len(special)], special)
	for i, v := range special {
		if w := math.Exp(v); got[i] != w && !(math.IsNaN(w) && math.IsNaN(got[i])) {
			t.Errorf("exp(%v) = %v, want %v", v, got[i], w)
		}
	}
}

func TestTanh(t *testing.T) {
	x := inputs(-25, 25, rand.New(rand.NewPCG(2, 1)))
	x = append(x, inputs(-1, 1, rand.New(rand.NewPCG(2, 2)))...)
	got, want := make([]float64, len(x)), make([]float64, len(x))
	Tanh(got, x)
	for i, v := range x {
		want[i] = math.Tanh(v)
	}
	maxULPs(t, "tanh", got, want, x, 3)
	Tanh(got[:3], []float64{math.NaN(), math.Inf(1), math.Inf(-1)})
	if !math.IsNaN(got[0]) || got[1] != 1 || got[2] != -1 {
		t.Errorf("tanh(NaN, ±Inf) = %v", got[:3])
	}
}

func TestSoftplusSigmoid(t *testing.T) {
	x := inputs(-750, 750, rand.New(rand.NewPCG(3, 1)))
	x = append(x, inputs(-40, 40, rand.New(rand.NewPCG(3, 2)))...)
	sp, sg := make([]float64, len(x)), make([]float64, len(x))
	wsp, wsg := make([]float64, len(x)), make([]float64, len(x))
	SoftplusSigmoid(sp, sg, x)
	softplusSigmoidGo(wsp, wsg, x)
	var in []float64
	var a, b, c, d []float64
	for i, v := range x {
		in = append(in, v)
		a, b, c, d = append(a, sp[i]), append(b, wsp[i]), append(c, sg[i]), append(d, wsg[i])
	}
	maxULPs(t, "softplus", a, b, in, 2)
	maxULPs(t, "sigmoid", c, d, in, 2)
}

func TestAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, n := range []int{1, 3, 4, 7, 64, 1001} {
		x, g, m, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], g[i], m[i], v[i] = rng.NormFloat64(), rng.NormFloat64(), 0.1*rng.NormFloat64(), rng.Float64()
		}
		wx, wm, wv := append([]float64(nil), x...), append([]float64(nil), m...), append([]float64(nil), v...)
		const b1, b2, c1, c2, step, inv, eps = 0.9, 0.999, 0.1 * 0.5, 0.001 * 0.25, 0.01, 1.3, 1e-8
		if !Adam(x, g, m, v, b1, b2, c1, c2, step, inv, eps) {
			t.Fatal("finite gradient reported as not finite")
		}
		for i := range wx {
			wm[i] = b1*wm[i] + c1*g[i]
			wv[i] = b2*wv[i] + c2*g[i]*g[i]
			wx[i] -= step * wm[i] / (math.Sqrt(wv[i])*inv + eps)
			if math.Abs(x[i]-wx[i]) > 1e-15 || math.Abs(m[i]-wm[i]) > 1e-15 || math.Abs(v[i]-wv[i]) > 1e-15 {
				t.Fatalf("n=%d i=%d: x, m, v = %v %v %v, want %v %v %v", n, i, x[i], m[i], v[i], wx[i], wm[i], wv[i])
			}
		}
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			g[n-1] = bad
			if Adam(x, g, m, v, b1, b2, c1, c2, step, inv, eps) {
				t.Errorf("n=%d: gradient %v not reported", n, bad)
			}
			g[n-1] = 0
		}
	}
}

func TestNoAlloc(t *testing.T) {
	x := make([]float64, 103)
	y := make([]float64, 103)
	z := make([]float64, 103)
	w := make([]float64, 103)
	if a := testing.AllocsPerRun(20, func() {
		Exp(y, x)
		Tanh(y, x)
		SoftplusSigmoid(y, z, x)
		Adam(x, y, z, w, 0.9, 0.999, 0.1, 0.001, 0.01, 1, 1e-8)
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}

var benchIn = func() []float64 {
	x := make([]float64, 4096)
	for i := range x {
		x[i] = float64(i)/4096*20 - 10
	}
	return x
}()

func BenchmarkExp(b *testing.B) {
	out := make([]float64, len(benchIn))
	b.Run("vec", func(b *testing.B) {
		for b.Loop() {
			Exp(out, benchIn)
		}
	})
	b.Run("math", func(b *testing.B) {
		for b.Loop() {
			for i, v := range benchIn {
				out[i] = math.Exp(v)
			}
		}
	})
}

func BenchmarkSoftplusSigmoid(b *testing.B) {
	sp, sg := make([]float64, len(benchIn)), make([]float64, len(benchIn))
	b.Run("vec", func(b *testing.B) {
		for b.Loop() {
			SoftplusSigmoid(sp, sg, benchIn)
		}
	})
	b.Run("math", func(b *testing.B) {
		for b.Loop() {
			softplusSigmoidGo(sp, sg, benchIn)
		}
	})
}

func BenchmarkTanh(b *testing.B) {
	out := make([]float64, len(benchIn))
	b.Run("vec", func(b *testing.B) {
		for b.Loop() {
			Tanh(out, benchIn)
		}
	})
	b.Run("math", func(b *testing.B) {
		for b.Loop() {
			for i, v := range benchIn {
				out[i] = math.Tanh(v)
			}
		}
	})
}

func BenchmarkAdam(b *testing.B) {
	n := len(benchIn)
	x, g, m, v := make([]float64, n), append([]float64(nil), benchIn...), make([]float64, n), make([]float64, n)
	b.Run("vec", func(b *testing.B) {
		for b.Loop() {
			Adam(x, g, m, v, 0.9, 0.999, 0.1, 0.001, 0.01, 1, 1e-8)
		}
	})
	b.Run("go", func(b *testing.B) {
		save := useAVX
		useAVX = false
		defer func() { useAVX = save }()
		for b.Loop() {
			Adam(x, g, m, v, 0.9, 0.999, 0.1, 0.001, 0.01, 1, 1e-8)
		}
	})
}

func TestRelu(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	for _, n := range []int{1, 7, 8, 9, 100} {
		x, g := randn(n, rng), randn(n, rng)
		x[0] = math.NaN()
		if n > 1 {
			x[1] = 0
		}
		y := make([]float64, n)
		Relu(y, x)
		gx := randn(n, rng)
		want := append([]float64(nil), gx...)
		ReluBackward(gx, g, y)
		for i, v := range x {
			if w := max(v, 0); y[i] != w && !(math.IsNaN(w) && math.IsNaN(y[i])) {
				t.Errorf("relu(%v) = %v", v, y[i])
			}
			if y[i] > 0 {
				want[i] += g[i]
			}
			if gx[i] != want[i] {
				t.Errorf("n=%d: backward[%d] = %v, want %v", n, i, gx[i], want[i])
			}
		}
	}
}

func randn(n int, rng *rand.Rand) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func TestAdamNormalPrior(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	for _, n := range []int{1, 3, 4, 9, 1001} {
		x, g, m, v := randn(n, rng), randn(n, rng), randn(n, rng), make([]float64, n)
		loc, prec := randn(n, rng), make([]float64, n)
		for i := range v {
			v[i], prec[i] = rng.Float64(), 0.5+rng.Float64()
		}
		wx, wm, wv := append([]float64(nil), x...), append([]float64(nil), m...), append([]float64(nil), v...)
		const nb, b1, b2, c1, c2, step, inv, eps = 7.5, 0.9, 0.999, 0.1 * 0.01, 0.001 * 1e-4, 0.01, 1.3, 1e-8
		ss, ok := AdamNormalPrior(x, g, m, v, loc, prec, nb, b1, b2, c1, c2, step, inv, eps)
		if !ok {
			t.Fatal("finite gradient reported as not finite")
		}
		want := 0.0
		for i := range wx {
			d := wx[i] - loc[i]
			want += d * d * prec[i]
			gi := nb*g[i] + d*prec[i]
			wm[i] = b1*wm[i] + c1*gi
			wv[i] = b2*wv[i] + c2*gi*gi
			wx[i] -= step * wm[i] / (math.Sqrt(wv[i])*inv + eps)
			if math.Abs(x[i]-wx[i]) > 1e-14 || math.Abs(m[i]-wm[i]) > 1e-14 || math.Abs(v[i]-wv[i]) > 1e-14 {
				t.Fatalf("n=%d i=%d: x, m, v = %v %v %v, want %v %v %v", n, i, x[i], m[i], v[i], wx[i], wm[i], wv[i])
			}
		}
		if math.Abs(ss-want) > 1e-12*want {
			t.Errorf("n=%d: Σ(x-loc)²·prec = %v, want %v", n, ss, want)
		}
		g[n-1] = math.Inf(1)
		if _, ok := AdamNormalPrior(x, g, m, v, loc, prec, nb, b1, b2, c1, c2, step, inv, eps); ok {
			t.Errorf("n=%d: infinite gradient not reported", n)
		}
	}
}

func TestLRTLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	for _, n := range []int{1, 5, 8, 101} {
		a, b, z := randn(n, rng), randn(n, rng), randn(n, rng)
		sd, out := make([]float64, n), randn(n, rng)
		for i := range sd {
			sd[i] = rng.Float64()
		}
		close := func(name string, got, want []float64) {
			t.Helper()
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-15*(1+math.Abs(want[i])) {
					t.Fatalf("%s n=%d [%d] = %v, want %v", name, n, i, got[i], want[i])
				}
			}
		}
		got, want := make([]float64, n), make([]float64, n)
		Mul(got, a, b)
		for i := range want {
			want[i] = a[i] * b[i]
		}
		close("Mul", got, want)

		wsd, wout := append([]float64(nil), sd...), append([]float64(nil), out...)
		SqrtNoise(sd, z, out, 1e-16)
		for i := range wsd {
			wsd[i] = math.Sqrt(wsd[i] + 1e-16)
			wout[i] += wsd[i] * z[i]
		}
		close("SqrtNoise sd", sd, wsd)
		close("SqrtNoise out", out, wout)

		HalfMulDiv(got, a, z, sd)
		for i := range want {
			want[i] = 0.5 * a[i] * z[i] / sd[i]
		}
		close("HalfMulDiv", got, want)

		copy(want, out)
		AddMul2(out, a, b)
		for i := range want {
			want[i] += 2 * a[i] * b[i]
		}
		close("AddMul2", out, want)
	}
}

// DotAxpy's AVX2 loop agrees with the plain sums at every length around its
// block sizes, and updates y to y + s·a within a rounding or two.
func TestDotAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for n := 0; n <= 37; n++ {
		y, a, x := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			y[i], a[i], x[i] = rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		}
		want, wantY, scale := 0.0, make([]float64, n), 0.0
		for i := range n {
			want += a[i] * x[i]
			scale += math.Abs(a[i] * x[i])
			wantY[i] = math.FMA(0.7, a[i], y[i])
		}
		got := DotAxpy(y, a, x, 0.7)
		if math.Abs(got-want) > 1e-14*(scale+1) {
			t.Errorf("n=%d: dot %v, want %v", n, got, want)
		}
		for i := range n {
			if math.Abs(y[i]-wantY[i]) > 4e-16*(math.Abs(y[i]-0.7*a[i])+math.Abs(0.7*a[i])) {
				t.Errorf("n=%d: y[%d] = %v, want %v", n, i, y[i], wantY[i])
			}
		}
	}
}
