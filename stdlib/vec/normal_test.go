package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNormals checks a million draws against N(0, 1): the first four
// moments, the Kolmogorov-Smirnov distance, the mass beyond the base
// layer's edge (the tail path) and that equal seeds give equal draws.
func TestNormals(t *testing.T) {
	var g Normals
	g.Seed(rand.New(rand.NewPCG(1, 2)))
	const n = 1_000_000
	x := make([]float64, n)
	g.Fill(x)
	var m1, m2, m3, m4 float64
	tail := 0
	for _, v := range x {
		m1 += v
		m2 += v * v
		m3 += v * v * v
		m4 += v * v * v * v
		if math.Abs(v) > zigR {
			tail++
		}
	}
	m1, m2, m3, m4 = m1/n, m2/n, m3/n, m4/n
	// Standard errors at n = 1e6: 0.001, 0.0014, 0.0039, 0.0098.
	if math.Abs(m1) > 0.005 || math.Abs(m2-1) > 0.007 || math.Abs(m3) > 0.02 || math.Abs(m4-3) > 0.05 {
		t.Errorf("moments %.4f %.4f %.4f %.4f, want 0 1 0 3", m1, m2, m3, m4)
	}
	slices.Sort(x)
	d := 0.0
	for i, v := range x {
		c := 0.5 * math.Erfc(-v/math.Sqrt2)
		d = max(d, math.Abs(c-float64(i)/n), math.Abs(c-float64(i+1)/n))
	}
	if d > 1.95/math.Sqrt(n) { // KS critical value at 0.1%
		t.Errorf("KS distance %.5f", d)
	}
	want := n * math.Erfc(zigR/math.Sqrt2)
	if math.Abs(float64(tail)-want) > 5*math.Sqrt(want) {
		t.Errorf("%d draws beyond %.3f, want about %.0f", tail, zigR, want)
	}
	var a, b Normals
	a.Seed(rand.New(rand.NewPCG(3, 4)))
	b.Seed(rand.New(rand.NewPCG(3, 4)))
	ya, yb := make([]float64, 1000), make([]float64, 1000)
	a.Fill(ya)
	b.Fill(yb)
	if !slices.Equal(ya, yb) {
		t.Error("equal seeds gave different draws")
	}
}

func BenchmarkNormals(b *testing.B) {
	x := make([]float64, 4096)
	b.Run("vec", func(b *testing.B) {
		var g Normals
		g.Seed(rand.New(rand.NewPCG(1, 1)))
		for b.Loop() {
			g.Fill(x)
		}
	})
	b.Run("NormFloat64", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		for b.Loop() {
			for i := range x {
				x[i] = rng.NormFloat64()
			}
		}
	})
}
