package compile

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// nativeBLAS reports whether blas64 runs gonum's pure-Go implementation. Any
// other implementation (OpenBLAS) brings threads of its own, and products are
// then never split here.
func nativeBLAS() bool { return isNative(blas64.Implementation()) }

// isNative reports whether impl is gonum's pure-Go BLAS, alone or with
// this package's kernels (fastBLAS).
func isNative(impl blas.Float64) bool {
	switch impl.(type) {
	case gonum.Implementation, fastBLAS:
		return true
	}
	return false
}

// minSplit is the smallest product (m·n·k) gemmSplit shares out, and
// minSplitSide the fewest rows (or columns) of C a part may have.
const (
	minSplit     = 1 << 20
	minSplitSide = 32
)

// gemmSplit is gemm with C cut into GOMAXPROCS parts (by rows, or by columns
// when C is wider than tall), each computed on its own goroutine. Predict
// uses it for its large products; training calls stay on the caller's
// goroutine (measured: splitting their batch-128 products does not pay, and
// parallelism there belongs to independent chains and ensemble members).
// Starting the goroutines allocates.
func gemmSplit(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	parts := runtime.GOMAXPROCS(0)
	byRows := m >= n
	side := n
	if byRows {
		side = m
	}
	parts = min(parts, side/minSplitSide)
	if parts < 2 || m*n*k < minSplit || !nativeBLAS() {
		gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := side*p/parts, side*(p+1)/parts
		ap, bp, cp, mp, np := a, b, c, m, n
		if byRows {
			mp = hi - lo
			if tA {
				ap = a[lo:]
			} else {
				ap = a[lo*lda:]
			}
			cp = c[lo*ldc:]
		} else {
			np = hi - lo
			if tB {
				bp = b[lo*ldb:]
			} else {
				bp = b[lo:]
			}
			cp = c[lo:]
		}
		if p == parts-1 {
			gemm(tA, tB, mp, np, k, alpha, ap, lda, bp, ldb, beta, cp, ldc)
			break
		}
		wg.Go(func() { gemm(tA, tB, mp, np, k, alpha, ap, lda, bp, ldb, beta, cp, ldc) })
	}
	wg.Wait()
}
