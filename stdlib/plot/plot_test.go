package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/bayesl/bayesl/stdlib/metric"
)

var update = flag.Bool("update", false, "rewrite the golden SVGs and the sample PNGs in testdata")

// picture is one call of an exported function with fixed inputs, and the
// size it promises.
type picture struct {
	name string
	w, h vg.Length
	draw func(path string) error
}

func inches(w, h float64) (vg.Length, vg.Length) {
	return vg.Length(w) * vg.Inch, vg.Length(h) * vg.Inch
}

// small returns one small, closed-form picture of each kind, the inputs of
// the goldens.
func small() []picture {
	var ps []picture
	add := func(name string, w, h vg.Length, draw func(string) error) {
		ps = append(ps, picture{name, w, h, draw})
	}
	w, h := inches(bandWidth, bandHeight)
	add("band", w, h, func(p string) error {
		return Band(p, bandFixture(25, 8, 5), Labels{Title: "band", X: "x", Y: "y"})
	})
	w, h = inches(reliabilityWidth, reliabilityHeight)
	add("reliability", w, h, func(p string) error {
		return Reliability(p, reliabilityFixture(300, 4, 0), Labels{Title: "reliability"})
	})
	w, h = inches(oodWidth, oodHeight)
	add("ood", w, h, func(p string) error {
		d := oodFixture(40, 30, 0)
		d.Bins = 12
		return OODHistogram(p, d, Labels{Title: "entropy"})
	})
	w, h = inches(curvesWidth, curvesHeight)
	add("curves", w, h, func(p string) error {
		d := curvesFixture(40)
		d.LogY = true
		return Curves(p, d, Labels{Title: "training"})
	})
	w, h = inches(functionsWidth, functionsHeight)
	add("functions", w, h, func(p string) error {
		return Functions(p, functionsFixture(5, 30, 1, true), Labels{Title: "samples"})
	})
	w, h = inches(3*panelWidth, panelHeight)
	add("panels", w, h+vg.Points(titleSize+12), func(p string) error {
		d := panelsFixture(4, 20)
		d.SameY = true
		return FunctionPanels(p, d, Labels{Title: "priors"})
	})
	return ps
}

// TestFormats renders every picture as SVG and PNG and decodes the files.
func TestFormats(t *testing.T) {
	dir := t.TempDir()
	for _, p := range small() {
		t.Run(p.name, func(t *testing.T) {
			svgPath := filepath.Join(dir, p.name+".svg")
			if err := p.draw(svgPath); err != nil {
				t.Fatal(err)
			}
			checkSVG(t, svgPath)
			pngPath := filepath.Join(dir, p.name+".PNG") // extensions are case-insensitive
			if err := p.draw(pngPath); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(pngPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("%s: %v", pngPath, err)
			}
			px := func(l vg.Length) int { return int(float64(l/vg.Inch*DPI) + 0.5) }
			if b := img.Bounds(); b.Dx() != px(p.w) || b.Dy() != px(p.h) {
				t.Errorf("%s is %d×%d pixels, want %d×%d", pngPath, b.Dx(), b.Dy(), px(p.w), px(p.h))
			}
			if info, err := os.Stat(pngPath); err == nil && info.Mode().Perm() != 0o644 {
				t.Errorf("%s has mode %v, want 0644", pngPath, info.Mode().Perm())
			}
		})
	}
}

// checkSVG decodes every token of an SVG file and checks that the root
// element is svg.
func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element is %q, want svg", path, root)
	}
}

// TestGolden checks that each small picture gives a byte-identical SVG,
// run after run. Regenerate with go test ./stdlib/plot -update.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	for _, p := range small() {
		t.Run(p.name, func(t *testing.T) {
			path := filepath.Join(dir, p.name+".svg")
			if err := p.draw(path); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Twice in one process: no hidden state (IDs, counters, map
			// order) may leak into the output.
			if err := p.draw(path); err != nil {
				t.Fatal(err)
			}
			again, _ := os.ReadFile(path)
			if !bytes.Equal(got, again) {
				t.Fatalf("two renderings of the same input differ")
			}
			golden := filepath.Join("testdata", p.name+".golden.svg")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (%d vs %d bytes); run go test -update if the change is intended",
					path, golden, len(got), len(want))
			}
		})
	}
}

