package lang

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"gonum.org/v1/gonum/mat"
)

// checkModel parses and checks one model block.
func checkModel(t *testing.T, src string) *ir.Model {
	t.Helper()
	f, err := parser.Parse("m.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := ir.Check(f, ir.NewScope(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Stmts[0].(*ir.DefineModel).Model
}

// TestLearnableActivationGraphs: the lowered subgraphs of rational and
// periodic compute ActivationValue of their coefficients c + δ, and their
// gradient in δ matches central finite differences.
func TestLearnableActivationGraphs(t *testing.T) {
	for _, act := range []string{"rational", "rational(init: tanh)", "periodic"} {
		m := checkModel(t, `model m(x: 1) {
  prior weights ~ normal(0, 1)
  h = x |> `+act+`
  y ~ normal(h[0], 1)
}`)
		prog, err := compile.Compile(m)
		if err != nil {
			t.Fatal(err)
		}
		a := m.Activations[0]
		p := m.Params[a.Param]
		rng := rand.New(rand.NewPCG(1, 2))
		theta := make([]float64, prog.Dim())
		for i := range theta {
			theta[i] = 0.05 * rng.NormFloat64()
		}
		coef := make([]float64, len(a.Init))
		for i := range coef {
			coef[i] = a.Init[i] + theta[p.Offset+i]
		}
		zs := []float64{-2.5, -1, -0.3, 0, 0.4, 1.3, 2.9}
		x := mat.NewDense(len(zs), 1, zs)
		out := mat.NewDense(len(zs), 1, nil)
		mach := prog.NewMachine()
		mach.Outputs(out, theta, x)
		for i, z := range zs {
			want := ir.ActivationValue(a.Kind, coef, z)
			if got := out.At(i, 0); math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
				t.Errorf("%s(%g) = %g, want %g", act, z, got, want)
			}
		}
		// Gradient of Σ f(z_i) in δ.
		grad := make([]float64, prog.Dim())
		sum := func(dOut, out []float64) float64 {
			s := 0.0
			for i, v := range out {
				s += v
				dOut[i] = 1
			}
			return s
		}
		mach.OutputGrad(grad, theta, x, sum)
		for j := p.Offset; j < p.Offset+p.Size(); j++ {
			h := 1e-6
			th := append([]float64(nil), theta...)
			th[j] += h
			up := mach.OutputGrad(nil, th, x, sum)
			th[j] -= 2 * h
			down := mach.OutputGrad(nil, th, x, sum)
			fd := (up - down) / (2 * h)
			if math.Abs(fd-grad[j]) > 1e-5*(1+math.Abs(fd)) {
				t.Errorf("%s: d/dδ[%d] = %g, finite difference %g", act, j-p.Offset, grad[j], fd)
			}
		}
	}
}
