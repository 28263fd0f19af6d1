package compile

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// checkModel checks a script holding one model whose from: arguments name
// the weights values in weights.
func checkModel(t testing.TB, src string, weights ...string) *ir.Model {
	t.Helper()
	f, err := parser.Parse("m.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	scope := ir.NewScope()
	for _, w := range weights {
		scope.Bind(w, ir.WeightsT)
	}
	prog, err := ir.Check(f, scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Stmts[0].(*ir.DefineModel).Model
}

// tensorValues draws the model's tensor constants: the same tensor of the
// same weights value gets the same numbers, whatever model asks for it.
func tensorValues(m *ir.Model, seed uint64) [][]float64 {
	out := make([][]float64, len(m.Consts))
	for k, c := range m.Consts {
		if c.Kind != ir.ConstTensor {
			continue
		}
		h := uint64(0)
		for _, b := range []byte(c.Weights + "/" + c.Tensor) {
			h = h*131 + uint64(b)
		}
		rng := rand.New(rand.NewPCG(seed, h))
		v := make([]float64, c.Size())
		for j := range v {
			v[j] = rng.NormFloat64() / math.Sqrt(float64(c.Rows))
		}
		out[k] = v
	}
	return out
}

func compileWith(t testing.TB, m *ir.Model, seed uint64) *Program {
	t.Helper()
	p, err := CompileWith(m, tensorValues(m, seed))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// adapted is a model whose three layers are frozen, the first two with an
// adapter of the given kind; head is "frozen" (an adapted head too) or
// "trainable" (a new head, as in fine-tuning).
func adapted(kind, head string) string {
	out := `dense(h, 3, from: base.out, frozen, adapter: KIND(rank: 2, alpha: 3))`
	if head == "trainable" {
		out = `dense(h, 3, name: "head")`
	}
	return strings.ReplaceAll(`model ft(x: 6) {
  h = dense(x, 5, from: base.h1, frozen, adapter: KIND(rank: 2, alpha: 3)) |> tanh
  h = dense(h, 4, from: base.h2, frozen, adapter: KIND(rank: 3)) |> tanh
  y ~ categorical(logits: `+out+`)
}`, "KIND", kind)
}

// adaptedRegression puts the adapter on the output layer of a
// heteroscedastic regression model.
func adaptedRegression(kind string) string {
	return strings.ReplaceAll(`model ft(x: 3) {
  h = dense(x, 4, from: base.h1, frozen) |> tanh
  o = dense(h, 2, from: base.out, frozen, adapter: KIND(rank: 2))
  y ~ normal(o[0], softplus(o[1]) + 0.1)
}`, "KIND", kind)
}

type adapterCase struct {
	name string
	src  string
}

func adapterCases() []adapterCase {
	var cs []adapterCase
	for _, k := range []string{"lora", "lora_xs"} {
		cs = append(cs,
			adapterCase{k + "/frozen-head", adapted(k, "frozen")},
			adapterCase{k + "/new-head", adapted(k, "trainable")},
			adapterCase{k + "/regression", adaptedRegression(k)},
		)
	}
	return cs
}

// Gradients of the ordinary and the local-reparameterisation passes of
// adapted layers against finite differences.
func TestAdapterGradients(t *testing.T) {
	for k, c := range adapterCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 21))
			m := checkModel(t, c.src, "base")
			p := compileWith(t, m, 1)
			mach := p.NewMachine()
			theta := randomTheta(p, rng)
			x, y := data(m, 5, rng)

			grad := make([]float64, p.Dim())
			mach.NegLogLik(grad, theta, x, y)
			p.NegLogPrior(grad, theta)
			num := numGrad(func(th []float64) float64 {
				return mach.NegLogLik(nil, th, x, y) + p.NegLogPrior(nil, th)
			}, theta)
			compareGrad(t, "NegLogLik+NegLogPrior", grad, num, 1e-6)

			sigma := make([]float64, p.Dim())
			for j := range sigma {
				sigma[j] = 0.05 + 0.35*rng.Float64()
			}
			vf := func(mu, sg []float64) float64 {
				return mach.VarNegLogLik(nil, nil, mu, sg, x, y, rand.New(rand.NewPCG(42, 7)))
			}
			gMu, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
			mach.VarNegLogLik(gMu, gSig, theta, sigma, x, y, rand.New(rand.NewPCG(42, 7)))
			compareGrad(t, "VarNegLogLik d/dmu", gMu, numGrad(func(mu []float64) float64 { return vf(mu, sigma) }, theta), 1e-6)
			compareGrad(t, "VarNegLogLik d/dsigma", gSig, numGrad(func(sg []float64) float64 { return vf(theta, sg) }, sigma), 1e-6)

			// The output capability (distillation) goes through the same nodes.
			og := make([]float64, p.Dim())
			cw := make([]float64, 5*p.OutputWidth())
			for j := range cw {
				cw[j] = rng.NormFloat64()
			}
			mach.OutputGrad(og, theta, x, outputLoss(cw))
			compareGrad(t, "OutputGrad", og, numGrad(func(th []float64) float64 {
				return mach.OutputGrad(nil, th, x, outputLoss(cw))
			}, theta), 1e-6)
		})
	}
}

