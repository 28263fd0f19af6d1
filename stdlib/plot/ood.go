package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bayesl/bayesl/stdlib/metric"
)

// OODData are the values of an uncertainty score (predictive entropy,
// mutual information, predictive sd, …) on in-distribution and
// out-of-distribution inputs, a higher score meaning "more likely OOD".
type OODData struct {
	In, Out []float64
	// InName and OutName name the two sets in the legend; empty means
	// "in-distribution" and "out-of-distribution".
	InName, OutName string
	// Bins is the number of equal-width bins over the pooled range of
	// both sets; 0 means 30.
	Bins int
	// Counts plots the number of inputs per bin; by default each
	// histogram shows the fraction of its own set, so that sets of
	// different sizes compare.
	Counts bool
	// AUROC adds metric.AUROC(In, Out) to the title.
	AUROC bool
}

// OOD histogram size in inches.
const (
	oodWidth  = 7
	oodHeight = 4
)

// OODHistogram draws the histograms of an uncertainty score on
// in-distribution and out-of-distribution inputs, overlaid and
// semi-transparent, over shared bins, with the size of each set in the
// legend and optionally the AUROC in the title. Axis labels default to
// "uncertainty score" and "fraction of inputs" (or "count"). The picture
// is 7 in × 4 in.
func OODHistogram(path string, d OODData, l Labels) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	const what = "OOD histogram"
	if len(d.In) == 0 || len(d.Out) == 0 {
		return inputErr("%s: %d in-distribution and %d out-of-distribution scores, want both non-empty", what, len(d.In), len(d.Out))
	}
	if err := checkFinite(what, "In", d.In); err != nil {
		return err
	}
	if err := checkFinite(what, "Out", d.Out); err != nil {
		return err
	}
	bins := d.Bins
	if bins == 0 {
		bins = 30
	}
	if bins < 1 {
		return inputErr("%s: Bins = %d, want at least 1", what, d.Bins)
	}

	lo, hi := minMax(d.In)
	lo2, hi2 := minMax(d.Out)
	lo, hi = math.Min(lo, lo2), math.Max(hi, hi2)
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	histogram := func(v []float64) []rect {
		count := make([]float64, bins)
		for _, x := range v {
			b := min(max(int((x-lo)/width), 0), bins-1)
			count[b]++
		}
		scale := 1.0
		if !d.Counts {
			scale = 1 / float64(len(v))
		}
		r := make([]rect, 0, bins)
		for b, c := range count {
			if c > 0 {
				x0 := lo + float64(b)*width
				r = append(r, rect{x0, x0 + width, 0, c * scale})
			}
		}
		return r
	}
	in := &rects{r: histogram(d.In), color: alpha(palette[0], 0.45),
		line: draw.LineStyle{Color: palette[0], Width: vg.Points(0.6)}}
	out := &rects{r: histogram(d.Out), color: alpha(palette[1], 0.45),
		line: draw.LineStyle{Color: palette[1], Width: vg.Points(0.6)}}

	title := l.Title
	if d.AUROC {
		a := fmt.Sprintf("AUROC = %.4f", metric.AUROC(d.In, d.Out))
		if title == "" {
			title = a
		} else {
			title += ", " + a
		}
	}
	ylabel := "fraction of inputs"
	if d.Counts {
		ylabel = "count"
	}
	p := newPlot(title, orDefault(l.X, "uncertainty score"), orDefault(l.Y, ylabel))
	p.Add(in, out)
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min, p.Y.Max = 0, 1.05*p.Y.Max
	p.Y.Padding = 0
	leg := newLegend()
	leg.Add(fmt.Sprintf("%s (%d)", orDefault(d.InName, "in-distribution"), len(d.In)), in)
	leg.Add(fmt.Sprintf("%s (%d)", orDefault(d.OutName, "out-of-distribution"), len(d.Out)), out)
	return render(path, oodWidth*vg.Inch, oodHeight*vg.Inch, func(c draw.Canvas) {
		drawWithLegend(margin(c), p, &leg)
	})
}
