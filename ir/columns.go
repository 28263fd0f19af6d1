package ir

import (
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/spell"
)

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
	known := func(name string, sp source.Span) (int, bool) {
		i, ok := pos[name]
		if !ok {
			msg := spell.Unknown("column", name, header)
			c.errorf(sp, source.Name, "%s", strings.Replace(msg, strconv.Quote(name), strconv.Quote(name)+" in "+d.Path, 1))
		}
		return i, ok
	}
	for _, col := range d.X {
		from, okF := known(col.From, col.Span)
		if col.To == "" || !okF {
			continue
		}
		if to, okT := known(col.To, col.Span); okT && to < from {
			c.errorf(col.Span, source.Name, "column range %s .. %s runs backwards: %s comes before %s in %s", col.From, col.To, col.To, col.From, d.Path)
		}
	}
	if d.Y != "" && y != nil {
		known(d.Y, y.Span())
	}
}
