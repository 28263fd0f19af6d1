package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bayesl/bayesl/stdlib/metric"
)

// ReliabilityData are a classifier's predictive probabilities and the true
// labels, in the conventions of package metric.
type ReliabilityData struct {
	// Prob holds N rows of K class probabilities, row-major (the prob of
	// predictive.Predictive.Classification).
	Prob []float64
	K    int
	// Y holds the N labels, class indices stored as float64.
	Y []float64
	// Bins is the number of equal-width confidence bins; 0 means
	// metric.DefaultECEBins.
	Bins int
}

// Reliability diagram size in inches.
const (
	reliabilityWidth  = 5.5
	reliabilityHeight = 6
)

// reliabilityBins holds per-bin sums over the top-label predictions, the
// binning of metric.ECE: bin b is ((b-1)/bins, b/bins], with a confidence
// of exactly 0 in the first bin.
type reliabilityBins struct {
	count   []int
	conf    []float64 // Σ confidence
	correct []float64 // Σ 1[argmax = label]
}

func binPredictions(prob []float64, k int, y []float64, bins int) reliabilityBins {
	r := reliabilityBins{make([]int, bins), make([]float64, bins), make([]float64, bins)}
	m := float64(bins)
	for n, yn := range y {
		row := prob[n*k : (n+1)*k]
		best, conf := 0, row[0]
		for j, v := range row {
			if v > conf { // ties to the lowest index, as in metric
				best, conf = j, v
			}
		}
		b := min(max(int(math.Ceil(conf*m))-1, 0), bins-1)
		for b > 0 && conf <= float64(b)/m {
			b--
		}
		for b < bins-1 && conf > float64(b+1)/m {
			b++
		}
		r.count[b]++
		r.conf[b] += conf
		if best == int(yn) {
			r.correct[b]++
		}
	}
	return r
}

