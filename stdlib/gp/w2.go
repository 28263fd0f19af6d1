package gp

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// RootRegularizer is the ε of the reference code's Σ_i √(λ_i + ε), the
// trace term of W2 computed from the eigenvalues λ_i = σ_i² of GGᵀ,
// G = C1ᵀC2 (docs/algorithms.md §5 pitfalls). W2SquaredRootsGrad uses it to keep
// the gradient finite where G is rank deficient, which sample roots always
// are (rank ≤ S−1); the value itself is the exact nuclear norm. See
// W2SquaredRootsGrad.
const RootRegularizer = 1e-15

// W2Squared returns the squared 2-Wasserstein distance between the
// Gaussians N(mu1, s1) and N(mu2, s2) in closed form,
//
//	W2² = ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr((Σ2^½ Σ1 Σ2^½)^½),
//
// with both square roots taken through gonum's EigenSym. A nil mean is the
// zero vector. The GP-matching loss of §5 is this value divided by the
// number of points n; the division is left to the caller.
//
// Eigenvalues within rounding of zero (below 16·n·ε·λ_max in magnitude) are
// treated as exactly zero, so singular covariances such as sample
// covariances of fewer than n+1 draws do not pick up √(rounding noise)
// ≈ 1e-8 per null direction; a clearly negative eigenvalue (below
// −1e-8·λ_max) is an error, since the covariance is then not positive
// semidefinite. Rounding can leave the sum slightly below zero; it is
// returned as 0. Cost: three n×n symmetric eigendecompositions. For
// covariances given by roots (Σ = CCᵀ with few columns) W2SquaredRoots is
// cheaper and more accurate.
func W2Squared(mu1 []float64, s1 mat.Symmetric, mu2 []float64, s2 mat.Symmetric) (float64, error) {
	if s1 == nil || s2 == nil {
		return 0, errors.New("gp: W2Squared: nil covariance")
	}
	n := s1.SymmetricDim()
	if m := s2.SymmetricDim(); m != n {
		return 0, fmt.Errorf("gp: W2Squared: covariances are %d×%d and %d×%d", n, n, m, m)
	}
	if n == 0 {
		return 0, errors.New("gp: W2Squared: empty covariance")
	}
	mean, err := meanTerm("W2Squared", n, mu1, mu2)
	if err != nil {
		return 0, err
	}
	if err := finiteSym("W2Squared", "covariance 1", s1); err != nil {
		return 0, err
	}
	if err := finiteSym("W2Squared", "covariance 2", s2); err != nil {
		return 0, err
	}
	_, top1, err := psdSqrt(nil, s1, "covariance 1", 0)
	if err != nil {
		return 0, err
	}
	r2 := mat.NewSymDense(n, nil)
	_, top2, err := psdSqrt(r2, s2, "covariance 2", 0)
	if err != nil {
		return 0, err
	}
	// M = Σ2^½ Σ1 Σ2^½, symmetrised against rounding.
	var t, m mat.Dense
	t.Mul(r2, s1)
	m.Mul(&t, r2)
	ms := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			ms.SetSym(i, j, 0.5*(m.At(i, j)+m.At(j, i)))
		}
	}
	// M is positive semidefinite now that Σ1 and Σ2 are; its rounding
	// errors scale with ‖Σ1‖·‖Σ2‖, not with its own largest eigenvalue.
	cross, _, err := psdSqrt(nil, ms, "Σ2^½ Σ1 Σ2^½", top1*top2)
	if err != nil {
		return 0, err
	}
	var tr1, tr2 float64
	for i := range n {
		tr1 += s1.At(i, i)
		tr2 += s2.At(i, i)
	}
	return max(0, mean+tr1+tr2-2*cross), nil
}

// psdSqrt eigendecomposes the symmetric s and returns Tr(s^½) = Σ√λ⁺ and
// the largest eigenvalue magnitude. Eigenvalues below 16·n·ε·scale count as
// zero; scale 0 means the largest eigenvalue magnitude of s, and then an
// eigenvalue below −1e-8 times it is an error (s is not positive
// semidefinite). If dst is not nil it is set to the symmetric square root
// Q·diag(√λ⁺)·Qᵀ.
func psdSqrt(dst *mat.SymDense, s mat.Symmetric, what string, scale float64) (tr, top float64, err error) {
	n := s.SymmetricDim()
	var es mat.EigenSym
	if !es.Factorize(s, dst != nil) {
		return 0, 0, fmt.Errorf("gp: W2Squared: eigendecomposition of %s failed", what)
	}
	vals := es.Values(nil)
	for _, v := range vals {
		top = max(top, math.Abs(v))
	}
	check := scale == 0
	if check {
		scale = top
	}
	zero := 16 * float64(n) * 0x1p-52 * scale
	for i, v := range vals {
		switch {
		case check && v < -1e-8*top:
			return 0, 0, fmt.Errorf("gp: W2Squared: %s is not positive semidefinite: eigenvalue %g (largest %g)", what, v, top)
		case v <= zero:
			vals[i] = 0
		default:
			vals[i] = math.Sqrt(v)
			tr += vals[i]
		}
	}
	if dst != nil {
		var q mat.Dense
		es.VectorsTo(&q)
		// dst = Q diag(√λ) Qᵀ, written entrywise to stay exactly symmetric.
		for i := range n {
			for j := i; j < n; j++ {
				var v float64
				for k := range n {
					v += q.At(i, k) * vals[k] * q.At(j, k)
				}
				dst.SetSym(i, j, v)
			}
		}
	}
	return tr, top, nil
}

