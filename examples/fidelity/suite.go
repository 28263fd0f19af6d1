package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/metric"
	"github.com/bayesl/bayesl/stdlib/predictive"
)

// A fidelityCase is one small real-data network whose exact posterior NUTS
// can sample: a script binding `train`, `test` and the model `net`.
type fidelityCase struct {
	Name       string
	Classifier bool
	Script     string // data paths relative to examples/
}

// nutsRef is how the references are sampled: many more draws than the
// default (4 x 500), and a higher acceptance target because mcycle's
// heteroscedastic net diverges in 2% of transitions at 0.8.
const nutsRef = "nuts(warmup: 1000, samples: 1000, chains: 4, target_accept: 0.95)"

// refSeeds are the two run seeds whose NUTS fits must agree; the first is
// the stored reference.
var refSeeds = [2]uint64{1, 2}

// cases are the four networks of the suite: classification and regression,
// one and two hidden tanh layers, fan-in-scaled normal priors, one
// heteroscedastic likelihood.
var cases = []fidelityCase{
	{Name: "iris", Classifier: true, Script: `
data d = csv("data/iris.csv", x: [sepal_length .. petal_width], y: species, classes: 3, standardize: true)
let train, test = split(d, 0.7, seed: 11)

model net(x: 4) {
  prior weights ~ normal(0, 1) scaled fan_in
  prior biases ~ normal(0, 1)
  h = dense(x, 8) |> tanh
  o = dense(h, 3)
  y ~ categorical(logits: o)
}
`},
	{Name: "breast_cancer", Classifier: true, Script: `
data d = csv("data/breast_cancer.csv", x: [mean_radius, mean_texture, mean_concave_points, worst_area, worst_smoothness, worst_concavity], y: malignant, classes: 2, standardize: true)
let train, test = split(d, 0.7, seed: 11)

model net(x: 6) {
  prior weights ~ normal(0, 1) scaled fan_in
  prior biases ~ normal(0, 1)
  h = dense(x, 8) |> tanh
  h = dense(h, 8) |> tanh
  o = dense(h, 1)
  y ~ bernoulli(logits: o[0])
}
`},
	{Name: "mcycle", Script: `
data d = csv("data/mcycle.csv", x: [times], y: accel, standardize: true)
let train, test = split(d, 0.8, seed: 7)

model net(x: 1) {
  prior weights ~ normal(0, 1) scaled fan_in
  prior biases ~ normal(0, 1)
  h = dense(x, 16) |> tanh
  o = dense(h, 2)
  y ~ normal(o[0], softplus(o[1]) + 0.01)
}
`},
	{Name: "faithful", Script: `
data d = csv("data/faithful.csv", x: [eruptions], y: waiting, standardize: true)
let train, test = split(d, 0.7, seed: 11)

model net(x: 1) {
  prior weights ~ normal(0, 1) scaled fan_in
  prior biases ~ normal(0, 1)
  param s ~ normal(0, 1)
  h = dense(x, 8) |> tanh
  h = dense(h, 8) |> tanh
  o = dense(h, 1)
  y ~ normal(o[0], softplus(s) + 0.01)
}
`},
}

// variants are the non-default settings the suite scores beside every
// registered method at its defaults. A variant whose settings the registry
// does not (yet) accept is skipped with a note, so the list may run ahead
// of the backends.
var variants = []string{
	"laplace(hessian: last_layer)",
	"laplace(hessian: diag)",
	"laplace(hessian: kron)",
	"laplace(hessian: full)",
	"laplace(subset: all, hessian: kron)",
	"laplace(subset: all, hessian: full)",
	"laplace(predictive: nn)",
	"laplace(link_approx: probit)",
	"laplace(prior_precision: optimize)",
	"ensemble(kind: plain)",
	"ensemble(kind: anchored)",
	"vi(rank: 4)",
	"vi(predictive: nn)",
	"swag(covariance: iterates)",
	"swag(covariance: curvature, predictive: nn)",
}

// defaults returns every method of the registry, to be fitted at its
// defaults, but nuts: it is the reference family and the slowest.
func defaults() []string {
	var out []string
	for _, n := range infer.Builtins().Names() {
		if n != "nuts" {
			out = append(out, n)
		}
	}
	return out
}

// backends returns the defaults, then the variants, then nuts at its
// defaults (a check on the references, and its cost).
func backends() []string {
	return append(append(defaults(), variants...), "nuts")
}

// findRoot returns the repository root: the nearest directory at or above
// the working directory holding examples/data.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "examples", "data", "SOURCES.md")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("examples/data not found above the working directory: run from inside the repository")
		}
		dir = up
	}
}

// Summary is a predictive on a case's test rows, reduced to what the
// suite compares: per-row class probabilities and mutual information for a
// classifier; per-row mean, total sd and epistemic sd (in the target's
// units) for a regression; and the NLL of the test targets.
type Summary struct {
	Prob  [][]float64 `json:"prob,omitempty"`
	MI    []float64   `json:"mi,omitempty"`
	Mean  []float64   `json:"mean,omitempty"`
	SD    []float64   `json:"sd,omitempty"`
	EpiSD []float64   `json:"epi_sd,omitempty"`
	NLL   float64     `json:"nll"`
}