// TestSamples writes the sample pictures kept in testdata for people to
// look at; it only checks that they render.
func TestSamples(t *testing.T) {
	dir := t.TempDir()
	if *update {
		dir = "testdata"
	}
	if err := Band(filepath.Join(dir, "sample_band.png"), bandFixture(200, 60, 25),
		Labels{Title: "heteroscedastic sine", X: "x", Y: "y"}); err != nil {
		t.Error(err)
	}
	if err := Reliability(filepath.Join(dir, "sample_reliability.png"), reliabilityFixture(3000, 10, 1),
		Labels{Title: "overconfident 10-class model"}); err != nil {
		t.Error(err)
	}
}

// TestBadFormat checks that a file name without .svg or .png is an error
// that creates nothing.
func TestBadFormat(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.jpg", "a", "a.svg.tmp", "a.pdf", "sub/a.eps"} {
		for _, p := range small() {
			path := filepath.Join(dir, name)
			err := p.draw(path)
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s to %q: err = %v, want ErrFormat", p.name, name, err)
			}
		}
	}
	assertEmpty(t, dir)
}

// TestBadInput checks that empty, mismatched and non-finite inputs are
// ErrInput errors, not panics, and create nothing.
func TestBadInput(t *testing.T) {
	nan := math.NaN()
	one := []float64{1}
	ok := bandFixture(5, 0, 0)
	curve := func(loss ...float64) CurvesData { return CurvesData{Curves: []Curve{{Name: "a", Loss: loss}}} }
	fd := functionsFixture(2, 3, 1, false)
	cases := []struct {
		name string
		draw func(path string) error
	}{
		{"band empty", func(p string) error { return Band(p, BandData{}, Labels{}) }},
		{"band short mean", func(p string) error {
			d := ok
			d.Mean = d.Mean[:4]
			return Band(p, d, Labels{})
		}},
		{"band NaN", func(p string) error {
			d := bandFixture(5, 0, 0)
			d.Epistemic[2] = nan
			return Band(p, d, Labels{})
		}},
		{"band negative variance", func(p string) error {
			d := bandFixture(5, 0, 0)
			d.Aleatoric[1] = -1
			return Band(p, d, Labels{})
		}},
		{"band train mismatch", func(p string) error {
			d := ok
			d.TrainX, d.TrainY = one, nil
			return Band(p, d, Labels{})
		}},
		{"band negative K", func(p string) error {
			d := ok
			d.K = -1
			return Band(p, d, Labels{})
		}},
		{"reliability empty", func(p string) error { return Reliability(p, ReliabilityData{K: 2}, Labels{}) }},
		{"reliability K 0", func(p string) error { return Reliability(p, ReliabilityData{Y: one, Prob: one}, Labels{}) }},
		{"reliability short prob", func(p string) error {
			return Reliability(p, ReliabilityData{K: 2, Y: one, Prob: one}, Labels{})
		}},
		{"reliability bad label", func(p string) error {
			return Reliability(p, ReliabilityData{K: 2, Y: []float64{2}, Prob: []float64{0.5, 0.5}}, Labels{})
		}},
		{"reliability fractional label", func(p string) error {
			return Reliability(p, ReliabilityData{K: 2, Y: []float64{0.5}, Prob: []float64{0.5, 0.5}}, Labels{})
		}},
		{"reliability NaN", func(p string) error {
			return Reliability(p, ReliabilityData{K: 2, Y: []float64{0}, Prob: []float64{nan, 0.5}}, Labels{})
		}},
		{"reliability bins", func(p string) error {
			return Reliability(p, ReliabilityData{K: 1, Y: []float64{0}, Prob: one, Bins: -1}, Labels{})
		}},
		{"ood empty", func(p string) error { return OODHistogram(p, OODData{In: one}, Labels{}) }},
		{"ood NaN", func(p string) error { return OODHistogram(p, OODData{In: one, Out: []float64{nan}}, Labels{}) }},
		{"ood bins", func(p string) error { return OODHistogram(p, OODData{In: one, Out: one, Bins: -3}, Labels{}) }},
		{"curves none", func(p string) error { return Curves(p, CurvesData{}, Labels{}) }},
		{"curves empty loss", func(p string) error { return Curves(p, curve(), Labels{}) }},
		{"curves all NaN", func(p string) error { return Curves(p, curve(nan, nan), Labels{}) }},
		{"curves epoch mismatch", func(p string) error {
			return Curves(p, CurvesData{Curves: []Curve{{Loss: one, Epoch: []float64{1, 2}}}}, Labels{})
		}},
		{"curves log of negative", func(p string) error {
			d := curve(2, 1, -0.5)
			d.LogY = true
			return Curves(p, d, Labels{})
		}},
		{"functions empty", func(p string) error { return Functions(p, FunctionsData{}, Labels{}) }},
		{"functions no samples", func(p string) error { return Functions(p, FunctionsData{X: one}, Labels{}) }},
		{"functions ragged", func(p string) error {
			return Functions(p, FunctionsData{X: fd.X, F: fd.F[:5]}, Labels{})
		}},
		{"functions Inf", func(p string) error {
			return Functions(p, FunctionsData{X: one, F: []float64{math.Inf(1)}}, Labels{})
		}},
		{"functions data mismatch", func(p string) error {
			return Functions(p, FunctionsData{X: one, F: one, DataX: one}, Labels{})
		}},
		{"panels none", func(p string) error { return FunctionPanels(p, PanelsData{}, Labels{}) }},
		{"panels bad panel", func(p string) error {
			return FunctionPanels(p, PanelsData{Panels: []Panel{{Title: "a", FunctionsData: fd}, {Title: "b"}}}, Labels{})
		}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		for _, ext := range []string{".svg", ".png"} {
			path := filepath.Join(dir, "sub", "out"+ext)
			err := c.draw(path)
			if !errors.Is(err, ErrInput) {
				t.Errorf("%s: err = %v, want ErrInput", c.name, err)
			} else if !strings.HasPrefix(err.Error(), "plot: ") {
				t.Errorf("%s: error %q does not start with \"plot: \"", c.name, err)
			}
		}
	}
	assertEmpty(t, dir) // not even the directory was created
}

// TestTinyInputs checks the smallest valid inputs render.
func TestTinyInputs(t *testing.T) {
	one := []float64{1}
	dir := t.TempDir()
	draws := map[string]func(string) error{
		"band": func(p string) error {
			return Band(p, BandData{X: one, Mean: one, Aleatoric: []float64{0}, Epistemic: []float64{0}}, Labels{})
		},
		"reliability": func(p string) error {
			return Reliability(p, ReliabilityData{K: 1, Prob: one, Y: []float64{0}}, Labels{})
		},
		"ood": func(p string) error { return OODHistogram(p, OODData{In: one, Out: one, AUROC: true}, Labels{}) },
		"curves": func(p string) error {
			return Curves(p, CurvesData{LogY: true, Curves: []Curve{{Loss: []float64{math.NaN(), 2, math.Inf(1)}}}}, Labels{})
		},
		"functions": func(p string) error { return Functions(p, FunctionsData{X: one, F: one}, Labels{}) },
		"panels": func(p string) error {
			return FunctionPanels(p, PanelsData{SameY: true, Panels: []Panel{{FunctionsData: FunctionsData{X: one, F: one}}}}, Labels{})
		},
	}
	for name, draw := range draws {
		path := filepath.Join(dir, name+".svg")
		if err := draw(path); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkSVG(t, path)
	}
}

// TestAtomic checks that a write that cannot complete fails with an error
// and leaves nothing behind, and that a failed plot keeps an old file.
func TestAtomic(t *testing.T) {
	draw := small()[0].draw
	dir := t.TempDir()

	// Missing directories are created.
	deep := filepath.Join(dir, "a", "b", "band.svg")
	if err := draw(deep); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, deep)

	// The parent "directory" is a regular file.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := draw(filepath.Join(file, "band.svg")); err == nil {
		t.Error("writing under a regular file succeeded")
	}

	// The destination is a directory: the rename fails and the temporary
	// file must go.
	target := filepath.Join(dir, "target.svg")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := draw(target); err == nil {
		t.Error("writing over a directory succeeded")
	}
	assertNoTemp(t, dir)

	// A read-only directory (meaningless for root, who may write anyway).
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := draw(filepath.Join(ro, "band.svg")); err == nil {
			t.Error("writing into a read-only directory succeeded")
		}
		assertEmpty(t, ro)
	}

	// A failed plot leaves an existing file as it was.
	old, _ := os.ReadFile(deep)
	if err := Band(deep, BandData{}, Labels{}); err == nil {
		t.Fatal("empty band succeeded")
	}
	if now, _ := os.ReadFile(deep); !bytes.Equal(now, old) {
		t.Error("a failed plot changed the existing file")
	}
	assertNoTemp(t, filepath.Dir(deep))
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s: unexpected %s", dir, e.Name())
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("%s: temporary file %s left behind", dir, e.Name())
		}
	}
}

