package infer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// subspaceRows caps the training rows behind the subspace curvature; a
// larger data set is subsampled and the sum scaled up by N/rows.
const subspaceRows = 4096

// subspaceCurvature turns the low-rank term of q into the posterior
// restricted to SWAG's subspace (subspace inference, Izmailov et al., UAI
// 2019, with a Laplace approximation in the subspace): with Q an
// orthonormal basis of the collected deviations and H the Hessian of
// NegLogLik + NegLogPrior at the SWA mean, the low-rank term becomes
// Q (QᵀHQ)⁻¹ Qᵀ. The iterates choose the directions; how far the posterior
// extends along them is measured, not left to the collecting rate. Where
// QᵀHQ has an eigenvalue below the prior's curvature along its eigenvector
// (the SWA mean is not exactly a mode, and a non-convex likelihood can
// bend down) the prior's curvature stands in for it. The diagonal term is
// dropped: the posterior is the one restricted to the subspace (keeping
// the iterates' variances beside it took mcycle's rank correlation from
// 0.73 to 0.05, docs/swag.md).
func subspaceCurvature(p *Problem, q *SWAGPosterior, rng *rand.Rand) error {
	d := len(q.mean)
	basis := orthonormalBasis(q.cols, d)
	k := len(basis)
	if k < 2 {
		return nil // nothing to do: the iterates never moved
	}
	n := p.N
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	if n > subspaceRows {
		shuffle(rows, rng)
		rows = rows[:subspaceRows]
	}
	up := float64(n) / float64(len(rows))
	theta := q.mean
	scaleTheta := 1 + math.Sqrt(swagDot(theta, theta)/float64(d))
	h := 1e-4 * scaleTheta
	x := make([]float64, d)
	gp, gm := make([]float64, d), make([]float64, d)
	pp, pm := make([]float64, d), make([]float64, d)
	hq := make([][]float64, k) // H q_i
	pq := make([][]float64, k) // P q_i, the prior's Hessian
	for i, v := range basis {
		for j := range x {
			x[j] = theta[j] + h*v[j]
		}
		p.NegLogLik(gp, x, rows)
		clear(pp)
		if p.NegLogPrior != nil {
			p.NegLogPrior(pp, x)
		}
		for j := range x {
			x[j] = theta[j] - h*v[j]
		}
		p.NegLogLik(gm, x, rows)
		clear(pm)
		if p.NegLogPrior != nil {
			p.NegLogPrior(pm, x)
		}
		hq[i], pq[i] = make([]float64, d), make([]float64, d)
		for j := range x {
			pq[i][j] = (pp[j] - pm[j]) / (2 * h)
			hq[i][j] = up*(gp[j]-gm[j])/(2*h) + pq[i][j]
		}
	}
	a := mat.NewSymDense(k, nil)
	b := make([]float64, k*k)
	for i := range k {
		for j := i; j < k; j++ {
			v := 0.5 * (swagDot(basis[i], hq[j]) + swagDot(basis[j], hq[i]))
			if !isFinite(v) {
				return fmt.Errorf("the curvature in SWAG's subspace is %g (the network is not finite near the SWA mean)", v)
			}
			a.SetSym(i, j, v)
			w := 0.5 * (swagDot(basis[i], pq[j]) + swagDot(basis[j], pq[i]))
			b[i*k+j], b[j*k+i] = w, w
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		return fmt.Errorf("the eigenvalues of the curvature in SWAG's subspace did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	// Columns c_i = √(k−1)·Q v_i/√λ_i, so that D̂D̂ᵀ/(k−1) = Q A⁻¹ Qᵀ and the
	// posterior keeps its form scale·(diag(var) + D̂D̂ᵀ/(k−1)).
	cols := make([][]float64, k)
	w := math.Sqrt(float64(k - 1))
	for i := range k {
		prior := 0.0
		for r := range k {
			for c := range k {
				prior += vecs.At(r, i) * b[r*k+c] * vecs.At(c, i)
			}
		}
		lam := max(vals[i], prior, 1e-12*top)
		if !(lam > 0) {
			lam = 1 // no curvature and no prior: a unit variance, as an unscaled normal prior has
		}
		col := make([]float64, d)
		for r := range k {
			f := w * vecs.At(r, i) / math.Sqrt(lam)
			for j, x := range basis[r] {
				col[j] += f * x
			}
		}
		cols[i] = col
	}
	q.cols = cols
	clear(q.variance)
	q.refresh()
	return nil
}

// orthonormalBasis returns an orthonormal basis of the span of cols by
// modified Gram-Schmidt, twice (one pass loses orthogonality when the
// columns are nearly dependent, as neighbouring iterates are), dropping
// the columns that add less than 1e-8 of their own norm.
func orthonormalBasis(cols [][]float64, d int) [][]float64 {
	var out [][]float64
	for _, c := range cols {
		v := make([]float64, d)
		copy(v, c)
		n0 := math.Sqrt(swagDot(v, v))
		if !(n0 > 0) {
			continue
		}
		for range 2 {
			for _, u := range out {
				f := swagDot(u, v)
				for j := range v {
					v[j] -= f * u[j]
				}
			}
		}
		nv := math.Sqrt(swagDot(v, v))
		if !(nv > 1e-8*n0) {
			continue
		}
		for j := range v {
			v[j] /= nv
		}
		out = append(out, v)
	}
	return out
}
