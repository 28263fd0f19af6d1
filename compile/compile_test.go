package compile

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/dist"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

var (
	laplacePrior  = ir.Prior{Family: ir.PriorLaplace, Loc: 0.1, Scale: 0.7}
	studentPrior  = ir.Prior{Family: ir.PriorStudentT, DF: 3, Loc: -0.2, Scale: 1.3}
	unitPrior     = normalPrior(0, 1)
	noBias        = ir.Prior{}
	shiftedPrior  = normalPrior(0.5, 2)
	allActs       = []ir.Act{ir.Identity, ir.ReLU, ir.Tanh, ir.Sigmoid, ir.Softplus, ir.GELU, ir.Sin, ir.Exp}
	allLikelihood = []string{"normal-const", "normal-param", "normal-hetero", "normal-intercept", "student_t", "categorical", "bernoulli", "poisson", "gamma"}
)

// opsModel uses every node op with every broadcasting pattern: row and
// column broadcasts in either operand, scalars, a dense layer over a
// broadcast row, a dense layer without bias, and a dead node.
func opsModel() *ir.Model {
	b := newBuilder(3)
	h := b.act(b.dense(0, 4, unitPrior, laplacePrior), ir.Tanh) // B x 4
	pv := b.prm("pv", 4, studentPrior)                          // 1 x 4
	c := b.konst(0.7)                                           // 1 x 1
	a1 := b.bin(ir.OpAdd, h, pv)                                // B x 4 + 1 x 4
	a2 := b.bin(ir.OpSub, c, a1)                                // 1 x 1 - B x 4
	a3 := b.bin(ir.OpMul, a2, b.index(h, 2))                    // B x 4 * B x 1
	den := b.bin(ir.OpAdd, b.act(b.dense(0, 1, unitPrior, unitPrior), ir.Softplus), b.konst(0.5))
	a4 := b.bin(ir.OpDiv, a3, den)                                               // B x 4 / B x 1
	a5 := b.neg(a4)                                                              // B x 4
	row := b.dense(pv, 4, unitPrior, unitPrior)                                  // dense over a 1 x 4 row
	a6 := b.bin(ir.OpMul, b.prm("s", 1, shiftedPrior), b.bin(ir.OpAdd, a5, row)) // 1 x 1 * B x 4
	den4 := b.bin(ir.OpAdd, b.act(b.dense(0, 4, unitPrior, noBias), ir.Softplus), c)
	a7 := b.bin(ir.OpDiv, a6, den4)                        // B x 4 / B x 4 (flat)
	a8 := b.bin(ir.OpSub, a7, b.bin(ir.OpMul, h, a6))      // flat sub, flat mul
	q := b.bin(ir.OpDiv, b.konst(1.5), den)                // 1 x 1 / B x 1
	_ = b.act(b.dense(0, 2, unitPrior, unitPrior), ir.Exp) // dead node: not read by the likelihood
	o := b.dense(a8, 2, unitPrior, noBias)
	loc := b.bin(ir.OpAdd, b.index(o, 0), q)
	scale := b.bin(ir.OpAdd, b.act(b.index(o, 1), ir.Softplus), b.konst(0.1))
	return b.lik(ir.LikNormal, 0, 0, loc, scale)
}

func actModel(a ir.Act) *ir.Model {
	b := newBuilder(3)
	h := b.act(b.dense(0, 4, unitPrior, unitPrior), a)
	o := b.dense(h, 1, unitPrior, unitPrior)
	return b.lik(ir.LikNormal, 0, 0, o, b.konst(0.8))
}