// W2SquaredRoots returns the squared 2-Wasserstein distance between
// N(mu1, C1·C1ᵀ) and N(mu2, C2·C2ᵀ) from covariance roots: c1 is n×S1 and
// c2 is n×S2, one row per point (sample roots from SampleRoot, or a
// Cholesky factor from Root for an exact GP). The trace term uses the
// nuclear norm (docs/algorithms.md §5, arXiv 2009.14075):
//
//	W2² = ‖μ1 − μ2‖² + ‖C1‖_F² + ‖C2‖_F² − 2‖C1ᵀC2‖_*,
//
// where ‖G‖_* is the sum of the singular values of the S1×S2 matrix
// G = C1ᵀC2, from gonum's SVD. This never forms an n×n matrix, and it is
// exact for rank-deficient covariances (no √ of rounding noise). A nil mean
// is the zero vector; rounding can leave the sum slightly below zero, and it
// is returned as 0. As for W2Squared, §5's loss divides the result by n.
func W2SquaredRoots(mu1 []float64, c1 mat.Matrix, mu2 []float64, c2 mat.Matrix) (float64, error) {
	return rootsW2(nil, nil, true, mu1, c1, mu2, c2)
}

// W2SquaredRootsGrad returns W2SquaredRoots(mu1, c1, mu2, c2) and sets
// gradC1 and gradMu1 to its gradient with respect to c1 and mu1:
//
//	∂W2²/∂μ1 = 2(μ1 − μ2)
//	∂W2²/∂C1 = 2·C1 − 2·C2·V·diag(w)·Uᵀ,   w_i = σ_i / √(σ_i² + ε),
//
// where G = C1ᵀC2 = U·diag(σ)·Vᵀ is the thin SVD and ε = RootRegularizer.
// The second line comes from d‖G‖_* = ⟨U·Vᵀ, dG⟩ and dG = dC1ᵀ·C2, which
// give ∂‖G‖_*/∂C1 = C2·(U·Vᵀ)ᵀ. The nuclear norm is not differentiable
// where G is rank deficient, which sample roots always are (each row sums
// to zero); the weights w_i are the gradient of the reference code's
// regularised Σ√(σ_i² + ε) and pick, smoothly, the minimal-norm subgradient
// U_r·V_rᵀ over the nonzero singular values: w_i = 1 − O(ε/σ_i²) for every
// σ_i ≫ 3e-8 and w_i → 0 for σ_i → 0. The value returned is the exact one,
// as from W2SquaredRoots (not clamped at zero here, so that value and
// gradient belong together), and a central finite difference of it matches
// the gradient (tested). Gradients with respect to C2 and mu2 follow by
// symmetry: swap the arguments.
//
// gradC1 may be nil to skip it; otherwise an empty gradC1 is resized to
// n×S1, and a non-empty one must be n×S1. gradMu1 may be nil to skip it;
// otherwise it must have length n.
func W2SquaredRootsGrad(gradC1 *mat.Dense, gradMu1 []float64, mu1 []float64, c1 mat.Matrix, mu2 []float64, c2 mat.Matrix) (float64, error) {
	return rootsW2(gradC1, gradMu1, false, mu1, c1, mu2, c2)
}

