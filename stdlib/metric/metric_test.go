package metric

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// binary turns top-label confidences and correctness flags into K=2
// probability rows and labels: row n is (conf_n, 1-conf_n), and y_n is 0
// when the prediction is correct, 1 otherwise.
func binary(conf []float64, correct []bool) (prob, y []float64) {
	for n, c := range conf {
		prob = append(prob, c, 1-c)
		if correct[n] {
			y = append(y, 0)
		} else {
			y = append(y, 1)
		}
	}
	return prob, y
}

func TestRegressionErrors(t *testing.T) {
	tests := []struct {
		name      string
		pred, y   []float64
		rmse, mae float64
	}{
		{"exact", []float64{1, 2, 3}, []float64{1, 2, 3}, 0, 0},
		{"hand", []float64{1, 2, 3, 4}, []float64{2, 2, 1, 4}, math.Sqrt(5.0 / 4), 3.0 / 4},
		{"single", []float64{-1}, []float64{2}, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RMSE(tc.pred, tc.y); !near(got, tc.rmse, 1e-15) {
				t.Errorf("RMSE = %v, want %v", got, tc.rmse)
			}
			if got := MAE(tc.pred, tc.y); !near(got, tc.mae, 1e-15) {
				t.Errorf("MAE = %v, want %v", got, tc.mae)
			}
		})
	}
}

func TestNLL(t *testing.T) {
	if got := NLL([]float64{math.Log(0.5), math.Log(0.25)}); !near(got, 1.5*math.Ln2, 1e-15) {
		t.Errorf("NLL = %v, want %v", got, 1.5*math.Ln2)
	}
	if got := NLL([]float64{0, math.Inf(-1)}); !math.IsInf(got, 1) {
		t.Errorf("NLL with a zero-probability observation = %v, want +Inf", got)
	}
}

func TestCoverage(t *testing.T) {
	cdf := []float64{0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, math.NaN()}
	tests := []struct {
		level, want float64
	}{
		{0.9, 5.0 / 8}, // [0.05, 0.95], closed: 0.05, 0.2, 0.5, 0.8, 0.95
		{0.5, 1.0 / 8}, // [0.25, 0.75]: 0.5
		{1, 7.0 / 8},   // [0, 1]: all but NaN
		{0, 1.0 / 8},   // [0.5, 0.5]
	}
	for _, tc := range tests {
		if got := Coverage(cdf, tc.level); got != tc.want {
			t.Errorf("Coverage(level %v) = %v, want %v", tc.level, got, tc.want)
		}
	}
	for _, bad := range []float64{-0.1, 1.1, math.NaN()} {
		if got := Coverage(cdf, bad); !math.IsNaN(got) {
			t.Errorf("Coverage(level %v) = %v, want NaN", bad, got)
		}
	}
	// A calibrated continuous model has uniform PIT values.
	rng := rand.New(rand.NewPCG(21, 22))
	u := make([]float64, 100000)
	for i := range u {
		u[i] = rng.Float64()
	}
	for _, level := range []float64{0.5, 0.8, 0.95} {
		if got := Coverage(u, level); math.Abs(got-level) > 0.01 {
			t.Errorf("Coverage of uniform PIT at %v = %v", level, got)
		}
	}
}

