package lang

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/tensorio"
	"gonum.org/v1/gonum/mat"
)

// ftSession is a session with a 3-class data set d (6 features, labels
// from a random network) and weights base holding the layers h1 (6 x 5),
// h2 (5 x 4) and out (4 x 3). Files go to a temporary directory. Results
// are collected by kind.
type ftSession struct {
	*Session
	dir     string
	results map[string][]Result
}

func newFTSession(t *testing.T) *ftSession {
	t.Helper()
	fs := &ftSession{dir: t.TempDir(), results: map[string][]Result{}}
	fs.Session = NewSession(&Config{Seed: 3, Samples: 20, Dir: fs.dir, Emit: func(r Result) {
		fs.results[string(r.Kind)] = append(fs.results[string(r.Kind)], r)
	}})
	rng := rand.New(rand.NewPCG(9, 9))
	var ts []tensorio.Tensor
	for _, l := range []struct {
		name    string
		in, out int
	}{{"h1", 6, 5}, {"h2", 5, 4}, {"out", 4, 3}} {
		w := make([]float64, l.in*l.out)
		for j := range w {
			w[j] = rng.NormFloat64() / math.Sqrt(float64(l.in))
		}
		b := make([]float64, l.out)
		for j := range b {
			b[j] = 0.1 * rng.NormFloat64()
		}
		ts = append(ts, tensorio.Tensor{Name: l.name + ".w", Shape: []int{l.in, l.out}, Data: w},
			tensorio.Tensor{Name: l.name + ".b", Shape: []int{l.out}, Data: b})
	}
	if err := fs.SetWeights("base", ts); err != nil {
		t.Fatal(err)
	}
	const n = 120
	x := mat.NewDense(n, 6, nil)
	y := make([]float64, n)
	teacher := mat.NewDense(6, 3, nil)
	for i := range 6 {
		for j := range 3 {
			teacher.Set(i, j, rng.NormFloat64())
		}
	}
	for r := range n {
		for c := range 6 {
			x.Set(r, c, rng.NormFloat64())
		}
		best, bv := 0, math.Inf(-1)
		for k := range 3 {
			v := mat.Dot(x.RowView(r), teacher.ColView(k))
			if v > bv {
				best, bv = k, v
			}
		}
		y[r] = float64(best)
	}
	if err := fs.SetData("d", x, y, &DataOptions{Classes: []string{"a", "b", "c"}}); err != nil {
		t.Fatal(err)
	}
	return fs
}

func (fs *ftSession) run(t *testing.T, src string) {
	t.Helper()
	if err := fs.Run(context.Background(), "ft.bl", []byte(src)); err != nil {
		var b strings.Builder
		source.Print(&b, err)
		t.Fatalf("%s", b.String())
	}
}

func (fs *ftSession) fit(name string) *FitSummary {
	for _, r := range fs.results["fit"] {
		if r.Name == name {
			return r.Fit
		}
	}
	return nil
}

const ftModels = `
model xs(x: 6) {
  h = dense(x, 5, from: base.h1, frozen, adapter: lora_xs(rank: 3)) |> tanh
  h = dense(h, 4, from: base.h2, frozen, adapter: lora_xs(rank: 3)) |> tanh
  y ~ categorical(logits: dense(h, 3, from: base.out, frozen, adapter: lora_xs(rank: 3)))
}
model lo(x: 6) {
  h = dense(x, 5, from: base.h1, frozen, adapter: lora(rank: 2)) |> tanh
  h = dense(h, 4, from: base.h2, frozen, adapter: lora(rank: 2)) |> tanh
  y ~ categorical(logits: dense(h, 3, from: base.out, frozen, adapter: lora(rank: 2)))
}
`

