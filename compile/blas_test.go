package compile

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/mat"
)

func closeSlices(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(got[i]) != math.IsNaN(want[i]) {
			t.Fatalf("%s: element %d is %v, gonum's %v", what, i, got[i], want[i])
		}
	}
}

// fastBLAS's routines agree with gonum's for both triangles and
// transpositions, several sizes around the block size, strided storage,
// and alpha and beta of every kind; the other triangle of C is not touched.
func TestFastBLASMatchesGonum(t *testing.T) {
	if !haveFMA {
		t.Skip("no AVX2/FMA: fastBLAS is not installed")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	var f fastBLAS
	var g gonum.Implementation
	for _, n := range []int{1, 5, 63, 64, 65, 130} {
		for _, k := range []int{1, 7, 70} {
			for _, uplo := range []blas.Uplo{blas.Upper, blas.Lower} {
				for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					for _, ab := range [][2]float64{{1, 0}, {-1, 1}, {0.5, -2}, {0, 0.5}} {
						alpha, beta := ab[0], ab[1]
						rows, cols := n, k
						if tr == blas.Trans {
							rows, cols = k, n
						}
						lda, ldc := cols+3, n+2
						a, b := randSlice(rows*lda, rng), randSlice(rows*lda, rng)
						c := randSlice(n*ldc, rng)
						c1, c2 := append([]float64(nil), c...), append([]float64(nil), c...)
						f.Dsyrk(uplo, tr, n, k, alpha, a, lda, beta, c1, ldc)
						g.Dsyrk(uplo, tr, n, k, alpha, a, lda, beta, c2, ldc)
						closeSlices(t, "Dsyrk", c1, c2, 1e-12)
						copy(c1, c)
						copy(c2, c)
						f.Dsyr2k(uplo, tr, n, k, alpha, a, lda, b, lda, beta, c1, ldc)
						g.Dsyr2k(uplo, tr, n, k, alpha, a, lda, b, lda, beta, c2, ldc)
						closeSlices(t, "Dsyr2k", c1, c2, 1e-12)
					}
				}
			}
			for _, uplo := range []blas.Uplo{blas.Upper, blas.Lower} {
				lda := n + 1
				a := randSlice(n*lda, rng)
				x, y := randSlice(n, rng), randSlice(n, rng)
				for _, ab := range [][2]float64{{1, 0}, {-0.5, 1}, {2, 0.3}, {0, 2}} {
					y1, y2 := append([]float64(nil), y...), append([]float64(nil), y...)
					f.Dsymv(uplo, n, ab[0], a, lda, x, 1, ab[1], y1, 1)
					g.Dsymv(uplo, n, ab[0], a, lda, x, 1, ab[1], y2, 1)
					closeSlices(t, "Dsymv", y1, y2, 1e-12)
				}
			}
		}
	}
	// Strided vectors, as LAPACK passes columns, through scratch.
	for _, n := range []int{3, 70} {
		for _, uplo := range []blas.Uplo{blas.Upper, blas.Lower} {
			a := randSlice(n*n, rng)
			x, y1 := randSlice(2*n, rng), randSlice(3*n, rng)
			y2 := append([]float64(nil), y1...)
			f.Dsymv(uplo, n, 0.7, a, n, x, 2, 0.5, y1, 3)
			g.Dsymv(uplo, n, 0.7, a, n, x, 2, 0.5, y2, 3)
			closeSlices(t, "strided Dsymv", y1, y2, 1e-12)
		}
	}
}

// What the fast BLAS is for: mat.EigenSym and mat.Cholesky give gonum's
// answers through it.
func TestFastBLASFactorisations(t *testing.T) {
	if !nativeBLAS() || !haveFMA {
		t.Skip("fastBLAS is not installed in this build")
	}
	rng := rand.New(rand.NewPCG(2, 9))
	const n = 150
	b := mat.NewDense(n, n, randSlice(n*n, rng))
	var s mat.SymDense
	s.SymOuterK(1, b)
	for i := range n {
		s.SetSym(i, i, s.At(i, i)+1)
	}
	var eig mat.EigenSym
	if !eig.Factorize(&s, false) {
		t.Fatal("EigenSym failed")
	}
	got := eig.Values(nil)
	var ch mat.Cholesky
	if !ch.Factorize(&s) {
		t.Fatal("Cholesky failed")
	}
	// The reference: the same factorisations on gonum's own BLAS.
	defer useBLAS(gonum.Implementation{})()
	var eig2 mat.EigenSym
	eig2.Factorize(&s, false)
	closeSlices(t, "eigenvalues", got, eig2.Values(nil), 1e-10)
	var ch2 mat.Cholesky
	ch2.Factorize(&s)
	if d := math.Abs(ch.LogDet() - ch2.LogDet()); d > 1e-9*math.Abs(ch2.LogDet()) {
		t.Errorf("log det %v, gonum's %v", ch.LogDet(), ch2.LogDet())
	}
}

// useBLAS installs impl as gonum's BLAS and returns the function that puts
// the previous one back. Tests using it must not run in parallel.
func useBLAS(impl blas.Float64) func() {
	old := blas64.Implementation()
	blas64.Use(impl)
	return func() { blas64.Use(old) }
}
