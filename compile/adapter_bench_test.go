package compile

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/predictive"
)

// benchAdapted compiles the MLP 64-128-128-10 of the benchmarks either with
// every layer trainable ("full") or with every layer frozen and adapted.
func benchAdapted(b *testing.B, kind string, rank int) (*Program, []float64, []float64) {
	var p *Program
	if kind == "full" {
		p = mustCompile(b, mlp(64, 128, 128, 10))
	} else {
		p = compileWith(b, checkModel(b, exampleModel(kind, rank), "base"), 1)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	theta := make([]float64, p.Dim())
	p.Init(theta, rng)
	sigma := make([]float64, p.Dim())
	for j := range sigma {
		sigma[j] = 0.01
	}
	return p, theta, sigma
}

var adapterBenchCases = []struct {
	kind string
	rank int
}{{"full", 0}, {"lora", 8}, {"lora_xs", 4}, {"lora_xs", 8}}

func adapterBenchName(kind string, rank int) string {
	if kind == "full" {
		return "full"
	}
	return fmt.Sprintf("%s-r%d", kind, rank)
}

// BenchmarkAdapterStep compares one MAP gradient step (NegLogLik with
// gradient plus NegLogPrior, batch 128) of the MLP 64-128-128-10 trained
// in full against the same network frozen with an adapter on every layer.
func BenchmarkAdapterStep(b *testing.B) {
	for _, c := range adapterBenchCases {
		b.Run(adapterBenchName(c.kind, c.rank), func(b *testing.B) {
			p, theta, _ := benchAdapted(b, c.kind, c.rank)
			x, y := data(p.Model(), 128, rand.New(rand.NewPCG(2, 2)))
			grad := make([]float64, p.Dim())
			m := p.NewMachine()
			b.ReportAllocs()
			b.ReportMetric(float64(p.Dim()), "params")
			for b.Loop() {
				m.NegLogLik(grad, theta, x, y)
				p.NegLogPrior(grad, theta)
			}
		})
	}
}

// BenchmarkAdapterVIStep is one local-reparameterisation gradient, batch
// 128, for the same networks.
func BenchmarkAdapterVIStep(b *testing.B) {
	for _, c := range adapterBenchCases {
		b.Run(adapterBenchName(c.kind, c.rank), func(b *testing.B) {
			p, mu, sigma := benchAdapted(b, c.kind, c.rank)
			rng := rand.New(rand.NewPCG(2, 2))
			x, y := data(p.Model(), 128, rng)
			gMu, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
			m := p.NewMachine()
			b.ReportAllocs()
			for b.Loop() {
				m.VarNegLogLik(gMu, gSig, mu, sigma, x, y, rng)
			}
		})
	}
}

// BenchmarkAdapterPredict30 is a 30-sample predictive on 1797 rows for the
// same networks: frozen layers over the input are computed once per chunk.
func BenchmarkAdapterPredict30(b *testing.B) {
	for _, c := range adapterBenchCases {
		b.Run(adapterBenchName(c.kind, c.rank), func(b *testing.B) {
			p, theta, sigma := benchAdapted(b, c.kind, c.rank)
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
			m := p.NewMachine()
			var out predictive.Predictive
			for b.Loop() {
				m.Predict(&out, thetas, x)
			}
		})
	}
}