// docs/algorithms.md §4's parameter counts for a model with n = 3 adapted
// layers of different shapes: n·r² for LoRA-XS, Σ r·(d_in + d_out) for
// LoRA, times (K + 2) under SWAG; the fit summaries, the evaluate columns
// and :show agree.
func TestAdapterParameterCounts(t *testing.T) {
	fs := newFTSession(t)
	fs.run(t, ftModels+`
posterior a = fit xs on d using map(epochs: 2)
posterior b = fit xs on d using swag(epochs: 10, rank: 3)
posterior c = fit lo on d using map(epochs: 2)
posterior e = fit lo on d using swag(epochs: 10, rank: 3)
evaluate [a, b, c, e] on d: trainable, stored
`)
	const n, r, k = 3, 3, 3
	dims := [][2]int{{6, 5}, {5, 4}, {4, 3}}
	lora, frozen := 0, 0
	for _, d := range dims {
		lora += 2 * (d[0] + d[1]) // rank 2
		frozen += d[0]*d[1] + d[1]
	}
	want := map[string][2]int{"a": {n * r * r, n * r * r}, "b": {n * r * r, n * r * r * (k + 2)}, "c": {lora, lora}, "e": {lora, lora * (k + 2)}}
	tab := fs.results["evaluate"][0].Table
	for name, w := range want {
		f := fs.fit(name)
		if f.Params != w[0] || f.Adapters != w[0] || f.Stored != w[1] || f.Frozen != frozen {
			t.Errorf("%s: fit summary %+v, want %d trainable (all adapters), %d stored, %d frozen", name, f, w[0], w[1], frozen)
		}
		if got := [2]float64{cell(t, tab, name, "trainable"), cell(t, tab, name, "stored")}; got != [2]float64{float64(w[0]), float64(w[1])} {
			t.Errorf("%s: evaluate columns %v, want %v", name, got, w)
		}
	}
	var b strings.Builder
	fs.results["fit"][1].Format(&b)
	if !strings.Contains(b.String(), "27 trainable parameters (27 in adapters, 74 frozen), 135 stored numbers") {
		t.Errorf("fit line: %q", b.String())
	}
	show := fs.Describe("xs")
	for _, want := range []string{"27 trainable parameters (27 in adapters), 74 frozen (+81 in LoRA-XS projections)",
		"layer h1          6 x 5    frozen + lora_xs(rank: 3, alpha: 16): 9 trainable"} {
		if !strings.Contains(show, want) {
			t.Errorf(":show xs lacks %q:\n%s", want, show)
		}
	}
	if show := fs.Describe("base"); !strings.Contains(show, "weights base: 6 tensors, 74 numbers") || !strings.Contains(show, "h1.w                 [6 5]") {
		t.Errorf(":show base:\n%s", show)
	}
}

// Every backend works over adapters unchanged: the parameter vector is the
// adapters', and each fits, predicts and scores.
func TestBackendsOverAdapters(t *testing.T) {
	fs := newFTSession(t)
	methods := map[string]string{
		"map":      "map(epochs: 30, lr: 0.01)",
		"vi":       "vi(epochs: 30, lr: 0.01)",
		"swag":     "swag(epochs: 30, lr: 0.01)",
		"mswag":    "multiswag(members: 2, epochs: 20, lr: 0.01)",
		"sgld":     "sgld(epochs: 30, chains: 2)",
		"ensemble": "ensemble(members: 3, method: map(epochs: 20, lr: 0.01))",
		"lapdiag":  "laplace(hessian: diag, epochs: 30, lr: 0.01)",
		"lapll":    "laplace(epochs: 30, lr: 0.01, prior_precision: 10)",
	}
	src := ftModels
	var names []string
	for _, model := range []string{"xs", "lo"} {
		for m, call := range methods {
			name := model + "_" + m
			names = append(names, name)
			src += "posterior " + name + " = fit " + model + " on d using " + call + "\n"
		}
	}
	src += "evaluate [" + strings.Join(names, ", ") + "] on d: accuracy, nll\n"
	fs.run(t, src)
	tab := fs.results["evaluate"][0].Table
	for _, name := range names {
		acc, nll := cell(t, tab, name, "accuracy"), cell(t, tab, name, "nll")
		if math.IsNaN(nll) || math.IsInf(nll, 0) || acc < 0.34 {
			t.Errorf("%s: accuracy %.3f, nll %.3f", name, acc, nll)
		}
	}
}

func tensorsOf(t *testing.T, s *Session, name string) []tensorio.Tensor {
	t.Helper()
	w, err := s.Weights(name)
	if err != nil {
		t.Fatal(err)
	}
	return w.Tensors
}

