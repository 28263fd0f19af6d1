package compile

import (
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/predictive"
)

// benchMLP is the MLP 64-128-128-10 (ReLU, categorical) of the benchmarks,
// with μ from Init and σ = 0.01.
func benchMLP(b *testing.B) (*Program, []float64, []float64) {
	p := mustCompile(b, mlp(64, 128, 128, 10))
	rng := rand.New(rand.NewPCG(1, 1))
	theta := make([]float64, p.Dim())
	p.Init(theta, rng)
	sigma := make([]float64, p.Dim())
	for j := range sigma {
		sigma[j] = 0.01
	}
	return p, theta, sigma
}

// BenchmarkMAPStep is one MAP gradient: NegLogLik with gradient plus
// NegLogPrior, batch 128.
func BenchmarkMAPStep(b *testing.B) {
	p, theta, _ := benchMLP(b)
	x, y := data(p.Model(), 128, rand.New(rand.NewPCG(2, 2)))
	grad := make([]float64, p.Dim())
	m := p.NewMachine()
	b.ReportAllocs()
	for b.Loop() {
		m.NegLogLik(grad, theta, x, y)
		p.NegLogPrior(grad, theta)
	}
}

// BenchmarkVIStep is one local-reparameterisation gradient, batch 128.
func BenchmarkVIStep(b *testing.B) {
	p, mu, sigma := benchMLP(b)
	rng := rand.New(rand.NewPCG(2, 2))
	x, y := data(p.Model(), 128, rng)
	gMu, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
	m := p.NewMachine()
	b.ReportAllocs()
	for b.Loop() {
		m.VarNegLogLik(gMu, gSig, mu, sigma, x, y, rng)
	}
}

// BenchmarkPredict30 is a 30-sample predictive on 1797 rows (the digits
// set's size); "wide" computes the first layer for all samples as one
// product, "per-sample" runs one product per sample throughout.
func BenchmarkPredict30(b *testing.B) {
	p, theta, sigma := benchMLP(b)
	rng := rand.New(rand.NewPCG(3, 3))
	x, _ := data(p.Model(), 1797, rng)
	thetas := make([][]float64, 30)
	for s := range thetas {
		th := make([]float64, p.Dim())
		for j := range th {
			th[j] = theta[j] + sigma[j]*rng.NormFloat64()
		}
		thetas[s] = th
	}
	for _, noWide := range []bool{false, true} {
		name := "wide"
		if noWide {
			name = "per-sample"
		}
		b.Run(name, func(b *testing.B) {
			m := p.NewMachine()
			m.noWide = noWide
			var out predictive.Predictive
			b.ReportAllocs()
			for b.Loop() {
				m.Predict(&out, thetas, x)
			}
		})
	}
}
