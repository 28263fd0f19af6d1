package data

import (
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func popMeanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}

func TestScalerStandardizes(t *testing.T) {
	d, err := ReadCSV(filepath.Join(examples, "breast_cancer.csv"), CSVSpec{Y: "malignant", Classes: 2, Standardize: true})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := Split(d, 0.75, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := ScalerFor(train, true)
	if s.ScaleY {
		t.Error("class indices were scaled")
	}
	var z mat.Dense
	s.TransformX(&z, train.X)
	col := make([]float64, train.Rows())
	for j := range train.Width() {
		mat.Col(col, j, &z)
		m, sd := popMeanStd(col)
		if math.Abs(m) > 1e-12 || math.Abs(sd-1) > 1e-12 {
			t.Errorf("column %s: mean %g, std %g after standardising", train.XNames[j], m, sd)
		}
	}
	// Test data uses the training statistics, in place.
	x := mat.DenseCopyOf(test.X)
	s.TransformX(x, x)
	want := (test.X.At(2, 5) - s.XMean[5]) / s.XStd[5]
	if x.At(2, 5) != want {
		t.Errorf("in-place transform: %v, want %v", x.At(2, 5), want)
	}
	if test.X.At(2, 5) == x.At(2, 5) {
		t.Error("TransformX changed nothing")
	}
}

func TestScalerRoundTrip(t *testing.T) {
	d, err := ReadCSV(filepath.Join(examples, "mcycle.csv"), CSVSpec{X: []ColumnRef{Col("times")}, Y: "accel", Standardize: true})
	if err != nil {
		t.Fatal(err)
	}
	s := FitScaler(d, true)
	if !s.ScaleY {
		t.Fatal("ScaleY not set")
	}
	m, sd := popMeanStd(d.Y)
	if math.Abs(s.YMean-m) > 1e-12 || math.Abs(s.YStd-sd) > 1e-12 {
		t.Errorf("YMean %v YStd %v, want %v %v", s.YMean, s.YStd, m, sd)
	}
	z := make([]float64, len(d.Y))
	s.TransformY(z, d.Y)
	zm, zsd := popMeanStd(z)
	if math.Abs(zm) > 1e-12 || math.Abs(zsd-1) > 1e-12 {
		t.Errorf("standardised y: mean %g std %g", zm, zsd)
	}
	for i, v := range z {
		if back := s.UnscaleLoc(v); math.Abs(back-d.Y[i]) > 1e-12 {
			t.Fatalf("UnscaleLoc(TransformY(%v)) = %v", d.Y[i], back)
		}
	}
	if got := s.UnscaleScale(1); math.Abs(got-sd) > 1e-12 {
		t.Errorf("UnscaleScale(1) = %v, want %v", got, sd)
	}

	// In place.
	y := append([]float64(nil), d.Y...)
	s.TransformY(y, y)
	if y[10] != z[10] {
		t.Errorf("in-place TransformY: %v, want %v", y[10], z[10])
	}
}

func TestScalerConstantAndIdentity(t *testing.T) {
	x := mat.NewDense(4, 2, []float64{0.1, 1, 0.1, 2, 0.1, 3, 0.1, 4})
	d := &Dataset{X: x, Y: []float64{5, 5, 5, 5}, XNames: []string{"c", "v"}, YName: "y"}
	s := FitScaler(d, true)
	if s.XStd[0] != 1 || s.XMean[0] != 0.1 || s.YStd != 1 {
		t.Errorf("constant columns: XMean %v XStd %v YStd %v", s.XMean, s.XStd, s.YStd)
	}
	var z mat.Dense
	s.TransformX(&z, x)
	for i := range 4 {
		if z.At(i, 0) != 0 || math.IsNaN(z.At(i, 1)) {
			t.Errorf("row %d: %v", i, z.RawRowView(i))
		}
	}

	id := ScalerFor(d, true) // Standardize is false
	if id.ScaleY || id.UnscaleLoc(3) != 3 || id.UnscaleScale(2) != 2 {
		t.Errorf("ScalerFor without Standardize: %+v", id)
	}
	var w mat.Dense
	id.TransformX(&w, x)
	if !mat.Equal(&w, x) {
		t.Error("identity TransformX changed x")
	}
	yy := make([]float64, 4)
	id.TransformY(yy, d.Y)
	if yy[0] != 5 {
		t.Error("identity TransformY changed y")
	}

	if e := FitScaler(d.Subset(nil), true); e.ScaleY || len(e.XMean) != 2 {
		t.Errorf("empty data: %+v", e)
	}
}
