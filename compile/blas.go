package compile

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/bayesl/bayesl/stdlib/vec"
)

// In the default build on a CPU with AVX2 and FMA, gonum's own BLAS is
// replaced by fastBLAS: gonum's routines with the four that dense linear
// algebra spends its time in moved onto this package's kernels. gonum's
// LAPACK (mat.EigenSym, mat.Cholesky: Laplace's last-layer curvature)
// calls them for everything heavy: its tridiagonal reduction of a
// 1290 x 1290 matrix is half Dsymv and half Dsyr2k, which gonum runs at
// 2-3 GFLOP/s in scalar Go. The OpenBLAS build has installed OpenBLAS
// before this runs (compile/openblas.go's import initialises first), and
// keeps it.
func init() {
	if haveFMA && nativeBLAS() {
		blas64.Use(fastBLAS{})
	}
}

// fastBLAS is gonum's BLAS with Dgemm on the assembly kernel, Dsyrk and
// Dsyr2k as blocks of it, and Dsymv on vec.DotAxpy. Arguments outside what
// those paths handle (negative increments, empty sizes, short slices) go
// to gonum, which also raises BLAS's panics for bad ones.
type fastBLAS struct{ gonum.Implementation }

// symBlock is the order of the diagonal blocks Dsyrk and Dsyr2k form
// whole in scratch (the off-diagonal blocks go straight into C).
const symBlock = 64

