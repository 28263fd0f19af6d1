package infer

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The closed-form KL of the low-rank family and its gradient (what a step
// takes when the likelihood is flat) against the dense formula and central
// differences.
func TestLowRankKLGradient(t *testing.T) {
	const d, k = 7, 3
	r := rand.New(rand.NewPCG(1, 2))
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range d {
		loc[j] = r.NormFloat64()
		scale[j] = 0.5 + r.Float64()
	}
	p := &Problem{Dim: d, N: 10, PriorLoc: loc, PriorScale: scale,
		NegLogLik:   func(g, th []float64, idx []int) float64 { clear(g); return 0 },
		NegLogPrior: func(g, th []float64) float64 { return 0 }}
	s := newLowRankState(p, VI{Rank: k, KLWeight: 1, Samples: 1, Optimizer: optSGD, LR: 1, Momentum: -1, Epochs: 1, Batch: 1}, r)
	s.opt, s.decay = newSGD(len(s.w), 0, -1), lrDecay{} // a step that does not move
	for j := range s.w {
		s.w[j] = 0.5 * r.NormFloat64()
	}
	loss := func() float64 { l, _ := s.step([]int{0}); return l * float64(p.N) }
	kl := loss()

	// Dense KL: ½[tr(V⁻¹Σ) + (μ−m)ᵀV⁻¹(μ−m) − d + log det V − log det Σ].
	s.transform()
	sig := mat.NewSymDense(d, nil)
	for i := range d {
		for j := range d {
			v := dot(s.u[i*k:(i+1)*k], s.u[j*k:(j+1)*k])
			if i == j {
				v += s.sigma[i] * s.sigma[i]
			}
			sig.SetSym(i, j, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sig) {
		t.Fatal("Σ not positive definite")
	}
	dense := -ch.LogDet() - float64(d)
	for j := range d {
		v := scale[j] * scale[j]
		diff := s.mu[j] - loc[j]
		dense += (sig.At(j, j)+diff*diff)/v + math.Log(v)
	}
	dense *= 0.5
	if math.Abs(kl-dense) > 1e-12*math.Abs(dense) {
		t.Errorf("KL = %.15g, dense formula %.15g", kl, dense)
	}

	grad := append([]float64(nil), s.g...)
	for j := range s.w {
		const h = 1e-6
		w0 := s.w[j]
		s.w[j] = w0 + h
		up := loss()
		s.w[j] = w0 - h
		down := loss()
		s.w[j] = w0
		fd := (up - down) / (2 * h)
		if got := grad[j] * float64(p.N); math.Abs(got-fd) > 1e-6*max(1, math.Abs(fd)) {
			t.Errorf("dKL/dw[%d] = %.9g, central difference %.9g", j, got, fd)
		}
	}
}

// A low-rank step allocates nothing, with and without local
// reparameterisation and the closed-form KL.
func TestLowRankStepAllocs(t *testing.T) {
	const d, n = 5, 40
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, n*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	nll := func(g, th []float64, idx []int) float64 {
		if g != nil {
			clear(g)
		}
		s := 0.0
		for _, i := range idx {
			a := dot(x[i*d:(i+1)*d], th)
			s += 0.5 * a * a
			for j := range g { // g is nil when only the value is asked for
				g[j] += a * x[i*d+j]
			}
		}
		return s
	}
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range scale {
		scale[j] = 1
	}
	base := Problem{Dim: d, N: n, NegLogLik: nll, PriorLoc: loc, PriorScale: scale,
		NegLogPrior: func(g, th []float64) float64 {
			if g != nil {
				for j, v := range th {
					g[j] += v
				}
			}
			return 0.5 * dot(th, th)
		},
		VarNegLogLik: func(gm, gs, mu, sigma []float64, idx []int, rng *rand.Rand) float64 {
			clear(gs)
			return nll(gm, mu, idx)
		}}
	for _, closed := range []bool{true, false} {
		for _, lrt := range []bool{true, false} {
			p := base
			if !closed {
				p.PriorLoc, p.PriorScale = nil, nil
			}
			if !lrt {
				p.VarNegLogLik = nil
			}
			s := newLowRankState(&p, VI{Rank: 2, KLWeight: 1, Samples: 2, Optimizer: optAdam, LR: 1e-3, Epochs: 10, Batch: 16}, r)
			s.init(1e-2)
			idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
			if a := testing.AllocsPerRun(20, func() { s.step(idx) }); a != 0 {
				t.Errorf("closed %v, lrt %v: %v allocations a step", closed, lrt, a)
			}
		}
	}
}