// Reliability draws a reliability diagram. The upper panel has, for each
// of Bins equal-width bins of top-label confidence, a bar of the accuracy
// of its predictions and a shaded gap from there to their mean confidence,
// with the diagonal of perfect calibration; empty bins have no bar. The
// lower panel is the histogram of confidences (the bin counts) with the
// overall accuracy and mean confidence as vertical lines. The title ends
// in the top-label ECE of metric.ECE with the same bins. Axis labels
// default to "confidence" and "accuracy". The picture is 5.5 in × 6 in.
func Reliability(path string, d ReliabilityData, l Labels) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	const what = "reliability"
	n := len(d.Y)
	if n == 0 {
		return inputErr("%s: no labels", what)
	}
	if d.K < 1 {
		return inputErr("%s: K = %d, want at least 1 class", what, d.K)
	}
	if len(d.Prob) != n*d.K {
		return inputErr("%s: len(Prob) = %d, want len(Y)·K = %d·%d", what, len(d.Prob), n, d.K)
	}
	if err := checkFinite(what, "Prob", d.Prob); err != nil {
		return err
	}
	for i, y := range d.Y {
		if !(y >= 0 && y < float64(d.K)) || y != math.Trunc(y) {
			return inputErr("%s: Y[%d] = %v is not a class index in [0, %d)", what, i, y, d.K)
		}
	}
	bins := d.Bins
	if bins == 0 {
		bins = metric.DefaultECEBins
	}
	if bins < 1 {
		return inputErr("%s: Bins = %d, want at least 1", what, d.Bins)
	}
	ece := metric.ECE(d.Prob, d.K, d.Y, bins)
	r := binPredictions(d.Prob, d.K, d.Y, bins)

	title := fmt.Sprintf("ECE = %.4f (%d bins)", ece, bins)
	if l.Title != "" {
		title = l.Title + ", " + title
	}

	// Upper panel: accuracy bars, gaps and the diagonal.
	top := newPlot("", "", orDefault(l.Y, "accuracy"))
	hist := newPlot("", orDefault(l.X, "confidence"), "count")
	for _, p := range []*gplot.Plot{top, hist} {
		p.X.Min, p.X.Max = 0, 1
		p.X.Padding, p.Y.Padding = 0, 0
	}
	top.Y.Min, top.Y.Max = 0, 1
	top.X.Tick.Marker = gplot.TickerFunc(func(lo, hi float64) []gplot.Tick {
		t := linearTicks{}.Ticks(lo, hi)
		for i := range t {
			t[i].Label = ""
		}
		return t
	})
	edge := draw.LineStyle{Color: navy, Width: vg.Points(0.5)}
	acc := &rects{color: alpha(palette[0], 0.85), line: edge}
	gap := &rects{color: alpha(palette[1], 0.30), line: draw.LineStyle{Color: alpha(palette[1], 0.9), Width: vg.Points(0.5)}}
	counts := &rects{color: alpha(black, 0.45), line: draw.LineStyle{Color: alpha(black, 0.8), Width: vg.Points(0.5)}}
	total, hits, confSum := 0, 0.0, 0.0
	for b, c := range r.count {
		if c == 0 {
			continue
		}
		lo, hi := float64(b)/float64(bins), float64(b+1)/float64(bins)
		a, mc := r.correct[b]/float64(c), r.conf[b]/float64(c)
		acc.r = append(acc.r, rect{lo, hi, 0, a})
		gap.r = append(gap.r, rect{lo, hi, a, mc})
		counts.r = append(counts.r, rect{lo, hi, 0, float64(c)})
		total += c
		hits += r.correct[b]
		confSum += r.conf[b]
	}
	diag := newLine([]float64{0, 1}, []float64{0, 1}, alpha(black, 0.7), vg.Points(1))
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	top.Add(acc, gap, diag)
	topLeg := newLegend()
	topLeg.Add("accuracy", acc)
	topLeg.Add("gap to mean confidence", gap)
	topLeg.Add("perfect calibration", diag)

	// Lower panel: bin counts, overall accuracy and mean confidence.
	maxCount := 0
	for _, c := range r.count {
		maxCount = max(maxCount, c)
	}
	hist.Y.Min, hist.Y.Max = 0, 1.08*float64(maxCount)
	accuracy, meanConf := hits/float64(total), confSum/float64(total)
	accLine := newLine([]float64{accuracy, accuracy}, []float64{0, hist.Y.Max}, palette[2], vg.Points(1.4))
	accLine.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	confLine := newLine([]float64{meanConf, meanConf}, []float64{0, hist.Y.Max}, palette[1], vg.Points(1.4))
	confLine.Dashes = []vg.Length{vg.Points(1.5), vg.Points(1.5)}
	hist.Add(counts, accLine, confLine)
	histLeg := newLegend()
	histLeg.Add(fmt.Sprintf("accuracy %.3f", accuracy), accLine)
	histLeg.Add(fmt.Sprintf("mean confidence %.3f", meanConf), confLine)

	return render(path, reliabilityWidth*vg.Inch, reliabilityHeight*vg.Inch, func(c draw.Canvas) {
		c = margin(drawTitle(c, title))
		h := c.Max.Y - c.Min.Y
		split := c.Min.Y + 0.32*h
		tc, hc := c, c
		tc.Min.Y = split + vg.Points(6)
		hc.Max.Y = split
		alignX(top, &tc, hist, &hc)
		top.Draw(tc)
		drawLegendBox(tc, top, &topLeg)
		hist.Draw(hc)
		drawLegendBox(hc, hist, &histLeg)
	})
}

// alignX crops the canvases of two stacked plots so that their data areas
// start and end at the same x.
func alignX(p1 *gplot.Plot, c1 *draw.Canvas, p2 *gplot.Plot, c2 *draw.Canvas) {
	d1, d2 := p1.DataCanvas(*c1), p2.DataCanvas(*c2)
	l1, l2 := d1.Min.X-c1.Min.X, d2.Min.X-c2.Min.X
	r1, r2 := c1.Max.X-d1.Max.X, c2.Max.X-d2.Max.X
	left, right := max(l1, l2), max(r1, r2)
	*c1 = draw.Crop(*c1, left-l1, -(right - r1), 0, 0)
	*c2 = draw.Crop(*c2, left-l2, -(right - r2), 0, 0)
}