func TestAccuracy(t *testing.T) {
	tests := []struct {
		name string
		prob []float64
		k    int
		y    []float64
		want float64
	}{
		{"all right", []float64{0.7, 0.2, 0.1, 0.1, 0.1, 0.8}, 3, []float64{0, 2}, 1},
		{"half", []float64{0.7, 0.2, 0.1, 0.1, 0.1, 0.8}, 3, []float64{1, 2}, 0.5},
		{"tie to lowest", []float64{0.4, 0.4, 0.2, 0.3, 0.35, 0.35}, 3, []float64{0, 1}, 1},
		{"tie lowest wrong", []float64{0.4, 0.4, 0.2}, 3, []float64{1}, 0},
		{"single class", []float64{1, 1}, 1, []float64{0, 0}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Accuracy(tc.prob, tc.k, tc.y); got != tc.want {
				t.Errorf("Accuracy = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestECE(t *testing.T) {
	tests := []struct {
		name    string
		conf    []float64
		correct []bool
		bins    int
		want    float64
	}{
		{"spec 15 bins", []float64{.9, .9, .6, .6}, []bool{true, false, true, true}, 15, 0.4},
		{"spec 10 bins", []float64{.95, .85, .65, .55}, []bool{true, true, false, true}, 10, 0.325},
		{"perfect", []float64{1, 1, 1}, []bool{true, true, true}, 15, 0},
		{"one bin", []float64{.9, .6}, []bool{true, false}, 1, math.Abs(0.5 - 0.75)},
		{"edge goes low", []float64{0.6, 0.61}, []bool{false, true}, 5, 0.5*0.6 + 0.5*0.39},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prob, y := binary(tc.conf, tc.correct)
			if got := ECE(prob, 2, y, tc.bins); !near(got, tc.want, 1e-14) {
				t.Errorf("ECE = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("calibrated synthetic", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2026, 3))
		const n = 100000
		conf, correct := make([]float64, n), make([]bool, n)
		for i := range conf {
			conf[i] = 0.5 + 0.5*rng.Float64()
			correct[i] = rng.Float64() < conf[i]
		}
		prob, y := binary(conf, correct)
		if got := ECE(prob, 2, y, DefaultECEBins); !(got < 0.01) {
			t.Errorf("ECE of a calibrated set = %v, want < 0.01", got)
		}
		// The same set made overconfident by 0.1 is clearly miscalibrated.
		for i := range conf {
			prob[2*i] = math.Min(1, conf[i]+0.1)
			prob[2*i+1] = 1 - prob[2*i]
		}
		if got := ECE(prob, 2, y, DefaultECEBins); !(got > 0.05) {
			t.Errorf("ECE of an overconfident set = %v, want > 0.05", got)
		}
	})
	t.Run("multiclass", func(t *testing.T) {
		// Top-label: only the largest probability matters.
		prob := []float64{0.5, 0.3, 0.2, 0.1, 0.7, 0.2}
		y := []float64{0, 2}
		// Two bins: confidence 0.5 (right) is in (0, 0.5], 0.7 (wrong) in (0.5, 1].
		want := (math.Abs(1-0.5) + math.Abs(0-0.7)) / 2
		if got := ECE(prob, 3, y, 2); !near(got, want, 1e-15) {
			t.Errorf("ECE = %v, want %v", got, want)
		}
	})
	if got := ECE([]float64{0.5, 0.5}, 2, []float64{0}, 0); !math.IsNaN(got) {
		t.Errorf("ECE with 0 bins = %v, want NaN", got)
	}
	if got := ECE([]float64{math.NaN(), math.NaN()}, 2, []float64{0}, 10); !math.IsNaN(got) {
		t.Errorf("ECE with a NaN row = %v, want NaN", got)
	}
}

func TestBrier(t *testing.T) {
	tests := []struct {
		name           string
		prob           []float64
		k              int
		y              []float64
		want, perClass float64
	}{
		{"spec", []float64{0.7, 0.2, 0.1}, 3, []float64{0}, 0.14, 0.14 / 3},
		{"perfect", []float64{1, 0, 0, 1}, 2, []float64{0, 1}, 0, 0},
		{"worst", []float64{0, 1}, 2, []float64{0}, 2, 1},
		{"two rows", []float64{0.7, 0.2, 0.1, 0.2, 0.2, 0.6}, 3, []float64{0, 1}, (0.14 + 0.04 + 0.64 + 0.36) / 2, (0.14 + 1.04) / 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Brier(tc.prob, tc.k, tc.y); !near(got, tc.want, 1e-15) {
				t.Errorf("Brier = %v, want %v", got, tc.want)
			}
			if got := BrierPerClass(tc.prob, tc.k, tc.y); !near(got, tc.perClass, 1e-15) {
				t.Errorf("BrierPerClass = %v, want %v", got, tc.perClass)
			}
		})
	}
	if got := BrierPerClass([]float64{0.7, 0.2, 0.1}, 3, []float64{0}); math.Abs(got-0.04667) > 5e-6 {
		t.Errorf("BrierPerClass = %v, want 0.04667", got)
	}
}

// aurocRanks is the average-rank formula of docs/algorithms.md §2, kept
// as an independent reference for AUROC.
func aurocRanks(in, out []float64) float64 {
	all := append(slices.Clone(in), out...)
	rank := func(v float64) float64 {
		less, eq := 0, 0
		for _, w := range all {
			if w < v {
				less++
			} else if w == v {
				eq++
			}
		}
		return float64(less) + float64(eq+1)/2
	}
	r := 0.0
	for _, v := range out {
		r += rank(v)
	}
	no, ni := float64(len(out)), float64(len(in))
	return (r - no*(no+1)/2) / (no * ni)
}

func TestAUROC(t *testing.T) {
	tests := []struct {
		name    string
		in, out []float64
		want    float64
	}{
		{"spec", []float64{.1, .2, .3}, []float64{.25, .4}, 5.0 / 6},
		{"all equal", []float64{.5, .5, .5}, []float64{.5, .5}, 0.5},
		{"perfect", []float64{0, 1, 2}, []float64{3, 4}, 1},
		{"reversed", []float64{3, 4}, []float64{0, 1, 2}, 0},
		{"partial tie", []float64{1, 2}, []float64{2, 3}, (1 + 1 + 0.5 + 1) / 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AUROC(tc.in, tc.out)
			if !near(got, tc.want, 1e-15) {
				t.Errorf("AUROC = %v, want %v", got, tc.want)
			}
			if swapped := AUROC(tc.out, tc.in); !near(swapped, 1-got, 1e-15) {
				t.Errorf("swapped AUROC = %v, want 1 - %v", swapped, got)
			}
		})
	}
	t.Run("random with ties against rank formula", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for range 50 {
			in := make([]float64, 1+rng.IntN(40))
			out := make([]float64, 1+rng.IntN(40))
			for i := range in {
				in[i] = float64(rng.IntN(10))
			}
			for i := range out {
				out[i] = float64(rng.IntN(10) + 2)
			}
			got, want := AUROC(in, out), aurocRanks(in, out)
			if !near(got, want, 1e-13) {
				t.Fatalf("AUROC(%v, %v) = %v, rank formula %v", in, out, got, want)
			}
			if swapped := AUROC(out, in); !near(swapped, 1-got, 1e-13) {
				t.Fatalf("swapped AUROC = %v, want %v", swapped, 1-got)
			}
		}
	})
	if got := AUROC([]float64{1, math.NaN()}, []float64{2}); !math.IsNaN(got) {
		t.Errorf("AUROC with NaN = %v, want NaN", got)
	}
}

func TestW1(t *testing.T) {
	tests := []struct {
		name string
		a, b []float64
		want float64
	}{
		{"spec shift", []float64{0, 1, 3}, []float64{5, 6, 8}, 5},
		{"spec equal distributions", []float64{0, 1}, []float64{0, 0, 1, 1}, 0},
		{"spec unequal sizes", []float64{1, 2, 3}, []float64{1, 2, 4, 8}, 1.75},
		{"unsorted input", []float64{3, 0, 1}, []float64{8, 5, 6}, 5},
		{"points", []float64{2}, []float64{-1.5}, 3.5},
		{"identical", []float64{0.3, 0.1, 0.2}, []float64{0.2, 0.3, 0.1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a0, b0 := slices.Clone(tc.a), slices.Clone(tc.b)
			if got := W1(tc.a, tc.b); !near(got, tc.want, 1e-15) {
				t.Errorf("W1 = %v, want %v", got, tc.want)
			}
			if got := W1(tc.b, tc.a); !near(got, tc.want, 1e-15) {
				t.Errorf("W1 swapped = %v, want %v", got, tc.want)
			}
			if !slices.Equal(a0, tc.a) || !slices.Equal(b0, tc.b) {
				t.Errorf("W1 modified its inputs")
			}
		})
	}
	rng := rand.New(rand.NewPCG(17, 18))
	t.Run("shift invariance", func(t *testing.T) {
		a := make([]float64, 200)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		for _, c := range []float64{-3.5, -0.01, 0, 0.25, 7} {
			b := make([]float64, len(a))
			for i := range a {
				b[i] = a[i] + c
			}
			if got := W1(a, b); !near(got, math.Abs(c), 1e-12) {
				t.Errorf("W1(a, a+%v) = %v", c, got)
			}
		}
	})
	t.Run("equal sizes match sorted differences", func(t *testing.T) {
		for range 20 {
			n := 1 + rng.IntN(50)
			a, b := make([]float64, n), make([]float64, n)
			for i := range a {
				a[i], b[i] = rng.NormFloat64(), 2*rng.ExpFloat64()
			}
			sa, sb := slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
			want := 0.0
			for i := range sa {
				want += math.Abs(sa[i]-sb[i]) / float64(n)
			}
			if got := W1(a, b); !near(got, want, 1e-13) {
				t.Fatalf("W1 = %v, mean |sort(a)-sort(b)| = %v", got, want)
			}
			if got, sym := W1(a, b), W1(b, a); got != sym {
				t.Fatalf("W1 not symmetric: %v vs %v", got, sym)
			}
		}
	})
	if got := W1([]float64{1, math.NaN()}, []float64{2}); !math.IsNaN(got) {
		t.Errorf("W1 with NaN = %v, want NaN", got)
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct {
		name string
		f    func() float64
	}{
		{"RMSE", func() float64 { return RMSE(nil, nil) }},
		{"MAE", func() float64 { return MAE(nil, nil) }},
		{"NLL", func() float64 { return NLL(nil) }},
		{"Coverage", func() float64 { return Coverage(nil, 0.9) }},
		{"Accuracy", func() float64 { return Accuracy(nil, 3, nil) }},
		{"Accuracy k=0", func() float64 { return Accuracy(nil, 0, nil) }},
		{"ECE", func() float64 { return ECE(nil, 3, nil, DefaultECEBins) }},
		{"Brier", func() float64 { return Brier(nil, 3, nil) }},
		{"BrierPerClass", func() float64 { return BrierPerClass(nil, 3, nil) }},
		{"AUROC in", func() float64 { return AUROC(nil, []float64{1}) }},
		{"AUROC out", func() float64 { return AUROC([]float64{1}, nil) }},
		{"W1 a", func() float64 { return W1(nil, []float64{1}) }},
		{"W1 b", func() float64 { return W1([]float64{1}, nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f(); !math.IsNaN(got) {
				t.Errorf("got %v, want NaN", got)
			}
		})
	}
}

func TestMisuse(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		msg  string
	}{
		{"RMSE lengths", func() { RMSE([]float64{1}, []float64{1, 2}) }, "lengths 1 and 2"},
		{"MAE lengths", func() { MAE([]float64{1, 2}, []float64{1}) }, "lengths 2 and 1"},
		{"Accuracy rows", func() { Accuracy([]float64{0.5, 0.5}, 3, []float64{0}) }, "2 probabilities for 1 labels and 3 classes"},
		{"ECE label", func() { ECE([]float64{0.5, 0.5}, 2, []float64{2}, 10) }, "not a class index"},
		{"Brier fractional label", func() { Brier([]float64{0.5, 0.5}, 2, []float64{0.5}) }, "not a class index"},
		{"Brier k", func() { Brier([]float64{0.5, 0.5}, 0, []float64{0}) }, "0 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, ok := r.(string)
				if !ok || !strings.HasPrefix(s, "metric: ") || !strings.Contains(s, tc.msg) {
					t.Errorf("panic %v, want a metric: panic containing %q", r, tc.msg)
				}
			}()
			tc.f()
		})
	}
}

func TestReferenceMetrics(t *testing.T) {
	p := []float64{0.7, 0.3, 0.2, 0.8, 0.5, 0.5}
	q := []float64{0.6, 0.4, 0.9, 0.1, 0.5, 0.5}
	if got := Agreement(p, q, 2); math.Abs(got-2.0/3) > 1e-15 {
		t.Errorf("Agreement = %v, want 2/3", got)
	}
	// Rows: ½(0.1+0.1), ½(0.7+0.7), 0.
	if got := TotalVariation(p, q, 2); math.Abs(got-(0.1+0.7)/3) > 1e-15 {
		t.Errorf("TotalVariation = %v, want %v", got, 0.8/3)
	}
	if got := TotalVariation(p, p, 2); got != 0 {
		t.Errorf("TotalVariation with itself = %v", got)
	}
	// √(3² + 4²) = 5 and 0.
	if got := GaussianW2([]float64{3, 1}, []float64{5, 2}, []float64{0, 1}, []float64{1, 2}); got != 2.5 {
		t.Errorf("GaussianW2 = %v, want 2.5", got)
	}
}
