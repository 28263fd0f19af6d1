package lang

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPlotStatements runs every kind of plot statement, checks each file
// parses as SVG or PNG, and compares one SVG with its golden copy (fixed
// seed, so the picture is byte-stable).
func TestPlotStatements(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"faithful.csv"} {
		b, _ := os.ReadFile(filepath.Join("testdata", f))
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	digits, _ := os.ReadFile(filepath.Join("..", "examples", "data", "digits.csv"))
	os.WriteFile(filepath.Join(dir, "digits.csv"), digits, 0o644)
	script := `data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model net(x: 1) {
  h = dense(x, 8) |> tanh
  y ~ normal(dense(h, 1)[0], 0.5)
}
posterior p = fit net on d using vi(epochs: 30)
plot band(p, over: 40 .. 100, data: d, points: 50) to "band.svg"
plot samples(p, over: 40 .. 100, n: 5) to "samples.png"
plot training(p) to "training.svg"

data g = csv("digits.csv", x: [p0 .. p63], y: label, classes: 10, standardize: true)
let low = where(g, label < 5)
let high = where(g, label >= 5)
model mlp(x: 64) {
  y ~ categorical(logits: dense(dense(x, 16) |> relu, 10))
}
posterior c = fit mlp on low using vi(epochs: 3)
plot reliability(c, on: low) to "reliability.png"
plot histogram(c, in: low, out: high, by: total) to "hist.svg"
`
	s := NewSession(&Config{Seed: 1, Dir: dir, Samples: 20})
	if err := s.Run(context.Background(), "plots.bl", []byte(script)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"band.svg", "samples.png", "training.svg", "reliability.png", "hist.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not written: %v", f, err)
		}
		if filepath.Ext(f) == ".png" {
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: not a PNG: %v", f, err)
			}
			continue
		}
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(b, &root); err != nil || root.XMLName.Local != "svg" {
			t.Errorf("%s: not an SVG (%v, root %q)", f, err, root.XMLName.Local)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "band.svg"))
	golden := filepath.Join("testdata", "golden", "band.svg")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./lang -run PlotStatements -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("band.svg differs from %s; if the change is intended, run go test ./lang -run PlotStatements -update", golden)
	}

	// A plot that cannot be drawn is a positioned error and writes nothing.
	err = s.Run(context.Background(), "bad.bl", []byte(`plot band(c, over: 0 .. 1) to "bad.svg"`))
	if err == nil {
		t.Fatal("band of a classifier must fail")
	}
	if _, statErr := os.Stat(filepath.Join(dir, "bad.svg")); statErr == nil {
		t.Error("a failed plot left a file")
	}
}