func likModel(name string) *ir.Model {
	b := newBuilder(3)
	h := b.act(b.dense(0, 5, unitPrior, unitPrior), ir.Tanh)
	switch name {
	case "normal-const":
		return b.lik(ir.LikNormal, 0, 0, b.dense(h, 1, unitPrior, unitPrior), b.konst(0.5))
	case "normal-param":
		return b.lik(ir.LikNormal, 0, 0, b.dense(h, 1, unitPrior, unitPrior), b.act(b.prm("log_noise", 1, unitPrior), ir.Exp))
	case "normal-hetero":
		o := b.dense(h, 2, unitPrior, unitPrior)
		return b.lik(ir.LikNormal, 0, 0, b.index(o, 0), b.bin(ir.OpAdd, b.act(b.index(o, 1), ir.Softplus), b.konst(0.001)))
	case "normal-intercept":
		// Neither argument has batch rows and the input is unused: both are
		// broadcast over the targets and receive summed gradients.
		return b.lik(ir.LikNormal, 0, 0, b.prm("mu", 1, shiftedPrior), b.act(b.prm("log_s", 1, unitPrior), ir.Exp))
	case "student_t":
		o := b.dense(h, 2, unitPrior, unitPrior)
		return b.lik(ir.LikStudentT, 4, 0, b.index(o, 0), b.bin(ir.OpAdd, b.act(b.index(o, 1), ir.Softplus), b.konst(0.001)))
	case "categorical":
		return b.lik(ir.LikCategorical, 0, 3, b.dense(h, 3, unitPrior, unitPrior))
	case "bernoulli":
		return b.lik(ir.LikBernoulli, 0, 2, b.dense(h, 1, unitPrior, unitPrior))
	case "poisson":
		return b.lik(ir.LikPoisson, 0, 0, b.dense(h, 1, unitPrior, unitPrior))
	case "gamma":
		o := b.dense(h, 2, unitPrior, unitPrior)
		return b.lik(ir.LikGamma, 0, 0, b.index(o, 0), b.bin(ir.OpAdd, b.act(b.index(o, 1), ir.Softplus), b.konst(0.5)))
	}
	panic(name)
}

func priorModel(pr ir.Prior) *ir.Model {
	b := newBuilder(2)
	h := b.act(b.dense(0, 3, pr, pr), ir.Tanh)
	o := b.bin(ir.OpAdd, b.dense(h, 1, pr, noBias), b.prm("shift", 1, pr))
	return b.lik(ir.LikNormal, 0, 0, o, b.konst(1))
}

type namedModel struct {
	name string
	m    *ir.Model
}

// catalog covers every op, activation, likelihood family and prior family.
func catalog() []namedModel {
	c := []namedModel{{"ops", opsModel()}}
	for _, a := range allActs {
		c = append(c, namedModel{"act/" + a.String(), actModel(a)})
	}
	for _, l := range allLikelihood {
		c = append(c, namedModel{"lik/" + l, likModel(l)})
	}
	for _, pr := range []ir.Prior{unitPrior, laplacePrior, studentPrior} {
		c = append(c, namedModel{"prior/" + pr.Family.String(), priorModel(pr)})
	}
	return c
}

// numGrad is the central-difference gradient of f at x with one Richardson
// step: (4·D(h/2) - D(h))/3, accurate to O(h⁴).
func numGrad(f func([]float64) float64, x []float64) []float64 {
	g := make([]float64, len(x))
	d := func(j int, h float64) float64 {
		old := x[j]
		x[j] = old + h
		fp := f(x)
		x[j] = old - h
		fm := f(x)
		x[j] = old
		return (fp - fm) / (2 * h)
	}
	for j := range x {
		h := 1e-3 * max(1, math.Abs(x[j]))
		g[j] = (4*d(j, h/2) - d(j, h)) / 3
	}
	return g
}

func relErr(a, b float64) float64 {
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b), 1e-3)
}

func compareGrad(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	worst, at := 0.0, -1
	for j := range got {
		if e := relErr(got[j], want[j]); e > worst || math.IsNaN(e) {
			worst, at = e, j
		}
	}
	if worst > tol || at >= 0 && math.IsNaN(worst) {
		t.Errorf("%s: relative error %.3g at coordinate %d: analytic %.12g, numeric %.12g", what, worst, at, got[at], want[at])
	}
}

