package main

import (
	"fmt"
	"image/color"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var implStyle = map[string]struct {
	label string
	color color.Color
	shape draw.GlyphDrawer
}{
	"bayesl-go":       {"bayesl, pure Go", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, draw.CircleGlyph{}},
	"bayesl-openblas": {"bayesl, OpenBLAS", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, draw.SquareGlyph{}},
	"pytorch":         {"PyTorch 1.13", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, draw.TriangleGlyph{}},
}

// plotScaling draws the two sweeps side by side, log-log: time per MAP
// epoch against the hidden width, and against the number of rows.
func plotScaling(r *results, path string) error {
	left, err := sweepPlot(r, "width", "MAP epoch against hidden width", "hidden width W (MLP 784-W-W-10, 10 000 rows)", func(c benchCase) float64 { return float64(c.Width) })
	if err != nil {
		return err
	}
	right, err := sweepPlot(r, "rows", "MAP epoch against data size", "rows (MLP 784-256-256-10)", func(c benchCase) float64 { return float64(c.Rows) })
	if err != nil {
		return err
	}
	const w, h = 11 * vg.Inch, 4.2 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(plots, t, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func sweepPlot(r *results, group, title, xlabel string, x func(benchCase) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title + " (Adam, batch 128, float64)"
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "seconds per epoch (median)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var xt plot.ConstantTicks
	for _, rw := range r.Rows {
		if rw.Case.Group == group {
			v := x(rw.Case)
			xt = append(xt, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
	}
	p.X.Tick.Marker = xt
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*2, vg.Millimeter*2
	p.Add(plotter.NewGrid())
	for _, name := range []string{"bayesl-go", "bayesl-openblas", "pytorch"} {
		var pts plotter.XYs
		for _, rw := range r.Rows {
			if rw.Case.Group != group {
				continue
			}
			if s, ok := rw.Stats[name]; ok && s.Median > 0 {
				pts = append(pts, plotter.XY{X: x(rw.Case), Y: s.Median})
			}
		}
		if len(pts) == 0 {
			continue
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int {
			switch {
			case a.X < b.X:
				return -1
			case a.X > b.X:
				return 1
			}
			return 0
		})
		st := implStyle[name]
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("plot %s %s: %w", group, name, err)
		}
		l.Color, l.Width = st.color, vg.Points(1.5)
		s.Color, s.Shape, s.Radius = st.color, st.shape, vg.Points(3)
		p.Add(l, s)
		p.Legend.Add(st.label, l, s)
	}
	return p, nil
}
