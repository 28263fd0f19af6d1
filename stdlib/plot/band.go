package plot

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BandData is a regression predictive at 1-D inputs with its variance
// split in two, as predictive.Predictive.Regression returns it, plus the
// data to show with it.
type BandData struct {
	// X are the inputs, in any order; Mean, Aleatoric and Epistemic are
	// the predictive mean and the two variance parts at each of them.
	X, Mean, Aleatoric, Epistemic []float64
	// TrainX, TrainY and TestX, TestY are optional data points.
	TrainX, TrainY []float64
	TestX, TestY   []float64
	// TrainName and TestName name the points in the legend, the data
	// set they are (default "train" and "test").
	TrainName, TestName string
	// K is the half-width of the bands in predictive standard deviations;
	// 0 means 2.
	K float64
}

// Band size in inches.
const (
	bandWidth  = 7.5
	bandHeight = 4.5
)

// Band draws a regression predictive over a 1-D input: the predictive mean
// as a line, an inner band mean ± K·sqrt(epistemic), an outer band
// mean ± K·sqrt(aleatoric + epistemic) drawn in a second colour (so the
// visible part of the outer band is what the noise adds), and the
// training (dots) and test (rings) points. The inputs are sorted
// internally. The legend sits to the right of the plot. Axis labels
// default to "x" and "y". The picture is 7.5 in × 4.5 in.
func Band(path string, d BandData, l Labels) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	const what = "band"
	n := len(d.X)
	if n == 0 {
		return inputErr("%s: no inputs", what)
	}
	for _, v := range []struct {
		name string
		v    []float64
	}{{"X", d.X}, {"Mean", d.Mean}, {"Aleatoric", d.Aleatoric}, {"Epistemic", d.Epistemic}} {
		if len(v.v) != n {
			return inputErr("%s: len(%s) = %d, want len(X) = %d", what, v.name, len(v.v), n)
		}
		if err := checkFinite(what, v.name, v.v); err != nil {
			return err
		}
	}
	for i := range n {
		if d.Aleatoric[i] < 0 {
			return inputErr("%s: Aleatoric[%d] = %v is a negative variance", what, i, d.Aleatoric[i])
		}
		if d.Epistemic[i] < 0 {
			return inputErr("%s: Epistemic[%d] = %v is a negative variance", what, i, d.Epistemic[i])
		}
	}
	if err := checkPoints(what, "TrainX", "TrainY", d.TrainX, d.TrainY); err != nil {
		return err
	}
	if err := checkPoints(what, "TestX", "TestY", d.TestX, d.TestY); err != nil {
		return err
	}
	k := d.K
	if k == 0 {
		k = 2
	}
	if !(k > 0) || math.IsInf(k, 0) {
		return inputErr("%s: K = %v, want a positive band half-width", what, k)
	}

	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(d.X[a], d.X[b]) })
	x := make([]float64, n)
	mean := make([]float64, n)
	inner := &fill{x: x, lo: make([]float64, n), hi: make([]float64, n), color: alpha(palette[0], 0.45)}
	outer := &fill{x: x, lo: make([]float64, n), hi: make([]float64, n), color: alpha(palette[5], 0.30)}
	for j, i := range idx {
		x[j], mean[j] = d.X[i], d.Mean[i]
		e := k * math.Sqrt(d.Epistemic[i])
		t := k * math.Sqrt(d.Aleatoric[i]+d.Epistemic[i])
		inner.lo[j], inner.hi[j] = mean[j]-e, mean[j]+e
		outer.lo[j], outer.hi[j] = mean[j]-t, mean[j]+t
	}

	p := newPlot(l.Title, orDefault(l.X, "x"), orDefault(l.Y, "y"))
	line := newLine(x, mean, navy, vg.Points(1.6))
	p.Add(outer, inner, line)
	leg := newLegend()
	if len(d.TrainX) > 0 {
		s := newPoints(d.TrainX, d.TrainY, alpha(black, 0.75), vg.Points(1.8), draw.CircleGlyph{})
		p.Add(s)
		leg.Add(fmt.Sprintf("%s (%d)", orDefault(d.TrainName, "train"), len(d.TrainX)), s)
	}
	if len(d.TestX) > 0 {
		s := newPoints(d.TestX, d.TestY, palette[1], vg.Points(2.4), draw.RingGlyph{})
		p.Add(s)
		leg.Add(fmt.Sprintf("%s (%d)", orDefault(d.TestName, "test"), len(d.TestX)), s)
	}
	leg.Add("predictive mean", line)
	leg.Add(fmt.Sprintf("±%g sd epistemic", k), inner)
	leg.Add(fmt.Sprintf("±%g sd total", k), outer)
	leg.Add("(aleatoric + epistemic)")
	return render(path, bandWidth*vg.Inch, bandHeight*vg.Inch, func(c draw.Canvas) {
		drawWithLegend(margin(c), p, &leg)
	})
}