// TestReliabilityBins checks that the bars show the binning of metric.ECE:
// the ECE recomputed from the bins equals metric.ECE, including for
// confidences exactly on bin edges.
func TestReliabilityBins(t *testing.T) {
	edges := ReliabilityData{K: 2}
	for i, c := range []float64{0.5, 0.6, 0.2 * 3, 0.7, 0.8, 0.9, 1, 1, 0.55, 2.0 / 3} {
		edges.Prob = append(edges.Prob, c, 1-c)
		edges.Y = append(edges.Y, float64(i%2))
	}
	for name, d := range map[string]ReliabilityData{
		"closed form": reliabilityFixture(300, 4, 0),
		"random":      reliabilityFixture(2000, 10, 3),
		"edges":       edges,
	} {
		for _, bins := range []int{1, 5, 10, 15, 20} {
			r := binPredictions(d.Prob, d.K, d.Y, bins)
			n, ece := 0, 0.0
			for b, c := range r.count {
				n += c
				ece += math.Abs(r.correct[b] - r.conf[b])
			}
			ece /= float64(len(d.Y))
			want := metric.ECE(d.Prob, d.K, d.Y, bins)
			if n != len(d.Y) || math.Abs(ece-want) > 1e-12 {
				t.Errorf("%s, %d bins: %d predictions binned, ECE %v; want %d and metric.ECE %v", name, bins, n, ece, len(d.Y), want)
			}
		}
	}
}

