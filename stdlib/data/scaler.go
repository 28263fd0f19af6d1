package data

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Scaler standardises features (and optionally a regression target) with
// per-column means and population standard deviations:
//
//	x' = (x - XMean[j]) / XStd[j]     y' = (y - YMean) / YStd   (if ScaleY)
//
// Fit it on the training set only (FitScaler), then reuse the same Scaler for
// test data and prediction inputs, and undo it on predicted outputs with
// UnscaleLoc and UnscaleScale. The zero value is not usable; use Identity
// when not standardising.
type Scaler struct {
	XMean, XStd []float64
	YMean, YStd float64
	ScaleY      bool
}

// Identity returns the Scaler for width features that changes nothing.
func Identity(width int) Scaler {
	s := Scaler{XMean: make([]float64, width), XStd: make([]float64, width), YStd: 1}
	for j := range s.XStd {
		s.XStd[j] = 1
	}
	return s
}

// FitScaler computes the column statistics of d, which should be the
// training set. The target is scaled only if scaleY is true and d is a
// regression data set with a target; class indices are never scaled. A
// constant column gets standard deviation 1 (it maps to 0), and a data set
// with no rows gives the identity.
func FitScaler(d *Dataset, scaleY bool) Scaler {
	n, w := d.Rows(), d.Width()
	s := Identity(w)
	if n == 0 {
		return s
	}
	col := make([]float64, n)
	for j := range w {
		mat.Col(col, j, d.X)
		s.XMean[j], s.XStd[j] = meanStd(col)
	}
	if scaleY && d.Y != nil && d.Classes == nil {
		s.ScaleY = true
		s.YMean, s.YStd = meanStd(d.Y)
	}
	return s
}

// ScalerFor returns FitScaler(d, scaleY) if d.Standardize is set, and the
// identity otherwise. As with FitScaler, d should be the training set.
func ScalerFor(d *Dataset, scaleY bool) Scaler {
	if d.Standardize {
		return FitScaler(d, scaleY)
	}
	return Identity(d.Width())
}

// meanStd returns the mean and population standard deviation of x (n > 0),
// with the standard deviation of a constant x set to 1.
func meanStd(x []float64) (mean, std float64) {
	lo, hi := x[0], x[0]
	for _, v := range x {
		mean += v
		lo, hi = min(lo, v), max(hi, v)
	}
	mean /= float64(len(x))
	if lo == hi {
		return lo, 1
	}
	var ss, c float64
	for _, v := range x {
		d := v - mean
		ss += d * d
		c += d
	}
	// Corrected two-pass formula (Chan, Golub and LeVeque).
	std = math.Sqrt((ss - c*c/float64(len(x))) / float64(len(x)))
	if std == 0 {
		std = 1
	}
	return mean, std
}

// TransformX writes the standardised x into dst, which may be x itself or an
// empty matrix (resized); otherwise it must have the shape of x. It panics if
// x does not have len(s.XMean) columns. An empty x leaves dst unchanged.
func (s Scaler) TransformX(dst, x *mat.Dense) {
	if x.IsEmpty() {
		return
	}
	r, c := x.Dims()
	if c != len(s.XMean) {
		panic(fmt.Sprintf("data: Scaler for %d features applied to %d columns", len(s.XMean), c))
	}
	if dst != x {
		if dst.IsEmpty() {
			dst.ReuseAs(r, c)
		} else if dr, dc := dst.Dims(); dr != r || dc != c {
			panic(mat.ErrShape)
		}
	}
	for i := range r {
		src, out := x.RawRowView(i), dst.RawRowView(i)
		for j, v := range src {
			out[j] = (v - s.XMean[j]) / s.XStd[j]
		}
	}
}

// TransformY writes the standardised y into dst, which may be y itself and
// must have the same length. Without ScaleY it copies.
func (s Scaler) TransformY(dst, y []float64) {
	if len(dst) != len(y) {
		panic(fmt.Sprintf("data: TransformY: len(dst) = %d, len(y) = %d", len(dst), len(y)))
	}
	if !s.ScaleY {
		copy(dst, y)
		return
	}
	for i, v := range y {
		dst[i] = (v - s.YMean) / s.YStd
	}
}

// UnscaleLoc maps a location (a predicted mean or a sample of y) from model
// units back to the units of the data.
func (s Scaler) UnscaleLoc(v float64) float64 {
	if !s.ScaleY {
		return v
	}
	return v*s.YStd + s.YMean
}

// UnscaleScale maps a scale (a predicted standard deviation or interval
// half-width) from model units back to the units of the data. Variances need
// UnscaleScale applied twice.
func (s Scaler) UnscaleScale(v float64) float64 {
	if !s.ScaleY {
		return v
	}
	return v * s.YStd
}