// Dgemm computes C = alpha·op(A)·op(B) + beta·C.
func (f fastBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m <= 0 || n <= 0 || k < 0 || !validT(tA) || !validT(tB) {
		f.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	fastGemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func validT(t blas.Transpose) bool {
	return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans
}

func validUplo(u blas.Uplo) bool { return u == blas.Upper || u == blas.Lower }

// Dsymv computes y = alpha·A·x + beta·y for the symmetric n x n matrix A
// stored in the uplo triangle.
//
// Strided vectors (LAPACK's tridiagonal reduction passes columns of its
// matrices) are copied into contiguous scratch and back: O(n) against the
// product's O(n²).
func (f fastBLAS) Dsymv(uplo blas.Uplo, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	if n <= 0 || incX <= 0 || incY <= 0 || !validUplo(uplo) || lda < n ||
		len(a) < (n-1)*lda+n || len(x) < (n-1)*incX+1 || len(y) < (n-1)*incY+1 {
		f.Implementation.Dsymv(uplo, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	if incX == 1 && incY == 1 {
		symv(uplo, n, alpha, a, lda, x[:n], beta, y[:n])
		return
	}
	s := symvPool.Get().(*[]float64)
	if cap(*s) < 2*n {
		*s = make([]float64, 2*n)
	}
	xs, ys := (*s)[:n], (*s)[n:2*n]
	for i := range n {
		xs[i], ys[i] = x[i*incX], y[i*incY]
	}
	symv(uplo, n, alpha, a, lda, xs, beta, ys)
	for i, v := range ys {
		y[i*incY] = v
	}
	symvPool.Put(s)
}

var symvPool = sync.Pool{New: func() any { return new([]float64) }}

// symv is Dsymv for contiguous x and y of length n.
func symv(uplo blas.Uplo, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	if beta != 1 {
		scaleC(1, n, beta, y, n)
	}
	if alpha == 0 {
		return
	}
	for i := range n {
		t := alpha * x[i]
		row := a[i*lda : i*lda+n]
		if uplo == blas.Upper {
			// Row i right of the diagonal is column i below it.
			dot := vec.DotAxpy(y[i+1:], row[i+1:], x[i+1:], t)
			y[i] += t*row[i] + alpha*dot
		} else {
			dot := vec.DotAxpy(y[:i], row[:i], x[:i], t)
			y[i] += t*row[i] + alpha*dot
		}
	}
}

// Dsyrk computes C = alpha·A·Aᵀ + beta·C (trans NoTrans, A n x k) or
// C = alpha·Aᵀ·A + beta·C (A k x n) in the uplo triangle of C.
func (f fastBLAS) Dsyrk(uplo blas.Uplo, trans blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if n <= 0 || k <= 0 || !validUplo(uplo) || !validT(trans) || !rankKArgs(trans, n, k, a, lda, c, ldc) {
		f.Implementation.Dsyrk(uplo, trans, n, k, alpha, a, lda, beta, c, ldc)
		return
	}
	rankK(uplo, trans != blas.NoTrans, n, k, alpha, a, lda, nil, 0, beta, c, ldc)
}

// Dsyr2k computes C = alpha·(A·Bᵀ + B·Aᵀ) + beta·C (trans NoTrans, A and
// B n x k) or C = alpha·(Aᵀ·B + Bᵀ·A) + beta·C (k x n) in the uplo
// triangle of C.
func (f fastBLAS) Dsyr2k(uplo blas.Uplo, trans blas.Transpose, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if n <= 0 || k <= 0 || !validUplo(uplo) || !validT(trans) ||
		!rankKArgs(trans, n, k, a, lda, c, ldc) || !rankKArgs(trans, n, k, b, ldb, c, ldc) {
		f.Implementation.Dsyr2k(uplo, trans, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	rankK(uplo, trans != blas.NoTrans, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// rankKArgs reports whether a (op(a) n x k) and c (n x n) are large
// enough for their leading dimensions.
func rankKArgs(trans blas.Transpose, n, k int, a []float64, lda int, c []float64, ldc int) bool {
	rows, cols := n, k
	if trans != blas.NoTrans {
		rows, cols = k, n
	}
	return lda >= cols && ldc >= n && len(a) >= (rows-1)*lda+cols && len(c) >= (n-1)*ldc+n
}

// rankK updates the uplo triangle of C with alpha·(X·Yᵀ + Y·Xᵀ), X = op(a),
// Y = op(b) (n x k each), or with alpha·X·Xᵀ when b is nil, after scaling
// it by beta. Off-diagonal blocks of symBlock rows are products straight
// into C; diagonal blocks are formed whole in scratch and their triangle
// added, so the other triangle of C is never written.
func rankK(uplo blas.Uplo, trans bool, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	upper := uplo == blas.Upper
	for i := range n {
		lo, hi := 0, i+1
		if upper {
			lo, hi = i, n
		}
		if beta != 1 {
			scaleC(1, hi-lo, beta, c[i*ldc+lo:], ldc)
		}
	}
	if alpha == 0 {
		return
	}
	// xyT sets dst (stride ld) to alpha·X[r0:r0+m]·Y[s0:s0+w]ᵀ + bet·dst.
	xyT := func(x []float64, ldx int, y []float64, ldy int, r0, m, s0, w int, bet float64, dst []float64, ld int) {
		if trans {
			fastGemm(true, false, m, w, k, alpha, x[r0:], ldx, y[s0:], ldy, bet, dst, ld)
		} else {
			fastGemm(false, true, m, w, k, alpha, x[r0*ldx:], ldx, y[s0*ldy:], ldy, bet, dst, ld)
		}
	}
	// update is xyT of the rank-k (b nil) or rank-2k sum.
	update := func(r0, m, s0, w int, bet float64, dst []float64, ld int) {
		if b == nil {
			xyT(a, lda, a, lda, r0, m, s0, w, bet, dst, ld)
			return
		}
		xyT(a, lda, b, ldb, r0, m, s0, w, bet, dst, ld)
		xyT(b, ldb, a, lda, r0, m, s0, w, 1, dst, ld)
	}
	var d [symBlock * symBlock]float64
	for i0 := 0; i0 < n; i0 += symBlock {
		m := min(symBlock, n-i0)
		// The off-diagonal block: right of the diagonal block (upper) or
		// left of it (lower).
		s0, w := i0+m, n-i0-m
		if !upper {
			s0, w = 0, i0
		}
		if w > 0 {
			update(i0, m, s0, w, 1, c[i0*ldc+s0:], ldc)
		}
		update(i0, m, i0, m, 0, d[:], m)
		for r := range m {
			lo, hi := r, m
			if !upper {
				lo, hi = 0, r+1
			}
			row := c[(i0+r)*ldc+i0:]
			for j := lo; j < hi; j++ {
				row[j] += d[r*m+j]
			}
		}
	}
}