// TestLegendOutside checks that the legend column lies right of the data
// area and is wide and tall enough for the legend.
func TestLegendOutside(t *testing.T) {
	p := newPlot("title", "x", "y")
	line := newLine([]float64{0, 1e6}, []float64{-1e6, 1e6}, black, 1)
	p.Add(line)
	leg := newLegend()
	for _, name := range []string{"a fit with a rather long name, longer than most", "b", "c", "d"} {
		leg.Add(name, line)
	}
	w, h := inches(curvesWidth, curvesHeight)
	c := margin(draw.New(vgsvg.New(w, h)))
	pc, lc := legendLayout(c, p, &leg)
	data := p.DataCanvas(pc)
	lw, lh := legendExtent(&leg, c)
	if lc.Min.X <= data.Max.X || lc.Min.X < pc.Max.X {
		t.Errorf("legend starts at x = %v, inside the plot (data area ends at %v, plot at %v)", lc.Min.X, data.Max.X, pc.Max.X)
	}
	if lc.Max.X-lc.Min.X < lw || lc.Max.Y-lc.Min.Y < lh || lc.Max.X > c.Max.X {
		t.Errorf("legend column %v cannot hold a %v × %v legend within %v", lc.Rectangle, lw, lh, c.Rectangle)
	}
}
