package compile

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/dist"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/vec"
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
	case ir.LikCategorical:
		// Row by row: the logits less their maximum, exponentiated four at a
		// time (stdlib/vec) into krow, then log-sum-exp and, for the
		// gradient, g += softmax - onehot(y).
		k := l.classes
		if g0 != nil && s0 == 1 {
			return m.softmaxBatch(y, v0, g0, k)
		}
		if m.krow == nil {
			m.krow = make([]float64, k)
		}
		row := m.krow[:k]
		for r, yr := range y {
			c := int(yr)
			if float64(c) != yr || c < 0 || c >= k {
				panic(fmt.Sprintf("compile: categorical target %v at row %d is not a class index in [0, %d)", yr, r, k))
			}
			off := r * s0 * k
			z := v0[off : off+k]
			mx := math.Inf(-1)
			for _, v := range z {
				mx = max(mx, v)
			}
			for j, v := range z {
				row[j] = v - mx
			}
			vec.Exp(row, row)
			sum := 0.0
			for _, e := range row {
				sum += e
			}
			loss -= z[c] - mx - math.Log(sum)
			if g0 != nil {
				g := g0[off : off+k]
				inv := 1 / sum
				for j, e := range row {
					g[j] += e * inv
				}
				g[c]--
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
	}
	// A family of the kernel table: one or two width-1 arguments.
	k := kernels[l.family]
	spec := l.family.Spec()
	check := spec.Support != ir.Reals // real targets are checked when read
	var v1, g1 []float64
	s1 := 0
	if a1 := l.args[1]; a1 >= 0 {
		v1, s1 = m.val[a1], m.step(a1)
		if seed && p.nodes[a1].grad {
			g1 = m.gval[a1]
		}
	}
	b := 0.0
	for r, yr := range y {
		if check && !spec.Support.Contains(yr) {
			panic(fmt.Sprintf("compile: %s target %v at row %d is not one of the %s", spec.Name, yr, r, spec.Support))
		}
		if v1 != nil {
			b = v1[r*s1]
		}
		lp, da, db := k.logProb(l, yr, v0[r*s0], b)
		loss -= lp
		if g0 != nil {
			g0[r*s0] -= da
		}
		if g1 != nil {
			g1[r*s1] -= db
		}
	}
	return loss
}

// kernel is the numerical side of a likelihood family whose target is one
// number per row, read from one or two width-1 network outputs a and b
// (ir.Likelihoods says which, and what the targets may be). The machine's
// loss, its gradient, the Gauss–Newton curvature and the predictive all
// dispatch through this table, so a new family of that kind is its ir
// entry and its kernel here. (categorical and bernoulli, whose outputs are
// class probabilities, keep their own loops in negLogLik, ggnSeed and
// Predict.)
type kernel struct {
	// logProb returns log p(y | a, b) and its derivatives in a and b.
	logProb func(l *likelihood, y, a, b float64) (lp, da, db float64)
	// sqrtFisher returns the square roots of the diagonal of the Fisher
	// information in (a, b), which must not depend on y (ggn.go).
	sqrtFisher func(l *likelihood, a, b float64) (ca, cb float64)
	// obs is the predictive's observation model, reading a as Loc and b as
	// Scale.
	obs func(l *likelihood) predictive.Observation
}

var kernels = map[ir.LikFamily]kernel{
	ir.LikNormal: {
		logProb: func(_ *likelihood, y, loc, scale float64) (float64, float64, float64) {
			z := (y - loc) / scale
			return -(logSqrt2Pi + math.Log(scale) + 0.5*z*z), z / scale, (z*z - 1) / scale
		},
		sqrtFisher: func(_ *likelihood, _, scale float64) (float64, float64) { return 1 / scale, math.Sqrt2 / scale },
		obs:        func(*likelihood) predictive.Observation { return predictive.Normal{} },
	},
	ir.LikStudentT: {
		logProb: func(l *likelihood, y, loc, scale float64) (float64, float64, float64) {
			df := l.df
			z := (y - loc) / scale
			u := z * z / df
			dz := (df + 1) * z / (df * (1 + u)) // -d lp / dz
			return -(math.Log(scale) + (df+1)/2*math.Log1p(u) - l.tConst), dz / scale, -(1/scale - dz*z/scale)
		},
		sqrtFisher: func(l *likelihood, _, scale float64) (float64, float64) {
			return math.Sqrt((l.df+1)/(l.df+3)) / scale, math.Sqrt(2*l.df/(l.df+3)) / scale
		},
		obs: func(l *likelihood) predictive.Observation { return predictive.StudentT{DF: l.df} },
	},
	ir.LikPoisson: {
		logProb: func(_ *likelihood, y, a, _ float64) (float64, float64, float64) {
			lp, d := dist.PoissonLogProb(y, a)
			return lp, d, 0
		},
		sqrtFisher: func(_ *likelihood, a, _ float64) (float64, float64) { return math.Exp(0.5 * a), 0 },
		obs:        func(*likelihood) predictive.Observation { return predictive.Poisson{} },
	},
	ir.LikGamma: {
		logProb: func(_ *likelihood, y, a, b float64) (float64, float64, float64) { return dist.GammaLogProb(y, a, b) },
		sqrtFisher: func(_ *likelihood, _, shape float64) (float64, float64) {
			ia, ib := dist.GammaFisher(shape)
			return math.Sqrt(ia), math.Sqrt(ib)
		},
		obs: func(*likelihood) predictive.Observation { return predictive.Gamma{} },
	},
}

// softmaxBatch is the categorical loss with its gradient for logits with a
// row per example: the zeroed gradient g (rows x k) first receives the
// logits less their row maximum, is exponentiated in one vector pass, and
// is then scaled to softmax - onehot(y) row by row.
func (m *Machine) softmaxBatch(y, z, g []float64, k int) float64 {
	n := len(y) * k
	z, g = z[:n], g[:n]
	for r, yr := range y {
		c := int(yr)
		if float64(c) != yr || c < 0 || c >= k {
			panic(fmt.Sprintf("compile: categorical target %v at row %d is not a class index in [0, %d)", yr, r, k))
		}
		zr := z[r*k : r*k+k]
		mx := math.Inf(-1)
		for _, v := range zr {
			mx = max(mx, v)
		}
		gr := g[r*k : r*k+k]
		for j, v := range zr {
			gr[j] = v - mx
		}
	}
	vec.Exp(g, g)
	loss := 0.0
	for r, yr := range y {
		c := int(yr)
		gr := g[r*k : r*k+k]
		sum := 0.0
		for _, e := range gr {
			sum += e
		}
		zr := z[r*k : r*k+k]
		mx := math.Inf(-1)
		for _, v := range zr {
			mx = max(mx, v)
		}
		loss -= zr[c] - mx - math.Log(sum)
		inv := 1 / sum
		for j := range gr {
			gr[j] *= inv
		}
		gr[c]--
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