func TestGradients(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 1))
			p := mustCompile(t, c.m)
			m := p.NewMachine()
			theta := randomTheta(p, rng)
			x, y := data(c.m, 5, rng)

			want, _ := reference(c.m, theta, x, y)
			if got := m.NegLogLik(nil, theta, x, y); relErr(got, want) > 1e-12 {
				t.Errorf("NegLogLik = %.15g, reference %.15g", got, want)
			}

			grad := make([]float64, p.Dim())
			for j := range grad {
				grad[j] = math.NaN() // must be overwritten
			}
			m.NegLogLik(grad, theta, x, y)
			p.NegLogPrior(grad, theta)
			num := numGrad(func(th []float64) float64 {
				return m.NegLogLik(nil, th, x, y) + p.NegLogPrior(nil, th)
			}, theta)
			compareGrad(t, "NegLogLik+NegLogPrior", grad, num, 1e-6)

			// Local reparameterisation: the same seed gives the same ζ and ε.
			sigma := make([]float64, p.Dim())
			for j := range sigma {
				sigma[j] = 0.05 + 0.35*rng.Float64()
			}
			const seed = 42
			vf := func(mu, sg []float64) float64 {
				return m.VarNegLogLik(nil, nil, mu, sg, x, y, rand.New(rand.NewPCG(seed, 7)))
			}
			gMu, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
			loss := m.VarNegLogLik(gMu, gSig, theta, sigma, x, y, rand.New(rand.NewPCG(seed, 7)))
			if l2 := vf(theta, sigma); l2 != loss {
				t.Errorf("VarNegLogLik is not reproducible: %v then %v", loss, l2)
			}
			compareGrad(t, "VarNegLogLik d/dmu", gMu, numGrad(func(mu []float64) float64 { return vf(mu, sigma) }, theta), 1e-6)
			compareGrad(t, "VarNegLogLik d/dsigma", gSig, numGrad(func(sg []float64) float64 { return vf(theta, sg) }, sigma), 1e-6)
		})
	}
}

// With σ = 0 the variational objective is the likelihood at μ and its
// μ-gradient the MAP gradient, up to the jitter: sqrt(0 + 1e-16) = 1e-8 moves
// every pre-activation by 1e-8·ζ, hence the 1e-5 tolerance on the gradient.
func TestVarSigmaZero(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 2))
			p := mustCompile(t, c.m)
			m := p.NewMachine()
			mu := randomTheta(p, rng)
			x, y := data(c.m, 6, rng)
			grad := make([]float64, p.Dim())
			want := m.NegLogLik(grad, mu, x, y)
			gMu, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
			got := m.VarNegLogLik(gMu, gSig, mu, make([]float64, p.Dim()), x, y, rng)
			if relErr(got, want) > 1e-6 {
				t.Errorf("VarNegLogLik(σ=0) = %.12g, NegLogLik = %.12g", got, want)
			}
			compareGrad(t, "gMu vs MAP gradient", gMu, grad, 1e-5)
			for j, v := range gSig {
				if p.lrtDenseCoord(j) && v != 0 {
					t.Errorf("gSigma[%d] = %g at σ = 0 for a dense coordinate, want 0", j, v)
					break
				}
			}
		})
	}
}

// lrtDenseCoord reports whether θ_j belongs to a parameter used only by dense
// layers (whose σ-gradient is 2σ·(...), so 0 at σ = 0).
func (p *Program) lrtDenseCoord(j int) bool {
	for _, q := range p.params {
		if j >= q.off && j < q.off+q.size {
			return q.dense && !q.scalar
		}
	}
	return false
}