// Weights saved and loaded back are exactly what was saved, in each
// format; point() exports one tensor per layer weight and bias plus the
// adapters' own, with the update merged into the weights.
func TestWeightsRoundTrip(t *testing.T) {
	fs := newFTSession(t)
	fs.run(t, ftModels+`
posterior p = fit xs on d using swag(epochs: 10)
weights w = point(p)
save w to "out/w.safetensors"
save w to "out/w.npz"
weights ws = load("out/w.safetensors")
weights wz = load("out/w.npz")
`)
	w := tensorsOf(t, fs.Session, "w")
	var names []string
	for _, x := range w {
		names = append(names, x.Name)
	}
	wantNames := []string{"h1.b", "h1.lora_xs.r", "h1.w", "h2.b", "h2.lora_xs.r", "h2.w", "out.b", "out.lora_xs.r", "out.w",
		"scaler.x_mean", "scaler.x_sd", "scaler.y_mean", "scaler.y_sd"} // the standardisation goes with them
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("point tensors %v, want %v", names, wantNames)
	}
	for _, other := range []string{"ws", "wz"} {
		if got := tensorsOf(t, fs.Session, other); !reflect.DeepEqual(got, w) {
			t.Errorf("%s differs from what was saved", other)
		}
	}
	// The merged weight differs from the base by the adapter's update, and
	// the biases are the frozen ones.
	base := tensorsOf(t, fs.Session, "base")
	if w[2].Name != "h1.w" || base[1].Name != "h1.w" || reflect.DeepEqual(w[2].Data, base[1].Data) || !reflect.DeepEqual(w[0].Data, base[0].Data) {
		t.Error("h1.w should hold the merged update and h1.b the frozen bias")
	}

	// .npy holds one array named after the file.
	if err := fs.SetWeights("one", []tensorio.Tensor{{Name: "lin.w", Shape: []int{2, 3}, Data: []float64{1, -2, 3.25, math.Pi, 1e-300, 5}}}); err != nil {
		t.Fatal(err)
	}
	fs.run(t, `save one to "out/lin.w.npy"
weights back = load("out/lin.w.npy")`)
	if !reflect.DeepEqual(tensorsOf(t, fs.Session, "back"), tensorsOf(t, fs.Session, "one")) {
		t.Error(".npy round trip differs")
	}
	for src, want := range map[string]string{
		`save w to "out/w.npy"`:       "a .npy file holds one array, and w has 13 tensors",
		`save one to "out/other.npy"`: `a .npy file's array is named after the file, and one's tensor is "lin.w": save it to "out/lin.w.npy"`,
	} {
		err := fs.Run(context.Background(), "e.bl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}

// A fitted adapter posterior saved to a file loads in a session that has
// never seen its weights and predicts exactly as before.
func TestAdapterPosteriorRoundTrip(t *testing.T) {
	fs := newFTSession(t)
	fs.run(t, ftModels+`
posterior bxs = fit xs on d using swag(epochs: 10)
posterior l = fit lo on d using map(epochs: 5)
save bxs to "out/bxs.post"
save l to "out/l.post"
`)
	for _, name := range []string{"bxs", "l"} {
		p := posteriorOf(t, fs.Session, name)
		back, err := LoadPosterior(filepath.Join(fs.dir, "out", name+".post"))
		if err != nil {
			t.Fatal(err)
		}
		in := mat.NewDense(4, 6, []float64{0.1, 0.2, -0.3, 1, 2, -1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, -2, 0.5, 0.25, 3, -1, 0})
		a, err := p.predictAt(context.Background(), in, 10, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := back.predictAt(context.Background(), in, 10, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.LogProb, b.LogProb) {
			t.Errorf("%s: predictions differ after a round trip through a file", name)
		}
		if !reflect.DeepEqual(p.prog.Consts(), back.prog.Consts()) {
			t.Errorf("%s: constants differ after a round trip", name)
		}
	}
}

// A weights value that does not fit a layer is an error at the from:
// argument, naming what was expected and what was found.
func TestFrozenWeightsErrors(t *testing.T) {
	cases := []struct {
		layer string
		kind  source.Kind
		msg   string
	}{
		{`dense(x, 5, from: base.h3, frozen)`, source.Name, `weights base: tensor "h3.w": not found; did you mean "h1.w"? (tensors: h1.b, h1.w, h2.b, h2.w, out.b, out.w)`},
		{`dense(x, 4, from: base.h1, frozen)`, source.Shape, `weights base: tensor "h1.w" has shape [6 5], but layer h1 (6 inputs, 4 units) needs a weight of shape [6 4]`},
		{`dense(x, 5, from: base.h1t, frozen)`, source.Shape, `tensor "h1t.w" has shape [5 6], but layer h1t (6 inputs, 5 units) needs a weight of shape [6 5]`},
		{`dense(x, 5, from: base.nob, frozen)`, source.Name, `weights base: tensor "nob.b": not found`},
		{`dense(x, 5, from: base.bad, frozen)`, source.Shape, `tensor "bad.b" has shape [4], but layer bad needs a bias of shape [5]`},
	}
	for _, c := range cases {
		fs := newFTSession(t)
		extra := []tensorio.Tensor{
			{Name: "h1t.w", Shape: []int{5, 6}, Data: make([]float64, 30)}, {Name: "h1t.b", Shape: []int{5}, Data: make([]float64, 5)},
			{Name: "nob.w", Shape: []int{6, 5}, Data: make([]float64, 30)},
			{Name: "bad.w", Shape: []int{6, 5}, Data: make([]float64, 30)}, {Name: "bad.b", Shape: []int{4}, Data: make([]float64, 4)},
		}
		base := tensorsOf(t, fs.Session, "base")
		if c.layer != cases[0].layer {
			if err := fs.SetWeights("base", append(base, extra...)); err != nil {
				t.Fatal(err)
			}
		}
		src := "model m(x: 6) {\n  h = " + c.layer + "\n  y ~ categorical(logits: dense(h, 3))\n}\n"
		err := fs.Run(context.Background(), "m.bl", []byte(src))
		var list source.List
		if !errors.As(err, &list) || len(list) != 1 {
			t.Errorf("%s: error %v, want one positioned error", c.layer, err)
			continue
		}
		e := list[0]
		col := strings.Index(c.layer, "base.") + len("  h = ") + 1
		if e.Kind != c.kind || e.Span.Start.Line != 2 || e.Span.Start.Col != col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s:\n got %v at %d:%d: %s\nwant %v at 2:%d: %s", c.layer, e.Kind, e.Span.Start.Line, e.Span.Start.Col, e.Msg, c.kind, col, c.msg)
		}
		if c.layer == cases[2].layer && !strings.Contains(e.Msg, "looks transposed") {
			t.Errorf("a transposed weight should say so: %s", e.Msg)
		}
	}

	// Other runtime failures: a weights file that is not there, point() of
	// an ensemble, and a model with nothing to fit.
	fs := newFTSession(t)
	for src, want := range map[string]string{
		`weights w = load("missing.safetensors")`: "cannot open",
		"model m(x: 6) {\n  y ~ categorical(logits: dense(x, 3))\n}\nposterior e = fit m on d using ensemble(members: 2, method: map(epochs: 1))\nweights w = point(e)": "a ensemble posterior is several networks in different modes",
		"model f(x: 6) {\n  h = dense(x, 5, from: base.h1, frozen)\n  y ~ categorical(logits: dense(h, 3, from: base.h2, frozen))\n}":                                   "",
	} {
		err := fs.Run(context.Background(), "e.bl", []byte(src))
		if want == "" {
			if err == nil || !strings.Contains(err.Error(), "h2.w") {
				t.Errorf("a shape mismatch in the last layer: %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	fs.run(t, "model allfrozen(x: 6) {\n  h = dense(x, 5, from: base.h1, frozen) |> tanh\n  h = dense(h, 4, from: base.h2, frozen) |> tanh\n  y ~ categorical(logits: dense(h, 3, from: base.out, frozen))\n}")
	if err := fs.Run(context.Background(), "e.bl", []byte("posterior p = fit allfrozen on d using map")); err == nil || !strings.Contains(err.Error(), "no trainable parameters") {
		t.Errorf("fitting a frozen model: %v", err)
	}
	// A model keeps the weights it was defined with, even when their name
	// is bound to other weights before the fit.
	fs.run(t, ftModels)
	fs.run(t, `weights base = load("`+writeTestWeights(t, fs.dir)+`")`)
	fs.run(t, "posterior p = fit xs on d using map(epochs: 1)")
	if show := fs.Describe("base"); !strings.Contains(show, "1 tensors") {
		t.Errorf("base was not rebound: %s", show)
	}
}

// writeTestWeights writes a small safetensors file and returns its path.
func writeTestWeights(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "tiny.safetensors")
	if err := tensorio.WriteSafetensors(path, []tensorio.Tensor{{Name: "z.w", Shape: []int{1, 1}, Data: []float64{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
