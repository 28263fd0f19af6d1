package data

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const examples = "../../examples/data"

func TestReadBundled(t *testing.T) {
	tests := []struct {
		file       string
		spec       CSVSpec
		rows, cols int
		xnames     []string // first and last feature names
		yname      string
		classes    []string
	}{
		{"mcycle.csv", CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel", Standardize: true},
			133, 1, []string{"times", "times"}, "accel", nil},
		{"faithful.csv", CSVSpec{X: []ColumnRef{Col("eruptions")}, Y: "waiting"},
			272, 1, []string{"eruptions", "eruptions"}, "waiting", nil},
		{"digits.csv", CSVSpec{X: []ColumnRef{Range("p0", "p63")}, Y: "label", Classes: 10},
			1797, 64, []string{"p0", "p63"}, "label",
			[]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{"iris.csv", CSVSpec{Y: "species", Classes: 3},
			150, 4, []string{"sepal_length", "petal_width"}, "species",
			[]string{"setosa", "versicolor", "virginica"}},
		{"breast_cancer.csv", CSVSpec{Y: "malignant", Classes: 2},
			569, 30, []string{"mean_radius", "worst_fractal_dimension"}, "malignant", []string{"0", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(examples, tt.file)
			d, err := ReadCSV(path, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			r, c := d.X.Dims()
			if r != tt.rows || c != tt.cols || d.Rows() != tt.rows || d.Width() != tt.cols || len(d.Y) != tt.rows {
				t.Fatalf("got X %dx%d, Rows %d, Width %d, len(Y) %d; want %dx%d",
					r, c, d.Rows(), d.Width(), len(d.Y), tt.rows, tt.cols)
			}
			if d.XNames[0] != tt.xnames[0] || d.XNames[c-1] != tt.xnames[1] {
				t.Errorf("XNames = %v ... %v, want %v", d.XNames[0], d.XNames[c-1], tt.xnames)
			}
			if d.YName != tt.yname || d.Source != path || d.Standardize != tt.spec.Standardize {
				t.Errorf("YName %q, Source %q, Standardize %v", d.YName, d.Source, d.Standardize)
			}
			if !slices.Equal(d.Classes, tt.classes) {
				t.Errorf("Classes = %q, want %q", d.Classes, tt.classes)
			}
			if k := len(tt.classes); k > 0 {
				counts := make([]int, k)
				for _, y := range d.Y {
					counts[int(y)]++
				}
				for c, n := range counts {
					if n == 0 {
						t.Errorf("class %d (%s) has no rows", c, tt.classes[c])
					}
				}
			}
		})
	}
}

func TestReadBundledValues(t *testing.T) {
	d, err := ReadCSV(filepath.Join(examples, "mcycle.csv"), CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel"})
	if err != nil {
		t.Fatal(err)
	}
	// First rows of the file: 2.4,0 and 2.6,-1.3.
	if d.X.At(0, 0) != 2.4 || d.Y[0] != 0 || d.X.At(1, 0) != 2.6 || d.Y[1] != -1.3 {
		t.Errorf("first rows: (%v, %v), (%v, %v)", d.X.At(0, 0), d.Y[0], d.X.At(1, 0), d.Y[1])
	}

	iris, err := ReadCSV(filepath.Join(examples, "iris.csv"), CSVSpec{Y: "species", Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The file is ordered setosa, versicolor, virginica, 50 each.
	for i, want := range map[int]float64{0: 0, 49: 0, 50: 1, 99: 1, 100: 2, 149: 2} {
		if iris.Y[i] != want {
			t.Errorf("iris Y[%d] = %v, want %v", i, iris.Y[i], want)
		}
	}
}

func TestRangeExpansion(t *testing.T) {
	src := "id,a,b,c,d,y\n1,10,20,30,40,0\n2,11,21,31,41,1\n"
	tests := []struct {
		x    []ColumnRef
		want []string
	}{
		{[]ColumnRef{Range("a", "d")}, []string{"a", "b", "c", "d"}},
		{[]ColumnRef{Range("b", "c")}, []string{"b", "c"}},
		{[]ColumnRef{Range("c", "c")}, []string{"c"}},
		{[]ColumnRef{Col("d"), Range("a", "b")}, []string{"d", "a", "b"}},
		{nil, []string{"id", "a", "b", "c", "d"}},
	}
	for _, tt := range tests {
		d, err := ParseCSV("r.csv", strings.NewReader(src), CSVSpec{X: tt.x, Y: "y"})
		if err != nil {
			t.Errorf("%v: %v", tt.x, err)
			continue
		}
		if !slices.Equal(d.XNames, tt.want) {
			t.Errorf("%v: XNames = %v, want %v", tt.x, d.XNames, tt.want)
		}
		// Values follow the names.
		for j, name := range d.XNames {
			col, _ := d.Column(name)
			if d.X.At(1, j) != col[1] {
				t.Errorf("%v: column %s mismatch", tt.x, name)
			}
		}
	}
	if got := Range("p0", "p63").String(); got != "p0 .. p63" {
		t.Errorf("Range.String() = %q", got)
	}
}

func TestParseFormat(t *testing.T) {
	d, err := ReadCSV("testdata/crlf_bom.csv", CSVSpec{Y: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.XNames, []string{"x1", "x2"}) || d.YName != "y" {
		t.Fatalf("names %q, %q", d.XNames, d.YName)
	}
	want := [][]float64{{1, 2, 3}, {4, 5.5, -6}}
	for i, row := range want {
		if d.X.At(i, 0) != row[0] || d.X.At(i, 1) != row[1] || d.Y[i] != row[2] {
			t.Errorf("row %d = %v %v %v, want %v", i, d.X.At(i, 0), d.X.At(i, 1), d.Y[i], row)
		}
	}

	// Unused text columns and quoted fields spanning lines are fine.
	m, err := ReadCSV("testdata/mixed.csv", CSVSpec{X: []ColumnRef{Col("x")}, Y: "label", Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Classes, []string{"bird", "cat", "dog"}) || !slices.Equal(m.Y, []float64{1, 2, 1, 0}) {
		t.Errorf("Classes %q, Y %v", m.Classes, m.Y)
	}

	// No target.
	n, err := ParseCSV("in.csv", strings.NewReader("a,b\n1,2\n"), CSVSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Y != nil || n.Rows() != 1 || n.Width() != 2 {
		t.Errorf("no target: Y %v, Rows %d, Width %d", n.Y, n.Rows(), n.Width())
	}

	// Fewer distinct text labels than classes: names are padded, K stays.
	p, err := ParseCSV("p.csv", strings.NewReader("x,l\n1,b\n2,a\n"), CSVSpec{Y: "l", Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Classes, []string{"a", "b", "2", "3"}) || !slices.Equal(p.Y, []float64{1, 0}) {
		t.Errorf("padded classes %q, Y %v", p.Classes, p.Y)
	}
}

func TestErrors(t *testing.T) {
	mc := CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel"}
	tests := []struct {
		name   string
		src    string
		spec   CSVSpec
		line   int
		column string
		msg    string // a fragment the message must contain
	}{
		{"empty file", "", mc, 0, "", "no header"},
		{"blank lines only", "\n\n", mc, 0, "", "no header"},
		{"no data rows", "times,accel\n", mc, 0, "", "no data rows"},
		{"unknown y", "times,accel\n1,2\n", CSVSpec{Y: "acel"}, 1, "acel", `did you mean "accel"`},
		{"unknown x", "times,accel\n1,2\n", CSVSpec{X: []ColumnRef{Col("Time")}, Y: "accel"}, 1, "Time", `did you mean "times"`},
		{"unknown far", "times,accel\n1,2\n", CSVSpec{X: []ColumnRef{Col("zzzzzz")}, Y: "accel"}, 1, "zzzzzz", "columns: times, accel"},
		{"unknown range end", "a,b,y\n1,2,3\n", CSVSpec{X: []ColumnRef{Range("a", "c")}, Y: "y"}, 1, "c", "unknown column"},
		{"backward range", "a,b,c,y\n1,2,3,4\n", CSVSpec{X: []ColumnRef{Range("c", "a")}, Y: "y"}, 1, "a", "backwards"},
		{"range covers y", "a,y,b\n1,2,3\n", CSVSpec{X: []ColumnRef{Range("a", "b")}, Y: "y"}, 1, "y", "target"},
		{"x listed twice", "a,b,y\n1,2,3\n", CSVSpec{X: []ColumnRef{Range("a", "b"), Col("a")}, Y: "y"}, 1, "a", "more than once"},
		{"no features", "y\n1\n", CSVSpec{Y: "y"}, 1, "", "no feature"},
		{"duplicate header", "a,b,a,y\n1,2,3,4\n", CSVSpec{Y: "y"}, 1, "a", "duplicate"},
		{"ragged short", "times,accel\n1,2\n3\n", mc, 3, "", "expected 2 fields, got 1"},
		{"ragged long", "times,accel\n1,2\n3,4,5\n", mc, 3, "", "expected 2 fields, got 3"},
		{"non-numeric y", "times,accel\n1,2\n3,abc\n", mc, 3, "accel", `cannot parse "abc"`},
		{"non-numeric x", "times,accel\n1,2\n3,4\nx,5\n", mc, 4, "times", `cannot parse "x"`},
		{"empty cell", "times,accel\n1,\n", mc, 2, "accel", "missing"},
		{"NaN in x", "times,accel\nNaN,1\n", mc, 2, "times", "NaN"},
		{"NaN in y", "times,accel\n1,2\n2,nan\n", mc, 3, "accel", "NaN"},
		{"Inf in y", "times,accel\n1,-Inf\n", mc, 2, "accel", "Inf"},
		{"out of range", "times,accel\n1,1e999\n", mc, 2, "accel", "out of range"},
		{"line after blank and quoted newline", "n,times,accel\n\"a\nb\",1,2\n\nc,3,?\n", CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel"}, 5, "accel", "cannot parse"},
		{"malformed quote", "times,accel\n1,2\n3,4\"x\n", mc, 3, "", "malformed CSV"},
		{"class out of range", "x,label\n1,0\n2,9\n3,10\n", CSVSpec{Y: "label", Classes: 10}, 4, "label", "out of range"},
		{"negative class", "x,label\n1,-1\n", CSVSpec{Y: "label", Classes: 2}, 2, "label", "out of range"},
		{"fractional class", "x,label\n1,0\n2,1.5\n", CSVSpec{Y: "label", Classes: 2}, 3, "label", "not an integer"},
		{"NaN class", "x,label\n1,0\n2,NaN\n", CSVSpec{Y: "label", Classes: 2}, 3, "label", "NaN"},
		{"mixed labels", "x,label\n1,0\n2,1\n3,cat\n", CSVSpec{Y: "label", Classes: 3}, 4, "label", "text"},
		{"mixed labels text first", "x,label\n1,cat\n2,1\n", CSVSpec{Y: "label", Classes: 3}, 3, "label", "number"},
		{"empty label", "x,label\n1,cat\n2,\n", CSVSpec{Y: "label", Classes: 3}, 3, "label", "missing"},
		{"too many labels", "x,s\n1,b\n2,a\n3,b\n4,c\n5,a\n", CSVSpec{Y: "s", Classes: 2}, 5, "s", "3 distinct"},
		{"negative classes", "x,y\n1,2\n", CSVSpec{Y: "y", Classes: -1}, 0, "", "classes"},
		{"classes without y", "x,y\n1,2\n", CSVSpec{Classes: 2}, 0, "", "target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseCSV("t.csv", strings.NewReader(tt.src), tt.spec)
			if err == nil {
				t.Fatalf("no error; got %d rows", d.Rows())
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.File != "t.csv" || e.Line != tt.line || e.Column != tt.column {
				t.Errorf("got File %q Line %d Column %q, want t.csv %d %q (%v)", e.File, e.Line, e.Column, tt.line, tt.column, err)
			}
			if !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("message %q does not mention %q", e.Msg, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
		})
	}
}

func TestErrorFiles(t *testing.T) {
	spec := CSVSpec{Y: "y"}
	tests := []struct {
		file   string
		line   int
		column string
	}{
		{"testdata/bad_number.csv", 4, "y"},
		{"testdata/ragged.csv", 3, ""},
		{"testdata/empty.csv", 0, ""},
		{"testdata/header_only.csv", 0, ""},
		{"testdata/mixed.csv", 6, "label"}, // "bird", the third distinct label, after a two-line field
	}
	for _, tt := range tests {
		s := spec
		if strings.Contains(tt.file, "mixed") {
			s = CSVSpec{X: []ColumnRef{Col("x")}, Y: "label", Classes: 2}
		}
		_, err := ReadCSV(tt.file, s)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v is not *Error", tt.file, err)
			continue
		}
		if e.File != tt.file || e.Line != tt.line || e.Column != tt.column {
			t.Errorf("%s: got %q:%d column %q, want line %d column %q", tt.file, e.File, e.Line, e.Column, tt.line, tt.column)
		}
	}

	if _, err := ReadCSV("testdata", spec); !errors.As(err, new(*Error)) {
		t.Errorf("directory: %v", err)
	}

	_, err := ReadCSV("testdata/no_such_file.csv", spec)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: errors.Is(%v, fs.ErrNotExist) is false", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != "testdata/no_such_file.csv" || e.Line != 0 {
		t.Errorf("missing file: %#v", err)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "mcycle.csv", Line: 17, Column: "accel", Msg: `cannot parse "abc" as a number`},
			`mcycle.csv:17: column "accel": cannot parse "abc" as a number`},
		{&Error{File: "mcycle.csv", Msg: "no data rows"}, "mcycle.csv: no data rows"},
		{&Error{Line: 3, Msg: "m"}, "line 3: m"},
		{&Error{Column: "c", Msg: "m"}, `column "c": m`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestUnknownColumnList(t *testing.T) {
	_, err := ReadCSV(filepath.Join(examples, "digits.csv"), CSVSpec{X: []ColumnRef{Range("p0", "p64")}, Y: "label", Classes: 10})
	var e *Error
	if !errors.As(err, &e) || e.Column != "p64" || e.Line != 1 {
		t.Fatalf("got %v", err)
	}
	// 65 columns are elided, the nearest is suggested.
	if !strings.Contains(e.Msg, "65 in all") || !strings.Contains(e.Msg, "did you mean") {
		t.Errorf("message %q", e.Msg)
	}
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	err := WriteCSV(&b, []string{"x", "mean", "sd"}, [][]float64{{0.1, -2, 1e-300}, {3, 1.0 / 3, 12345678}})
	if err != nil {
		t.Fatal(err)
	}
	want := "x,mean,sd\n0.1,-2,1e-300\n3,0.3333333333333333,1.2345678e+07\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	// What is written reads back exactly.
	d, err := ParseCSV("w.csv", &b, CSVSpec{Y: "sd"})
	if err != nil {
		t.Fatal(err)
	}
	if d.X.At(1, 1) != 1.0/3 || d.Y[0] != 1e-300 {
		t.Errorf("round trip: %v %v", d.X.At(1, 1), d.Y[0])
	}

	if err := WriteCSV(&b, []string{"a", "b"}, [][]float64{{1, 2}, {3}}); err == nil {
		t.Error("ragged rows: no error")
	}
	b.Reset()
	if err := WriteCSV(&b, nil, [][]float64{{1, 2}}); err != nil || b.String() != "1,2\n" {
		t.Errorf("no header: %q, %v", b.String(), err)
	}
}

// A pandas frame with gaps, written by to_csv: an empty cell and a NaN.
const gappy = "times,accel,species\n1,2,setosa\n2,,versicolor\n3,4,\nNaN,5,setosa\n6,7,virginica\n"

func TestMissingIsAnError(t *testing.T) {
	_, err := ParseCSV("g.csv", strings.NewReader(gappy), CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel"})
	want := `g.csv:3: column "accel": missing value (an empty cell) in data row 2; drop the rows with one: csv(..., drop_missing: true)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestDropMissing(t *testing.T) {
	d, err := ParseCSV("g.csv", strings.NewReader(gappy), CSVSpec{X: []ColumnRef{Col("times")}, Y: "species", Classes: 3, DropMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	// Row 2's gap is in a column not read; rows 3 (no label) and 4 (NaN) go.
	if !slices.Equal(d.Dropped, []int{3, 4}) || d.Rows() != 3 {
		t.Fatalf("dropped %v, %d rows left; want [3 4] and 3", d.Dropped, d.Rows())
	}
	if !slices.Equal(d.Y, []float64{0, 1, 2}) || !slices.Equal(d.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Errorf("y %v classes %v", d.Y, d.Classes)
	}
	if _, err := ParseCSV("g.csv", strings.NewReader("a,b\n,1\n"), CSVSpec{Y: "b", DropMissing: true}); err == nil || !strings.Contains(err.Error(), "every one of the 1 data rows") {
		t.Errorf("all dropped: %v", err)
	}
}

func TestNoTarget(t *testing.T) {
	d, err := ParseCSV("new.csv", strings.NewReader("times\n1\n2.5\n"), CSVSpec{X: []ColumnRef{Col("times")}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Y != nil || d.YName != "" || d.Rows() != 2 || d.X.At(1, 0) != 2.5 {
		t.Errorf("got y %v %q, %d rows", d.Y, d.YName, d.Rows())
	}
}

// A one-column file, as pandas writes [1, NaN, 3, NaN]: a missing value is
// an empty line, which encoding/csv would skip, shifting every row after it.
func TestOneColumnBlankLines(t *testing.T) {
	const text = "x\n1\n\n3\n\n"
	_, err := ParseCSV("one.csv", strings.NewReader(text), CSVSpec{})
	want := `one.csv:3: column "x": missing value (an empty line) in data row 2`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %s", err, want)
	}
	d, err := ParseCSV("one.csv", strings.NewReader(text), CSVSpec{DropMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Dropped, []int{2, 4}) || d.Rows() != 2 || d.X.At(1, 0) != 3 {
		t.Errorf("dropped %v, %d rows", d.Dropped, d.Rows())
	}
	// No blank line at the end, or none at all: nothing dropped.
	for _, text := range []string{"x\n1\n3", "x\r\n1\r\n3\r\n"} {
		d, err := ParseCSV("one.csv", strings.NewReader(text), CSVSpec{})
		if err != nil || d.Rows() != 2 || d.Dropped != nil {
			t.Errorf("%q: %v, %+v", text, err, d)
		}
	}
}
