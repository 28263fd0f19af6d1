package infer_test

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

// A fitted Samples survives Encode/Decode and WriteFile/ReadFile bit for
// bit, chain boundaries included.
func TestSamplesRoundTrip(t *testing.T) {
	p, _, _ := linreg3(30, 1)
	s := samples(t, infer.SGLD{Epochs: 40, Batch: 7, Chains: 3, MaxSamples: 6}, p, 1)
	var buf bytes.Buffer
	if err := infer.Encode(&buf, s, []byte("meta")); err != nil {
		t.Fatal(err)
	}
	got, meta, err := infer.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := got.(*infer.Samples)
	if !ok || string(meta) != "meta" || g.Method() != "sgld" || g.Dim() != 3 || g.Kind() != "samples" {
		t.Fatalf("decoded %T %q %+v", got, meta, got)
	}
	if !sameSamples(s, g) || len(g.Chains()) != 3 {
		t.Errorf("round trip changed the samples")
	}
	path := filepath.Join(t.TempDir(), "s.post")
	if err := infer.WriteFile(path, s, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err = infer.ReadFile(path)
	if err != nil || !sameSamples(s, got.(*infer.Samples)) {
		t.Errorf("file round trip: %v", err)
	}
	// Odd values survive too.
	odd, err := infer.NewSamples("x", [][][]float64{{{math.SmallestNonzeroFloat64, math.Copysign(0, -1)}}, {{math.MaxFloat64, 1}, {2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := infer.Encode(&buf, odd, nil); err != nil {
		t.Fatal(err)
	}
	if got, _, err := infer.Decode(&buf); err != nil || !sameSamples(odd, got.(*infer.Samples)) {
		t.Errorf("odd values: %v", err)
	}
}

// Malformed payloads are errors, never panics or wrong posteriors.
func TestSamplesDecodeRejects(t *testing.T) {
	dec := infer.BuiltinDecoders()["samples"]
	if dec == nil {
		t.Fatal("no samples decoder")
	}
	for name, vecs := range map[string][][]float64{
		"no chains":       {{2}},
		"nothing":         {},
		"header too long": {{1, 1, 1}, {5}},
		"zero dimension":  {{0, 1}, {}},
		"fractional dim":  {{1.5, 1}, {1, 2}},
		"wrong count":     {{2, 2}, {1, 2, 3}},
		"empty chain":     {{2, 0}, {}},
		"huge count":      {{1, 1e300}, {1}},
		"negative count":  {{1, -1}, {}},
		"NaN count":       {{1, math.NaN()}, {1}},
		"NaN value":       {{1, 2}, {1, math.NaN()}},
		"infinite value":  {{2, 1}, {math.Inf(-1), 0}},
	} {
		if post, err := dec("sgld", vecs); err == nil {
			t.Errorf("%s: decoded %+v", name, post)
		}
	}
	for name, chains := range map[string][][][]float64{
		"no chains":    nil,
		"empty chain":  {{{1}}, {}},
		"ragged":       {{{1, 2}}, {{1}}},
		"no params":    {{{}}},
		"non-finite":   {{{1}, {math.Inf(1)}}},
		"ragged chain": {{{1, 2}, {3}}},
	} {
		if _, err := infer.NewSamples("sgld", chains); err == nil {
			t.Errorf("NewSamples, %s: no error", name)
		}
	}
}

// Draw gives every stored vector when asked for at least as many, and
// otherwise n evenly spaced ones, the last state included, without
// randomness.
func TestSamplesDraw(t *testing.T) {
	var chains [][][]float64
	for c := range 4 {
		var ch [][]float64
		for i := range 10 {
			ch = append(ch, []float64{float64(10*c + i)})
		}
		chains = append(chains, ch)
	}
	s, err := infer.NewSamples("sgld", chains)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(d [][]float64) []int {
		var out []int
		for _, v := range d {
			out = append(out, int(v[0]))
		}
		return out
	}
	all := make([]int, 40)
	for i := range all {
		all[i] = i
	}
	for _, n := range []int{0, -1, 40, 1000} {
		if got := ids(s.Draw(n, nil)); !slices.Equal(got, all) {
			t.Errorf("Draw(%d) = %v", n, got)
		}
	}
	if got := ids(s.Draw(8, rng(1))); !slices.Equal(got, []int{4, 9, 14, 19, 24, 29, 34, 39}) {
		t.Errorf("Draw(8) = %v", got)
	}
	if got := ids(s.Draw(1, rng(1))); !slices.Equal(got, []int{39}) {
		t.Errorf("Draw(1) = %v", got)
	}
	if got := ids(s.Draw(39, nil)); len(got) != 39 || got[38] != 39 || len(slices.Compact(slices.Clone(got))) != 39 {
		t.Errorf("Draw(39) = %v", got)
	}
	if s.Len() != 40 || s.StoredNumbers() != 40 || s.Dim() != 1 {
		t.Errorf("Len %d StoredNumbers %d Dim %d", s.Len(), s.StoredNumbers(), s.Dim())
	}
	// NewSamples copies.
	chains[0][0][0] = 99
	if s.Chains()[0][0][0] != 0 {
		t.Error("NewSamples shares the caller's vectors")
	}
}

// A Samples posterior predicts through infer.Predict like any other: the
// predictive of a fitted SGLD posterior on the conjugate problem has the
// exact predictive mean.
func TestSamplesPredict(t *testing.T) {
	p, mean, _ := infertest.Sanity1D()
	s := samples(t, infer.SGLD{Epochs: 20000, LR: 1e-3, Decay: -1, MaxSamples: 400}, p, 2)
	x := mat.NewDense(1, 1, []float64{2})
	pred, err := infer.Predict(t.Context(), s, p, x, 100, rng(1))
	if err != nil {
		t.Fatal(err)
	}
	if pred.S != 100 {
		t.Errorf("%d draws, want 100", pred.S)
	}
	m := 0.0
	for _, l := range pred.Loc {
		m += l / float64(len(pred.Loc))
	}
	if math.Abs(m-2*mean[0]) > 0.05 {
		t.Errorf("predictive mean %v, want %v", m, 2*mean[0])
	}
}
