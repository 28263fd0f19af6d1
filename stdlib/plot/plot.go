package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Errors returned by this package wrap one of these sentinels, so that a
// caller can tell a bad file name from bad data with errors.Is.
var (
	// ErrFormat is returned for a file name whose extension is neither
	// .svg nor .png (in any letter case).
	ErrFormat = errors.New("plot: unsupported file format")
	// ErrInput is returned for empty, mismatched or non-finite inputs.
	ErrInput = errors.New("plot: invalid input")
)

// Labels are the texts of a picture. An empty Title draws no title line
// (the reliability diagram and the OOD histogram still print their ECE
// and AUROC there); an empty axis label is replaced by the picture's
// default, given in each function's documentation.
type Labels struct {
	Title string
	X, Y  string
}

// DPI is the resolution of PNG output. Picture sizes are fixed in
// inches (see each function), so a 7.5 in × 4.5 in band plot is a
// 1125 × 675 pixel PNG.
const DPI = 150

// format is an output file format.
type format int

const (
	formatSVG format = iota
	formatPNG
)

// formatOf returns the format named by the extension of path.
func formatOf(path string) (format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg":
		return formatSVG, nil
	case ".png":
		return formatPNG, nil
	default:
		return 0, fmt.Errorf("%w: %q has extension %q, want .svg or .png", ErrFormat, path, ext)
	}
}

// render draws a w×h picture with paint, encodes it in the format named by
// the extension of path and writes it there atomically. Nothing touches
// the file system until the picture is fully encoded, so a failure leaves
// neither the file nor its directory behind. A panic inside gonum/plot
// (which reports some range problems that way) becomes an error.
func render(path string, w, h vg.Length, paint func(c draw.Canvas)) error {
	f, err := formatOf(path)
	if err != nil {
		return err
	}
	data, err := encode(f, w, h, paint)
	if err != nil {
		return fmt.Errorf("plot: rendering %s: %w", path, err)
	}
	return writeFile(path, data)
}

func encode(f format, w, h vg.Length, paint func(c draw.Canvas)) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("%v", r)
		}
	}()
	var cw vg.CanvasWriterTo
	switch f {
	case formatSVG:
		cw = vgsvg.New(w, h)
	case formatPNG:
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}
	}
	c := draw.New(cw)
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	paint(c)
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, err
	}
	if f == formatSVG {
		// Fonts are not embedded (that would add half a megabyte per
		// face): name metric-compatible fallbacks, so that a viewer
		// without Liberation Sans keeps the layout rather than switching
		// to its default serif font.
		return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;")), nil
	}
	return buf.Bytes(), nil
}

// writeFile writes data to path through a temporary file in the same
// directory, created with the directory if need be, and renames it into
// place: a failed write leaves no file behind and never damages an
// existing one.
func writeFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("plot: writing %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Input checks.

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...)
}

// checkFinite reports the first NaN or infinite value of v.
func checkFinite(what, name string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return inputErr("%s: %s[%d] is %v", what, name, i, x)
		}
	}
	return nil
}

// checkPoints checks an optional set of data points.
func checkPoints(what, xname, yname string, x, y []float64) error {
	if len(x) != len(y) {
		return inputErr("%s: len(%s) = %d but len(%s) = %d", what, xname, len(x), yname, len(y))
	}
	if err := checkFinite(what, xname, x); err != nil {
		return err
	}
	return checkFinite(what, yname, y)
}

// Style. Everything is drawn in Liberation Sans, which gonum/plot embeds,
// so output does not depend on the fonts installed.

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

const (
	titleSize  = 13
	labelSize  = 11
	tickSize   = 9
	legendSize = 9
)

// Okabe–Ito colours, distinguishable with the common colour-vision
// deficiencies; yellow is left out as it is unreadable on white.
var palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
}

func alpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(math.Round(255 * a))
	return c
}

var (
	black    = color.NRGBA{0, 0, 0, 0xFF}
	navy     = color.NRGBA{0x0B, 0x2E, 0x59, 0xFF}
	gridGray = color.NRGBA{0xE4, 0xE4, 0xE4, 0xFF}
)

// newPlot returns a plot with this package's fonts, the given labels
// (defaults for empty axis labels) and a light grid.
func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.BackgroundColor = nil // the canvas is filled once, in encode
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, titleSize)
	p.Title.Padding = vg.Points(8)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Tick.Length = vg.Points(5)
		a.Tick.Marker = linearTicks{}
	}
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.TextStyle.Font = font.From(sans, legendSize)
	p.Legend.ThumbnailWidth = vg.Points(22)
	p.Legend.Padding = vg.Points(2)
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridGray, gridGray
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(g)
	return p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// newLegend returns an empty legend in this package's style, anchored at
// the top left of the canvas it is drawn on.
func newLegend() gplot.Legend {
	l := gplot.NewLegend()
	l.TextStyle.Font = font.From(sans, legendSize)
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(3)
	l.Top, l.Left = true, true
	return l
}

// legendExtent returns the width and height a legend needs.
func legendExtent(l *gplot.Legend, c draw.Canvas) (w, h vg.Length) {
	r := l.Rectangle(c)
	return r.Max.X - r.Min.X, r.Max.Y - r.Min.Y
}

// drawWithLegend draws p on c with leg in a column at the right of the
// plot, top-aligned with the data area, so that the legend can never hide
// data.
func drawWithLegend(c draw.Canvas, p *gplot.Plot, leg *gplot.Legend) {
	pc, lc := legendLayout(c, p, leg)
	p.Draw(pc)
	leg.Draw(lc)
}

