package plot

import (
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
)

// linearTicks labels about six round values (steps of 1, 2, 2.5 or 5
// times a power of ten) with unlabelled minor ticks between them; gonum's
// default aims at three labels, too few to read values off a plot.
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	// Of the steps 1, 2, 2.5 and 5 times a power of ten, take the one
	// whose number of labels is nearest the target, the rounder step on
	// a tie.
	const target = 6
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/target)))
	var step, minor float64
	best := math.Inf(1)
	for _, m := range []float64{mag / 10, mag, 10 * mag} {
		for _, c := range []struct{ step, minor float64 }{{1, 0.5}, {5, 1}, {2, 1}, {2.5, 0.5}} {
			st := c.step * m
			n := math.Floor(hi/st+1e-9) - math.Ceil(lo/st-1e-9) + 1
			if d := math.Abs(n - target); d < best {
				best, step, minor = d, st, c.minor*m
			}
		}
	}
	if math.IsInf(step, 0) || (hi-lo)/minor > 100 || math.Abs(lo)/minor > 1e12 {
		// A range too wide or too narrow for float64 steps.
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	// Decimals needed to print multiples of step exactly.
	dec := 0
	for p := 1.0; dec < 15; dec, p = dec+1, p*10 {
		if v := step * p; math.Abs(v-math.Round(v)) < 1e-6*v {
			break
		}
	}
	big := math.Max(math.Abs(lo), math.Abs(hi))
	format := func(v float64) string {
		if big >= 1e6 || big < 1e-4 {
			return strconv.FormatFloat(v, 'g', 4, 64)
		}
		return strconv.FormatFloat(v, 'f', dec, 64)
	}
	var ticks []gplot.Tick
	for i := math.Ceil(lo/minor - 1e-9); i*minor <= hi+1e-9*minor; i++ {
		v := i * minor
		t := gplot.Tick{Value: v}
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
			if math.Abs(v) < 1e-9*step {
				v = 0 // no "-0"
			}
			t.Value, t.Label = v, format(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// logTicks labels the powers of ten in range if there are at least three,
// else their 1-2-5 multiples if there are at least three, else their 1…9
// multiples if there are at least two; failing that (a range within one
// decade) it labels linear ticks, which are as good on so short a log
// scale. Unlabelled minor ticks mark the other 1…9 multiples.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(lo > 0 && hi > lo) {
		return linearTicks{}.Ticks(lo, hi)
	}
	e0, e1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	for _, opt := range []struct {
		labelled []int
		need     int
	}{{[]int{1}, 3}, {[]int{1, 2, 5}, 3}, {[]int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 2}} {
		var ticks []gplot.Tick
		n := 0
		for e := e0; e <= e1; e++ {
			for m := 1; m <= 9; m++ {
				v := float64(m) * math.Pow(10, float64(e))
				if !in(v) {
					continue
				}
				t := gplot.Tick{Value: v}
				for _, l := range opt.labelled {
					if m == l {
						t.Label = strconv.FormatFloat(v, 'g', 3, 64)
						n++
					}
				}
				ticks = append(ticks, t)
			}
		}
		if n >= opt.need {
			return ticks
		}
	}
	return linearTicks{}.Ticks(lo, hi)
}