// rootsW2 is W2SquaredRoots, with gradients when a destination is not nil.
// clamp rounds a slightly negative value up to zero.
func rootsW2(gradC1 *mat.Dense, gradMu1 []float64, clamp bool, mu1 []float64, c1 mat.Matrix, mu2 []float64, c2 mat.Matrix) (float64, error) {
	const fn = "W2SquaredRoots"
	if c1 == nil || c2 == nil {
		return 0, fmt.Errorf("gp: %s: nil root", fn)
	}
	n, s1 := c1.Dims()
	n2, s2 := c2.Dims()
	if n != n2 {
		return 0, fmt.Errorf("gp: %s: roots have %d and %d rows; both need one row per point", fn, n, n2)
	}
	if n == 0 || s1 == 0 || s2 == 0 {
		return 0, fmt.Errorf("gp: %s: empty root (%d×%d and %d×%d)", fn, n, s1, n2, s2)
	}
	mean, err := meanTerm(fn, n, mu1, mu2)
	if err != nil {
		return 0, err
	}
	if err := finiteMat(fn, "root 1", c1); err != nil {
		return 0, err
	}
	if err := finiteMat(fn, "root 2", c2); err != nil {
		return 0, err
	}
	wantGrad := gradC1 != nil
	if wantGrad {
		if gradC1.IsEmpty() {
			gradC1.ReuseAs(n, s1)
		} else if r, c := gradC1.Dims(); r != n || c != s1 {
			return 0, fmt.Errorf("gp: %s: gradient destination is %d×%d, want %d×%d like root 1", fn, r, c, n, s1)
		}
	}
	if gradMu1 != nil && len(gradMu1) != n {
		return 0, fmt.Errorf("gp: %s: mean gradient has length %d, want %d", fn, len(gradMu1), n)
	}

	var g mat.Dense
	g.Mul(c1.T(), c2) // S1×S2
	var svd mat.SVD
	kind := mat.SVDNone
	if wantGrad {
		kind = mat.SVDThin
	}
	if !svd.Factorize(&g, kind) {
		return 0, fmt.Errorf("gp: %s: SVD of the %d×%d matrix C1ᵀC2 failed", fn, s1, s2)
	}
	sv := svd.Values(nil)
	nuclear := floats.Sum(sv)
	f1 := mat.Norm(c1, 2)
	f2 := mat.Norm(c2, 2)
	v := mean + f1*f1 + f2*f2 - 2*nuclear

	for i := range gradMu1 { // nil: no mean gradient wanted
		gradMu1[i] = 2 * (at(mu1, i) - at(mu2, i))
	}
	if wantGrad {
		var u, vv mat.Dense
		svd.UTo(&u)  // S1×k
		svd.VTo(&vv) // S2×k
		for j, s := range sv {
			w := s / math.Sqrt(s*s+RootRegularizer)
			for i := range s2 {
				vv.Set(i, j, vv.At(i, j)*w)
			}
		}
		var t, twoC1 mat.Dense
		t.Mul(&vv, u.T())  // S2×S1: V·diag(w)·Uᵀ
		twoC1.Scale(2, c1) // before gradC1 is written, in case it is c1
		gradC1.Mul(c2, &t)
		gradC1.Scale(-2, gradC1)
		gradC1.Add(gradC1, &twoC1)
	}
	if clamp {
		v = max(0, v)
	}
	return v, nil
}

// SampleRoot turns S function draws into moment estimates for
// W2SquaredRoots: f is S×n (one draw per row, as from Sample or a BNN's
// outputs at n points), mean (if not nil, length n) is set to the sample
// mean F̄, and root to the n×S matrix
//
//	C = (F − F̄)ᵀ / √(S − 1),
//
// so that C·Cᵀ is the unbiased sample covariance. An empty root is resized;
// otherwise it must be n×S. S must be at least 2.
func SampleRoot(root *mat.Dense, mean []float64, f mat.Matrix) error {
	if f == nil || root == nil {
		return errors.New("gp: SampleRoot: nil matrix")
	}
	s, n := f.Dims()
	if s < 2 || n == 0 {
		return fmt.Errorf("gp: SampleRoot: need at least 2 draws of at least 1 point, got %d×%d", s, n)
	}
	if mean != nil && len(mean) != n {
		return fmt.Errorf("gp: SampleRoot: mean has length %d, want %d (one per point)", len(mean), n)
	}
	if root.IsEmpty() {
		root.ReuseAs(n, s)
	} else if r, c := root.Dims(); r != n || c != s {
		return fmt.Errorf("gp: SampleRoot: root is %d×%d, want %d×%d (points × draws)", r, c, n, s)
	}
	scale := 1 / math.Sqrt(float64(s-1))
	for j := range n {
		var m float64
		for i := range s {
			m += f.At(i, j)
		}
		m /= float64(s)
		if mean != nil {
			mean[j] = m
		}
		for i := range s {
			root.Set(j, i, (f.At(i, j)-m)*scale)
		}
	}
	return nil
}

// meanTerm returns ‖mu1 − mu2‖², a nil mean being zero.
func meanTerm(fn string, n int, mu1, mu2 []float64) (float64, error) {
	for k, mu := range [][]float64{mu1, mu2} {
		if mu != nil && len(mu) != n {
			return 0, fmt.Errorf("gp: %s: mean %d has length %d, want %d", fn, k+1, len(mu), n)
		}
		for i, v := range mu {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("gp: %s: mean %d has %v at %d", fn, k+1, v, i)
			}
		}
	}
	var s float64
	for i := range n {
		d := at(mu1, i) - at(mu2, i)
		s += d * d
	}
	return s, nil
}

func at(mu []float64, i int) float64 {
	if mu == nil {
		return 0
	}
	return mu[i]
}

func finiteMat(fn, what string, m mat.Matrix) error {
	r, c := m.Dims()
	for i := range r {
		for j := range c {
			if v := m.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("gp: %s: %s has %v at (%d, %d)", fn, what, v, i, j)
			}
		}
	}
	return nil
}

func finiteSym(fn, what string, s mat.Symmetric) error { return finiteMat(fn, what, s) }