// legendLayout splits c into the canvas of p and that of its legend.
func legendLayout(c draw.Canvas, p *gplot.Plot, leg *gplot.Legend) (pc, lc draw.Canvas) {
	gap := vg.Points(10)
	w, _ := legendExtent(leg, c)
	pc = draw.Crop(c, 0, -(w + 2*gap), 0, 0)
	data := p.DataCanvas(pc)
	lc = c
	lc.Min = vg.Point{X: pc.Max.X + gap, Y: data.Min.Y}
	lc.Max = vg.Point{X: c.Max.X, Y: data.Max.Y}
	return pc, lc
}

// drawLegendBox draws leg inside the top-left corner of the data area of
// a plot drawn on c, over a white box so that bars behind it cannot make
// it unreadable.
func drawLegendBox(c draw.Canvas, p *gplot.Plot, leg *gplot.Legend) {
	data := p.DataCanvas(c)
	w, h := legendExtent(leg, data)
	pad := vg.Points(4)
	box := vg.Rectangle{
		Min: vg.Point{X: data.Min.X + pad, Y: data.Max.Y - pad - h - 2*pad},
		Max: vg.Point{X: data.Min.X + pad + w + 2*pad, Y: data.Max.Y - pad},
	}
	c.FillPolygon(color.NRGBA{0xFF, 0xFF, 0xFF, 0xE0}, []vg.Point{
		box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y},
	})
	lc := c
	lc.Rectangle = vg.Rectangle{
		Min: vg.Point{X: box.Min.X + pad, Y: box.Min.Y + pad},
		Max: vg.Point{X: box.Max.X - pad, Y: box.Max.Y - pad},
	}
	leg.Draw(lc)
}

// drawTitle writes a figure title centred at the top of c and returns the
// canvas below it.
func drawTitle(c draw.Canvas, title string) draw.Canvas {
	if title == "" {
		return c
	}
	sty := text.Style{
		Color:   black,
		Font:    font.From(sans, titleSize),
		XAlign:  draw.XCenter,
		YAlign:  draw.YTop,
		Handler: gplot.DefaultTextHandler,
	}
	pad := vg.Points(6)
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - pad}, title)
	h := sty.Rectangle(title).Max.Y - sty.Rectangle(title).Min.Y
	return draw.Crop(c, 0, 0, 0, -(h + 2*pad))
}

// margin crops a uniform white margin off every side of c.
func margin(c draw.Canvas) draw.Canvas {
	m := vg.Points(8)
	return draw.Crop(c, m, -m, m, -m)
}

// Custom plotters. They fill without stroking an outline, which gonum's
// Polygon cannot do, and implement Thumbnail for legends.

// fill is a closed region between two curves over the same sorted x.
type fill struct {
	x, lo, hi []float64
	color     color.Color
}

func (f *fill) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, 0, 2*len(f.x))
	for i, x := range f.x {
		pts = append(pts, vg.Point{X: trX(x), Y: trY(f.hi[i])})
	}
	for i := len(f.x) - 1; i >= 0; i-- {
		pts = append(pts, vg.Point{X: trX(f.x[i]), Y: trY(f.lo[i])})
	}
	c.FillPolygon(f.color, c.ClipPolygonXY(pts))
}

func (f *fill) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = minMax(f.x)
	ymin, _ = minMax(f.lo)
	_, ymax = minMax(f.hi)
	return
}

func (f *fill) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(f.color, c.ClipPolygonY([]vg.Point{
		c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y},
	}))
}

// rect is an axis-aligned rectangle in data coordinates.
type rect struct{ x0, x1, y0, y1 float64 }

// rects draws filled rectangles with an optional outline.
type rects struct {
	r     []rect
	color color.Color
	line  draw.LineStyle // no outline when Width is 0
}

func (rs *rects) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, r := range rs.r {
		pts := []vg.Point{
			{X: trX(r.x0), Y: trY(r.y0)}, {X: trX(r.x1), Y: trY(r.y0)},
			{X: trX(r.x1), Y: trY(r.y1)}, {X: trX(r.x0), Y: trY(r.y1)},
		}
		if rs.color != nil {
			c.FillPolygon(rs.color, c.ClipPolygonXY(pts))
		}
		if rs.line.Width > 0 {
			c.StrokeLines(rs.line, c.ClipLinesXY(append(pts, pts[0]))...)
		}
	}
}

func (rs *rects) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, r := range rs.r {
		xmin, xmax = math.Min(xmin, math.Min(r.x0, r.x1)), math.Max(xmax, math.Max(r.x0, r.x1))
		ymin, ymax = math.Min(ymin, math.Min(r.y0, r.y1)), math.Max(ymax, math.Max(r.y0, r.y1))
	}
	return
}

func (rs *rects) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}}
	if rs.color != nil {
		c.FillPolygon(rs.color, pts)
	}
	if rs.line.Width > 0 {
		c.StrokeLines(rs.line, append(pts, pts[0]))
	}
}

// newLine returns a line plotter through (x[i], y[i]).
func newLine(x, y []float64, col color.Color, width vg.Length) *plotter.Line {
	xys := make(plotter.XYs, len(x))
	for i := range x {
		xys[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	l := &plotter.Line{XYs: xys}
	l.LineStyle = draw.LineStyle{Color: col, Width: width}
	return l
}

// newPoints returns a scatter plotter of (x[i], y[i]).
func newPoints(x, y []float64, col color.Color, radius vg.Length, shape draw.GlyphDrawer) *plotter.Scatter {
	xys := make(plotter.XYs, len(x))
	for i := range x {
		xys[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	s := &plotter.Scatter{XYs: xys}
	s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: radius, Shape: shape}
	return s
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