// merged builds the plain model with the adapted model's layers as ordinary
// trainable dense layers, and the θ that gives them the adapted model's
// effective weights (LayerWeights). It is the reference the adapted model's
// chain of thin products must agree with.
func merged(t *testing.T, p *Program, theta []float64) (*Program, []float64) {
	t.Helper()
	src := p.Model()
	b := newBuilder(src.InputWidth)
	var th []float64
	ids := map[int]int{0: 0}
	for _, n := range src.Nodes[1:] {
		switch {
		case n.Op == ir.OpConst:
			ids[n.ID] = b.konst(n.Value)
		case n.Op == ir.OpAct:
			ids[n.ID] = b.act(ids[n.Args[0]], n.Act)
		case n.Op == ir.OpIndex:
			ids[n.ID] = b.index(ids[n.Args[0]], n.Col)
		case n.Op == ir.OpAdd || n.Op == ir.OpMul:
			if x, ok := ids[n.Args[0]]; ok {
				if y, ok := ids[n.Args[1]]; ok {
					ids[n.ID] = b.bin(n.Op, x, y)
				}
			}
		}
		for _, l := range src.Layers {
			if l.Node != n.ID {
				continue
			}
			bp := normalPrior(0, 1)
			if l.B < 0 {
				bp.Scale = 0
			}
			ids[n.ID] = b.dense(ids[layerInput(src, l)], l.Out, normalPrior(0, 1), bp)
			w, bias := p.LayerWeights(l, theta)
			th = append(th, w...)
			th = append(th, bias...)
		}
	}
	lik := src.Lik
	args := make([]int, len(lik.Args))
	for j, a := range lik.Args {
		args[j] = ids[a]
	}
	mm := b.lik(lik.Family, lik.DF, lik.Classes, args...)
	return mustCompile(t, mm), th
}

// layerInput returns the node a layer's main product reads.
func layerInput(m *ir.Model, l *ir.Layer) int {
	op := ir.OpDense
	if l.Frozen {
		op = ir.OpFrozen
	}
	for _, n := range m.Nodes {
		if n.Op == op && n.W == l.W {
			return n.Args[0]
		}
	}
	panic("no main node for layer " + l.Name)
}