func summarise(pred *predictive.Predictive, y []float64) Summary {
	s := Summary{NLL: metric.NLL(pred.LogLik(y))}
	if pred.Kind == predictive.Regression {
		mean, ale, epi := pred.Regression()
		s.Mean = mean
		s.SD, s.EpiSD = make([]float64, len(mean)), make([]float64, len(mean))
		for i := range mean {
			s.SD[i], s.EpiSD[i] = math.Sqrt(ale[i]+epi[i]), math.Sqrt(epi[i])
		}
		return s
	}
	prob, _, _, mi := pred.Classification()
	for i := range pred.N {
		s.Prob = append(s.Prob, prob[i*pred.K:(i+1)*pred.K])
	}
	s.MI = mi
	return s
}

// Score is one backend's fidelity on one case, against the exact summary.
// Classification fills Agreement and TV, regression MeanErr and EpiSDRatio;
// EpiRatio, Spearman and NLLRatio are for both.
type Score struct {
	Case       string  `json:"case"`
	Backend    string  `json:"backend"`
	Task       string  `json:"task"`         // classification or regression
	Agreement  float64 `json:"agreement"`    // fraction of rows with the same top class
	TV         float64 `json:"tv"`           // mean total variation
	EpiRatio   float64 `json:"epi_ratio"`    // Σ MI (or Σ epistemic variance) over exact's
	Spearman   float64 `json:"spearman"`     // rank correlation of per-row epistemic with exact's
	NLLRatio   float64 `json:"nll_ratio"`    // test NLL over exact's (see nllRatio)
	MeanErr    float64 `json:"mean_err_sd"`  // mean |mean − exact mean| / exact sd
	EpiSDRatio float64 `json:"epi_sd_ratio"` // geometric mean over rows of epistemic sd / exact's
	FitSeconds float64 `json:"fit_s"`
	Err        string  `json:"error,omitempty"`
}

// MarshalJSON writes a score with null where a number is NaN or infinite
// (an undefined rank correlation, a diverged fit), which JSON cannot hold,
// and without the fields of the other task.
func (s Score) MarshalJSON() ([]byte, error) {
	m := map[string]any{"case": s.Case, "backend": s.Backend, "task": s.Task, "fit_s": s.FitSeconds}
	put := func(k string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			m[k] = nil
			return
		}
		m[k] = v
	}
	put("epi_ratio", s.EpiRatio)
	put("spearman", s.Spearman)
	put("nll_ratio", s.NLLRatio)
	switch s.Task {
	case "classification":
		put("agreement", s.Agreement)
		put("tv", s.TV)
	case "regression":
		put("mean_err_sd", s.MeanErr)
		put("epi_sd_ratio", s.EpiSDRatio)
	}
	if s.Err != "" {
		m["error"] = s.Err
	}
	return json.Marshal(m)
}

// score compares s with the exact ref. Every ratio is s over ref.
func score(s, ref Summary) Score {
	sc := Score{Task: "regression"}
	sc.NLLRatio = nllRatio(s.NLL, ref.NLL)
	if ref.Prob != nil {
		sc.Task = "classification"
		k := len(ref.Prob[0])
		prob, rprob := flatten(s.Prob), flatten(ref.Prob)
		sc.Agreement = metric.Agreement(prob, rprob, k)
		sc.TV = metric.TotalVariation(prob, rprob, k)
		sc.EpiRatio = sum(s.MI) / sum(ref.MI)
		sc.Spearman = metric.Spearman(s.MI, ref.MI)
		return sc
	}
	v, rv := squares(s.EpiSD), squares(ref.EpiSD)
	sc.EpiRatio = sum(v) / sum(rv)
	sc.Spearman = metric.Spearman(v, rv)
	logRatio := 0.0
	for i, m := range s.Mean {
		sc.MeanErr += math.Abs(m-ref.Mean[i]) / ref.SD[i]
		logRatio += math.Log(s.EpiSD[i] / ref.EpiSD[i])
	}
	n := float64(len(s.Mean))
	sc.MeanErr /= n
	sc.EpiSDRatio = math.Exp(logRatio / n)
	return sc
}

