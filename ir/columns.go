package ir

import (
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/spell"
)

// dataColumns records the columns of data sets whose CSV header the
// checker could read, so `where` on a column they lack fails at check. It
// lives for one Check: a REPL entry naming data from an earlier entry
// leaves its columns to run, which reports the same error.
type dataColumns struct {
	csv     map[*CSV]colSet
	names   map[string]colSet
	classes map[string]int // data names read with csv(..., classes: K), or 0 without
}

// colSet is the columns of a data set: its features and its target.
type colSet struct {
	x []string
	y string // "" without a target
}

// all returns the features and the target: the columns where may test.
func (s colSet) all() []string {
	if s.y == "" {
		return s.x
	}
	return append(s.x[:len(s.x):len(s.x)], s.y)
}

// of returns the columns d yields, when known.
func (dc *dataColumns) of(d DataExpr) (colSet, bool) {
	switch d := d.(type) {
	case *CSV:
		cols, ok := dc.csv[d]
		return cols, ok
	case *DataRef:
		cols, ok := dc.names[d.Name]
		return cols, ok
	case *Where:
		return dc.of(d.Src)
	}
	return colSet{}, false
}

// classesOf returns the K of csv(..., classes: K) behind d (0 for data
// read without classes), when d comes from csv.
func (dc *dataColumns) classesOf(d DataExpr) (int, bool) {
	switch d := d.(type) {
	case *CSV:
		return d.Classes, true
	case *DataRef:
		k, ok := dc.classes[d.Name]
		return k, ok
	case *Where:
		return dc.classesOf(d.Src)
	}
	return 0, false
}

// note records the columns and classes of the data bound to name.
func (dc *dataColumns) note(name string, d DataExpr) {
	if k, ok := dc.classesOf(d); ok {
		if dc.classes == nil {
			dc.classes = map[string]int{}
		}
		dc.classes[name] = k
	}
	if cols, ok := dc.of(d); ok {
		if dc.names == nil {
			dc.names = map[string]colSet{}
		}
		dc.names[name] = cols
	}
}

// inputWidth refuses, at the fit (sp), a model whose input width is not
// the number of features of data known at check time, as run would.
func (c *checker) inputWidth(m *Model, d DataExpr, sp source.Span) {
	cols, ok := c.cols.of(d)
	if !ok || len(cols.x) == m.InputWidth {
		return
	}
	names := cols.x
	if len(names) > 6 {
		names = append(names[:4:4], "...", names[len(names)-1])
	}
	c.errorf(sp, source.Shape, "model %s takes %d input features but the data has %d (%s)", m.Name, m.InputWidth, len(cols.x), strings.Join(names, ", "))
}

func (dc *dataColumns) forget(name string) {
	delete(dc.names, name)
	delete(dc.classes, name)
}

// classes refuses, at the fit (sp), a categorical model whose class count
// differs from the classes: K its csv data is read with, or that is fitted
// on data read without classes, as run would.
func (c *checker) classes(m *Model, d DataExpr, sp source.Span) {
	k, ok := c.cols.classesOf(d)
	if !ok || m.Lik == nil || m.Lik.Family != LikCategorical {
		return
	}
	switch {
	case k == 0:
		c.errorf(sp, source.Type, "model %s is a classifier but the data has no class labels: read it with csv(..., classes: %d)", m.Name, m.Lik.Classes)
	case k != m.Lik.Classes:
		c.errorf(sp, source.Shape, "model %s has %d classes (logits width) but the data has %d", m.Name, m.Lik.Classes, k)
	}
}

// columns checks the columns a csv(...) names against the file's header
// when the runtime can read it at check time (Config.Files), so a
// misspelt column fails `check` at its own position, before anything runs.
// A file that cannot be read yet (written by an earlier statement, say) is
// left to run, which reports every data error.
func (c *checker) columns(d *CSV, y parser.Expr) {
	if c.cfg.Files == nil {
		return
	}
	header, err := c.cfg.Files.Columns(d.Path)
	if err != nil || len(header) == 0 {
		return
	}
	pos := make(map[string]int, len(header))
	for i, h := range header {
		pos[h] = i
	}
	ok := true
	known := func(name string, sp source.Span) (int, bool) {
		i, found := pos[name]
		if !found {
			msg := spell.Unknown("column", name, header)
			c.errorf(sp, source.Name, "%s", strings.Replace(msg, strconv.Quote(name), strconv.Quote(name)+" in "+d.Path, 1))
			ok = false
		}
		return i, found
	}
	var cols []string // the features the data set will have
	for _, col := range d.X {
		from, okF := known(col.From, col.Span)
		if col.To == "" || !okF {
			cols = append(cols, col.From)
			continue
		}
		to, okT := known(col.To, col.Span)
		if okT && to < from {
			c.errorf(col.Span, source.Name, "column range %s .. %s runs backwards: %s comes before %s in %s", col.From, col.To, col.To, col.From, d.Path)
			ok = false
		}
		if okT && to >= from {
			cols = append(cols, header[from:to+1]...)
		}
	}
	if d.Y != "" && y != nil {
		known(d.Y, y.Span())
	}
	if len(d.X) == 0 {
		for _, h := range header {
			if h != d.Y {
				cols = append(cols, h)
			}
		}
	}
	if ok {
		if c.cols.csv == nil {
			c.cols.csv = map[*CSV]colSet{}
		}
		c.cols.csv[d] = colSet{x: cols, y: d.Y}
	}
}
