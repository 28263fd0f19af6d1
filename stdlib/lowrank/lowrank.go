// Package lowrank factors a matrix into a rank-r product by the truncated
// singular value decomposition: the frozen projections of a LoRA-XS adapter
// (docs/algorithms.md §4). For a weight W (rows x cols, in the row-vector
// convention h = x·W) with SVD W = U S Vᵀ it returns
//
//	A = U_r S_r  (rows x r, the singular values on the A side),
//	B = V_rᵀ     (r x cols),
//
// so that A·B is the best rank-r approximation of W (Eckart–Young): its
// Frobenius error is the norm of the dropped singular values, and at
// r = min(rows, cols) it reconstructs W to rounding.
//
// Singular vectors are only defined up to sign, and LAPACK's choice can
// change with the implementation. Truncate fixes it the way scikit-learn's
// svd_flip does: each pair (u_k, v_k) is flipped so that the entry of u_k of
// largest magnitude is positive. A factorisation is therefore a function of
// W alone, and a trained r x r core between A and B keeps its meaning when
// the factors are recomputed.
//
// The package knows nothing of the language; it is pure gonum numerics.
package lowrank

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Factors is a rank-r factorisation W ≈ A·B of a rows x cols matrix.
type Factors struct {
	Rows, Cols, Rank int
	A                []float64 // rows x Rank, row-major: U_r S_r
	B                []float64 // Rank x cols, row-major: V_rᵀ
	Values           []float64 // every singular value of W, min(rows, cols) of them, decreasing
}

// Truncate returns the rank-r truncated SVD of w, a row-major rows x cols
// matrix. r must be in 1 .. min(rows, cols), and w must be finite.
func Truncate(w []float64, rows, cols, r int) (Factors, error) {
	if rows < 1 || cols < 1 || len(w) != rows*cols {
		return Factors{}, fmt.Errorf("lowrank: a %d x %d matrix needs %d values, got %d", rows, cols, rows*cols, len(w))
	}
	if k := min(rows, cols); r < 1 || r > k {
		return Factors{}, fmt.Errorf("lowrank: rank %d is out of range for a %d x %d matrix (1 .. %d)", r, rows, cols, k)
	}
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Factors{}, fmt.Errorf("lowrank: entry %d (row %d, column %d) is %v", i, i/cols, i%cols, v)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, append([]float64(nil), w...)), mat.SVDThin) {
		return Factors{}, fmt.Errorf("lowrank: the SVD of the %d x %d matrix did not converge", rows, cols)
	}
	var u, v mat.Dense
	svd.UTo(&u) // rows x k
	svd.VTo(&v) // cols x k
	f := Factors{Rows: rows, Cols: cols, Rank: r, Values: svd.Values(nil),
		A: make([]float64, rows*r), B: make([]float64, r*cols)}
	for k := range r {
		// svd_flip: the largest-magnitude entry of u_k is positive.
		big, sign := 0.0, 1.0
		for i := range rows {
			if a := math.Abs(u.At(i, k)); a > big {
				big = a
				sign = math.Copysign(1, u.At(i, k))
			}
		}
		s := f.Values[k]
		for i := range rows {
			f.A[i*r+k] = sign * s * u.At(i, k)
		}
		for j := range cols {
			f.B[k*cols+j] = sign * v.At(j, k)
		}
	}
	return f, nil
}

// Residual is the Frobenius norm of the singular values Truncate dropped:
// by Eckart–Young, ‖W − A·B‖_F.
func (f Factors) Residual() float64 {
	s := 0.0
	for _, v := range f.Values[f.Rank:] {
		s += v * v
	}
	return math.Sqrt(s)
}

// Product returns A·B, a row-major rows x cols matrix.
func (f Factors) Product() []float64 {
	out := make([]float64, f.Rows*f.Cols)
	a := mat.NewDense(f.Rows, f.Rank, f.A)
	b := mat.NewDense(f.Rank, f.Cols, f.B)
	mat.NewDense(f.Rows, f.Cols, out).Mul(a, b)
	return out
}
