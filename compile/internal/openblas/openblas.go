//go:build openblas

package openblas

// #cgo pkg-config: openblas
// extern void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work, const int* lwork, int* info);
// extern void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
import "C"

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgo "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() {
	blas64.Use(netlib.Implementation{})
	lapack64.Use(lapackImpl{})
}

// lapackImpl is gonum's LAPACK with the two routines Laplace's curvature
// spends its time in, the symmetric eigensolver (mat.EigenSym) and the
// Cholesky factorisation (mat.Cholesky), handed to OpenBLAS's own LAPACK:
// its tridiagonal reduction of a 1290 x 1290 matrix is ~10x faster than
// gonum's. Debian's OpenBLAS carries LAPACK's Fortran entry points but not
// all of LAPACKE, so the calls go to the Fortran symbols directly (and
// gonum.org/v1/netlib/lapack/netlib, which needs all of LAPACKE, is not
// used). gonum is row-major and LAPACK column-major: a row-major upper
// triangle is a column-major lower one, so uplo flips, and eigenvectors
// come back in rows and are transposed into columns.
type lapackImpl struct{ lapackgo.Implementation }

// flip returns the Fortran uplo character for gonum's uplo of the same
// memory.
func flip(uplo blas.Uplo) C.char {
	if uplo == blas.Upper {
		return 'L'
	}
	return 'U'
}

// Dsyev computes the eigenvalues, and with jobz lapack.EVCompute the
// eigenvectors, of the symmetric n x n matrix a.
func (l lapackImpl) Dsyev(jobz lapack.EVJob, uplo blas.Uplo, n int, a []float64, lda int, w, work []float64, lwork int) bool {
	if lwork == -1 {
		work[0] = float64(max(1, 66*n)) // (block size + 2)·n, LAPACK's optimum for dsyev
		return true
	}
	if n == 0 || lwork < max(1, 3*n-1) || len(a) < (n-1)*lda+n || len(w) < n {
		return l.Implementation.Dsyev(jobz, uplo, n, a, lda, w, work, lwork)
	}
	job := C.char('N')
	if jobz == lapack.EVCompute {
		job = 'V'
	}
	up := flip(uplo)
	cn, clda, clw := C.int(n), C.int(lda), C.int(lwork)
	var info C.int
	C.dsyev_(&job, &up, &cn, (*C.double)(unsafe.Pointer(&a[0])), &clda, (*C.double)(unsafe.Pointer(&w[0])),
		(*C.double)(unsafe.Pointer(&work[0])), &clw, &info)
	if info != 0 {
		return false
	}
	if jobz == lapack.EVCompute {
		for i := range n {
			for j := i + 1; j < n; j++ {
				a[i*lda+j], a[j*lda+i] = a[j*lda+i], a[i*lda+j]
			}
		}
	}
	return true
}

// Dpotrf computes the Cholesky factorisation of the symmetric positive
// definite n x n matrix a in place; it reports false when a is not
// positive definite.
func (l lapackImpl) Dpotrf(uplo blas.Uplo, n int, a []float64, lda int) bool {
	if n == 0 || len(a) < (n-1)*lda+n {
		return l.Implementation.Dpotrf(uplo, n, a, lda)
	}
	up := flip(uplo)
	cn, clda := C.int(n), C.int(lda)
	var info C.int
	C.dpotrf_(&up, &cn, (*C.double)(unsafe.Pointer(&a[0])), &clda, &info)
	return info == 0
}
