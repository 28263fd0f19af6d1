package tabular

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/stdlib/tensorio"
	"github.com/parquet-go/parquet-go"
)

func sample() *Table {
	return &Table{Columns: []Column{
		{Name: "x", Floats: []float64{0.5, -1e-7, 3}},
		{Name: "prob_setosa", Floats: []float64{0.9, 0.25, math.NaN()}},
		{Name: "label", Strings: []string{"setosa", "virginica", "café"}},
	}}
}

// Bytes as numpy.save writes them: the fixtures in tensorio/testdata were
// written by numpy (gen_fixtures.py), and a column with the same values
// must come out byte for byte the same.
func TestNPYBytesAsNumpy(t *testing.T) {
	for _, tc := range []struct {
		file string
		col  Column
	}{
		{"u5_strings.npy", Column{Name: "s", Strings: []string{"abc", "de"}}},
	} {
		want, err := os.ReadFile(filepath.Join("..", "tensorio", "testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := writeColumnNPY(&got, tc.col); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.file, got.Bytes(), want)
		}
	}
}

// readNPYHeader splits an .npy file into its header dict and its data,
// checking the magic, the version 1.0 length field and the 64-byte
// alignment numpy requires.
func readNPYHeader(t *testing.T, b []byte) (string, []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("not an .npy 1.0 file: %q", b[:min(len(b), 10)])
	}
	n := int(binary.LittleEndian.Uint16(b[8:]))
	if (10+n)%64 != 0 || b[10+n-1] != '\n' {
		t.Fatalf("header of %d bytes is not padded to 64 with a newline", n)
	}
	return strings.TrimRight(string(b[10:10+n]), " \n"), b[10+n:]
}

func utf32(b []byte, n int) string {
	var r []rune
	for i := range n {
		if c := binary.LittleEndian.Uint32(b[4*i:]); c != 0 {
			r = append(r, rune(c))
		}
	}
	return string(r)
}

func TestNPYStructured(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNPY(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	dict, data := readNPYHeader(t, buf.Bytes())
	want := "{'descr': [('x', '<f8'), ('prob_setosa', '<f8'), ('label', '<U9')], 'fortran_order': False, 'shape': (3,), }"
	if dict != want {
		t.Fatalf("header %s\nwant   %s", dict, want)
	}
	rec := 8 + 8 + 4*9
	if len(data) != 3*rec {
		t.Fatalf("%d data bytes, want %d", len(data), 3*rec)
	}
	r := data[2*rec:]
	if x := math.Float64frombits(binary.LittleEndian.Uint64(r)); x != 3 {
		t.Errorf("x[2] = %v", x)
	}
	if p := math.Float64frombits(binary.LittleEndian.Uint64(r[8:])); !math.IsNaN(p) {
		t.Errorf("prob[2] = %v, want NaN", p)
	}
	if s := utf32(r[16:], 9); s != "café" {
		t.Errorf("label[2] = %q", s)
	}
}

func TestPyString(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "'plain'", "it's": `'it\'s'`, `a\b`: `'a\\b'`, "é": `'\u00e9'`, "🙂": `'\U0001f642'`,
	} {
		if got := pyString(in); got != want {
			t.Errorf("pyString(%q) = %s, want %s", in, got, want)
		}
	}
}

// The archive holds one array per column in order; numeric entries and the
// extra arrays read back with tensorio (a NumPy-format reader), the
// string entry as numpy's '<U' array.
func TestNPZ(t *testing.T) {
	tb := sample()
	tb.Arrays = []tensorio.Tensor{{Name: "draws_prob", Shape: []int{2, 3, 1}, Data: []float64{1, 2, 3, 4, 5, 6}}}
	path := filepath.Join(t.TempDir(), "p.npz")
	if err := WriteFile(path, tb); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	nums := filepath.Join(t.TempDir(), "nums.npz")
	out, _ := os.Create(nums)
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "label.npy" {
			dict, data := readNPYHeader(t, b)
			if !strings.Contains(dict, "'descr': '<U9'") || !strings.Contains(dict, "'shape': (3,)") {
				t.Errorf("label header %s", dict)
			}
			if s := utf32(data[4*9:], 9); s != "virginica" {
				t.Errorf("label[1] = %q", s)
			}
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	out.Close()
	if want := []string{"x.npy", "prob_setosa.npy", "label.npy", "draws_prob.npy"}; !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	ts, err := tensorio.ReadNPZ(nums)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := tensorio.Lookup(ts, "draws_prob"); !slices.Equal(d.Shape, []int{2, 3, 1}) || d.Data[5] != 6 {
		t.Errorf("draws %v", d)
	}
	if x, _ := tensorio.Lookup(ts, "x"); !slices.Equal(x.Data, []float64{0.5, -1e-7, 3}) {
		t.Errorf("x %v", x)
	}
}

func TestCSVAndJSON(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "p.csv"), sample()); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(dir, "p.csv"))
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"x", "prob_setosa", "label"}, {"0.5", "0.9", "setosa"}, {"-1e-07", "0.25", "virginica"}, {"3", "NaN", "café"}}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("csv %q", recs)
	}
	if err := WriteFile(filepath.Join(dir, "p.JSON"), sample()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "p.JSON"))
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(rows) != 3 || rows[1]["x"] != -1e-7 || rows[2]["prob_setosa"] != nil || rows[2]["label"] != "café" {
		t.Errorf("json %v", rows)
	}
}

func TestParquet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.parquet")
	if err := WriteFile(path, sample()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fl := range pf.Schema().Fields() {
		names = append(names, fl.Name())
	}
	if want := []string{"x", "prob_setosa", "label"}; !slices.Equal(names, want) || pf.NumRows() != 3 {
		t.Fatalf("columns %v, %d rows", names, pf.NumRows())
	}
	rows := make([]parquet.Row, 3)
	n, _ := parquet.NewReader(f).ReadRows(rows)
	if n != 3 || rows[1][0].Double() != -1e-7 || !math.IsNaN(rows[2][1].Double()) || string(rows[2][2].ByteArray()) != "café" {
		t.Errorf("rows %v", rows[:n])
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ForPath("out/pred.xlsx")
	if want := `pred.xlsx has extension ".xlsx"; tables are written to .csv, .json, .npy, .npz, .parquet`; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	tb := sample()
	tb.Arrays = []tensorio.Tensor{{Name: "draws", Shape: []int{1}, Data: []float64{1}}}
	err = WriteFile(filepath.Join(dir, "p.csv"), tb)
	if err == nil || !strings.Contains(err.Error(), "write to .npz") {
		t.Errorf("arrays to csv: %v", err)
	}
	tb = sample()
	tb.Columns[1].Floats = tb.Columns[1].Floats[:2]
	if err := WriteFile(filepath.Join(dir, "q.csv"), tb); err == nil || !strings.Contains(err.Error(), `"prob_setosa" has 2 rows`) {
		t.Errorf("ragged: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("failed writes left %d files", len(left))
	}
}
