package compile

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/ir"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
)

// outputs returns the likelihood's arguments f at theta, row by row (rows x
// nOut): loc and scale, the logits, the logit or the log rate.
func outputs(m *Machine, theta []float64, x *mat.Dense, y []float64) []float64 {
	m.NegLogLik(nil, theta, x, y)
	p := m.p
	rows := len(y)
	var f []float64
	for r := range rows {
		for _, a := range p.lik.args {
			if a < 0 {
				continue
			}
			w := p.nodes[a].width
			off := r * w
			if m.rows[a] == 1 {
				off = 0
			}
			f = append(f, m.val[a][off:off+w]...)
		}
	}
	return f
}

// fisher returns the explicit Λ_r (nOut x nOut) of the likelihood at the
// outputs f_r, written independently of ggn.go's factorisation.
func fisher(l *likelihood, f []float64) *mat.Dense {
	k := len(f)
	lam := mat.NewDense(k, k, nil)
	switch l.family {
	case ir.LikNormal:
		s := f[1]
		lam.Set(0, 0, 1/(s*s))
		lam.Set(1, 1, 2/(s*s))
	case ir.LikStudentT:
		s, v := f[1], l.df
		lam.Set(0, 0, (v+1)/((v+3)*s*s))
		lam.Set(1, 1, 2*v/((v+3)*s*s))
	case ir.LikCategorical:
		mx := math.Inf(-1)
		for _, v := range f {
			mx = max(mx, v)
		}
		p := make([]float64, k)
		z := 0.0
		for j, v := range f {
			p[j] = math.Exp(v - mx)
			z += p[j]
		}
		for i := range p {
			for j := range p {
				v := -p[i] / z * p[j] / z
				if i == j {
					v += p[i] / z
				}
				lam.Set(i, j, v)
			}
		}
	case ir.LikBernoulli:
		q := 1 / (1 + math.Exp(-f[0]))
		lam.Set(0, 0, q*(1-q))
	case ir.LikPoisson:
		lam.Set(0, 0, math.Exp(f[0]))
	case ir.LikGamma: // diag(α, ψ'(α) - 1/α), ψ' by differencing gonum's ψ
		a, h := f[1], 1e-5*f[1]
		lam.Set(0, 0, a)
		lam.Set(1, 1, (mathext.Digamma(a+h)-mathext.Digamma(a-h))/(2*h)-1/a)
	}
	return lam
}

// explicitGGN builds Σ_r J_rᵀ Λ_r J_r with J computed column by column by
// central differences (one Richardson step).
func explicitGGN(p *Program, theta []float64, x *mat.Dense, y []float64) *mat.Dense {
	m := p.NewMachine()
	d := p.Dim()
	f0 := outputs(m, theta, x, y)
	rows := len(y)
	no := len(f0) / rows
	jac := mat.NewDense(len(f0), d, nil)
	th := append([]float64(nil), theta...)
	diff := func(j int, h float64) []float64 {
		old := th[j]
		th[j] = old + h
		fp := outputs(m, th, x, y)
		th[j] = old - h
		fm := outputs(m, th, x, y)
		th[j] = old
		for i := range fp {
			fp[i] = (fp[i] - fm[i]) / (2 * h)
		}
		return fp
	}
	for j := range d {
		h := 1e-3 * max(1, math.Abs(theta[j]))
		a, b := diff(j, h/2), diff(j, h)
		for i := range a {
			jac.Set(i, j, (4*a[i]-b[i])/3)
		}
	}
	g := mat.NewDense(d, d, nil)
	for r := range rows {
		jr := jac.Slice(r*no, (r+1)*no, 0, d)
		lam := fisher(&p.lik, f0[r*no:(r+1)*no])
		var t, u mat.Dense
		t.Mul(lam, jr)
		u.Mul(jr.T(), &t)
		g.Add(g, &u)
	}
	return g
}