// docs/algorithms.md §7 sanity (iii): for a fixed input the output of a two-layer
// network under local reparameterisation has the mean and variance of the
// output under direct weight sampling (per example the two are equal in
// distribution).
func TestLRTMoments(t *testing.T) {
	b := newBuilder(3)
	h := b.act(b.dense(0, 4, unitPrior, unitPrior), ir.Tanh)
	o := b.dense(h, 1, unitPrior, unitPrior)
	mod := b.lik(ir.LikNormal, 0, 0, o, b.konst(1))
	p := mustCompile(t, mod)
	rng := rand.New(rand.NewPCG(3, 3))
	mu := randomTheta(p, rng)
	sigma := make([]float64, p.Dim())
	for j := range sigma {
		sigma[j] = 0.1 + 0.4*rng.Float64()
	}
	in := []float64{0.8, -1.1, 0.4}
	const n = 20000

	// LRT: n copies of the input row; each row gets its own ζ.
	x := mat.NewDense(n, 3, nil)
	for r := 0; r < n; r++ {
		x.SetRow(r, in)
	}
	m := p.NewMachine()
	m.VarNegLogLik(nil, nil, mu, sigma, x, make([]float64, n), rng)
	lrtMean, lrtVar := meanVar(m.val[o])

	// Direct: n weight draws through Predict on the single input row.
	thetas := make([][]float64, n)
	for s := range thetas {
		th := make([]float64, p.Dim())
		for j := range th {
			th[j] = mu[j] + sigma[j]*rng.NormFloat64()
		}
		thetas[s] = th
	}
	var pr predictive.Predictive
	m.Predict(&pr, thetas, mat.NewDense(1, 3, in))
	dirMean, dirVar := meanVar(pr.Loc)

	sd := math.Sqrt(dirVar)
	if d := math.Abs(lrtMean - dirMean); d > 4*sd*math.Sqrt(2.0/n) {
		t.Errorf("means differ: LRT %.5f, direct %.5f (sd %.4f)", lrtMean, dirMean, sd)
	}
	if r := lrtVar / dirVar; math.Abs(r-1) > 4*math.Sqrt(2.0/n)*math.Sqrt(2) {
		t.Errorf("variances differ: LRT %.5f, direct %.5f", lrtVar, dirVar)
	}
}

func meanVar(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v)-1)
}

// The LRT output of one dense layer has exactly the moments
// γ = xμ_W + μ_b and δ = x²σ_W² + σ_b².
func TestLRTDenseClosedForm(t *testing.T) {
	b := newBuilder(2)
	o := b.dense(0, 1, unitPrior, unitPrior)
	p := mustCompile(t, b.lik(ir.LikNormal, 0, 0, o, b.konst(1)))
	mu := []float64{0.5, -1.5, 0.25}
	sigma := []float64{0.3, 0.2, 0.1}
	in := []float64{1.2, 0.7}
	const n = 40000
	x := mat.NewDense(n, 2, nil)
	for r := 0; r < n; r++ {
		x.SetRow(r, in)
	}
	m := p.NewMachine()
	m.VarNegLogLik(nil, nil, mu, sigma, x, make([]float64, n), rand.New(rand.NewPCG(5, 5)))
	mean, variance := meanVar(m.val[o])
	wantMean := in[0]*mu[0] + in[1]*mu[1] + mu[2]
	wantVar := in[0]*in[0]*sigma[0]*sigma[0] + in[1]*in[1]*sigma[1]*sigma[1] + sigma[2]*sigma[2]
	if math.Abs(mean-wantMean) > 4*math.Sqrt(wantVar/n) {
		t.Errorf("mean %.5f, want %.5f", mean, wantMean)
	}
	if math.Abs(variance/wantVar-1) > 4*math.Sqrt(2.0/n) {
		t.Errorf("variance %.5f, want %.5f", variance, wantVar)
	}
}

