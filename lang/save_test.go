package lang

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/parser/source"
	"gonum.org/v1/gonum/mat"
)

// TestSaveLoadRoundTrip saves MAP and VI posteriors, loads them back in a new
// session from the file alone, and checks the numbers are identical and the
// loaded posterior predicts.
func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile("testdata/faithful.csv")
	os.WriteFile(filepath.Join(dir, "faithful.csv"), data, 0o644)
	fit := `data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model lin(x: 1) {
  h = dense(x, 4) |> tanh
  y ~ normal(dense(h, 1)[0], 0.5)
}
posterior a = fit lin on d using map(epochs: 20)
posterior b = fit lin on d using vi(epochs: 20)
save a to "a.post"
save b to "b.post"
`
	s1 := NewSession(&Config{Seed: 1, Dir: dir})
	if err := s1.Run(context.Background(), "fit.bl", []byte(fit)); err != nil {
		t.Fatal(err)
	}
	var tab *Table
	s2 := NewSession(&Config{Seed: 1, Dir: dir, Emit: func(r Result) { tab = r.Table }})
	load := `data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
posterior a = load("a.post")
posterior b = load("b.post")
evaluate [a, b] on d: nll, rmse
`
	if err := s2.Run(context.Background(), "load.bl", []byte(load)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		p1, p2 := posteriorOf(t, s1, name), posteriorOf(t, s2, name)
		v1 := p1.post.(infer.Saver).Vectors()
		v2 := p2.post.(infer.Saver).Vectors()
		if len(v1) != len(v2) {
			t.Fatalf("%s: %d vectors saved, %d loaded", name, len(v1), len(v2))
		}
		for i := range v1 {
			for j := range v1[i] {
				if v1[i][j] != v2[i][j] {
					t.Fatalf("%s: vector %d differs at %d", name, i, j)
				}
			}
		}
		if p1.Scaler.YStd != p2.Scaler.YStd || p2.Method() != p1.Method() {
			t.Errorf("%s: scaler or method lost in the file", name)
		}
	}
	if tab == nil || tab.Rows() != 2 {
		t.Fatalf("loaded posteriors did not evaluate: %+v", tab)
	}

	// A damaged file is a positioned data error, never a panic.
	raw, _ := os.ReadFile(filepath.Join(dir, "a.post"))
	raw[len(raw)/2] ^= 0xff
	os.WriteFile(filepath.Join(dir, "bad.post"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "short.post"), raw[:len(raw)/3], 0o644)
	for _, f := range []string{"bad.post", "short.post", "missing.post"} {
		err := NewSession(&Config{Dir: dir}).Run(context.Background(), "l.bl", []byte(`posterior p = load("`+f+`")`))
		var e *source.Error
		if err == nil || !asError(err, &e) || e.Kind != source.Data || e.Span.Start.Line != 1 {
			t.Errorf("%s: got %v, want a positioned data error", f, err)
			continue
		}
		if !strings.Contains(e.Msg, f) {
			t.Errorf("%s: message does not name the file: %v", f, e.Msg)
		}
	}
}

func asError(err error, target **source.Error) bool {
	e, ok := err.(*source.Error)
	if ok {
		*target = e
	}
	return ok
}

// TestSaveLoadEveryKind: every posterior kind saves, loads, and predicts
// exactly as before for the same seed.
func TestSaveLoadEveryKind(t *testing.T) {
	dir := t.TempDir()
	raw, _ := os.ReadFile("testdata/faithful.csv")
	os.WriteFile(filepath.Join(dir, "faithful.csv"), raw, 0o644)
	methods := map[string]string{
		"map":       "map(epochs: 5)",
		"vi":        "vi(epochs: 5)",
		"swag":      "swag(epochs: 6, rank: 3)",
		"multiswag": "multiswag(members: 2, epochs: 6, rank: 3)",
		"sgld":      "sgld(epochs: 8, chains: 2)",
		"nuts":      "nuts(warmup: 20, samples: 10, chains: 2, max_depth: 5)",
		"ensemble":  "ensemble(members: 2, method: map(epochs: 5))",
		"laplace":   "laplace(epochs: 5)",
		"laplace_d": "laplace(epochs: 5, hessian: diag)",
		"dropout":   "mc_dropout(epochs: 5)",
	}
	for name, m := range methods {
		t.Run(name, func(t *testing.T) {
			script := `data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model net(x: 1) {
  h = dense(x, 4) |> tanh
  y ~ normal(dense(h, 1)[0], 0.5)
}
posterior p = fit net on d using ` + m + `
save p to "` + name + `.post"
posterior q = load("` + name + `.post")
`
			s := NewSession(&Config{Seed: 2, Dir: dir})
			if err := s.Run(context.Background(), name+".bl", []byte(script)); err != nil {
				t.Fatal(err)
			}
			x := mat.NewDense(3, 1, []float64{50, 70, 90})
			a, err := posteriorOf(t, s, "p").Predict(context.Background(), x, &PredictOptions{Samples: 40, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			b, err := posteriorOf(t, s, "q").Predict(context.Background(), x, &PredictOptions{Samples: 40, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			for i := range a.Mean {
				if a.Mean[i] != b.Mean[i] || a.Epistemic[i] != b.Epistemic[i] {
					t.Errorf("row %d: saved %v±%v, loaded %v±%v", i, a.Mean[i], a.Epistemic[i], b.Mean[i], b.Epistemic[i])
				}
			}
		})
	}
}