// nllRatio is nll/ref for a positive reference NLL. A regression NLL in
// the data's units can be negative or near zero, where a ratio means
// nothing; there it is 1 + (nll − ref)/|ref| all the same, so a backend
// worse than exact is always above 1.
func nllRatio(nll, ref float64) float64 {
	return 1 + (nll-ref)/math.Abs(ref)
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func squares(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * v
	}
	return out
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// runner fits backends on the suite's cases.
type runner struct {
	root    string // repository root
	samples int    // posterior draws behind every approximate predictive
	seed    uint64
}

// fitted is one fit's summary on the test rows, its time and the number
// of posterior draws behind the summary.
type fitted struct {
	Summary
	took  time.Duration
	draws int
}

// fit runs case c's script with `posterior p = fit net on train using
// method` and summarises p on the test rows. samples < 1 uses every stored
// draw (for NUTS's references).
func (r *runner) fit(ctx context.Context, c fidelityCase, method string, seed uint64, samples int) (fitted, error) {
	src := c.Script + "\nposterior p = fit net on train using " + method + "\n"
	s := lang.NewSession(&lang.Config{Seed: seed, Dir: filepath.Join(r.root, "examples")})
	if err := s.Run(ctx, c.Name+".bl", []byte(src)); err != nil {
		var b strings.Builder
		source.Print(&b, err)
		return fitted{}, errors.New(strings.TrimSpace(b.String()))
	}
	post, err := s.Posterior("p")
	if err != nil {
		return fitted{}, err
	}
	test, err := s.Data("test")
	if err != nil {
		return fitted{}, err
	}
	if samples < 1 {
		// Stored draws (NUTS's, SG-MCMC's) say how many they are.
		if samples = post.StoredDraws(); samples == 0 {
			samples = r.samples
		}
	}
	pred, err := post.Predict(ctx, test.X, &lang.PredictOptions{Samples: samples, Seed: seed, Draws: true})
	if err != nil {
		return fitted{}, err
	}
	return fitted{Summary: summarise(pred.Draws, test.Y), took: post.FitTime, draws: pred.Draws.S}, nil
}

// checkMethod reports whether the registry accepts method's name and
// settings, without fitting anything.
func checkMethod(c fidelityCase, method string) error {
	_, err := lang.NewSession(nil).Check(c.Name+".bl", []byte(c.Script+"\nposterior p = fit net on train using "+method+"\n"))
	if err != nil {
		var b strings.Builder
		source.Print(&b, err)
		return errors.New(strings.TrimSpace(b.String()))
	}
	return nil
}

// scoreBackend fits one backend on one case and scores it against ref.
func (r *runner) scoreBackend(ctx context.Context, c fidelityCase, ref *Reference, method string) Score {
	f, err := r.fit(ctx, c, method, r.seed, r.samples)
	if err != nil {
		task := "regression"
		if c.Classifier {
			task = "classification"
		}
		nan := math.NaN()
		return Score{Case: c.Name, Backend: method, Task: task, Err: err.Error(), Agreement: nan, TV: nan, EpiRatio: nan, Spearman: nan, NLLRatio: nan, MeanErr: nan, EpiSDRatio: nan}
	}
	sc := score(f.Summary, ref.Summary)
	sc.Case, sc.Backend, sc.FitSeconds = c.Name, method, f.took.Seconds()
	return sc
}

// Reference is an exact posterior's summary on a case's test rows, as
// stored in testdata/<case>.json, with how it was made and how closely a
// second NUTS seed reproduces it.
type Reference struct {
	Case       string    `json:"case"`
	Classifier bool      `json:"classifier"`
	Method     string    `json:"method"`
	Seeds      [2]uint64 `json:"seeds"`
	Draws      int       `json:"draws"` // posterior draws behind the summary
	Rows       int       `json:"rows"`  // test rows
	FitSeconds float64   `json:"fit_s"` // the first seed's NUTS fit
	Summary
	// SeedCheck scores the second seed's NUTS fit against the first's.
	SeedCheck Score `json:"seed_check"`
}

func refPath(root, name string) string {
	return filepath.Join(root, "examples", "fidelity", "testdata", name+".json")
}

// makeReference fits NUTS at both seeds on c and returns the first seed's
// summary with the second scored against it.
func (r *runner) makeReference(ctx context.Context, c fidelityCase) (*Reference, error) {
	var fits [2]fitted
	for i, seed := range refSeeds {
		f, err := r.fit(ctx, c, nutsRef, seed, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		fits[i] = f
	}
	ref := &Reference{Case: c.Name, Classifier: c.Classifier, Method: nutsRef, Seeds: refSeeds, Draws: fits[0].draws, Summary: fits[0].Summary, FitSeconds: fits[0].took.Seconds()}
	ref.Rows = max(len(ref.Prob), len(ref.Mean))
	ref.SeedCheck = score(fits[1].Summary, fits[0].Summary)
	ref.SeedCheck.Case, ref.SeedCheck.Backend = c.Name, fmt.Sprintf("nuts seed %d vs %d", refSeeds[1], refSeeds[0])
	ref.SeedCheck.FitSeconds = fits[1].took.Seconds()
	return ref, nil
}

// selectCases returns the cases named in the comma-separated list (all
// when empty).
func selectCases(list string) ([]fidelityCase, error) {
	if list == "" {
		return cases, nil
	}
	var out []fidelityCase
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(cases, func(c fidelityCase) bool { return c.Name == strings.TrimSpace(name) })
		if i < 0 {
			names := make([]string, len(cases))
			for j, c := range cases {
				names[j] = c.Name
			}
			return nil, fmt.Errorf("unknown case %q; the cases are %s", name, strings.Join(names, ", "))
		}
		out = append(out, cases[i])
	}
	return out, nil
}
