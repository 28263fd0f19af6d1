package ir

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// Every table's names are unique, and every likelihood's entry is usable:
// found by name, with parameters, and the support's rules hold.
func TestTables(t *testing.T) {
	for what, list := range map[string][]string{
		"likelihood": LikelihoodNames(), "metric": MetricNames(), "picture": PlotNames(),
		"data function": DataFuncNames(), "ood score": names(OODScores), "ood metric": names(OODMetrics),
		"csv option": names(CSVOptions),
	} {
		seen := map[string]bool{}
		for _, n := range list {
			if n == "" || seen[n] {
				t.Errorf("%s table: empty or repeated name %q", what, n)
			}
			seen[n] = true
		}
	}
	for i, l := range Likelihoods {
		f, ok := LikelihoodNamed(l.Name)
		if !ok || f != LikFamily(i) || f.String() != l.Name || len(l.Params) == 0 || l.Doc == "" {
			t.Errorf("likelihood %d (%s): lookup %v %v, params %v", i, l.Name, f, ok, l.Params)
		}
		for _, p := range l.Positive {
			if !contains(l.Params, p) {
				t.Errorf("%s: positive parameter %q is not a parameter", l.Name, p)
			}
		}
	}
	for _, tc := range []struct {
		s  Support
		in []float64
		no []float64
	}{
		{Reals, []float64{-3, 0, 2.5}, []float64{inf, nan}},
		{Positive, []float64{1e-300, 2.5}, []float64{0, -1, inf, nan}},
		{CountData, []float64{0, 3}, []float64{-1, 1.5, inf, nan}},
		{Binary, []float64{0, 1}, []float64{2, 0.5, nan}},
	} {
		for _, y := range tc.in {
			if !tc.s.Contains(y) {
				t.Errorf("%s does not contain %v", tc.s, y)
			}
		}
		for _, y := range tc.no {
			if tc.s.Contains(y) {
				t.Errorf("%s contains %v", tc.s, y)
			}
		}
	}
	if LikGamma.Spec().Scaled || LikGamma.Classification() || !LikBernoulli.Classification() {
		t.Error("gamma is scaled or a classifier, or bernoulli is not a classifier")
	}
}

// Words holds every name of every table (what the REPL completes).
func TestWords(t *testing.T) {
	words := strings.Join(Words(), " ") + " "
	for _, w := range append(append(LikelihoodNames(), MetricNames()...), append(PlotNames(), "mean_in", "mean_out", "standardize", "relu")...) {
		if !strings.Contains(" "+words, " "+w+" ") {
			t.Errorf("Words lacks %q", w)
		}
	}
}

// fakeFiles serves CSV headers by path; other paths are unreadable.
type fakeFiles map[string][]string

func (f fakeFiles) Columns(p string) ([]string, error) {
	if h, ok := f[p]; ok {
		return h, nil
	}
	return nil, errors.New("no such file")
}

// settingsRegistry refuses any setting named "epocs", as infer's registry
// would, at its index.
type settingsRegistry struct{ MethodNames }

func (settingsRegistry) CheckSettings(method string, args []Arg) (int, string) {
	for i, a := range args {
		if a.Name == "epocs" {
			return i, `unknown setting "epocs" for ` + method + `; did you mean epochs? (known: epochs, lr)`
		}
	}
	return -1, ""
}

