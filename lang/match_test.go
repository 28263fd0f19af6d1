package lang

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/gp"
	"github.com/bayesl/bayesl/stdlib/tensorio"
	"gonum.org/v1/gonum/mat"
)

// runScript runs src in a fresh session writing into a temporary
// directory, and returns the session, every result and the directory.
func runScript(t *testing.T, src string, cfg *Config) (*Session, []Result, string) {
	t.Helper()
	dir := t.TempDir()
	var results []Result
	c := Config{Seed: 1, Samples: 50}
	if cfg != nil {
		c = *cfg
	}
	c.Dir = dir
	c.Emit = func(r Result) { results = append(results, r) }
	s := NewSession(&c)
	if err := s.Run(context.Background(), "t.bl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	return s, results, dir
}

func matchResult(t *testing.T, results []Result, name string) *MatchSummary {
	t.Helper()
	for _, r := range results {
		if r.Kind == "match" && r.Name == name {
			return r.Match
		}
	}
	t.Fatalf("no match result for %s", name)
	return nil
}

// priorCovariance estimates the covariance of a model's output at x from
// draws of its prior.
func priorCovariance(t *testing.T, s *Session, name string, x *mat.Dense, draws int, rng *rand.Rand) *mat.SymDense {
	t.Helper()
	def, ok := s.values[name].(*ir.DefineModel)
	if !ok {
		t.Fatalf("%s is not a model", name)
	}
	prog, err := s.program(def.Model)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := x.Dims()
	f := mat.NewDense(draws, n, nil)
	theta := make([]float64, prog.Dim())
	out := mat.NewDense(n, 1, nil)
	mach := prog.NewMachine()
	for s := range draws {
		drawPrior(theta, def.Model, rng)
		mach.Outputs(out, theta, x)
		f.SetRow(s, out.RawMatrix().Data)
	}
	var c mat.Dense
	mean := make([]float64, n)
	if err := gp.SampleRoot(&c, mean, f); err != nil {
		t.Fatal(err)
	}
	var cov mat.SymDense
	cov.SymOuterK(1, &c)
	return &cov
}

// TestMatchPriorRBF: matching a 1-16-1 network with a rational activation
// and N(0, 1) priors to an RBF GP cuts W2²/n at least 50-fold, and the
// matched prior's covariance at six fresh points, from 4000 prior draws,
// is within 0.3 of the kernel's in every entry (the kernel's variance is
// 1; the unmatched prior's entries are off by about 30). Over seeds 1-8
// the reduction was 123x-220x and the largest entry error 0.07-0.2 (the
// Monte-Carlo error of the check itself is about 0.02).
func TestMatchPriorRBF(t *testing.T) {
	src := `model net(x: 1) {
  h = dense(x, 16) |> rational
  y ~ normal(dense(h, 1)[0], 0.1)
}
model net_gp = match prior of net to gp(rbf(lengthscale: 1)) over uniform(-2, 2, 24) using w2(steps: 300, samples: 32, lr: 0.02)
`
	s, results, _ := runScript(t, src, nil)
	m := matchResult(t, results, "net_gp")
	t.Logf("W2²/n %.4f -> %.4f (%.0fx) in %.2fs", m.Before, m.After, m.Before/m.After, m.Seconds)
	if !(m.After < m.Before/50) {
		t.Errorf("W2²/n %.4f -> %.4f: want at least a 50-fold reduction", m.Before, m.After)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	x := mat.NewDense(6, 1, nil)
	for i := range 6 {
		x.Set(i, 0, -2+4*rng.Float64())
	}
	var k mat.SymDense
	if err := gp.Matrix(&k, gp.RBF{Lengthscale: 1, Variance: 1}, x); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"net", "net_gp"} {
		cov := priorCovariance(t, s, name, x, 4000, rng)
		worst := 0.0
		for i := range 6 {
			for j := range 6 {
				worst = max(worst, math.Abs(cov.At(i, j)-k.At(i, j)))
			}
		}
		t.Logf("%s: largest covariance error %.3f", name, worst)
		if name == "net_gp" && worst > 0.3 {
			t.Errorf("matched prior covariance differs from the kernel's by %.3f > 0.3", worst)
		}
		if name == "net" && worst < 1 {
			t.Errorf("the unmatched prior's covariance is within %.3f of the kernel's; the test says nothing", worst)
		}
	}
}

// TestMatchedModelIsAModel: a matched model (here rebinding its own name)
// is a model like any other: simulate and fit take it, a posterior of it
// carries its matched priors and coefficients as source text, and the
// saved posterior loads without the match and predicts the same.
func TestMatchedModelIsAModel(t *testing.T) {
	src := `model net(x: 1) {
  prior weights ~ normal(0, 1) scaled fan_in
  param s ~ normal(1, 1)
  h = dense(x, 8) |> periodic
  o = dense(h, 1)
  y ~ normal(o[0] * s, 0.5)
}
model net = match prior of net to gp(matern52(lengthscale: 1)) over uniform(-2, 2, 16) using w2(steps: 20, samples: 8)
data d = simulate(net, inputs: -2 .. 2, n: 40, seed: 3)
posterior p = fit net on d using map(epochs: 20)
save p to "p.post"
posterior q = load("p.post")
`
	s, _, dir := runScript(t, src, nil)
	def := s.values["net"].(*ir.DefineModel)
	p := s.values["p"].(*Posterior)
	q := s.values["q"].(*Posterior)
	if p.model != def.Model {
		t.Fatal("the fit did not use the matched model")
	}
	for _, want := range []string{"model net(x: 1) {", "param s ~ normal(1, ", "prior: normal(0, ", "bias_prior: normal(0, ", "|> periodic(frequencies: ["} {
		if !strings.Contains(p.ModelText, want) {
			t.Errorf("the posterior's model text lacks %q:\n%s", want, p.ModelText)
		}
	}
	for k, pr := range def.Model.Params {
		if lp := q.model.Params[k]; lp.Prior.Family != pr.Prior.Family || lp.Prior.Loc != pr.Prior.Loc || lp.Prior.Scale != pr.Prior.Scale {
			t.Errorf("loaded %s prior %v, want %v", lp.Name, lp.Prior, pr.Prior)
		}
	}
	if sc := def.Model.Params[0].Prior.Scale; sc == 1 {
		t.Errorf("param s kept its scale 1: not matched")
	}
	x := mat.NewDense(3, 1, []float64{-1, 0, 1})
	a, err := p.predictAt(context.Background(), x, 5, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.predictAt(context.Background(), x, 5, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Loc {
		if a.Loc[i] != b.Loc[i] {
			t.Fatalf("prediction %d: %v before saving, %v after loading", i, a.Loc[i], b.Loc[i])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "p.post")); err != nil {
		t.Error(err)
	}
}

// TestSimulateLinearMoments: data simulated from y = w·x + b + ε with
// w, b ~ N(0, 1) and ε ~ N(0, 0.5²) have, at each input x, mean 0 and
// variance x² + 1 + 0.25 (4000 data sets; tolerance four standard errors).
// The data set column selects one data set, and the table round-trips
// through CSV and NPY.
func TestSimulateLinearMoments(t *testing.T) {
	src := `model lin(x: 1) {
  y ~ normal(dense(x, 1)[0], 0.5)
}
data synth = simulate(lin, inputs: -2 .. 2, n: 5, datasets: 4000, seed: 1)
let seventh = where(synth, dataset == 7)
save synth to "s.csv"
save seventh to "s7.npy"
data g = gmm_prior(seed: 5)
data g2 = gmm_prior(seed: 5)
save g to "g.csv"
`
	s, _, dir := runScript(t, src, nil)
	d := s.values["synth"].(*data.Dataset)
	if d.Rows() != 20000 || d.GroupName != "dataset" || len(d.Group) != 20000 {
		t.Fatalf("simulated %d rows, group %q of %d", d.Rows(), d.GroupName, len(d.Group))
	}
	const D = 4000
	for i, x := range []float64{-2, -1, 0, 1, 2} {
		var sum, sq float64
		for k := range D {
			r := k*5 + i
			if d.X.At(r, 0) != x || d.Group[r] != float64(k) {
				t.Fatalf("row %d: x %v data set %v, want %v and %d", r, d.X.At(r, 0), d.Group[r], x, k)
			}
			sum += d.Y[r]
			sq += d.Y[r] * d.Y[r]
		}
		mean := sum / D
		v := sq/D - mean*mean
		want := x*x + 1 + 0.25
		if math.Abs(mean) > 4*math.Sqrt(want/D) || math.Abs(v-want) > 4*want*math.Sqrt(2.0/D) {
			t.Errorf("x = %v: mean %.4f variance %.4f, want 0 and %.4f", x, mean, v, want)
		}
	}
	seventh := s.values["seventh"].(*data.Dataset)
	if seventh.Rows() != 5 || seventh.Group[0] != 7 {
		t.Errorf("where(synth, dataset == 7) has %d rows", seventh.Rows())
	}
	back, err := data.ReadCSV(filepath.Join(dir, "s.csv"), data.CSVSpec{X: []data.ColumnRef{data.Col("x"), data.Col("dataset")}, Y: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Rows() != 20000 || back.Y[12345] != d.Y[12345] || back.X.At(12345, 1) != d.Group[12345] {
		t.Errorf("the CSV does not hold the simulated table")
	}
	arr, err := tensorio.ReadNPY(filepath.Join(dir, "s7.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(arr.Shape) != 2 || arr.Shape[0] != 5 || arr.Shape[1] != 3 || arr.Data[1] != seventh.Y[0] || arr.Data[2] != 7 {
		t.Errorf("npy shape %v data %v", arr.Shape, arr.Data[:3])
	}
	g, g2 := s.values["g"].(*data.Dataset), s.values["g2"].(*data.Dataset)
	if len(g.Classes) < 2 || g.Width() < 2 || g.Rows() < 100 || !mat.Equal(g.X, g2.X) {
		t.Errorf("gmm_prior: %d classes, %d features, %d rows (same seed, same data: %v)", len(g.Classes), g.Width(), g.Rows(), mat.Equal(g.X, g2.X))
	}
	if lo, hi := mat.Min(g.X.Slice(0, g.Rows(), 0, 2)), mat.Max(g.X.Slice(0, g.Rows(), 0, 2)); lo < -1-1e-12 || hi > 1+1e-12 {
		t.Errorf("gmm_prior features span [%v, %v], want [-1, 1]", lo, hi)
	}
}

// TestPriorSamplesPlot: prior_samples draws a GP (a sum kernel), a model
// and a matched model into one picture.
func TestPriorSamplesPlot(t *testing.T) {
	src := `model lin(x: 1) {
  h = dense(x, 4) |> tanh
  y ~ normal(dense(h, 1)[0], 0.5)
}
model lin_gp = match prior of lin to gp(rbf(lengthscale: 0.5) + linear(variance: 0.1)) over uniform(-2, 2, 8) using w2(steps: 5, samples: 4)
plot prior_samples(gp(rbf(lengthscale: 0.5) + linear(variance: 0.1)), lin, lin_gp, over: -2 .. 2, n: 5, points: 50) to "p.svg"
`
	_, _, dir := runScript(t, src, nil)
	b, err := os.ReadFile(filepath.Join(dir, "p.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GP rbf(ℓ=0.5) + linear(σ²=0.1)", "lin: prior normal(0, 1)", "lin_gp: matched prior"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the picture has no title %q", want)
		}
	}
}

// TestMatchEvaluatorAllocs: the per-draw network passes of a match (the
// outputs, then the gradient from a given dF) allocate nothing once warm.
func TestMatchEvaluatorAllocs(t *testing.T) {
	m := checkModel(t, `model m(x: 1) {
  h = dense(x, 16) |> rational |> periodic
  y ~ normal(dense(h, 1)[0], 0.1)
}`)
	prog, err := compile.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	e := newMachineEval(prog)
	x := mat.NewDense(24, 1, nil)
	for i := range 24 {
		x.Set(i, 0, float64(i)/10-1)
	}
	theta := make([]float64, prog.Dim())
	drawPrior(theta, m, rand.New(rand.NewPCG(1, 1)))
	dst, dOut, grad := make([]float64, 24), make([]float64, 24), make([]float64, prog.Dim())
	for i := range dOut {
		dOut[i] = 1
	}
	pass := func() {
		e.Outputs(dst, theta, x)
		e.Backward(grad, theta, x, dOut)
	}
	pass()
	if a := testing.AllocsPerRun(20, pass); a != 0 {
		t.Errorf("%v allocations per draw", a)
	}
}
