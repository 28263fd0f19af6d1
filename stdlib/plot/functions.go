package plot

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// FunctionsData are S functions evaluated on a 1-D grid, such as networks
// drawn from a prior or a posterior, with optional data points.
type FunctionsData struct {
	// X is the grid, in any order.
	X []float64
	// F holds S rows of len(X) values, row-major and sample-major
	// (F[s*len(X)+i] = f_s(X[i])), the layout of predictive.Predictive's
	// Loc; S is len(F)/len(X).
	F []float64
	// DataX and DataY are optional data points, named DataName in the
	// legend (default "data").
	DataX, DataY []float64
	DataName     string
}

// Panel is one titled picture of FunctionPanels.
type Panel struct {
	Title string
	FunctionsData
}

// PanelsData are the panels of FunctionPanels, drawn left to right.
type PanelsData struct {
	Panels []Panel
	// SameY gives every panel the same y range, the union of theirs;
	// by default each panel fits its own functions.
	SameY bool
}

// Function plot sizes in inches.
const (
	functionsWidth  = 7
	functionsHeight = 4.5
	panelWidth      = 3.6
	panelHeight     = 3.4
)

// Functions draws S function samples f_s(x) as thin semi-transparent
// lines of one colour (the more samples, the fainter each), so that where
// they crowd reads as probability, with the data points over them. The
// grid is sorted internally. Axis labels default to "x" and "f(x)". The
// picture is 7 in × 4.5 in.
func Functions(path string, d FunctionsData, l Labels) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	p, s, err := functionsPlot("functions", d, l.Title, l)
	if err != nil {
		return err
	}
	leg := newLegend()
	// The legend line is drawn as for ten samples, visible even when
	// each of many samples is faint.
	leg.Add(fmt.Sprintf("%d function samples", s), sampleLine(nil, nil, min(s, 10)))
	if len(d.DataX) > 0 {
		leg.Add(fmt.Sprintf("%s (%d)", orDefault(d.DataName, "data"), len(d.DataX)), dataPoints(nil, nil))
	}
	return render(path, functionsWidth*vg.Inch, functionsHeight*vg.Inch, func(c draw.Canvas) {
		drawWithLegend(margin(c), p, &leg)
	})
}

// FunctionPanels draws several sets of function samples side by side, each
// as Functions draws it but without a legend and under its own title, with
// Labels.Title over the whole figure: for example samples from a GP prior,
// from an N(0, 1) weight prior and from a weight prior matched to the GP.
// The axis labels are shared and default as in Functions. The picture is
// 3.6 in wide per panel and 3.4 in high (plus the title line).
func FunctionPanels(path string, d PanelsData, l Labels) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	if len(d.Panels) == 0 {
		return inputErr("function panels: no panels")
	}
	plots := make([]*gplot.Plot, len(d.Panels))
	for i, pn := range d.Panels {
		p, _, err := functionsPlot(fmt.Sprintf("panel %d (%q)", i+1, pn.Title), pn.FunctionsData, pn.Title, l)
		if err != nil {
			return err
		}
		plots[i] = p
	}
	if d.SameY {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range plots {
			lo, hi = math.Min(lo, p.Y.Min), math.Max(hi, p.Y.Max)
		}
		for _, p := range plots {
			p.Y.Min, p.Y.Max = lo, hi
		}
	}
	w := vg.Length(panelWidth*float64(len(plots))) * vg.Inch
	h := vg.Length(panelHeight) * vg.Inch
	if l.Title != "" {
		h += vg.Points(titleSize + 12)
	}
	return render(path, w, h, func(c draw.Canvas) {
		c = margin(drawTitle(c, l.Title))
		tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(14)}
		cs := gplot.Align([][]*gplot.Plot{plots}, tiles, c)
		for i, p := range plots {
			p.Draw(cs[0][i])
		}
	})
}

// functionsPlot checks d and returns its plot and the number of samples.
func functionsPlot(what string, d FunctionsData, title string, l Labels) (*gplot.Plot, int, error) {
	g := len(d.X)
	if g == 0 {
		return nil, 0, inputErr("%s: empty grid X", what)
	}
	if len(d.F) == 0 || len(d.F)%g != 0 {
		return nil, 0, inputErr("%s: len(F) = %d, want a positive multiple of len(X) = %d", what, len(d.F), g)
	}
	if err := checkFinite(what, "X", d.X); err != nil {
		return nil, 0, err
	}
	if err := checkFinite(what, "F", d.F); err != nil {
		return nil, 0, err
	}
	if err := checkPoints(what, "DataX", "DataY", d.DataX, d.DataY); err != nil {
		return nil, 0, err
	}
	s := len(d.F) / g
	idx := make([]int, g)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(d.X[a], d.X[b]) })
	x := make([]float64, g)
	for j, i := range idx {
		x[j] = d.X[i]
	}
	p := newPlot(title, orDefault(l.X, "x"), orDefault(l.Y, "f(x)"))
	for k := range s {
		row := d.F[k*g : (k+1)*g]
		y := make([]float64, g)
		for j, i := range idx {
			y[j] = row[i]
		}
		p.Add(sampleLine(x, y, s))
	}
	if len(d.DataX) > 0 {
		p.Add(dataPoints(d.DataX, d.DataY))
	}
	return p, s, nil
}

// sampleLine is one of s function samples; the opacity falls with s so
// that a few samples stay visible and many do not saturate.
func sampleLine(x, y []float64, s int) *plotter.Line {
	a := math.Min(0.8, math.Max(0.06, 2.5/math.Sqrt(float64(s))))
	return newLine(x, y, alpha(palette[0], a), vg.Points(0.7))
}

// dataPoints are the observations drawn over function samples.
func dataPoints(x, y []float64) *plotter.Scatter {
	return newPoints(x, y, alpha(black, 0.85), vg.Points(2), draw.CircleGlyph{})
}
