package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is the loss of one fit, one value per epoch (or per logging step).
type Curve struct {
	Name string
	Loss []float64
	// Epoch are the x values of Loss; nil means 1, 2, …, len(Loss).
	Epoch []float64
}

// CurvesData are the training curves of one or more fits.
type CurvesData struct {
	Curves []Curve
	// LogY draws the loss on a log scale; every finite loss must then be
	// positive.
	LogY bool
}

// Training curves size in inches.
const (
	curvesWidth  = 7
	curvesHeight = 4
)

// Curves draws the loss of each fit against the epoch as a line in its own
// colour (and, past seven fits, dash pattern), named in a legend at the
// right. A NaN or infinite loss, as a diverging fit leaves, breaks its line
// rather than failing the plot. Axis labels default to "epoch" and "loss"
// ("loss (log scale)" with LogY). The picture is 7 in × 4 in.
func Curves(path string, d CurvesData, l Labels) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	const what = "curves"
	if len(d.Curves) == 0 {
		return inputErr("%s: no curves", what)
	}
	ylabel := "loss"
	if d.LogY {
		ylabel = "loss (log scale)"
	}
	p := newPlot(l.Title, orDefault(l.X, "epoch"), orDefault(l.Y, ylabel))
	leg := newLegend()
	for ci, cv := range d.Curves {
		name := cv.Name
		if name == "" {
			name = fmt.Sprintf("curve %d", ci+1)
		}
		if len(cv.Loss) == 0 {
			return inputErr("%s: curve %q has no losses", what, name)
		}
		x := cv.Epoch
		if x == nil {
			x = make([]float64, len(cv.Loss))
			for i := range x {
				x[i] = float64(i + 1)
			}
		} else if len(x) != len(cv.Loss) {
			return inputErr("%s: curve %q: len(Epoch) = %d, want len(Loss) = %d", what, name, len(x), len(cv.Loss))
		}
		if err := checkFinite(what, fmt.Sprintf("curve %q Epoch", name), x); err != nil {
			return err
		}
		col := palette[ci%len(palette)]
		var dashes []vg.Length
		if ci >= len(palette) {
			dashes = []vg.Length{vg.Points(5), vg.Points(2.5)}
		}
		// Split at non-finite losses.
		var segs [][2]int
		start := -1
		finite := 0
		for i, v := range cv.Loss {
			ok := !math.IsNaN(v) && !math.IsInf(v, 0)
			if ok {
				finite++
				if d.LogY && v <= 0 {
					return inputErr("%s: curve %q: Loss[%d] = %v cannot be drawn on a log scale", what, name, i, v)
				}
			}
			switch {
			case ok && start < 0:
				start = i
			case !ok && start >= 0:
				segs = append(segs, [2]int{start, i})
				start = -1
			}
		}
		if start >= 0 {
			segs = append(segs, [2]int{start, len(cv.Loss)})
		}
		if finite == 0 {
			return inputErr("%s: curve %q has no finite loss", what, name)
		}
		for si, s := range segs {
			ln := newLine(x[s[0]:s[1]], cv.Loss[s[0]:s[1]], col, vg.Points(1.4))
			ln.Dashes = dashes
			if s[1]-s[0] == 1 {
				// A lone finite loss between non-finite ones: mark it.
				pt := newPoints(x[s[0]:s[1]], cv.Loss[s[0]:s[1]], col, vg.Points(1.5), draw.CircleGlyph{})
				p.Add(pt)
			}
			p.Add(ln)
			if si == 0 {
				leg.Add(name, ln)
			}
		}
	}
	if d.LogY {
		if p.Y.Min == p.Y.Max {
			p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
		}
		p.Y.Scale = gplot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	return render(path, curvesWidth*vg.Inch, curvesHeight*vg.Inch, func(c draw.Canvas) {
		drawWithLegend(margin(c), p, &leg)
	})
}
