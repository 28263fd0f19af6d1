package compile

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/mat"
)

// outputLoss is a smooth, non-linear loss on the outputs with its gradient:
// L = Σ c_rj sin(o_rj) + 0.3 o_rj².
func outputLoss(c []float64) func(dOut, out []float64) float64 {
	return func(dOut, out []float64) float64 {
		l := 0.0
		for i, o := range out {
			l += c[i]*math.Sin(o) + 0.3*o*o
			dOut[i] = c[i]*math.Cos(o) + 0.6*o
		}
		return l
	}
}

// TestOutputGradFiniteDifferences: the gradient OutputGrad backpropagates
// from a given loss on the outputs matches central differences of that
// loss, for every op, activation, likelihood family (so every kind of
// output node, broadcast rows included) and prior of the catalog.
func TestOutputGradFiniteDifferences(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 9))
			p := mustCompile(t, c.m)
			m := p.NewMachine()
			theta := randomTheta(p, rng)
			x, _ := data(c.m, 5, rng)
			w := p.OutputWidth()
			coef := make([]float64, 5*w)
			for i := range coef {
				coef[i] = rng.NormFloat64()
			}
			loss := outputLoss(coef)
			grad := make([]float64, p.Dim())
			for j := range grad {
				grad[j] = math.NaN() // must be overwritten
			}
			v := m.OutputGrad(grad, theta, x, loss)
			if v2 := m.OutputGrad(nil, theta, x, loss); v2 != v {
				t.Errorf("loss with a gradient %v, without %v", v, v2)
			}
			num := numGrad(func(th []float64) float64 { return m.OutputGrad(nil, th, x, loss) }, theta)
			compareGrad(t, "OutputGrad", grad, num, 1e-6)
		})
	}
}

// TestOutputs: Outputs gives the likelihood's first argument, as the
// independent per-example reference computes it, and the same values
// OutputGrad hands to its loss, in row chunks or not.
func TestOutputs(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 10))
			p := mustCompile(t, c.m)
			m := p.NewMachine()
			theta := randomTheta(p, rng)
			const n = 7
			x, y := data(c.m, n, rng)
			w := p.OutputWidth()
			got := mat.NewDense(n, w, nil)
			m.Outputs(got, theta, x)

			_, ref := reference(c.m, theta, x, y)
			for r := 0; r < n; r++ {
				var want []float64
				switch c.m.Lik.Family {
				case ir.LikCategorical:
					want = make([]float64, w)
					logSoftmax(want, got.RawRowView(r))
					for j := range want {
						if math.Abs(want[j]-ref[r][j]) > 1e-12 {
							t.Fatalf("row %d: log-softmax of the outputs %v, reference %v", r, want, ref[r])
						}
					}
					continue
				case ir.LikBernoulli:
					want = []float64{ref[r][1] - ref[r][0]} // log σ(z) - log σ(-z) = z
				default:
					want = ref[r][:1]
				}
				for j := range want {
					if relErr(got.At(r, j), want[j]) > 1e-10 {
						t.Fatalf("row %d: output %v, reference %v", r, got.RawRowView(r), want)
					}
				}
			}

			var seen []float64
			m.OutputGrad(nil, theta, x, func(dOut, out []float64) float64 {
				seen = append(seen, out...)
				return 0
			})
			chunked := p.NewMachine()
			chunked.maxRows = 3
			again := mat.NewDense(n, w, nil)
			chunked.Outputs(again, theta, x)
			for i, v := range got.RawMatrix().Data {
				if seen[i] != v || again.RawMatrix().Data[i] != v {
					t.Fatalf("output %d: Outputs %v, OutputGrad %v, chunked %v", i, v, seen[i], again.RawMatrix().Data[i])
				}
			}
		})
	}
}

func TestOutputAllocs(t *testing.T) {
	p := mustCompile(t, mlp(6, 8, 4))
	m := p.NewMachine()
	rng := rand.New(rand.NewPCG(1, 2))
	theta := randomTheta(p, rng)
	x, _ := data(p.Model(), 16, rng)
	coef := make([]float64, 16*4)
	loss := outputLoss(coef)
	grad := make([]float64, p.Dim())
	dst := mat.NewDense(16, 4, nil)
	m.OutputGrad(grad, theta, x, loss)
	m.Outputs(dst, theta, x)
	if a := testing.AllocsPerRun(10, func() { m.OutputGrad(grad, theta, x, loss) }); a != 0 {
		t.Errorf("OutputGrad allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(10, func() { m.Outputs(dst, theta, x) }); a != 0 {
		t.Errorf("Outputs allocates %v times per call", a)
	}
	xs := x.Slice(0, 8, 0, 6).(*mat.Dense) // a smaller batch reuses the workspaces
	if a := testing.AllocsPerRun(10, func() { m.OutputGrad(grad, theta, xs, loss) }); a != 0 {
		t.Errorf("OutputGrad on a smaller batch allocates %v times per call", a)
	}
}

func TestOutputsPanics(t *testing.T) {
	p := mustCompile(t, mlp(3, 4, 2))
	m := p.NewMachine()
	theta := make([]float64, p.Dim())
	x := mat.NewDense(2, 3, nil)
	for name, f := range map[string]func(){
		"dst shape":   func() { m.Outputs(mat.NewDense(2, 3, nil), theta, x) },
		"theta":       func() { m.Outputs(mat.NewDense(2, 2, nil), theta[1:], x) },
		"input width": func() { m.OutputGrad(nil, theta, mat.NewDense(2, 2, nil), outputLoss(nil)) },
		"grad length": func() { m.OutputGrad(theta[1:], theta, x, outputLoss(make([]float64, 4))) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