// The adapted layers compute x·W + b + s·x·A·R·B: against the same network
// with the update merged into its weights, in the loss, the outputs and
// every mode of Predict.
func TestAdapterMatchesMergedWeights(t *testing.T) {
	for k, c := range adapterCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 22))
			m := checkModel(t, c.src, "base")
			p := compileWith(t, m, 2)
			const s, n = 3, 9
			x, y := data(m, n, rng)
			thetas := make([][]float64, s)
			for i := range thetas {
				thetas[i] = randomTheta(p, rng)
			}
			ref, refTheta := merged(t, p, thetas[0])
			if got, want := p.NewMachine().NegLogLik(nil, thetas[0], x, y), ref.NewMachine().NegLogLik(nil, refTheta, x, y); relErr(got, want) > 1e-12 {
				t.Errorf("NegLogLik %.15g, merged weights %.15g", got, want)
			}
			refThetas := make([][]float64, s)
			for i := range thetas {
				_, refThetas[i] = merged(t, p, thetas[i])
			}
			var want predictive.Predictive
			ref.NewMachine().Predict(&want, refThetas, x)
			for _, mode := range []struct {
				name       string
				noWide     bool
				pack, wide int
				rows       int
			}{{"wide", false, packBudget, wideBudget, predictRows}, {"per-sample", true, packBudget, wideBudget, predictRows}, {"chunked", false, 30, 20, 4}} {
				mach := p.NewMachine()
				mach.noWide, mach.packBudget, mach.wideBudget, mach.maxRows = mode.noWide, mode.pack, mode.wide, mode.rows
				var got predictive.Predictive
				mach.Predict(&got, thetas, x)
				a, b := got.LogProb, want.LogProb
				if got.Kind == predictive.Regression {
					a, b = append(got.Loc, got.Scale...), append(want.Loc, want.Scale...)
				}
				for j := range a {
					if relErr(a[j], b[j]) > 1e-12 {
						t.Fatalf("%s: Predict differs at %d: %v vs merged %v", mode.name, j, a[j], b[j])
					}
				}
			}
		})
	}
}

// docs/algorithms.md §4 sanity: with R = 0 (LoRA: B = 0) the adapted layer
// returns exactly the frozen layer's output; with R = I/s at full rank a
// LoRA-XS layer returns x·2W + b.
func TestAdapterAtZero(t *testing.T) {
	frozen := checkModel(t, `model f(x: 6) {
  h = dense(x, 5, from: base.h1, frozen) |> tanh
  h = dense(h, 4, from: base.h2, frozen) |> tanh
  y ~ categorical(logits: dense(h, 3, from: base.out, frozen))
}`, "base")
	pf := compileWith(t, frozen, 3)
	if pf.Dim() != 0 {
		t.Fatalf("a fully frozen model has %d parameters", pf.Dim())
	}
	rng := rand.New(rand.NewPCG(3, 3))
	x, _ := data(frozen, 7, rng)
	want := mat.NewDense(7, 3, nil)
	pf.NewMachine().Outputs(want, nil, x)
	for _, kind := range []string{"lora", "lora_xs"} {
		m := checkModel(t, adapted(kind, "frozen"), "base")
		p := compileWith(t, m, 3)
		theta := make([]float64, p.Dim())
		p.Init(theta, rng) // LoRA: B = 0, A random
		if kind == "lora_xs" {
			clear(theta) // R = 0
		}
		got := mat.NewDense(7, 3, nil)
		p.NewMachine().Outputs(got, theta, x)
		if !mat.Equal(got, want) {
			t.Errorf("%s at zero: outputs differ from the frozen network's:\n%v\n%v", kind, mat.Formatted(got), mat.Formatted(want))
		}
	}

	// R = I/s at full rank: x(W + AB) + b = x·2W + b.
	one := checkModel(t, `model f(x: 6) {
  o = dense(x, 4, from: base.h, frozen, adapter: lora_xs(rank: 4, alpha: 2))
  y ~ normal(o[0], 1)
}`, "base")
	p := compileWith(t, one, 4)
	theta := make([]float64, 16)
	for i := range 4 {
		theta[i*4+i] = 1 / 0.5 // s = alpha/rank = 0.5
	}
	w, b := p.LayerWeights(one.Layers[0], theta)
	base := tensorValues(one, 4)
	for j := range w {
		if math.Abs(w[j]-2*base[0][j]) > 1e-10 {
			t.Fatalf("W + s·A·R·B at R = I/s: entry %d is %.15g, want 2W = %.15g", j, w[j], 2*base[0][j])
		}
	}
	for j := range b {
		if b[j] != base[1][j] {
			t.Fatalf("bias changed: %v vs %v", b, base[1])
		}
	}
}