func TestPredict(t *testing.T) {
	for k, c := range catalog() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 4))
			p := mustCompile(t, c.m)
			const s, n = 4, 11
			thetas := make([][]float64, s)
			for i := range thetas {
				thetas[i] = randomTheta(p, rng)
			}
			x, y := data(c.m, n, rng)
			for _, mode := range []struct {
				name       string
				noWide     bool
				pack, wide int
				rows       int
			}{{"wide", false, packBudget, wideBudget, predictRows}, {"per-sample", true, packBudget, wideBudget, predictRows}, {"chunked", false, 30, 20, 3}} {
				m := p.NewMachine()
				m.noWide, m.packBudget, m.wideBudget, m.maxRows = mode.noWide, mode.pack, mode.wide, mode.rows
				var out predictive.Predictive
				m.Predict(&out, thetas, x)
				if out.S != s || out.N != n {
					t.Fatalf("%s: S, N = %d, %d", mode.name, out.S, out.N)
				}
				for si, th := range thetas {
					_, ref := reference(c.m, th, x, y)
					for r := 0; r < n; r++ {
						var got []float64
						if c.m.Lik.Family.Classification() {
							k := out.K
							got = out.LogProb[(si*n+r)*k : (si*n+r+1)*k]
						} else {
							got = []float64{out.Loc[si*n+r], out.Scale[si*n+r]}
						}
						for j := range got {
							if relErr(got[j], ref[r][j]) > 1e-12 {
								t.Fatalf("%s: sample %d row %d: got %v, want %v", mode.name, si, r, got, ref[r])
							}
						}
					}
				}
				wantObs := map[ir.LikFamily]predictive.Observation{
					ir.LikNormal: predictive.Normal{}, ir.LikStudentT: predictive.StudentT{DF: 4}, ir.LikPoisson: predictive.Poisson{},
					ir.LikGamma: predictive.Gamma{},
				}[c.m.Lik.Family]
				if out.Obs != wantObs {
					t.Errorf("%s: Obs = %#v, want %#v", mode.name, out.Obs, wantObs)
				}
			}
		})
	}
}

