package lowrank

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomMatrix(rows, cols int, rng *rand.Rand) []float64 {
	w := make([]float64, rows*cols)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	return w
}

func frobDiff(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// docs/algorithms.md §4 sanity: at full rank A·B reconstructs W to 1e-10, in
// both orientations of the matrix.
func TestFullRankReconstructs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sh := range [][2]int{{7, 5}, {5, 7}, {6, 6}, {64, 16}, {1, 4}} {
		w := randomMatrix(sh[0], sh[1], rng)
		f, err := Truncate(w, sh[0], sh[1], min(sh[0], sh[1]))
		if err != nil {
			t.Fatal(err)
		}
		ab := f.Product()
		worst := 0.0
		for i := range w {
			worst = max(worst, math.Abs(ab[i]-w[i]))
		}
		if worst > 1e-10 {
			t.Errorf("%dx%d: max |AB - W| = %.3g", sh[0], sh[1], worst)
		}
		if f.Residual() != 0 {
			t.Errorf("%dx%d: full-rank residual %g, want 0", sh[0], sh[1], f.Residual())
		}
	}
}

// Eckart–Young: the Frobenius error of the rank-r truncation is the norm of
// the dropped singular values, for every r.
func TestTruncationError(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	w := randomMatrix(12, 9, rng)
	for r := 1; r <= 9; r++ {
		f, err := Truncate(w, 12, 9, r)
		if err != nil {
			t.Fatal(err)
		}
		got, want := frobDiff(f.Product(), w), f.Residual()
		if math.Abs(got-want) > 1e-10*max(1, want) {
			t.Errorf("rank %d: ‖W − AB‖_F = %.15g, norm of dropped singular values %.15g", r, got, want)
		}
	}
}

// B has orthonormal rows (B = V_rᵀ), the columns of A are orthogonal with
// norms equal to the singular values, and the sign rule holds.
func TestFactorShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	rows, cols, r := 10, 8, 3
	f, err := Truncate(randomMatrix(rows, cols, rng), rows, cols, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r {
		for j := range r {
			bb, aa := 0.0, 0.0
			for c := range cols {
				bb += f.B[i*cols+c] * f.B[j*cols+c]
			}
			for k := range rows {
				aa += f.A[k*r+i] * f.A[k*r+j]
			}
			want, wantA := 0.0, 0.0
			if i == j {
				want, wantA = 1, f.Values[i]*f.Values[i]
			}
			if math.Abs(bb-want) > 1e-12 || math.Abs(aa-wantA) > 1e-10 {
				t.Errorf("(%d,%d): BBᵀ %.3g (want %g), AᵀA %.6g (want %.6g)", i, j, bb, want, aa, wantA)
			}
		}
		big := 0.0
		for k := range rows {
			if math.Abs(f.A[k*r+i]) > math.Abs(big) {
				big = f.A[k*r+i]
			}
		}
		if big <= 0 {
			t.Errorf("column %d of A: largest entry %g is not positive", i, big)
		}
	}
	// Flipping W's sign flips A... and B; the rule keeps A's largest entry positive.
	neg := make([]float64, rows*cols)
	w := randomMatrix(rows, cols, rng)
	for i, v := range w {
		neg[i] = -v
	}
	f1, _ := Truncate(w, rows, cols, r)
	f2, _ := Truncate(neg, rows, cols, r)
	for i := range f1.A {
		if math.Abs(f1.A[i]-f2.A[i]) > 1e-10 {
			t.Fatalf("A of -W differs from A of W at %d: the sign rule should keep A", i)
		}
	}
}

func TestTruncateErrors(t *testing.T) {
	w := []float64{1, 2, 3, 4, 5, 6}
	for _, c := range []struct {
		rows, cols, r int
		w             []float64
	}{
		{2, 3, 0, w}, {2, 3, 3, w}, {2, 2, 1, w}, {2, 3, 1, []float64{1, 2, math.NaN(), 4, 5, 6}},
	} {
		if _, err := Truncate(c.w, c.rows, c.cols, c.r); err == nil {
			t.Errorf("Truncate(%dx%d, r=%d) succeeded, want an error", c.rows, c.cols, c.r)
		}
	}
}
