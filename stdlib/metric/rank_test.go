package metric

import (
	"math"
	"testing"
)

func TestSpearman(t *testing.T) {
	cases := []struct {
		name string
		a, b []float64
		want float64
	}{
		{"same order, other scale", []float64{1, 2, 3, 4}, []float64{10, 200, 3000, 40000}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// b's ranks are 2 1 4 3 5: Σd² = 4, ρ = 1 − 6·4/(5·24) = 0.8.
		{"one swap pair", []float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}, 0.8},
		// Ties: b's ranks are 1.5 1.5 3 4; Pearson of (1 2 3 4) with them
		// is 4.5/√(5·4.5) = √0.9.
		{"ties averaged", []float64{1, 2, 3, 4}, []float64{7, 7, 8, 9}, math.Sqrt(0.9)},
	}
	for _, c := range cases {
		if got := Spearman(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Spearman = %v, want %v", c.name, got, c.want)
		}
	}
	if got := Spearman([]float64{1, 2, 3}, []float64{5, 5, 5}); !math.IsNaN(got) {
		t.Errorf("constant side: Spearman = %v, want NaN", got)
	}
	if got := Spearman([]float64{1}, []float64{2}); !math.IsNaN(got) {
		t.Errorf("one row: Spearman = %v, want NaN", got)
	}
}