func TestAllocs(t *testing.T) {
	p := mustCompile(t, mlp(64, 128, 128, 10))
	rng := rand.New(rand.NewPCG(1, 1))
	theta := make([]float64, p.Dim())
	p.Init(theta, rng)
	sigma := make([]float64, p.Dim())
	for j := range sigma {
		sigma[j] = 0.01
	}
	x, y := data(p.Model(), 128, rng)
	m := p.NewMachine()
	grad, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
	m.NegLogLik(grad, theta, x, y)
	m.VarNegLogLik(grad, gSig, theta, sigma, x, y, rng)
	if a := testing.AllocsPerRun(10, func() { m.NegLogLik(grad, theta, x, y) }); a != 0 {
		t.Errorf("NegLogLik with gradient allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(10, func() { m.VarNegLogLik(grad, gSig, theta, sigma, x, y, rng) }); a != 0 {
		t.Errorf("VarNegLogLik allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(10, func() { p.NegLogPrior(grad, theta) }); a != 0 {
		t.Errorf("NegLogPrior allocates %v times per call", a)
	}
	// A smaller batch after a larger one reuses the workspaces.
	xs, ys := data(p.Model(), 17, rng)
	if a := testing.AllocsPerRun(10, func() { m.NegLogLik(grad, theta, xs, ys) }); a != 0 {
		t.Errorf("NegLogLik on a smaller batch allocates %v times per call", a)
	}
}

// Workspaces grow and shrink with the batch; a strided view of x gives the
// same numbers as a contiguous copy.
func TestBatchSizesAndViews(t *testing.T) {
	mod := likModel("normal-hetero")
	p := mustCompile(t, mod)
	rng := rand.New(rand.NewPCG(9, 9))
	theta := randomTheta(p, rng)
	m := p.NewMachine()
	for _, b := range []int{3, 10, 1, 7} {
		x, y := data(mod, b, rng)
		want, _ := reference(mod, theta, x, y)
		if got := m.NegLogLik(make([]float64, p.Dim()), theta, x, y); relErr(got, want) > 1e-12 {
			t.Errorf("batch %d: %v, want %v", b, got, want)
		}
	}
	big, y := data(mod, 6, rng)
	wide := mat.NewDense(6, 5, nil)
	wide.Slice(0, 6, 1, 4).(*mat.Dense).Copy(big)
	view := wide.Slice(0, 6, 1, 4).(*mat.Dense)
	g1, g2 := make([]float64, p.Dim()), make([]float64, p.Dim())
	l1 := m.NegLogLik(g1, theta, big, y)
	l2 := m.NegLogLik(g2, theta, view, y)
	if l1 != l2 {
		t.Errorf("view: %v, contiguous: %v", l2, l1)
	}
	compareGrad(t, "view gradient", g2, g1, 0)
	var o1, o2 predictive.Predictive
	m.Predict(&o1, [][]float64{theta}, big)
	m.Predict(&o2, [][]float64{theta}, view)
	for i := range o1.Loc {
		if o1.Loc[i] != o2.Loc[i] || o1.Scale[i] != o2.Scale[i] {
			t.Fatalf("Predict on a view differs at %d", i)
		}
	}
}

func TestNonPositiveScale(t *testing.T) {
	for _, sc := range []float64{0, -1} {
		b := newBuilder(2)
		o := b.dense(0, 1, unitPrior, unitPrior)
		mod := b.lik(ir.LikNormal, 0, 0, o, b.konst(sc))
		p := mustCompile(t, mod)
		m := p.NewMachine()
		x, y := data(mod, 4, rand.New(rand.NewPCG(1, 2)))
		th := make([]float64, p.Dim())
		l := m.NegLogLik(make([]float64, p.Dim()), th, x, y)
		if !math.IsNaN(l) && !math.IsInf(l, 1) {
			t.Errorf("scale %v: loss %v, want +Inf or NaN", sc, l)
		}
		l = m.VarNegLogLik(make([]float64, p.Dim()), make([]float64, p.Dim()), th, th, x, y, rand.New(rand.NewPCG(1, 1)))
		if !math.IsNaN(l) && !math.IsInf(l, 1) {
			t.Errorf("scale %v: variational loss %v, want +Inf or NaN", sc, l)
		}
	}
}

func TestBadTargetsPanic(t *testing.T) {
	for _, c := range []struct {
		lik string
		y   float64
	}{{"categorical", 3}, {"categorical", 0.5}, {"categorical", -1}, {"bernoulli", 2}, {"poisson", -1}, {"poisson", 1.5}} {
		mod := likModel(c.lik)
		p := mustCompile(t, mod)
		x, y := data(mod, 2, rand.New(rand.NewPCG(1, 2)))
		y[1] = c.y
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s target %v: no panic", c.lik, c.y)
				}
			}()
			p.NewMachine().NegLogLik(nil, make([]float64, p.Dim()), x, y)
		}()
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func() (*ir.Model, int) // model and the node whose span the error carries (-1: likelihood)
		kind  source.Kind
	}{
		{"dense width", func() (*ir.Model, int) {
			b := newBuilder(3)
			w := b.param("w", ir.Weight, 2, 4, unitPrior)
			d := b.add(ir.Node{Op: ir.OpDense, Args: []int{0}, W: w, B: -1, Width: 4, Batch: true})
			return b.lik(ir.LikNormal, 0, 0, b.index(d, 0), b.konst(1)), d
		}, source.Shape},
		{"broadcast", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 4, unitPrior, unitPrior)
			e := b.dense(0, 3, unitPrior, unitPrior)
			s := b.add(ir.Node{Op: ir.OpAdd, Args: []int{d, e}, Width: 4, Batch: true})
			return b.lik(ir.LikNormal, 0, 0, b.index(s, 0), b.konst(1)), s
		}, source.Shape},
		{"index", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 2, unitPrior, unitPrior)
			i := b.index(d, 2)
			return b.lik(ir.LikNormal, 0, 0, i, b.konst(1)), i
		}, source.Shape},
		{"later arg", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 1, unitPrior, unitPrior)
			n := b.add(ir.Node{Op: ir.OpNeg, Args: []int{d + 1}, Width: 1, Batch: true})
			b.konst(1)
			return b.lik(ir.LikNormal, 0, 0, n, n), n
		}, source.Type},
		{"batch flag", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 1, unitPrior, unitPrior)
			b.node(d).Batch = false
			return b.lik(ir.LikNormal, 0, 0, d, b.konst(1)), d
		}, source.Shape},
		{"categorical classes", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 4, unitPrior, unitPrior)
			return b.lik(ir.LikCategorical, 0, 3, d), d
		}, source.Shape},
		{"normal loc width", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 2, unitPrior, unitPrior)
			return b.lik(ir.LikNormal, 0, 0, d, b.konst(1)), d
		}, source.Shape},
		{"prior scale", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 1, normalPrior(0, -1), unitPrior)
			return b.lik(ir.LikNormal, 0, 0, d, b.konst(1)), -2
		}, source.Type},
		{"student_t df", func() (*ir.Model, int) {
			b := newBuilder(3)
			d := b.dense(0, 2, unitPrior, unitPrior)
			return b.lik(ir.LikStudentT, 0, 0, b.index(d, 0), b.konst(1)), -1
		}, source.Type},
		{"param shape", func() (*ir.Model, int) {
			b := newBuilder(3)
			pv := b.prm("pv", 2, unitPrior)
			b.node(pv).Width = 3
			d := b.dense(0, 3, unitPrior, unitPrior)
			return b.lik(ir.LikNormal, 0, 0, b.index(b.bin(ir.OpAdd, d, pv), 0), b.konst(1)), pv
		}, source.Shape},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mod, at := c.build()
			_, err := Compile(mod)
			var list source.List
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("err = %v, want a source.List", err)
			}
			e := list[0]
			if e.Kind != c.kind {
				t.Errorf("kind %v, want %v (%v)", e.Kind, c.kind, e)
			}
			var want source.Span
			switch {
			case at >= 0:
				want = mod.Nodes[at].Span
			case at == -1:
				want = mod.Lik.Span
			default:
				want = mod.Params[0].Span
			}
			if e.Span != want {
				t.Errorf("span %v, want %v (%v)", e.Span, want, e)
			}
			t.Log(e)
		})
	}
}

