package lang

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/tabular"
	"github.com/bayesl/bayesl/stdlib/tensorio"
	"github.com/parquet-go/parquet-go"
)

// The checker's table of prediction formats and the writers' are one.
func TestPredictionFormatsAgree(t *testing.T) {
	if got, want := ir.Exts(ir.PredictionFormats), tabular.Exts(); !slices.Equal(got, want) {
		t.Errorf("ir.PredictionFormats %v, tabular writes %v", got, want)
	}
}

// runIn runs src in a fresh session whose files live in dir.
func runIn(t *testing.T, dir, src string) []Result {
	t.Helper()
	var out []Result
	s := NewSession(&Config{Seed: 1, Samples: 20, Dir: dir, Emit: func(r Result) { out = append(out, r) }})
	if err := s.Run(context.Background(), "t.bl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	return out
}

// animals is a classification file with text labels, as users have them.
func animals(t *testing.T, dir string) {
	var b strings.Builder
	b.WriteString("length,weight,kind\n")
	for i := range 30 {
		kind := []string{"cat", "dog", "eel"}[i%3]
		fmt.Fprintf(&b, "%d,%g,%s\n", 10+i%3*20+i%5, float64(i%3)*2+float64(i%7)/10, kind)
	}
	if err := os.WriteFile(filepath.Join(dir, "animals.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const animalScript = `data d = csv("animals.csv", x: [length, weight], y: kind, classes: 3, standardize: true)
model net(x: 2) {
  y ~ categorical(logits: dense(x, 3))
}
posterior p = fit net on d using map(epochs: 200, lr: 0.05)
`

// npyArray parses an .npy file as numpy.save writes it: the header dict,
// then raw little-endian data.
type npyArray struct {
	descr string
	shape []int
	data  []byte
}

var (
	npyDescr = regexp.MustCompile(`'descr': ('[^']*'|\[.*\])`)
	npyShape = regexp.MustCompile(`'shape': \(([0-9, ]*)\)`)
)

func parseNPY(t *testing.T, b []byte) npyArray {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("not .npy 1.0: %q", b[:min(10, len(b))])
	}
	n := int(binary.LittleEndian.Uint16(b[8:]))
	if (10+n)%64 != 0 {
		t.Fatalf("header of %d bytes not aligned to 64", n)
	}
	h := string(b[10 : 10+n])
	a := npyArray{descr: npyDescr.FindStringSubmatch(h)[1], data: b[10+n:]}
	for _, f := range strings.Split(npyShape.FindStringSubmatch(h)[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, _ := strconv.Atoi(f)
			a.shape = append(a.shape, d)
		}
	}
	return a
}

func (a npyArray) floats() []float64 {
	out := make([]float64, len(a.data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(a.data[8*i:]))
	}
	return out
}

func (a npyArray) strings(width int) []string {
	var out []string
	for i := 0; i+4*width <= len(a.data); i += 4 * width {
		var r []rune
		for k := range width {
			if c := binary.LittleEndian.Uint32(a.data[i+4*k:]); c != 0 {
				r = append(r, rune(c))
			}
		}
		out = append(out, string(r))
	}
	return out
}

// readNPZ returns every entry of an .npz archive by name, in order.
func readNPZ(t *testing.T, path string) ([]string, map[string]npyArray) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	out := map[string]npyArray{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(f.Name, ".npy")
		names = append(names, name)
		out[name] = parseNPY(t, b)
	}
	return names, out
}

// A classifier fitted on text labels writes the same predictions to every
// format, its class columns and labels named by the file's labels, each
// read back as numpy, pandas and pyarrow would.
func TestPredictEveryFormat(t *testing.T) {
	dir := t.TempDir()
	animals(t, dir)
	runIn(t, dir, animalScript+`predict p at d to "out/p.csv"
predict p at d to "out/p.json"
predict p at d to "out/p.npy"
predict p(draws: true) at d to "out/p.npz"
predict p at d to "out/p.parquet"
`)
	cols := []string{"length", "weight", "prob_cat", "prob_dog", "prob_eel", "label", "prob", "total", "aleatoric", "epistemic"}
	for _, f := range []string{"p.csv", "p.json", "p.npy", "p.npz", "p.parquet"} {
		if st, err := os.Stat(filepath.Join(dir, "out", f)); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, mode %v", f, err, st.Mode())
		}
	}

	// CSV: the reference the others are compared with.
	fh, _ := os.Open(filepath.Join(dir, "out", "p.csv"))
	recs, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil || !slices.Equal(recs[0], cols) || len(recs) != 31 {
		t.Fatalf("csv header %v, %d lines, %v", recs[0], len(recs), err)
	}
	var labels []string
	var probCat []float64
	for _, r := range recs[1:] {
		labels = append(labels, r[5])
		v, _ := strconv.ParseFloat(r[2], 64)
		probCat = append(probCat, v)
		sum := 0.0
		for _, s := range r[2:5] {
			p, _ := strconv.ParseFloat(s, 64)
			sum += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("probabilities of a row sum to %v", sum)
		}
	}
	if labels[0] != "cat" || labels[1] != "dog" || labels[2] != "eel" {
		t.Errorf("labels %v (the fit separates the classes)", labels[:3])
	}

	// JSON: records, keys as the CSV's.
	b, _ := os.ReadFile(filepath.Join(dir, "out", "p.json"))
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil || len(rows) != 30 {
		t.Fatalf("json: %v, %d rows", err, len(rows))
	}
	if rows[4]["label"] != labels[4] || rows[4]["prob_cat"] != probCat[4] {
		t.Errorf("json row 4 %v", rows[4])
	}

	// NPY: one structured array, the label a '<U3' field.
	b, _ = os.ReadFile(filepath.Join(dir, "out", "p.npy"))
	a := parseNPY(t, b)
	wantDescr := "[('length', '<f8'), ('weight', '<f8'), ('prob_cat', '<f8'), ('prob_dog', '<f8'), ('prob_eel', '<f8'), ('label', '<U3'), ('prob', '<f8'), ('total', '<f8'), ('aleatoric', '<f8'), ('epistemic', '<f8')]"
	if a.descr != wantDescr || !slices.Equal(a.shape, []int{30}) || len(a.data) != 30*(9*8+12) {
		t.Errorf("npy %s %v, %d bytes", a.descr, a.shape, len(a.data))
	}
	rec := a.data[7*(9*8+12):]
	if got := math.Float64frombits(binary.LittleEndian.Uint64(rec[16:])); got != probCat[7] {
		t.Errorf("npy prob_cat[7] = %v, want %v", got, probCat[7])
	}

	// NPZ: one array per column in order, then the draws, S x N x K.
	names, arrs := readNPZ(t, filepath.Join(dir, "out", "p.npz"))
	if !slices.Equal(names, append(slices.Clone(cols), "draws_prob")) {
		t.Errorf("npz entries %v", names)
	}
	if l := arrs["label"]; l.descr != "'<U3'" || !slices.Equal(l.strings(3), labels) {
		t.Errorf("npz label %s %v", l.descr, l.strings(3))
	}
	if c := arrs["prob_cat"].floats(); !slices.Equal(c, probCat) {
		t.Errorf("npz prob_cat %v", c[:3])
	}
	if d := arrs["draws_prob"]; !slices.Equal(d.shape, []int{1, 30, 3}) || d.floats()[7*3] != probCat[7] {
		t.Errorf("npz draws %v", d.shape)
	}

	// Parquet, read with the library.
	fh, _ = os.Open(filepath.Join(dir, "out", "p.parquet"))
	defer fh.Close()
	st, _ := fh.Stat()
	pf, err := parquet.OpenFile(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var pnames []string
	for _, f := range pf.Schema().Fields() {
		pnames = append(pnames, f.Name())
	}
	prows := make([]parquet.Row, 30)
	n, _ := parquet.NewReader(fh).ReadRows(prows)
	if !slices.Equal(pnames, cols) || n != 30 || string(prows[5][5].ByteArray()) != labels[5] || prows[5][2].Double() != probCat[5] {
		t.Errorf("parquet columns %v, %d rows", pnames, n)
	}
}

// A point posterior with fixed noise has a Normal predictive, so its
// quantiles and intervals are mean + sd·Φ⁻¹(q) exactly.
func TestPredictQuantiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("x,y\n0,1\n1,3\n2,5.5\n3,7\n"), 0o644)
	runIn(t, dir, `data d = csv("d.csv", x: [x], y: y)
model lin(x: 1) {
  y ~ normal(dense(x, 1)[0], 0.5)
}
posterior p = fit lin on d using map(epochs: 300, lr: 0.05)
predict p(quantiles: [0.05, 0.5], intervals: [0.9]) at [[0.5], [10]] to "q.csv"
`)
	fh, _ := os.Open(filepath.Join(dir, "q.csv"))
	recs, _ := csv.NewReader(fh).ReadAll()
	fh.Close()
	if want := []string{"x", "mean", "sd", "aleatoric_var", "epistemic_var", "q0.05", "q0.5", "lo0.9", "hi0.9"}; !slices.Equal(recs[0], want) {
		t.Fatalf("columns %v", recs[0])
	}
	for _, r := range recs[1:] {
		v := make([]float64, len(r))
		for j := range r {
			v[j], _ = strconv.ParseFloat(r[j], 64)
		}
		mean, sd := v[1], v[2]
		if sd != 0.5 {
			t.Errorf("sd %v, want the fixed 0.5", sd)
		}
		for j, want := range []float64{mean - 1.6448536269514729*sd, mean, mean - 1.6448536269514729*sd, mean + 1.6448536269514729*sd} {
			if math.Abs(v[5+j]-want) > 1e-9 {
				t.Errorf("%s = %v, want %v", recs[0][5+j], v[5+j], want)
			}
		}
	}
}