func TestGGNDiagFiniteDifferences(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 11))
			p := mustCompile(t, c.m)
			theta := randomTheta(p, rng)
			x, y := data(c.m, 5, rng)
			want := explicitGGN(p, theta, x, y)
			m := p.NewMachine()
			got := make([]float64, p.Dim())
			m.GGNDiag(got, theta, x)
			wd := make([]float64, p.Dim())
			for j := range wd {
				wd[j] = want.At(j, j)
			}
			compareGrad(t, "GGN diagonal", got, wd, 1e-6)

			// GGNDiag adds: a second call on another batch gives the sum.
			x2, y2 := data(c.m, 3, rng)
			m.GGNDiag(got, theta, x2)
			want2 := explicitGGN(p, theta, x2, y2)
			for j := range wd {
				wd[j] += want2.At(j, j)
			}
			compareGrad(t, "GGN diagonal, accumulated over two batches", got, wd, 1e-6)
		})
	}
}

func TestLastLayerGGNFiniteDifferences(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 12))
			p := mustCompile(t, c.m)
			ll, ok := p.LastLayer()
			if !ok {
				if c.name != "lik/normal-intercept" {
					t.Fatalf("no last layer")
				}
				return
			}
			theta := randomTheta(p, rng)
			x, y := data(c.m, 6, rng)
			want := explicitGGN(p, theta, x, y)
			idx := ll.Params()
			if len(idx) != ll.Size() {
				t.Fatalf("Params has %d indices, Size %d", len(idx), ll.Size())
			}
			n := len(idx)
			got := make([]float64, n*n)
			m := p.NewMachine()
			m.LastLayerGGN(got, theta, x)
			wantLL := make([]float64, n*n)
			for i, a := range idx {
				for j, b := range idx {
					wantLL[i*n+j] = want.At(a, b)
				}
			}
			compareGrad(t, "last-layer GGN", got, wantLL, 1e-6)

			phi := make([]float64, 6*ll.In)
			lam := make([]float64, 6*ll.Out*ll.Out)
			m.LastLayerTerms(phi, lam, theta, x)
			for r := range 6 {
				for c := range ll.Out {
					for c2 := range ll.Out {
						if lam[r*ll.Out*ll.Out+c*ll.Out+c2] != lam[r*ll.Out*ll.Out+c2*ll.Out+c] {
							t.Fatalf("Λ̃ of row %d is not symmetric", r)
						}
					}
				}
			}
		})
	}
}

func TestLastLayerChoice(t *testing.T) {
	// Two heads: the location's is the last layer even though the scale's
	// head is evaluated later.
	b := newBuilder(2)
	h := b.act(b.dense(0, 3, unitPrior, unitPrior), ir.Tanh)
	loc := b.dense(h, 1, unitPrior, unitPrior)
	scale := b.act(b.dense(h, 1, unitPrior, noBias), ir.Softplus)
	p := mustCompile(t, b.lik(ir.LikNormal, 0, 0, loc, scale))
	ll, ok := p.LastLayer()
	if !ok || ll.Node != loc || ll.In != 3 || ll.Out != 1 || ll.BOff < 0 {
		t.Errorf("LastLayer = %+v, %v; want node %d", ll, ok, loc)
	}
	// A bias-free layer has In·Out parameters.
	b = newBuilder(2)
	o := b.dense(b.act(b.dense(0, 3, unitPrior, unitPrior), ir.Tanh), 4, unitPrior, noBias)
	p = mustCompile(t, b.lik(ir.LikCategorical, 0, 4, o))
	if ll, _ := p.LastLayer(); ll.Size() != 12 || len(ll.Params()) != 12 || ll.BOff != -1 {
		t.Errorf("bias-free layer: %+v", ll)
	}
}

