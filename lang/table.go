package lang

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Table is a titled table with typed columns, all of one length: the rows.
// The tables a script produces have a text first column naming each row
// (a posterior, an input row) and number columns after it.
type Table struct {
	Title   string
	Columns []Column
}

// Column is one named column of a Table. Exactly one of Strings and Floats
// is non-nil: it says whether the column holds text or numbers.
type Column struct {
	Name    string
	Strings []string
	Floats  []float64 // NaN where a value is undefined (a metric of an empty set)
}

// IsText reports whether c holds text.
func (c *Column) IsText() bool { return c.Strings != nil }

// Len is the number of entries, the table's rows.
func (c *Column) Len() int {
	if c.IsText() {
		return len(c.Strings)
	}
	return len(c.Floats)
}

// Rows is the number of rows.
func (t *Table) Rows() int {
	if len(t.Columns) == 0 {
		return 0
	}
	return t.Columns[0].Len()
}

// Column returns the column named name, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// Lookup returns the number in column col of the row whose first (text)
// column reads label: t.Lookup("p_vi", "nll") in an evaluate table.
func (t *Table) Lookup(label, col string) (float64, bool) {
	c := t.Column(col)
	if c == nil || c.IsText() || len(t.Columns) == 0 || !t.Columns[0].IsText() {
		return 0, false
	}
	for i, l := range t.Columns[0].Strings {
		if l == label {
			return c.Floats[i], true
		}
	}
	return 0, false
}

// newTable starts a table with a text column named label and number
// columns named cols, no rows.
func newTable(title, label string, cols ...string) *Table {
	t := &Table{Title: title, Columns: []Column{{Name: label, Strings: []string{}}}}
	for _, c := range cols {
		t.addColumn(c)
	}
	return t
}

// addColumn adds an empty number column (before any row is added).
func (t *Table) addColumn(name string) {
	t.Columns = append(t.Columns, Column{Name: name, Floats: []float64{}})
}

// addRow appends a row: its label, then one value per number column.
func (t *Table) addRow(label string, vals ...float64) {
	if len(vals) != len(t.Columns)-1 {
		panic(fmt.Sprintf("lang: table row %q has %d values for %d columns", label, len(vals), len(t.Columns)-1))
	}
	t.Columns[0].Strings = append(t.Columns[0].Strings, label)
	for j, v := range vals {
		t.Columns[j+1].Floats = append(t.Columns[j+1].Floats, v)
	}
}

// cell is row i of column c for a person or a JSON document: text, or a
// number (nil for NaN and infinities, which JSON cannot hold).
func (c *Column) cell(i int) any {
	if c.IsText() {
		return c.Strings[i]
	}
	if v := c.Floats[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
		return v
	}
	return nil
}

// tableJSON is the layout `bayesl run --json` has always written: column
// names, and rows of a label (the first column) and values (the rest).
type tableJSON struct {
	Title   string    `json:"title"`
	Columns []string  `json:"columns"`
	Rows    []rowJSON `json:"rows"`
}

type rowJSON struct {
	Label  string `json:"label"`
	Values []any  `json:"values"`
}

// MarshalJSON writes t as rows of a label and values, NaN and infinite
// values as null.
func (t *Table) MarshalJSON() ([]byte, error) {
	out := tableJSON{Title: t.Title, Columns: []string{}, Rows: []rowJSON{}}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, c.Name)
	}
	for i := range t.Rows() {
		r := rowJSON{Values: []any{}}
		for j := range t.Columns {
			if j == 0 && t.Columns[0].IsText() {
				r.Label = t.Columns[0].Strings[i]
				continue
			}
			r.Values = append(r.Values, t.Columns[j].cell(i))
		}
		out.Rows = append(out.Rows, r)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes: a column of values that are
// all text (or null) comes back as text, any other as numbers with null
// read as NaN.
func (t *Table) UnmarshalJSON(b []byte) error {
	var in tableJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*t = Table{Title: in.Title}
	if len(in.Columns) == 0 {
		return nil
	}
	t.Columns = append(t.Columns, Column{Name: in.Columns[0], Strings: []string{}})
	for _, r := range in.Rows {
		t.Columns[0].Strings = append(t.Columns[0].Strings, r.Label)
	}
	for j, name := range in.Columns[1:] {
		c := Column{Name: name}
		for _, r := range in.Rows {
			if j < len(r.Values) {
				if s, ok := r.Values[j].(string); ok {
					c.Strings = append(c.Strings, s)
				}
			}
		}
		if len(c.Strings) == 0 {
			c.Strings = nil
			c.Floats = []float64{}
			for _, r := range in.Rows {
				v := math.NaN()
				if j < len(r.Values) {
					if f, ok := r.Values[j].(float64); ok {
						v = f
					}
				}
				c.Floats = append(c.Floats, v)
			}
		} else if len(c.Strings) != len(in.Rows) {
			return fmt.Errorf("table column %s mixes text and numbers", name)
		}
		t.Columns = append(t.Columns, c)
	}
	return nil
}

// Format writes an aligned table.
func (t *Table) Format(w io.Writer) {
	if t.Title != "" {
		fmt.Fprintln(w, t.Title)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	names := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		names[j] = c.Name
	}
	fmt.Fprintf(tw, "%s\t\n", strings.Join(names, "\t"))
	for i := range t.Rows() {
		cells := make([]string, len(t.Columns))
		for j := range t.Columns {
			if c := &t.Columns[j]; c.IsText() {
				cells[j] = c.Strings[i]
			} else {
				cells[j] = formatNumber(c.Floats[i])
			}
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	tw.Flush()
}
