package compile

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func allLayers(p *Program) []int {
	ls := make([]int, len(p.DenseLayers()))
	for k := range ls {
		ls[k] = k
	}
	return ls
}

// Under fixed masks (the same seed) the loss is a smooth function of θ, so
// its gradient is checked by differences; with rate 0 it is NegLogLik.
func TestDropoutGradients(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 3))
			p := mustCompile(t, c.m)
			m := p.NewMachine()
			theta := randomTheta(p, rng)
			x, y := data(c.m, 5, rng)
			layers := allLayers(p)

			grad, want := make([]float64, p.Dim()), make([]float64, p.Dim())
			l0 := m.DropoutNegLogLik(grad, theta, x, y, 0, layers, rand.New(rand.NewPCG(1, 1)))
			if w := m.NegLogLik(want, theta, x, y); l0 != w {
				t.Errorf("rate 0: loss %v, NegLogLik %v", l0, w)
			}
			compareGrad(t, "rate 0 against NegLogLik", grad, want, 1e-14)

			f := func(th []float64) float64 {
				return m.DropoutNegLogLik(nil, th, x, y, 0.3, layers, rand.New(rand.NewPCG(42, 7)))
			}
			m.DropoutNegLogLik(grad, theta, x, y, 0.3, layers, rand.New(rand.NewPCG(42, 7)))
			compareGrad(t, "DropoutNegLogLik", grad, numGrad(f, theta), 1e-6)
		})
	}
}

// Dropping input unit i of a layer for one row is zeroing row i of the
// layer's weight (and scaling the others by 1/(1-rate)) for that row: the
// identity the mc_dropout posterior's draws rest on. The masks have the
// right rate and scale.
func TestDropoutIsMaskedWeights(t *testing.T) {
	const rate, rows = 0.25, 400
	mdl := mlp(3, 8, 6, 4)
	p := mustCompile(t, mdl)
	m := p.NewMachine()
	rng := rand.New(rand.NewPCG(5, 5))
	theta := randomTheta(p, rng)
	x, y := data(mdl, rows, rng)
	ls := p.DenseLayers()
	if len(ls) != 3 || !ls[0].OnInput || ls[1].OnInput || ls[2].In != 6 {
		t.Fatalf("DenseLayers = %+v", ls)
	}
	layers := []int{1, 2} // every layer after the first
	got := m.DropoutNegLogLik(nil, theta, x, y, rate, layers, rand.New(rand.NewPCG(9, 9)))

	ref := p.NewMachine()
	th := make([]float64, len(theta))
	sum, zeros, units := 0.0, 0, 0
	for r := range rows {
		copy(th, theta)
		for _, k := range layers {
			l := ls[k]
			mk := m.drop.mask[l.Node][r*l.In : (r+1)*l.In]
			for i, v := range mk {
				units++
				switch v {
				case 0:
					zeros++
				case 1 / (1 - rate):
				default:
					t.Fatalf("mask value %v, want 0 or %v", v, 1/(1-rate))
				}
				for c := range l.Out {
					th[l.WOff+i*l.Out+c] *= v
				}
			}
		}
		xr := mat.NewDense(1, 3, x.RawRowView(r))
		sum += ref.NegLogLik(nil, th, xr, y[r:r+1])
	}
	if relErr(got, sum) > 1e-12 {
		t.Errorf("dropout loss %.15g, sum over rows with masked weights %.15g", got, sum)
	}
	// Binomial(units, rate): within 4 sds.
	sd := math.Sqrt(float64(units) * rate * (1 - rate))
	if d := math.Abs(float64(zeros) - rate*float64(units)); d > 4*sd {
		t.Errorf("%d of %d units dropped, want about %.0f", zeros, units, rate*float64(units))
	}
}

func TestDropoutAllocatesNothing(t *testing.T) {
	mdl := mlp(3, 8, 4)
	p := mustCompile(t, mdl)
	m := p.NewMachine()
	rng := rand.New(rand.NewPCG(1, 2))
	theta := randomTheta(p, rng)
	x, y := data(mdl, 16, rng)
	grad := make([]float64, p.Dim())
	layers := allLayers(p)
	m.DropoutNegLogLik(grad, theta, x, y, 0.1, layers, rng)
	if a := testing.AllocsPerRun(20, func() { m.DropoutNegLogLik(grad, theta, x, y, 0.1, layers, rng) }); a != 0 {
		t.Errorf("a steady-state call allocates %v times", a)
	}
}
