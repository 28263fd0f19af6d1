package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Dataset is a table of N rows: D feature columns and an optional target.
// A Dataset with no rows has an empty X (X.IsEmpty() is true) but keeps its
// names, so Width still reports D.
type Dataset struct {
	// X holds the N x D features in raw (unstandardised) units.
	X *mat.Dense
	// Y holds the N targets; for classification, the class index 0..K-1 as
	// a float64. Y is nil when the data set has no target.
	Y []float64
	// XNames are the D feature names, YName the target name ("" if none).
	XNames []string
	YName  string
	// Classes are the K class names in index order, or nil for regression.
	Classes []string
	// Standardize records that the user asked for standardisation: models
	// should see the data through a Scaler fitted on the training set
	// (see ScalerFor). The values in X and Y are never rescaled in place.
	Standardize bool
	// Source is the file the data came from, for messages.
	Source string
	// Group, when not nil, numbers the data set each row belongs to when
	// several are stacked in one table (simulated data sets), in a column
	// called GroupName. It is not a feature: models never see it, but
	// Column, and so Filter, can select by it.
	Group     []float64
	GroupName string
	// Dropped numbers the data rows (1-based, the header not counted) that
	// reading left out for a missing value (CSVSpec.DropMissing).
	Dropped []int
}

// Rows returns N, the number of rows.
func (d *Dataset) Rows() int {
	if d.X == nil || d.X.IsEmpty() {
		return len(d.Y)
	}
	r, _ := d.X.Dims()
	return r
}

// Width returns D, the number of feature columns.
func (d *Dataset) Width() int { return len(d.XNames) }

// Column returns a copy of the feature or target column called name, and
// whether there is one.
func (d *Dataset) Column(name string) ([]float64, bool) {
	if d.Y != nil && name == d.YName {
		return slices.Clone(d.Y), true
	}
	if d.Group != nil && name == d.GroupName {
		return slices.Clone(d.Group), true
	}
	j := slices.Index(d.XNames, name)
	if j < 0 {
		return nil, false
	}
	n := d.Rows()
	col := make([]float64, n)
	if n > 0 {
		mat.Col(col, j, d.X)
	}
	return col, true
}

// columnNames lists the feature names and then the target name.
func (d *Dataset) columnNames() []string {
	names := slices.Clone(d.XNames)
	if d.Y != nil {
		names = append(names, d.YName)
	}
	if d.Group != nil {
		names = append(names, d.GroupName)
	}
	return names
}

// Subset returns a new Dataset holding copies of rows idx, in that order
// (indices may repeat). Names, classes and flags are kept. It panics if an
// index is out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	n, w := d.Rows(), d.Width()
	out := &Dataset{
		X:           &mat.Dense{},
		XNames:      slices.Clone(d.XNames),
		YName:       d.YName,
		Classes:     slices.Clone(d.Classes),
		Standardize: d.Standardize,
		Source:      d.Source,
		GroupName:   d.GroupName,
	}
	if d.Y != nil {
		out.Y = make([]float64, len(idx))
	}
	if d.Group != nil {
		out.Group = make([]float64, len(idx))
	}
	if len(idx) > 0 {
		out.X = mat.NewDense(len(idx), w, nil)
	}
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: Subset index %d out of range [0, %d)", i, n))
		}
		out.X.SetRow(k, d.X.RawRowView(i))
		if d.Y != nil {
			out.Y[k] = d.Y[i]
		}
		if d.Group != nil {
			out.Group[k] = d.Group[i]
		}
	}
	return out
}

// Where returns the rows for which keep returns true, in their original
// order. The result may have no rows; callers that need data must check
// Rows.
func Where(d *Dataset, keep func(row int) bool) *Dataset {
	var idx []int
	for i := range d.Rows() {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	return d.Subset(idx)
}

// Filter returns the rows whose value in column satisfies "value op x",
// written column op value, for op one of <, <=, >, >=, ==, !=. The column may
// be a feature or the target (class indices for classification). The result
// may have no rows.
func Filter(d *Dataset, column string, op string, value float64) (*Dataset, error) {
	var cmp func(a float64) bool
	switch op {
	case "<":
		cmp = func(a float64) bool { return a < value }
	case "<=":
		cmp = func(a float64) bool { return a <= value }
	case ">":
		cmp = func(a float64) bool { return a > value }
	case ">=":
		cmp = func(a float64) bool { return a >= value }
	case "==":
		cmp = func(a float64) bool { return a == value }
	case "!=":
		cmp = func(a float64) bool { return a != value }
	default:
		return nil, &Error{File: d.Source, Column: column,
			Msg: fmt.Sprintf("unknown comparison %q (want <, <=, >, >=, == or !=)", op)}
	}
	col, ok := d.Column(column)
	if !ok {
		return nil, unknownColumn(d.Source, 0, column, d.columnNames())
	}
	return Where(d, func(i int) bool { return cmp(col[i]) }), nil
}

// splitStream is the second PCG word used by Split.
const splitStream = 0x9e3779b97f4a7c15

// Split shuffles the rows of d deterministically with a PCG generator seeded
// by seed, and returns the first round(frac*N) shuffled rows as train and the
// rest as test, each in shuffled order. The same seed always gives the same
// partition. frac must lie strictly between 0 and 1, and neither part may be
// empty.
func Split(d *Dataset, frac float64, seed uint64) (train, test *Dataset, err error) {
	if !(frac > 0 && frac < 1) {
		return nil, nil, &Error{File: d.Source, Msg: fmt.Sprintf("split fraction must be between 0 and 1, got %v", frac)}
	}
	n := d.Rows()
	k := int(math.Round(frac * float64(n)))
	if k == 0 || k == n {
		return nil, nil, &Error{File: d.Source,
			Msg: fmt.Sprintf("split %v of %d rows leaves %d for training and %d for testing; both must be non-empty", frac, n, k, n-k)}
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(n)
	return d.Subset(perm[:k]), d.Subset(perm[k:]), nil
}
