//go:build openblas

package openblas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	lapackgo "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// randomSPD returns an n x n symmetric positive definite matrix stored
// row-major with stride lda > n, its padding set to NaN so that a routine
// reading past the matrix shows.
func randomSPD(n, lda int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]float64, n*n)
	for i := range b {
		b[i] = r.NormFloat64()
	}
	a := make([]float64, n*lda)
	for i := range a {
		a[i] = math.NaN()
	}
	for i := range n {
		for j := range n {
			s := 0.0
			for k := range n {
				s += b[i*n+k] * b[j*n+k]
			}
			if i == j {
				s += float64(n)
			}
			a[i*lda+j] = s
		}
	}
	return a
}

// The OpenBLAS Dsyev gives gonum's eigenvalues, and eigenvectors in the
// columns (not the rows) of the row-major result, for either triangle.
func TestDsyevMatchesGonum(t *testing.T) {
	const n, lda = 37, 41
	for _, uplo := range []blas.Uplo{blas.Upper, blas.Lower} {
		for _, job := range []lapack.EVJob{lapack.EVNone, lapack.EVCompute} {
			a := randomSPD(n, lda, 7)
			orig := append([]float64(nil), a...)
			b := append([]float64(nil), a...)
			w, wb := make([]float64, n), make([]float64, n)
			q := []float64{0}
			lapackImpl{}.Dsyev(job, uplo, n, a, lda, w, q, -1)
			work := make([]float64, int(q[0]))
			if !(lapackImpl{}).Dsyev(job, uplo, n, a, lda, w, work, len(work)) {
				t.Fatal("Dsyev failed")
			}
			lapackgo.Implementation{}.Dsyev(job, uplo, n, b, lda, wb, make([]float64, 4*n), 4*n)
			for i := range n {
				if math.Abs(w[i]-wb[i]) > 1e-10*math.Abs(wb[i]) {
					t.Fatalf("uplo %c: eigenvalue %d is %v, gonum's %v", uplo, i, w[i], wb[i])
				}
			}
			if job != lapack.EVCompute {
				continue
			}
			// A v_j = λ_j v_j for every column j of the result.
			for j := range n {
				for i := range n {
					av := 0.0
					for k := range n {
						av += orig[i*lda+k] * a[k*lda+j]
					}
					if math.Abs(av-w[j]*a[i*lda+j]) > 1e-9*w[n-1] {
						t.Fatalf("uplo %c: column %d is not an eigenvector (row %d: %v vs %v)", uplo, j, i, av, w[j]*a[i*lda+j])
					}
				}
			}
		}
	}
}

// The OpenBLAS Dpotrf gives gonum's factor, through mat.Cholesky, and
// reports a matrix that is not positive definite.
func TestCholeskyMatchesGonum(t *testing.T) {
	const n = 29
	a := randomSPD(n, n, 3)
	sym := mat.NewSymDense(n, a)
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		t.Fatal("Factorize failed")
	}
	u := mat.NewTriDense(n, mat.Upper, nil)
	ch.UTo(u)
	b := append([]float64(nil), a...)
	if !(lapackgo.Implementation{}).Dpotrf(blas.Upper, n, b, n) {
		t.Fatal("gonum's Dpotrf failed")
	}
	for i := range n {
		for j := i; j < n; j++ {
			if math.Abs(u.At(i, j)-b[i*n+j]) > 1e-10*math.Abs(b[i*n+i]) {
				t.Fatalf("U[%d,%d] = %v, gonum's %v", i, j, u.At(i, j), b[i*n+j])
			}
		}
	}
	bad := []float64{1, 2, 2, 1}
	if (lapackImpl{}).Dpotrf(blas.Upper, 2, bad, 2) {
		t.Error("an indefinite matrix factorised")
	}
}
