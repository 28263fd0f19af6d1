package infer

import (
	"math"

	"github.com/bayesl/bayesl/stdlib/vec"
)

// An optimizer updates a parameter vector in place from its gradient. Its
// state is allocated once by the constructor; step allocates nothing.
type optimizer interface {
	// step moves x against the gradient c·g. It reports false when a
	// coordinate of g is NaN or infinite; x and the state are then spoilt,
	// and the caller must stop (the check rides along the update loop
	// instead of taking a pass of its own).
	step(x, g []float64, c float64) bool
}

// Optimizer names accepted by the optimizer setting of every backend.
const (
	optAdam = "adam"
	optSGD  = "sgd"
)

// defaultLR is the learning rate used when a backend's LR setting is zero.
// Heavy-ball SGD with momentum β moves about LR/(1-β) per unit gradient,
// so 1e-3 with β = 0.9 takes steps of the same size as Adam's 1e-2.
func defaultLR(opt string) float64 {
	if opt == optSGD {
		return 1e-3
	}
	return 1e-2
}

// newOptimizer returns the named optimizer over n coordinates. momentum is
// used by sgd only; a negative value means none.
func newOptimizer(name string, n int, lr, momentum float64) optimizer {
	if name == optSGD {
		return newSGD(n, lr, momentum)
	}
	return newAdam(n, lr)
}

// adam is Adam (Kingma & Ba 2015) with β1 = 0.9, β2 = 0.999, ε = 1e-8, in
// PyTorch's form: x -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε).
type adam struct {
	lr, b1, b2, eps float64
	b1t, b2t        float64 // β1^t, β2^t
	m, v            []float64
}

func newAdam(n int, lr float64) *adam {
	return &adam{lr: lr, b1: 0.9, b2: 0.999, eps: 1e-8, b1t: 1, b2t: 1,
		m: make([]float64, n), v: make([]float64, n)}
}

func (a *adam) step(x, g []float64, c float64) bool {
	a.b1t *= a.b1
	a.b2t *= a.b2
	stepSize := a.lr / (1 - a.b1t)
	invSqrtBC2 := 1 / math.Sqrt(1-a.b2t)
	b1, b2 := a.b1, a.b2
	// One pass, four coordinates at a time with AVX2 (stdlib/vec): the
	// update is bound by its sqrt and division, about 1 ns a coordinate.
	return vec.Adam(x, g[:len(x)], a.m[:len(x)], a.v[:len(x)], b1, b2, (1-b1)*c, (1-b2)*c*c, stepSize, invSqrtBC2, a.eps)
}

// stepNormalPrior is step on the gradient nb·g + (x - loc)·prec (see
// vec.AdamNormalPrior), scaled by c as step scales g. It returns
// Σ (x - loc)²·prec before the update.
func (a *adam) stepNormalPrior(x, g []float64, nb float64, loc, prec []float64, c float64) (float64, bool) {
	a.b1t *= a.b1
	a.b2t *= a.b2
	stepSize := a.lr / (1 - a.b1t)
	invSqrtBC2 := 1 / math.Sqrt(1-a.b2t)
	b1, b2 := a.b1, a.b2
	return vec.AdamNormalPrior(x, g[:len(x)], a.m[:len(x)], a.v[:len(x)], loc, prec, nb, b1, b2, (1-b1)*c, (1-b2)*c*c, stepSize, invSqrtBC2, a.eps)
}

// sgd is stochastic gradient descent with heavy-ball momentum in PyTorch's
// form: buf = β·buf + g; x -= lr·buf. With β = 0 it is plain SGD.
type sgd struct {
	lr, beta float64
	buf      []float64
}

func newSGD(n int, lr, momentum float64) *sgd {
	s := &sgd{lr: lr}
	if momentum > 0 {
		s.beta = momentum
		s.buf = make([]float64, n)
	}
	return s
}

func (s *sgd) step(x, g []float64, c float64) bool {
	g = g[:len(x)]
	z := 0.0 // g[i]*0 is 0 for a finite g[i] and NaN otherwise
	if s.buf == nil {
		lr := s.lr * c
		for i, gi := range g {
			z += gi * 0
			x[i] -= lr * gi
		}
		return z == 0
	}
	buf := s.buf[:len(x)]
	for i, gi := range g {
		z += gi * 0
		b := s.beta*buf[i] + c*gi
		buf[i] = b
		x[i] -= s.lr * b
	}
	return z == 0
}

// stepNormalPrior is step on the gradient nb·g + (x − loc)·prec, scaled by
// c as step scales g, in one pass (see adam.stepNormalPrior). It returns
// Σ (x − loc)²·prec before the update, and false when g has a non-finite
// coordinate.
func (s *sgd) stepNormalPrior(x, g []float64, nb float64, loc, prec []float64, c float64) (sumsq float64, ok bool) {
	n := len(x)
	g, loc, prec = g[:n], loc[:n], prec[:n]
	beta, lr := s.beta, s.lr
	buf := s.buf // nil for plain SGD: b = c·∇
	if buf != nil {
		buf = buf[:n]
	}
	// Two independent chains of sums and finiteness checks (g·0 is 0 for
	// a finite g and NaN otherwise) keep the loop from waiting on one
	// addition's latency.
	var s0, s1, z0, z1 float64
	i := 0
	for ; i+1 < n; i += 2 {
		e0, e1 := x[i]-loc[i], x[i+1]-loc[i+1]
		p0, p1 := prec[i]*e0, prec[i+1]*e1
		s0 += p0 * e0
		s1 += p1 * e1
		g0, g1 := g[i], g[i+1]
		z0 += g0 * 0
		z1 += g1 * 0
		b0, b1 := c*(nb*g0+p0), c*(nb*g1+p1)
		if buf != nil {
			b0 += beta * buf[i]
			b1 += beta * buf[i+1]
			buf[i], buf[i+1] = b0, b1
		}
		x[i] -= lr * b0
		x[i+1] -= lr * b1
	}
	for ; i < n; i++ {
		e := x[i] - loc[i]
		pe := prec[i] * e
		s0 += pe * e
		z0 += g[i] * 0
		b := c * (nb*g[i] + pe)
		if buf != nil {
			b += beta * buf[i]
			buf[i] = b
		}
		x[i] -= lr * b
	}
	return s0 + s1, z0+z1 == 0
}

// firstNonFinite returns the first element of v that is NaN or infinite,
// or 0 when there is none.
func firstNonFinite(v []float64) float64 {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x
		}
	}
	return 0
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
