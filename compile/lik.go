package compile

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/dist"
)

// negLogLik sums -log p(y_r | args) over the rows of the batch. With seed set
// it also adds d(loss)/d(arg) into the argument nodes' gradients (which must
// have been zeroed), starting the backward pass. An argument with one row is
// broadcast over the batch and receives the sum of the row gradients.
func (m *Machine) negLogLik(y []float64, seed bool) float64 {
	p := m.p
	l := &p.lik
	a0 := l.args[0]
	v0, s0 := m.val[a0], m.step(a0)
	var g0 []float64
	if seed && p.nodes[a0].grad {
		g0 = m.gval[a0]
	}
	loss := 0.0
	switch l.family {
	case ir.LikNormal, ir.LikStudentT:
		a1 := l.args[1]
		v1, s1 := m.val[a1], m.step(a1)
		var g1 []float64
		if seed && p.nodes[a1].grad {
			g1 = m.gval[a1]
		}
		if l.family == ir.LikNormal {
			for r, yr := range y {
				loc, scale := v0[r*s0], v1[r*s1]
				z := (yr - loc) / scale
				loss += logSqrt2Pi + math.Log(scale) + 0.5*z*z
				if g0 != nil {
					g0[r*s0] -= z / scale
				}
				if g1 != nil {
					g1[r*s1] -= (z*z - 1) / scale
				}
			}
			return loss
		}
		df, c := l.df, l.tConst
		for r, yr := range y {
			loc, scale := v0[r*s0], v1[r*s1]
			z := (yr - loc) / scale
			u := z * z / df
			loss += math.Log(scale) + (df+1)/2*math.Log1p(u) - c
			dz := (df + 1) * z / (df * (1 + u)) // -d lp / dz
			if g0 != nil {
				g0[r*s0] -= dz / scale
			}
			if g1 != nil {
				g1[r*s1] += 1/scale - dz*z/scale
			}
		}
		return loss
	case ir.LikCategorical:
		k := l.classes
		row := m.krow
		if g0 == nil {
			row = nil
		}
		for r, yr := range y {
			c := int(yr)
			if float64(c) != yr || c < 0 || c >= k {
				panic(fmt.Sprintf("compile: categorical target %v at row %d is not a class index in [0, %d)", yr, r, k))
			}
			off := r * s0 * k
			loss -= dist.CategoricalLogitLogProb(row, v0[off:off+k], c)
			if g0 != nil {
				g := g0[off : off+k]
				for j, d := range row {
					g[j] -= d
				}
			}
		}
		return loss
	case ir.LikBernoulli:
		for r, yr := range y {
			if yr != 0 && yr != 1 {
				panic(fmt.Sprintf("compile: bernoulli target %v at row %d is not 0 or 1", yr, r))
			}
			lp, d := dist.BernoulliLogitLogProb(yr, v0[r*s0])
			loss -= lp
			if g0 != nil {
				g0[r*s0] -= d
			}
		}
		return loss
	case ir.LikPoisson:
		for r, yr := range y {
			if !(yr >= 0) || yr != math.Trunc(yr) {
				panic(fmt.Sprintf("compile: poisson target %v at row %d is not a count", yr, r))
			}
			lp, d := dist.PoissonLogProb(yr, v0[r*s0])
			loss -= lp
			if g0 != nil {
				g0[r*s0] -= d
			}
		}
		return loss
	}
	return loss
}

// step is 1 for a node with batch rows and 0 for a broadcast row: row r of a
// width-1 node is val[r*step].
func (m *Machine) step(i int) int {
	if m.rows[i] > 1 {
		return 1
	}
	return 0
}
