// Package openblas is the fast build's BLAS: built with -tags openblas it
// links Debian's OpenBLAS (libopenblas-dev, found through pkg-config) by cgo
// and routes every gonum BLAS call through it with gonum.org/v1/netlib, and
// gonum's symmetric eigensolver and Cholesky factorisation to OpenBLAS's
// LAPACK (lapackImpl).
// Without the tag it is empty and the build stays pure Go.
//
// compile imports it (compile/openblas.go, under the same tag), so every
// program that links compile, which is every bayesl program, gets it; no
// environment variables are needed. OPENBLAS_NUM_THREADS sets OpenBLAS's
// threads (GOMAXPROCS does not). The cgo file cannot live in compile
// itself: a package using cgo may not hold Go assembly, and compile has
// its AVX2 kernel (gemm_amd64.s).
package openblas