// An export holds what a numpy forward pass needs: the weights as the
// network uses them and the scaler. The pass on raw inputs reproduces
// predict's mean.
func TestExportForwardPass(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,y\n0,10,1\n1,30,3\n2,20,5.5\n3,50,7\n4,40,8\n"), 0o644)
	res := runIn(t, dir, `data d = csv("d.csv", x: [a, b], y: y, standardize: true)
model net(x: 2) {
  h = dense(x, 4) |> tanh
  y ~ normal(dense(h, 1)[0], 0.3)
}
posterior p = fit net on d using map(epochs: 50, lr: 0.05)
predict p at [[1.5, 25], [7, 0]]
export p to "w/p.npz"
export p(draws: 0) to "w/p.safetensors"
`)
	var tab *Table
	for _, r := range res {
		if r.Kind == KindPredict {
			tab = r.Table
		}
	}
	mean := tab.Column("mean").Floats
	forward := func(get func(string) []float64) []float64 {
		var out []float64
		xm, xs := get("scaler.x_mean"), get("scaler.x_sd")
		w0, b0, w1, b1 := get("mean.dense0.w"), get("mean.dense0.b"), get("mean.dense1.w"), get("mean.dense1.b")
		for _, raw := range [][]float64{{1.5, 25}, {7, 0}} {
			h := make([]float64, 4)
			for k := range h {
				s := b0[k]
				for j := range raw {
					s += (raw[j] - xm[j]) / xs[j] * w0[j*4+k] // x @ W, W is in x out
				}
				h[k] = math.Tanh(s)
			}
			o := b1[0]
			for k := range h {
				o += h[k] * w1[k]
			}
			out = append(out, get("scaler.y_mean")[0]+get("scaler.y_sd")[0]*o)
		}
		return out
	}
	names, arrs := readNPZ(t, filepath.Join(dir, "w", "p.npz"))
	got := forward(func(n string) []float64 { return arrs[n].floats() })
	for i := range got {
		if math.Abs(got[i]-mean[i]) > 1e-9 {
			t.Errorf("npz forward pass %v, predict says %v", got, mean)
		}
	}
	if d := arrs["draws.dense0.w"]; !slices.Equal(d.shape, []int{1, 2, 4}) {
		t.Errorf("a point's draws: shape %v (entries %v)", d.shape, names)
	}
	var meta map[string]string
	if err := json.Unmarshal([]byte(arrs["meta"].strings(len(arrs["meta"].data) / 4)[0]), &meta); err != nil || meta["format"] != ExportFormat || meta["x_names"] != `["a","b"]` || meta["point"] != "the MAP point" {
		t.Errorf("meta %v %v", meta, err)
	}

	ts, err := tensorio.ReadSafetensors(filepath.Join(dir, "w", "p.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	got = forward(func(n string) []float64 { v, _ := tensorio.Lookup(ts, n); return v.Data })
	for i := range got {
		if math.Abs(got[i]-mean[i]) > 1e-9 {
			t.Errorf("safetensors forward pass %v, predict says %v", got, mean)
		}
	}
	if _, err := tensorio.Lookup(ts, "draws.dense0.w"); err == nil {
		t.Error("draws: 0 wrote draws")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "w", "p.safetensors"))
	var hdr struct {
		Meta map[string]string `json:"__metadata__"`
	}
	json.Unmarshal(b[8:8+binary.LittleEndian.Uint64(b)], &hdr)
	if hdr.Meta["y_name"] != "y" || hdr.Meta["likelihood"] != "normal" || !strings.Contains(hdr.Meta["model"], "model net(x: 2)") {
		t.Errorf("safetensors metadata %v", hdr.Meta)
	}
}

// An ensemble has no one network: its export is its members, and asking
// for none of them is an error.
func TestExportEnsemble(t *testing.T) {
	dir := t.TempDir()
	animals(t, dir)
	res := runIn(t, dir, `data d = csv("animals.csv", x: [length, weight], y: kind, classes: 3)
model net(x: 2) {
  y ~ categorical(logits: dense(x, 3))
}
posterior e = fit net on d using ensemble(members: 3, method: map(epochs: 5))
export e to "e.npz"
`)
	if last := res[len(res)-1]; !strings.Contains(last.Text, "3 draws") {
		t.Errorf("export said %q", last.Text)
	}
	_, arrs := readNPZ(t, filepath.Join(dir, "e.npz"))
	if _, has := arrs["mean.dense0.w"]; has {
		t.Error("an ensemble exported a mean network")
	}
	if d := arrs["draws.dense0.w"]; !slices.Equal(d.shape, []int{3, 2, 3}) {
		t.Errorf("draws shape %v", d.shape)
	}
	s := NewSession(&Config{Seed: 1, Dir: dir})
	err := s.Run(context.Background(), "t.bl", []byte(`data d = csv("animals.csv", x: [length, weight], y: kind, classes: 3)
model net(x: 2) {
  y ~ categorical(logits: dense(x, 3))
}
posterior e = fit net on d using ensemble(members: 2, method: map(epochs: 1))
export e(draws: 0) to "e0.npz"`))
	if err == nil || !strings.Contains(err.Error(), "export its draws instead") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "e0.npz")); err == nil {
		t.Error("a failed export left a file")
	}
}

// A save killed half-way leaves its temporary file; the next save to the
// same place removes it. Written files are readable by others (0644).
func TestSaveRemovesStaleTemporary(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("x,y\n0,1\n1,3\n"), 0o644)
	stale := filepath.Join(dir, ".p.post.tmp-4242")
	os.WriteFile(stale, []byte("half a posterior"), 0o600)
	runIn(t, dir, `data d = csv("d.csv", x: [x], y: y)
model lin(x: 1) {
  y ~ normal(dense(x, 1)[0], 0.5)
}
posterior p = fit lin on d using map(epochs: 2)
save p to "p.post"
predict p at d to "p.csv"
`)
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
	for _, f := range []string{"p.post", "p.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", f, err, st.Mode())
		}
	}
}