func checkErrs(t *testing.T, src string, cfg *Config) []string {
	t.Helper()
	f, err := parser.Parse("v.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(f, NewScope(), cfg)
	var list source.List
	if err != nil && !errors.As(err, &list) {
		t.Fatalf("not a source.List: %v", err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Error())
	}
	return out
}

// Every unknown name is refused by the checker, at its position, with a
// did-you-mean where one is close and the list of valid names.
func TestUnknownNamesBeforeRunning(t *testing.T) {
	head := "data d = csv(\"d.csv\", x: [a], y: b)\nmodel net(x: 1) {\n  y ~ normal(dense(x, 1)[0], 1)\n}\n"
	cfg := &Config{Methods: settingsRegistry{MethodNames{"map", "vi"}}, Files: fakeFiles{"d.csv": {"a", "b", "c1", "c2"}}}
	for _, tc := range []struct{ src, want string }{
		{"posterior p = fit nett on d using map", `v.bl:5:19: name error: unknown model "nett"; did you mean "net"? (known: net)`},
		{"posterior p = fit net on d using map\nevaluate p on d: nll, crps",
			`v.bl:6:23: name error: unknown metric "crps" (known: accuracy, agreement, brier, brier_per_class, coverage, ece, epistemic, evidence, mae, nll, rmse, stored, trainable, tv, w2)`},
		{"posterior p = fit net on d using map(epocs: 5)", `v.bl:5:38: type error: unknown setting "epocs" for map; did you mean epochs? (known: epochs, lr)`},
		{"posterior p = fit net on d using mapp", `v.bl:5:34: name error: unknown inference method "mapp"; did you mean "map"? (known: map, vi)`},
		{"posterior p = fit net on d using map\nplot bnd(p, over: 0 .. 1) to \"b.svg\"", `v.bl:6:6: name error: unknown picture "bnd"; did you mean "band"? (known: band, histogram, prior_samples, reliability, samples, training)`},
		{"posterior p = fit net on d using map\nood p in d vs d by [total]: auroc, mean_ot", `v.bl:6:36: name error: unknown ood metric "mean_ot"; did you mean "mean_out"? (known: auroc, mean_in, mean_out, w1)`},
		{"data e = csv(\"d.csv\", x: [a], y: b, standardise: true)", `v.bl:5:37: name error: unknown csv argument "standardise"; did you mean "standardize"? (known: classes, drop_missing, path, standardize, x, y)`},
		{"data e = cvs(\"d.csv\")", `v.bl:5:10: name error: unknown data function "cvs"; did you mean "csv"? (known: csv, gmm_prior, simulate, split, where)`},
		{"model m(x: 1) {\n  y ~ gama(dense(x, 1)[0], 1)\n}", `v.bl:6:7: name error: unknown likelihood "gama"; did you mean "gamma"? (known: bernoulli, categorical, gamma, normal, poisson, student_t)`},
		// Columns, against the header the runtime read at check time.
		{"data e = csv(\"d.csv\", x: [aa], y: b)", `v.bl:5:27: name error: unknown column "aa" in d.csv; did you mean "a"? (known: a, b, c1, c2)`},
		{"data e = csv(\"d.csv\", x: [a], y: bb)", `v.bl:5:34: name error: unknown column "bb" in d.csv; did you mean "b"? (known: a, b, c1, c2)`},
		{"data e = csv(\"d.csv\", x: [c1 .. c3], y: b)", `v.bl:5:27: name error: unknown column "c3" in d.csv; did you mean "c1"? (known: a, b, c1, c2)`},
		{"let w = where(d, bb < 1)", `v.bl:5:18: name error: unknown column "bb"; did you mean "b"? (known: a, b)`},
		{"let w = where(csv(\"d.csv\", x: [c1 .. c2]), a < 1)", `v.bl:5:44: name error: unknown column "a" (known: c1, c2)`},
		{"let w = where(where(csv(\"d.csv\", y: b), c2 > 0), c3 < 1)", `v.bl:5:50: name error: unknown column "c3"; did you mean "c1"? (known: a, b, c1, c2)`},
		{"data e = csv(\"d.csv\", x: [c2 .. a], y: b)", `v.bl:5:27: name error: column range c2 .. a runs backwards: a comes before c2 in d.csv`},
	} {
		errs := checkErrs(t, head+tc.src, cfg)
		if len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want) {
			t.Errorf("%s\n got %q\nwant %q", tc.src, errs, tc.want)
		}
	}
	// A file the runtime cannot read at check time is left to run.
	if errs := checkErrs(t, "data e = csv(\"later.csv\", x: [zz], y: b)", cfg); len(errs) != 0 {
		t.Errorf("an unreadable file's columns were checked: %q", errs)
	}
}

var (
	inf = math.Inf(1)
	nan = math.NaN()
)