func TestInit(t *testing.T) {
	b := newBuilder(400)
	h := b.dense(0, 50, unitPrior, unitPrior)
	o := b.bin(ir.OpAdd, b.dense(h, 1, unitPrior, unitPrior), b.prm("c", 1, normalPrior(2.5, 1)))
	mod := b.lik(ir.LikNormal, 0, 0, o, b.prm("zero", 1, unitPrior))
	p := mustCompile(t, mod)
	th := make([]float64, p.Dim())
	p.Init(th, rand.New(rand.NewPCG(1, 1)))
	w := mod.Params[0]
	_, v := meanVar(th[w.Offset : w.Offset+w.Size()])
	if math.Abs(v*400-1) > 0.05 {
		t.Errorf("first-layer weight variance %g, want 1/400", v)
	}
	for _, q := range mod.Params {
		t0 := th[q.Offset : q.Offset+q.Size()]
		switch {
		case q.Role == ir.Bias || q.Name == "zero":
			for _, x := range t0 {
				if x != 0 {
					t.Errorf("%s initialised to %v, want 0", q.Name, x)
				}
			}
		case q.Name == "c":
			if t0[0] != 2.5 {
				t.Errorf("c initialised to %v, want its prior location 2.5", t0[0])
			}
		}
	}
}

func TestPriors(t *testing.T) {
	for _, pr := range []ir.Prior{unitPrior, laplacePrior, studentPrior} {
		p := mustCompile(t, priorModel(pr))
		th := randomTheta(p, rand.New(rand.NewPCG(1, 1)))
		want := 0.0
		for _, v := range th {
			var lp float64
			switch pr.Family {
			case ir.PriorNormal:
				lp, _, _ = dist.NormalLogProb(v, pr.Loc, pr.Scale)
			case ir.PriorLaplace:
				lp, _ = dist.LaplaceLogProb(v, pr.Loc, pr.Scale)
			case ir.PriorStudentT:
				lp, _, _ = dist.StudentTLogProb(v, pr.DF, pr.Loc, pr.Scale)
			}
			want -= lp
		}
		if got := p.NegLogPrior(nil, th); relErr(got, want) > 1e-12 {
			t.Errorf("%v: NegLogPrior %v, want %v", pr.Family, got, want)
		}
		loc, scale, ok := p.PriorNormal()
		if ok != (pr.Family == ir.PriorNormal) {
			t.Errorf("%v: PriorNormal ok = %v", pr.Family, ok)
		}
		if ok {
			for j := range loc {
				if loc[j] != pr.Loc || scale[j] != pr.Scale {
					t.Fatalf("PriorNormal[%d] = %v, %v", j, loc[j], scale[j])
				}
			}
		}
	}
}

