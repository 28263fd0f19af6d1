package gp

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Jitter is the first diagonal term Root adds to a kernel matrix before its
// Cholesky factorisation (docs/algorithms.md §0 and §5). On failure Root retries
// with ten times as much, up to MaxJitter.
const (
	Jitter    = 1e-6
	MaxJitter = 1e-2
)

// Root sets dst to the lower Cholesky factor L of K + j·I, where K is the
// kernel matrix of the rows of X (see Matrix) and j is the jitter that
// worked: Jitter, then 10·Jitter, and so on up to MaxJitter. It returns j.
// L is a root of the GP covariance, K + j·I = L·Lᵀ, usable as the exact
// target side of W2SquaredRoots. A kernel matrix that is still not positive
// definite with MaxJitter added (an invalid kernel, NaN hyperparameters that
// slipped past Validate, inputs at 1e10) is an error naming the last jitter.
//
// An empty dst is resized to n×n; otherwise it must be n×n. Entries above
// the diagonal are set to zero.
func Root(dst *mat.Dense, k Kernel, X *mat.Dense) (jitter float64, err error) {
	if dst == nil {
		return 0, errors.New("gp: nil root destination")
	}
	var K mat.SymDense
	if err := Matrix(&K, k, X); err != nil {
		return 0, err
	}
	n := K.SymmetricDim()
	if dst.IsEmpty() {
		dst.ReuseAs(n, n)
	} else if r, c := dst.Dims(); r != n || c != n {
		return 0, fmt.Errorf("gp: root destination is %d×%d, want %d×%d for %d points", r, c, n, n, n)
	}
	diag := make([]float64, n)
	for i := range n {
		diag[i] = K.At(i, i)
	}
	var ch mat.Cholesky
	for t := 0; ; t++ {
		j := Jitter * math.Pow(10, float64(t))
		if j > MaxJitter*(1+1e-9) {
			break
		}
		for i := range n {
			K.SetSym(i, i, diag[i]+j)
		}
		if ch.Factorize(&K) {
			var L mat.TriDense
			ch.LTo(&L)
			dst.Copy(&L)
			return j, nil
		}
	}
	return 0, fmt.Errorf("gp: kernel matrix of %d points is not positive definite even with jitter %g on the diagonal (kernel %v)", n, MaxJitter, k)
}

// Sample draws S functions from the zero-mean GP with kernel k at the n rows
// of X and stores them in the rows of dst, which must be S×n: dst = Z·Lᵀ
// with Z standard normal and L from Root (so the draws have covariance
// K + j·I, j the jitter Root needed). The normal draws come from rng, row
// by row, so a fixed seed gives the same functions.
func Sample(dst *mat.Dense, k Kernel, X *mat.Dense, rng *rand.Rand) error {
	if rng == nil {
		return errors.New("gp: Sample needs a random source, got nil")
	}
	if dst == nil || dst.IsEmpty() {
		return errors.New("gp: Sample needs an S×n destination, got an empty matrix")
	}
	if X == nil || X.IsEmpty() {
		return errors.New("gp: no input points")
	}
	s, c := dst.Dims()
	if n, _ := X.Dims(); c != n {
		return fmt.Errorf("gp: Sample destination has %d columns, want one per input point (%d)", c, n)
	}
	var L mat.Dense
	if _, err := Root(&L, k, X); err != nil {
		return err
	}
	z := mat.NewDense(s, c, nil)
	raw := z.RawMatrix().Data
	for i := range raw {
		raw[i] = rng.NormFloat64()
	}
	dst.Mul(z, L.T())
	return nil
}
