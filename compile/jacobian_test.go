package compile

import (
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/mat"
)

// The Jacobian of the outputs matches central differences of Outputs on
// every model of the catalog.
func TestJacobianFiniteDifferences(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 21))
			p := mustCompile(t, c.m)
			theta := randomTheta(p, rng)
			x, _ := data(c.m, 4, rng)
			w, d := p.OutputWidth(), p.Dim()
			m := p.NewMachine()
			got := make([]float64, 4*w*d)
			m.Jacobian(got, theta, x)
			want := make([]float64, len(got))
			out := mat.NewDense(4, w, nil)
			for r := range 4 {
				for o := range w {
					g := numGrad(func(th []float64) float64 {
						m.Outputs(out, th, x)
						return out.At(r, o)
					}, theta)
					copy(want[(r*w+o)*d:(r*w+o+1)*d], g)
				}
			}
			compareGrad(t, "Jacobian", got, want, 1e-6)
			// A second call overwrites.
			m.Jacobian(got, theta, x)
			compareGrad(t, "Jacobian, called again", got, want, 1e-6)
		})
	}
}

// The full GGN matches the explicit Σ JᵀΛJ and its diagonal GGNDiag.
func TestGGNFull(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 22))
			p := mustCompile(t, c.m)
			theta := randomTheta(p, rng)
			x, y := data(c.m, 5, rng)
			d := p.Dim()
			want := explicitGGN(p, theta, x, y)
			m := p.NewMachine()
			got := make([]float64, d*d)
			m.GGN(got, theta, x)
			// The upper triangle is written, the lower one left alone.
			wantU := make([]float64, d*d)
			for a := range d {
				for b := a; b < d; b++ {
					wantU[a*d+b] = want.At(a, b)
				}
			}
			compareGrad(t, "GGN", got, wantU, 1e-6)
			diag := make([]float64, d)
			m.GGNDiag(diag, theta, x)
			for j := range d {
				if e := relErr(diag[j], got[j*d+j]); e > 1e-12 {
					t.Fatalf("GGN diagonal %d: %g, GGNDiag %g", j, got[j*d+j], diag[j])
				}
			}
		})
	}
}

// With one example, K-FAC is exact: (a aᵀ) ⊗ G is the GGN's weight block
// and G its bias block, for every dense layer.
func TestKronFactorsOneExample(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *ir.Model
	}{{"mlp", mlp(3, 4, 3)}, {"normal", likModel("normal-hetero")}, {"bernoulli", likModel("bernoulli")}} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 23))
			p := mustCompile(t, c.m)
			theta := randomTheta(p, rng)
			x, y := data(c.m, 1, rng)
			want := explicitGGN(p, theta, x, y)
			ls := p.KronLayers()
			if len(ls) == 0 {
				t.Fatal("no dense layers")
			}
			a, g := make([][]float64, len(ls)), make([][]float64, len(ls))
			for l, ly := range ls {
				a[l], g[l] = make([]float64, ly.In*ly.In), make([]float64, ly.Out*ly.Out)
			}
			p.NewMachine().KronFactors(a, g, theta, x)
			for l, ly := range ls {
				var got, wnt []float64
				for i := range ly.In {
					for c := range ly.Out {
						for i2 := range ly.In {
							for c2 := range ly.Out {
								got = append(got, a[l][i*ly.In+i2]*g[l][c*ly.Out+c2])
								wnt = append(wnt, want.At(ly.WOff+i*ly.Out+c, ly.WOff+i2*ly.Out+c2))
							}
						}
					}
				}
				if ly.BOff >= 0 {
					for c := range ly.Out {
						for c2 := range ly.Out {
							got = append(got, g[l][c*ly.Out+c2])
							wnt = append(wnt, want.At(ly.BOff+c, ly.BOff+c2))
						}
					}
				}
				compareGrad(t, "K-FAC block", got, wnt, 1e-6)
			}
		})
	}
}

func TestJacobianAllocs(t *testing.T) {
	p := mustCompile(t, mlp(4, 8, 3))
	rng := rand.New(rand.NewPCG(1, 3))
	theta := randomTheta(p, rng)
	x, _ := data(p.Model(), 16, rng)
	m := p.NewMachine()
	d := p.Dim()
	jac, ggn := make([]float64, 16*3*d), make([]float64, d*d)
	ls := p.KronLayers()
	a, g := make([][]float64, len(ls)), make([][]float64, len(ls))
	for l, ly := range ls {
		a[l], g[l] = make([]float64, ly.In*ly.In), make([]float64, ly.Out*ly.Out)
	}
	la, lj := make([][]float64, len(ls)), make([][]float64, len(ls))
	for l, ly := range ls {
		la[l], lj[l] = make([]float64, 16*ly.In), make([]float64, 16*3*ly.Out)
	}
	calls := map[string]func(){
		"LayerJacobians": func() { m.LayerJacobians(la, lj, nil, theta, x) },
		"Jacobian":       func() { m.Jacobian(jac, theta, x) },
		"GGN":            func() { m.GGN(ggn, theta, x) },
		"KronFactors":    func() { m.KronFactors(a, g, theta, x) },
	}
	for name, f := range calls {
		f()
		if n := testing.AllocsPerRun(10, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

// LayerJacobians' parts rebuild the Jacobian: a_i·∂f_k/∂s_c for a weight,
// ∂f_k/∂s_c for a bias, the rest's own columns.
func TestLayerJacobians(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 24))
			p := mustCompile(t, c.m)
			theta := randomTheta(p, rng)
			const rows = 4
			x, _ := data(c.m, rows, rng)
			w, d := p.OutputWidth(), p.Dim()
			m := p.NewMachine()
			want := make([]float64, rows*w*d)
			m.Jacobian(want, theta, x)
			ls, restIdx := p.KronLayers(), p.RestParams()
			a, js := make([][]float64, len(ls)), make([][]float64, len(ls))
			for l, ly := range ls {
				a[l], js[l] = make([]float64, rows*ly.In), make([]float64, rows*w*ly.Out)
			}
			rest := make([]float64, rows*w*len(restIdx))
			for range 2 { // a second call overwrites
				m.LayerJacobians(a, js, rest, theta, x)
			}
			got := make([]float64, rows*w*d)
			for r := range rows {
				for o := range w {
					row := got[(r*w+o)*d : (r*w+o+1)*d]
					for l, ly := range ls {
						jr := js[l][(r*w+o)*ly.Out : (r*w+o+1)*ly.Out]
						for i := range ly.In {
							for c, v := range jr {
								row[ly.WOff+i*ly.Out+c] += a[l][r*ly.In+i] * v
							}
						}
						if ly.BOff >= 0 {
							for c, v := range jr {
								row[ly.BOff+c] += v
							}
						}
					}
					for q, j := range restIdx {
						row[j] += rest[(r*w+o)*len(restIdx)+q]
					}
				}
			}
			compareGrad(t, "Jacobian from its layer parts", got, want, 1e-12)
		})
	}
}
