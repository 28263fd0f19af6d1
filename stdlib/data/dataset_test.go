package data

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// indexed returns an n-row dataset whose X holds the row number and whose Y
// holds ten times it, so that rows can be traced through subsets.
func indexed(n int) *Dataset {
	d := &Dataset{X: mat.NewDense(n, 1, nil), Y: make([]float64, n), XNames: []string{"i"}, YName: "y",
		Standardize: true, Source: "idx.csv"}
	for i := range n {
		d.X.Set(i, 0, float64(i))
		d.Y[i] = 10 * float64(i)
	}
	return d
}

func rowIDs(d *Dataset) []int {
	ids := make([]int, d.Rows())
	for i := range ids {
		ids[i] = int(d.X.At(i, 0))
	}
	return ids
}

func TestSubsetAndColumn(t *testing.T) {
	d := indexed(5)
	d.Classes = nil
	s := d.Subset([]int{4, 1, 1})
	if got := rowIDs(s); !slices.Equal(got, []int{4, 1, 1}) {
		t.Errorf("Subset rows %v", got)
	}
	if !slices.Equal(s.Y, []float64{40, 10, 10}) || s.YName != "y" || !s.Standardize || s.Source != "idx.csv" {
		t.Errorf("Subset kept %+v", s)
	}
	// Copies, not views.
	s.X.Set(0, 0, -1)
	s.XNames[0] = "changed"
	if d.X.At(4, 0) != 4 || d.XNames[0] != "i" {
		t.Error("Subset shares storage with its source")
	}

	if col, ok := d.Column("y"); !ok || !slices.Equal(col, d.Y) {
		t.Errorf("Column(y) = %v, %v", col, ok)
	}
	if col, ok := d.Column("i"); !ok || !slices.Equal(col, []float64{0, 1, 2, 3, 4}) {
		t.Errorf("Column(i) = %v, %v", col, ok)
	}
	if _, ok := d.Column("nope"); ok {
		t.Error("Column(nope) found")
	}

	e := d.Subset(nil)
	if e.Rows() != 0 || e.Width() != 1 || e.Y == nil || len(e.Y) != 0 || !e.X.IsEmpty() {
		t.Errorf("empty subset: Rows %d Width %d Y %v", e.Rows(), e.Width(), e.Y)
	}
	if col, ok := e.Column("i"); !ok || len(col) != 0 {
		t.Errorf("empty Column = %v, %v", col, ok)
	}
}

func TestSplit(t *testing.T) {
	d, err := ReadCSV(filepath.Join(examples, "mcycle.csv"), CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel"})
	if err != nil {
		t.Fatal(err)
	}
	// Tag rows with their index so the partition can be compared.
	id := indexed(d.Rows())
	train, test, err := Split(id, 0.8, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.Rows() != 106 || test.Rows() != 27 { // round(0.8*133) = 106
		t.Errorf("sizes %d + %d, want 106 + 27", train.Rows(), test.Rows())
	}
	all := append(rowIDs(train), rowIDs(test)...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("train and test are not a partition: %v", all)
		}
	}

	train2, test2, _ := Split(id, 0.8, 7)
	if !slices.Equal(rowIDs(train), rowIDs(train2)) || !slices.Equal(rowIDs(test), rowIDs(test2)) {
		t.Error("same seed gave different splits")
	}
	train3, _, _ := Split(id, 0.8, 8)
	if slices.Equal(rowIDs(train), rowIDs(train3)) {
		t.Error("different seeds gave the same split")
	}
	if slices.IsSorted(rowIDs(train)) {
		t.Error("split did not shuffle")
	}

	// The real data set splits the same way.
	tr, _, err := Split(d, 0.8, 7)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range rowIDs(train) {
		if tr.X.At(k, 0) != d.X.At(i, 0) || tr.Y[k] != d.Y[i] {
			t.Fatalf("row %d of train is not row %d of the data", k, i)
		}
	}

	for _, frac := range []float64{0, 1, -0.5, 1.5, 0.001, 0.999} {
		_, _, err := Split(d, frac, 1)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Split(%v): error %v", frac, err)
		}
	}
	if _, _, err := Split(indexed(1), 0.5, 1); err == nil {
		t.Error("Split of one row: no error")
	}
}

func TestFilterAndWhere(t *testing.T) {
	digits, err := ReadCSV(filepath.Join(examples, "digits.csv"),
		CSVSpec{X: []ColumnRef{Range("p0", "p63")}, Y: "label", Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	in, err := Filter(digits, "label", "<", 5)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Filter(digits, "label", ">=", 5)
	if err != nil {
		t.Fatal(err)
	}
	// Label counts from the file: 0-4 have 178+182+177+183+181 rows.
	if in.Rows() != 901 || out.Rows() != 896 {
		t.Errorf("in %d, out %d rows; want 901 and 896", in.Rows(), out.Rows())
	}
	if len(in.Classes) != 10 || in.Width() != 64 {
		t.Errorf("filtered data lost classes or columns: %d, %d", len(in.Classes), in.Width())
	}
	for _, y := range in.Y {
		if y >= 5 {
			t.Fatalf("label %v kept by label < 5", y)
		}
	}

	id := indexed(6)
	for _, tt := range []struct {
		col, op string
		v       float64
		want    []int
	}{
		{"i", "<", 2, []int{0, 1}},
		{"i", "<=", 2, []int{0, 1, 2}},
		{"i", ">", 3, []int{4, 5}},
		{"i", ">=", 5, []int{5}},
		{"y", "==", 30, []int{3}},
		{"i", "!=", 0, []int{1, 2, 3, 4, 5}},
		{"i", ">", 100, []int{}},
	} {
		got, err := Filter(id, tt.col, tt.op, tt.v)
		if err != nil {
			t.Errorf("%s %s %v: %v", tt.col, tt.op, tt.v, err)
			continue
		}
		if !slices.Equal(rowIDs(got), tt.want) {
			t.Errorf("%s %s %v = %v, want %v", tt.col, tt.op, tt.v, rowIDs(got), tt.want)
		}
	}

	var e *Error
	if _, err := Filter(id, "j", "<", 1); !errors.As(err, &e) || e.Column != "j" {
		t.Errorf("unknown column: %v", err)
	}
	if _, err := Filter(id, "i", "=<", 1); !errors.As(err, &e) || e.Column != "i" {
		t.Errorf("unknown op: %v", err)
	}

	odd := Where(id, func(i int) bool { return i%2 == 1 })
	if !slices.Equal(rowIDs(odd), []int{1, 3, 5}) || !slices.Equal(odd.Y, []float64{10, 30, 50}) {
		t.Errorf("Where odd = %v", rowIDs(odd))
	}
}