// One Program, several goroutines, each with its own Machine (run with -race).
func TestConcurrentMachines(t *testing.T) {
	mod := opsModel()
	p := mustCompile(t, mod)
	rng := rand.New(rand.NewPCG(4, 4))
	theta := randomTheta(p, rng)
	x, y := data(mod, 9, rng)
	want := make([]float64, p.Dim())
	wantLoss := p.NewMachine().NegLogLik(want, theta, x, y)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := p.NewMachine()
			g := make([]float64, p.Dim())
			for range 20 {
				if l := m.NegLogLik(g, theta, x, y); l != wantLoss {
					t.Errorf("loss %v, want %v", l, wantLoss)
					return
				}
			}
			for j := range g {
				if g[j] != want[j] {
					t.Errorf("gradient differs at %d", j)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A serial machine (Machine.SetSerial) computes what an ordinary one does:
// the same loss and gradients, MAP's and the local reparameterisation's, to
// rounding, on products large enough that the OpenBLAS build hands the
// ordinary machine's to OpenBLAS (run with -tags openblas too).
func TestSerialMachineAgrees(t *testing.T) {
	b := newBuilder(256)
	h := b.act(b.dense(0, 128, unitPrior, unitPrior), ir.ReLU)
	o := b.dense(h, 1, unitPrior, unitPrior)
	mod := b.lik(ir.LikNormal, 0, 0, o, b.konst(0.8))
	p := mustCompile(t, mod)
	rng := rand.New(rand.NewPCG(5, 1))
	theta := randomTheta(p, rng)
	sigma := make([]float64, p.Dim())
	for j := range sigma {
		sigma[j] = 0.01 + 0.1*rng.Float64()
	}
	x, y := data(mod, 64, rng) // 64 x 256 · 256 x 128: 2²¹ multiply-adds, above smallGemm
	plain, serial := p.NewMachine(), p.NewMachine()
	serial.SetSerial(true)
	run := func(m *Machine) (float64, []float64, float64, []float64, []float64) {
		g := make([]float64, p.Dim())
		l := m.NegLogLik(g, theta, x, y)
		gm, gs := make([]float64, p.Dim()), make([]float64, p.Dim())
		v := m.VarNegLogLik(gm, gs, theta, sigma, x, y, rand.New(rand.NewPCG(9, 9)))
		return l, g, v, gm, gs
	}
	l1, g1, v1, gm1, gs1 := run(plain)
	l2, g2, v2, gm2, gs2 := run(serial)
	if relErr(l1, l2) > 1e-12 || relErr(v1, v2) > 1e-12 {
		t.Fatalf("losses %v, %v (plain) vs %v, %v (serial)", l1, v1, l2, v2)
	}
	compareGrad(t, "NegLogLik", g2, g1, 1e-10)
	compareGrad(t, "VarNegLogLik d/dmu", gm2, gm1, 1e-10)
	compareGrad(t, "VarNegLogLik d/dsigma", gs2, gs1, 1e-10)
}
