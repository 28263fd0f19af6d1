package lang

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/stdlib/data"
)

// runExample runs examples/NAME.bl with capped epochs; files the script
// writes go to a temporary directory, files it reads come from examples/.
func runExample(t *testing.T, name string, maxEpochs int) (*Session, map[string]*Table) {
	t.Helper()
	return runExampleWith(t, name, maxEpochs, nil)
}

// runExampleWith is runExample with a hook that sees every result.
func runExampleWith(t *testing.T, name string, maxEpochs int, also func(Result)) (*Session, map[string]*Table) {
	t.Helper()
	dir := filepath.Join("..", "examples")
	out := t.TempDir()
	tables := map[string]*Table{}
	cfg := &Config{
		Seed:      1,
		MaxEpochs: maxEpochs,
		Samples:   50,
		Resolve: func(p string, write bool) string {
			if write {
				return filepath.Join(out, p)
			}
			if _, err := os.Stat(filepath.Join(out, p)); err == nil {
				return filepath.Join(out, p)
			}
			return filepath.Join(dir, p)
		},
		Emit: func(r Result) {
			if also != nil {
				also(r)
			}
			if r.Kind == "evaluate" || r.Kind == "ood" { // ood rows: "name (score)"
				for _, label := range r.Table.Columns[0].Strings {
					tables[label] = r.Table
				}
			}
		},
	}
	src, err := os.ReadFile(filepath.Join(dir, name+".bl"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(cfg)
	if err := s.Run(context.Background(), name+".bl", src); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s, tables
}

func cell(t *testing.T, tab *Table, row, col string) float64 {
	t.Helper()
	if v, ok := tab.Lookup(row, col); ok {
		return v
	}
	t.Fatalf("no cell %s/%s in %+v", row, col, tab)
	return 0
}

// gaussianBaseline is the held-out NLL of one Gaussian fitted to the
// session's training targets, on its test rows.
func gaussianBaseline(t *testing.T, s *Session) float64 {
	t.Helper()
	train, test := mustData(t, s, "train"), mustData(t, s, "test")
	mu, sd := meanStd(train.Y)
	base := 0.0
	for _, y := range test.Y {
		z := (y - mu) / sd
		base += 0.5*math.Log(2*math.Pi) + math.Log(sd) + 0.5*z*z
	}
	return base / float64(len(test.Y))
}

// TestExampleMcycle: both posteriors beat a single Gaussian fitted to the
// training targets on held-out NLL.
func TestExampleMcycle(t *testing.T) {
	s, tables := runExample(t, "mcycle", 600)
	base := gaussianBaseline(t, s)
	for _, p := range []string{"p_map", "p_vi"} {
		nll := cell(t, tables[p], p, "nll")
		t.Logf("%s test NLL %.3f, baseline Gaussian %.3f", p, nll, base)
		if !(nll < base-0.3) {
			t.Errorf("%s: test NLL %.3f does not beat the Gaussian baseline %.3f", p, nll, base)
		}
	}
	if cov := cell(t, tables["p_vi"], "p_vi", "coverage(0.9)"); cov < 0.75 {
		t.Errorf("VI 90%% interval covers only %.2f of the test set", cov)
	}
}

// TestExampleDigits: accuracy at least 0.9 for both posteriors.
func TestExampleDigits(t *testing.T) {
	_, tables := runExample(t, "digits", 40)
	for _, p := range []string{"p_map", "p_vi"} {
		acc := cell(t, tables[p], p, "accuracy")
		t.Logf("%s accuracy %.3f nll %.3f ece %.3f", p, acc, cell(t, tables[p], p, "nll"), cell(t, tables[p], p, "ece"))
		if acc < 0.9 {
			t.Errorf("%s: accuracy %.3f < 0.9", p, acc)
		}
	}
}

func mustData(t *testing.T, s *Session, name string) *data.Dataset {
	d, isData := s.values[name].(*data.Dataset)
	if !isData {
		t.Fatalf("%s is not a data set", name)
	}
	return d
}

func meanStd(x []float64) (float64, float64) {
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	v := 0.0
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, math.Sqrt(v / float64(len(x)))
}

// TestExampleOODDigits: every Bayesian method is no worse than MAP in NLL and
// ECE beyond noise (0.02, about twice the spread across seeds), and some
// method's epistemic uncertainty separates unseen digits better than MAP's
// predictive entropy.
func TestExampleOODDigits(t *testing.T) {
	var ood *Table
	_, tables := runExampleWith(t, "ood_digits", 100, func(r Result) {
		if r.Kind == "ood" {
			ood = r.Table
		}
	})
	tab := tables["p_map"]
	mapNLL, mapECE := cell(t, tab, "p_map", "nll"), cell(t, tab, "p_map", "ece")
	for _, p := range []string{"p_vi", "p_swag", "p_multiswag", "p_sgld", "p_ensemble", "p_laplace"} {
		nll, ece := cell(t, tab, p, "nll"), cell(t, tab, p, "ece")
		t.Logf("%-12s nll %.4f ece %.4f (map %.4f %.4f)", p, nll, ece, mapNLL, mapECE)
		if nll > mapNLL+0.02 || ece > mapECE+0.02 {
			t.Errorf("%s: nll %.4f ece %.4f, worse than map's %.4f %.4f beyond noise", p, nll, ece, mapNLL, mapECE)
		}
	}
	if ood == nil {
		t.Fatal("no ood table")
	}
	mapAUROC := cell(t, ood, "p_map (total)", "auroc")
	best, bestName := 0.0, ""
	for i, label := range ood.Columns[0].Strings {
		if v := ood.Columns[1].Floats[i]; strings.HasSuffix(label, "(epistemic)") && v > best {
			best, bestName = v, label
		}
	}
	t.Logf("best epistemic AUROC %.4f (%s), map entropy AUROC %.4f", best, bestName, mapAUROC)
	if best <= mapAUROC {
		t.Errorf("no epistemic AUROC beats map's entropy AUROC %.4f (best %.4f, %s)", mapAUROC, best, bestName)
	}
}

// TestExampleMcycleNUTS: the gold-standard sampler runs from a script on a
// real network, its chains agree in function space, and its held-out NLL
// beats a Gaussian fitted to the training targets.
func TestExampleMcycleNUTS(t *testing.T) {
	var rhat float64
	s, tables := runExampleWith(t, "mcycle_nuts", 60, func(r Result) {
		if r.Kind == "fit" && r.Name == "p_nuts" {
			rhat = r.Fit.Rhat
		}
	})
	base := gaussianBaseline(t, s)
	nll := cell(t, tables["p_nuts"], "p_nuts", "nll")
	t.Logf("NUTS test NLL %.3f (Gaussian baseline %.3f), split-R̂ %.3f", nll, base, rhat)
	if !(nll < base-0.3) {
		t.Errorf("NUTS test NLL %.3f does not beat the Gaussian baseline %.3f", nll, base)
	}
	if !(rhat > 0 && rhat < 1.3) {
		t.Errorf("NUTS split-R̂ %.3f: the chains disagree after a short warmup", rhat)
	}
}
