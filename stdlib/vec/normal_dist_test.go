package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The tables tile the density: every layer has the same area v, so the
// top layer, built last, closes at x_0 = 0 with area v to rounding error.
func TestZigguratTables(t *testing.T) {
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	v := zigR*f(zigR) + math.Sqrt(math.Pi/2)*math.Erfc(zigR/math.Sqrt2)
	x1 := zig.w[1] * (1 << 52)
	if top := x1 * (1 - f(x1)); math.Abs(top-v) > 1e-14 {
		t.Errorf("top layer area %v, want %v", top, v)
	}
	for i := 2; i < 256; i++ {
		xi, xlo := zig.w[i]*(1<<52), zig.w[i-1]*(1<<52)
		if area := xi * (f(xlo) - f(xi)); math.Abs(area-v) > 1e-13 {
			t.Fatalf("layer %d has area %v, want %v", i, area, v)
		}
		if zig.w[256+i] != -zig.w[i] || zig.f[i] != f(xi) {
			t.Fatalf("layer %d: inconsistent tables", i)
		}
	}
}

// The draws follow N(0, 1): the counts in 100 bins of equal probability
// pass a chi-square test, the tails beyond ±r (where the slow path works)
// hold their share, and the moments are right. Same seed, same draws.
func TestNormalsDistribution(t *testing.T) {
	const n, bins = 2_000_000, 100
	g := new(Normals)
	g.Seed(rand.New(rand.NewPCG(3, 4)))
	buf := make([]float64, 1000)
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	counts := make([]float64, bins)
	var s1, s2, s4, tails float64
	for range n / len(buf) {
		g.Fill(buf)
		for _, x := range buf {
			counts[min(int(cdf(x)*bins), bins-1)]++
			s1 += x
			s2 += x * x
			s4 += x * x * x * x
			if math.Abs(x) >= zigR {
				tails++
			}
		}
	}
	chi2 := 0.0
	for _, c := range counts {
		e := float64(n) / bins
		chi2 += (c - e) * (c - e) / e
	}
	// 99 degrees of freedom: the 99.99% quantile is about 160.
	if chi2 > 160 {
		t.Errorf("chi-square %.1f over %d bins", chi2, bins)
	}
	pt := 2 * cdf(-zigR)
	if d := tails - pt*n; math.Abs(d) > 4*math.Sqrt(pt*n) {
		t.Errorf("%v draws beyond ±r, want %.1f", tails, pt*n)
	}
	mean, variance, m4 := s1/n, s2/n, s4/n
	if math.Abs(mean) > 4/math.Sqrt(n) || math.Abs(variance-1) > 4*math.Sqrt(2.0/n) || math.Abs(m4-3) > 4*math.Sqrt(96.0/n) {
		t.Errorf("mean %v, variance %v, fourth moment %v", mean, variance, m4)
	}
	t.Logf("chi-square %.1f (99 dof); %v draws beyond ±r, expected %.1f", chi2, tails, pt*n)

	a, b := seeded(rand.New(rand.NewPCG(5, 6))), seeded(rand.New(rand.NewPCG(5, 6)))
	x, y := make([]float64, 777), make([]float64, 777)
	for range 100 {
		a.Fill(x)
		b.Fill(y[:300])
		b.Fill(y[300:])
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Fatalf("same seed, different draw %d: %v vs %v", i, x[i], y[i])
			}
		}
	}
}

func seeded(rng *rand.Rand) *Normals {
	g := new(Normals)
	g.Seed(rng)
	return g
}