// docs/algorithms.md §7 sanity (iii) for adapters: for a fixed input the output
// under local reparameterisation has the mean and variance of the output
// under direct sampling of the adapter's parameters.
func TestAdapterLRTMoments(t *testing.T) {
	for _, kind := range []string{"lora", "lora_xs"} {
		t.Run(kind, func(t *testing.T) {
			m := checkModel(t, strings.ReplaceAll(`model f(x: 3) {
  h = dense(x, 4, from: base.h, frozen, adapter: KIND(rank: 2)) |> tanh
  o = dense(h, 1, from: base.o, frozen, adapter: KIND(rank: 1))
  y ~ normal(o[0], 1)
}`, "KIND", kind), "base")
			p := compileWith(t, m, 5)
			rng := rand.New(rand.NewPCG(5, 6))
			mu := randomTheta(p, rng)
			sigma := make([]float64, p.Dim())
			for j := range sigma {
				sigma[j] = 0.1 + 0.3*rng.Float64()
			}
			in := []float64{0.8, -1.1, 0.4}
			const n = 20000
			x := mat.NewDense(n, 3, nil)
			for r := range n {
				x.SetRow(r, in)
			}
			mach := p.NewMachine()
			mach.VarNegLogLik(nil, nil, mu, sigma, x, make([]float64, n), rng)
			o := m.Lik.Args[0]
			lrtMean, lrtVar := meanVar(mach.val[o])

			thetas := make([][]float64, n)
			for s := range thetas {
				th := make([]float64, p.Dim())
				for j := range th {
					th[j] = mu[j] + sigma[j]*rng.NormFloat64()
				}
				thetas[s] = th
			}
			var pr predictive.Predictive
			mach.Predict(&pr, thetas, mat.NewDense(1, 3, in))
			dirMean, dirVar := meanVar(pr.Loc)
			sd := math.Sqrt(dirVar)
			if d := math.Abs(lrtMean - dirMean); d > 4*sd*math.Sqrt(2.0/n) {
				t.Errorf("means differ: LRT %.5f, direct %.5f (sd %.4f)", lrtMean, dirMean, sd)
			}
			if r := lrtVar / dirVar; math.Abs(r-1) > 4*math.Sqrt(2.0/n)*math.Sqrt(2) {
				t.Errorf("variances differ: LRT %.5f, direct %.5f", lrtVar, dirVar)
			}
		})
	}
}

// The GGN's diagonal and the last-layer GGN over adapters against the
// explicit Σ JᵀΛJ. The last layer is the last trainable link: the head
// adapter's R (LoRA-XS) or B (LoRA), or the new head.
func TestAdapterGGN(t *testing.T) {
	for k, c := range adapterCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 23))
			m := checkModel(t, c.src, "base")
			p := compileWith(t, m, 6)
			theta := randomTheta(p, rng)
			x, y := data(m, 5, rng)
			want := explicitGGN(p, theta, x, y)
			got := make([]float64, p.Dim())
			mach := p.NewMachine()
			mach.GGNDiag(got, theta, x)
			wd := make([]float64, p.Dim())
			for j := range wd {
				wd[j] = want.At(j, j)
			}
			compareGrad(t, "GGN diagonal", got, wd, 1e-6)

			ll, ok := p.LastLayer()
			if !ok {
				t.Fatal("no last layer")
			}
			last := m.Params[len(m.Params)-1]
			if c.name == "lora/new-head" || c.name == "lora_xs/new-head" {
				last = m.Params[len(m.Params)-2] // head.w; head.b comes after
			}
			if ll.WOff != last.Offset {
				t.Errorf("last layer at θ offset %d, want %s at %d", ll.WOff, last.Name, last.Offset)
			}
			idx := ll.Params()
			nn := len(idx)
			gl := make([]float64, nn*nn)
			mach.LastLayerGGN(gl, theta, x)
			wl := make([]float64, nn*nn)
			for i, a := range idx {
				for j, b := range idx {
					wl[i*nn+j] = want.At(a, b)
				}
			}
			compareGrad(t, "last-layer GGN", gl, wl, 1e-6)
		})
	}
}