// The GGN of a model that is linear in θ with a normal likelihood of fixed
// scale is its Hessian: XᵀX/σ² over the weights of one dense layer.
func TestGGNLinearIsHessian(t *testing.T) {
	b := newBuilder(3)
	o := b.dense(0, 1, unitPrior, unitPrior)
	p := mustCompile(t, b.lik(ir.LikNormal, 0, 0, o, b.konst(0.5)))
	rng := rand.New(rand.NewPCG(5, 5))
	x, _ := data(p.Model(), 7, rng)
	theta := randomTheta(p, rng)
	n := 4
	got := make([]float64, n*n)
	p.NewMachine().LastLayerGGN(got, theta, x)
	for i := range n {
		for j := range n {
			want := 0.0
			for r := range 7 {
				xi, xj := 1.0, 1.0
				if i < 3 {
					xi = x.At(r, i)
				}
				if j < 3 {
					xj = x.At(r, j)
				}
				want += xi * xj / 0.25
			}
			if math.Abs(got[i*n+j]-want) > 1e-12*max(1, math.Abs(want)) {
				t.Errorf("H[%d,%d] = %.15g, want %.15g", i, j, got[i*n+j], want)
			}
		}
	}
}

func TestGGNAllocs(t *testing.T) {
	p := mustCompile(t, mlp(4, 8, 3))
	rng := rand.New(rand.NewPCG(1, 2))
	theta := randomTheta(p, rng)
	x, _ := data(p.Model(), 16, rng)
	m := p.NewMachine()
	dst := make([]float64, p.Dim())
	ll, _ := p.LastLayer()
	h := make([]float64, ll.Size()*ll.Size())
	m.GGNDiag(dst, theta, x)
	m.LastLayerGGN(h, theta, x)
	if a := testing.AllocsPerRun(20, func() { m.GGNDiag(dst, theta, x) }); a != 0 {
		t.Errorf("GGNDiag allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { m.LastLayerGGN(h, theta, x) }); a != 0 {
		t.Errorf("LastLayerGGN allocates %v times per call", a)
	}
	// Interleaving with training calls leaves both correct.
	grad := make([]float64, p.Dim())
	y := make([]float64, 16)
	m.NegLogLik(grad, theta, x, y)
	again := make([]float64, p.Dim())
	m.GGNDiag(again, theta, x)
	fresh := make([]float64, p.Dim())
	p.NewMachine().GGNDiag(fresh, theta, x)
	for j := range again {
		if again[j] != fresh[j] {
			t.Fatalf("GGNDiag after NegLogLik differs at %d: %g vs %g", j, again[j], fresh[j])
		}
	}
}

func TestGGNPanics(t *testing.T) {
	p := mustCompile(t, likModel("normal-intercept"))
	m := p.NewMachine()
	x := mat.NewDense(2, 3, nil)
	for name, f := range map[string]func(){
		"short dst":     func() { m.GGNDiag(make([]float64, 1), make([]float64, p.Dim()), x) },
		"no last layer": func() { m.LastLayerGGN(nil, make([]float64, p.Dim()), x) },
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

// BenchmarkGGNDiag is the GGN diagonal of the benchmark MLP on 128 rows:
// ten backward passes (one per class); compare BenchmarkMAPStep.
func BenchmarkGGNDiag(b *testing.B) {
	p, theta, _ := benchMLP(b)
	x, _ := data(p.Model(), 128, rand.New(rand.NewPCG(2, 2)))
	dst := make([]float64, p.Dim())
	m := p.NewMachine()
	b.ReportAllocs()
	for b.Loop() {
		m.GGNDiag(dst, theta, x)
	}
}

// BenchmarkLastLayerGGN is the full GGN of the benchmark MLP's last layer
// (129 x 10 parameters) on 128 rows.
func BenchmarkLastLayerGGN(b *testing.B) {
	p, theta, _ := benchMLP(b)
	x, _ := data(p.Model(), 128, rand.New(rand.NewPCG(2, 2)))
	ll, _ := p.LastLayer()
	dst := make([]float64, ll.Size()*ll.Size())
	m := p.NewMachine()
	b.ReportAllocs()
	for b.Loop() {
		m.LastLayerGGN(dst, theta, x)
	}
}
