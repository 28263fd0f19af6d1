package tabular

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bayesl/bayesl/stdlib/tensorio"
)

// Column is one named column: Floats, or Strings (labels), not both.
type Column struct {
	Name    string
	Floats  []float64
	Strings []string
}

// Len returns the number of rows of the column.
func (c Column) Len() int {
	if c.Strings != nil {
		return len(c.Strings)
	}
	return len(c.Floats)
}

// Table is columns of equal length and, for the formats that hold them,
// extra named N-dimensional float64 arrays (row-major).
type Table struct {
	Columns []Column
	Arrays  []tensorio.Tensor
}

// Rows returns the number of rows, that of the first column.
func (t *Table) Rows() int {
	if len(t.Columns) == 0 {
		return 0
	}
	return t.Columns[0].Len()
}

// Column returns the column called name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Validate checks that t has at least one column, that every column has
// a distinct non-empty name and one kind of value, that all have the same
// length, and that the arrays are valid and named apart from the columns.
func (t *Table) Validate() error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("tabular: a table needs at least one column")
	}
	seen := map[string]bool{}
	n := t.Rows()
	for i, c := range t.Columns {
		switch {
		case c.Name == "":
			return fmt.Errorf("tabular: column %d has no name", i+1)
		case seen[c.Name]:
			return fmt.Errorf("tabular: column %q appears twice", c.Name)
		case c.Floats != nil && c.Strings != nil:
			return fmt.Errorf("tabular: column %q holds both numbers and strings", c.Name)
		case c.Len() != n:
			return fmt.Errorf("tabular: column %q has %d rows, column %q has %d", c.Name, c.Len(), t.Columns[0].Name, n)
		}
		seen[c.Name] = true
	}
	for _, a := range t.Arrays {
		if seen[a.Name] {
			return fmt.Errorf("tabular: array %q has the name of a column", a.Name)
		}
		seen[a.Name] = true
		if err := a.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Format is one file format a table is written to.
type Format struct {
	Ext    string // the file extension, with its dot: ".csv"
	Name   string // the format's name, for messages and docs
	Arrays bool   // holds a table's extra arrays
	Write  func(w io.Writer, t *Table) error
}

// formats is the one table of output formats, keyed by extension.
var formats = []Format{
	{Ext: ".csv", Name: "CSV with a header row", Write: WriteCSV},
	{Ext: ".json", Name: "JSON array of records", Write: WriteJSON},
	{Ext: ".npy", Name: "NumPy structured array", Write: WriteNPY},
	{Ext: ".npz", Name: "NumPy archive, one array per column", Arrays: true, Write: WriteNPZ},
	{Ext: ".parquet", Name: "Apache Parquet", Write: WriteParquet},
}

// Formats returns the formats, sorted by extension.
func Formats() []Format { return slices.Clone(formats) }

// Exts returns the extensions of Formats, sorted.
func Exts() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.Ext
	}
	return out
}

// ForPath returns the format of path's extension (case-insensitive). An
// extension nobody handles is an error that lists those handled.
func ForPath(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, f := range formats {
		if f.Ext == ext {
			return f, nil
		}
	}
	what := fmt.Sprintf("extension %q", ext)
	if ext == "" {
		what = "no extension"
	}
	return Format{}, fmt.Errorf("%s has %s; tables are written to %s", filepath.Base(path), what, strings.Join(Exts(), ", "))
}

// WriteTable writes t to w in format f, after validating it. A format that
// cannot hold extra arrays refuses a table that has them.
func (f Format) WriteTable(w io.Writer, t *Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if len(t.Arrays) > 0 && !f.Arrays {
		return fmt.Errorf("a %s file holds no arrays such as %q: write to .npz", f.Ext, t.Arrays[0].Name)
	}
	return f.Write(w, t)
}

// WriteFile writes t to path atomically (tensorio.WriteAtomic), in the
// format of path's extension.
func WriteFile(path string, t *Table) error {
	f, err := ForPath(path)
	if err != nil {
		return err
	}
	return tensorio.WriteAtomic(path, func(w io.Writer) error { return f.WriteTable(w, t) })
}