// Adapter steps allocate nothing, like any other step.
func TestAdapterAllocs(t *testing.T) {
	for _, kind := range []string{"lora", "lora_xs"} {
		m := checkModel(t, exampleModel(kind, 4), "base")
		p := compileWith(t, m, 7)
		rng := rand.New(rand.NewPCG(7, 7))
		theta := make([]float64, p.Dim())
		p.Init(theta, rng)
		sigma := make([]float64, p.Dim())
		for j := range sigma {
			sigma[j] = 0.01
		}
		x, y := data(m, 128, rng)
		mach := p.NewMachine()
		grad, gSig := make([]float64, p.Dim()), make([]float64, p.Dim())
		mach.NegLogLik(grad, theta, x, y)
		mach.VarNegLogLik(grad, gSig, theta, sigma, x, y, rng)
		mach.GGNDiag(grad, theta, x)
		if a := testing.AllocsPerRun(10, func() { mach.NegLogLik(grad, theta, x, y) }); a != 0 {
			t.Errorf("%s: NegLogLik with gradient allocates %v times per call", kind, a)
		}
		if a := testing.AllocsPerRun(10, func() { mach.VarNegLogLik(grad, gSig, theta, sigma, x, y, rng) }); a != 0 {
			t.Errorf("%s: VarNegLogLik allocates %v times per call", kind, a)
		}
		if a := testing.AllocsPerRun(10, func() { mach.GGNDiag(grad, theta, x) }); a != 0 {
			t.Errorf("%s: GGNDiag allocates %v times per call", kind, a)
		}
	}
}

// A constant without a value, of the wrong size or not finite is an error
// naming it.
func TestCompileWithErrors(t *testing.T) {
	m := checkModel(t, `model f(x: 3) {
  o = dense(x, 2, from: base.h, frozen, adapter: lora_xs(rank: 2))
  y ~ normal(o[0], 1)
}`, "base")
	if _, err := Compile(m); err == nil || !strings.Contains(err.Error(), "h.w") {
		t.Errorf("Compile without values: %v, want an error naming h.w", err)
	}
	vals := tensorValues(m, 1)
	vals[0] = vals[0][:5]
	if _, err := CompileWith(m, vals); err == nil || !strings.Contains(err.Error(), "6 values") {
		t.Errorf("short constant: %v", err)
	}
	vals = tensorValues(m, 1)
	vals[1][1] = math.Inf(1)
	if _, err := CompileWith(m, vals); err == nil || !strings.Contains(err.Error(), "+Inf") {
		t.Errorf("infinite constant: %v", err)
	}
	if _, err := CompileWith(m, vals[:1]); err == nil {
		t.Error("too few values: no error")
	}
}

// A layer written with from: but not frozen starts at the tensor's values.
func TestInitFromTensor(t *testing.T) {
	m := checkModel(t, `model f(x: 3) {
  o = dense(x, 2, from: base.h)
  y ~ normal(o[0], 1)
}`, "base")
	p := compileWith(t, m, 8)
	theta := make([]float64, p.Dim())
	p.Init(theta, rand.New(rand.NewPCG(1, 1)))
	vals := tensorValues(m, 8)
	for j := range 6 {
		if theta[j] != vals[0][j] {
			t.Fatalf("θ[%d] = %v, want %v", j, theta[j], vals[0][j])
		}
	}
	for j := range 2 {
		if theta[6+j] != vals[1][j] {
			t.Fatalf("bias θ[%d] = %v, want %v", 6+j, theta[6+j], vals[1][j])
		}
	}
}

// exampleModel is the MLP 64-128-128-10 of the benchmarks with every layer
// frozen and adapted (kind "full": every layer trainable, as before).
func exampleModel(kind string, rank int) string {
	if kind == "full" {
		return `model f(x: 64) {
  h = dense(x, 128) |> relu
  h = dense(h, 128) |> relu
  y ~ categorical(logits: dense(h, 10))
}`
	}
	a := kind + "(rank: " + strconv.Itoa(rank) + ")"
	return `model f(x: 64) {
  h = dense(x, 128, from: base.h1, frozen, adapter: ` + a + `) |> relu
  h = dense(h, 128, from: base.h2, frozen, adapter: ` + a + `) |> relu
  y ~ categorical(logits: dense(h, 10, from: base.out, frozen, adapter: ` + a + `))
}`
}
