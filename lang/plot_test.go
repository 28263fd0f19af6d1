package lang

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

// TestPlotsAgreeWithTables: a picture shows the numbers its statement's
// table prints for the same posterior and seed (the reliability title's
// ECE is evaluate's, the histogram's AUROC is ood's: the same draws), and
// names the data it shows (data: test is "test", not "train").
func TestPlotsAgreeWithTables(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"digits.csv", "mcycle.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", "data", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	var out bytes.Buffer
	s := NewSession(&Config{Seed: 3, Dir: dir, Samples: 20, Emit: func(r Result) { r.Format(&out) }})
	err := s.Run(context.Background(), "agree.bl", []byte(`data g = csv("digits.csv", x: [p0 .. p63], y: label, classes: 10, standardize: true)
let low = where(g, label < 5)
let high = where(g, label >= 5)
model mlp(x: 64) {
  y ~ categorical(logits: dense(dense(x, 16) |> relu, 10))
}
posterior c = fit mlp on low using vi(epochs: 3, predictive: nn) # sampled: the draws matter
evaluate c on low: ece
plot reliability(c, on: low) to "rel.svg"
ood c in low vs high by [total]: auroc
plot histogram(c, in: low, out: high, by: total) to "hist.svg"

data mc = csv("mcycle.csv", x: [times], y: accel, standardize: true)
let train, test = split(mc, 0.8, seed: 7)
model net(x: 1) {
  y ~ normal(dense(dense(x, 8) |> tanh, 1)[0], 1)
}
posterior p = fit net on train using map(epochs: 5)
plot band(p, over: 0 .. 60, data: test) to "band.svg"
plot samples(p, over: 0 .. 60, n: 3, data: test) to "samples.svg"
`))
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	number := func(what, pattern, in string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(in)
		if m == nil {
			t.Fatalf("no %s (%s) in:\n%s", what, pattern, in)
		}
		return m[1]
	}
	svg := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if table, title := number("evaluate's ece", `(?m)^\s+c\s+(\d\.\d{4})\s*$`, text), number("the title's ECE", `ECE = (\d\.\d{4})`, svg("rel.svg")); table != title {
		t.Errorf("evaluate prints ece %s, the reliability plot's title %s", table, title)
	}
	if table, title := number("ood's auroc", `(?m)^\s+c \(total\)\s+(\d\.\d{4})\s*$`, text), number("the title's AUROC", `AUROC = (\d\.\d{4})`, svg("hist.svg")); table != title {
		t.Errorf("ood prints auroc %s, the histogram's title %s", table, title)
	}
	for _, f := range []string{"band.svg", "samples.svg"} {
		if b := svg(f); !strings.Contains(b, ">test (27)<") || strings.Contains(b, "train (") || strings.Contains(b, "data (") {
			t.Errorf("%s does not name the test data it shows", f)
		}
	}
}
