package tabular

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// formatFloat writes v in the shortest form that reads back exactly.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// cell returns row i of column c as text.
func (c Column) cell(i int) string {
	if c.Strings != nil {
		return c.Strings[i]
	}
	return formatFloat(c.Floats[i])
}

// WriteCSV writes a header row of column names, then one line per row;
// numbers in the shortest form that reads back exactly (NaN as "NaN").
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		rec[j] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for i := range t.Rows() {
		for j, c := range t.Columns {
			rec[j] = c.cell(i)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes an array of records, one object per row with the
// columns as keys in order; NaN and ±Inf, which JSON cannot hold, are
// null.
func WriteJSON(w io.Writer, t *Table) error {
	bw := bufio.NewWriter(w)
	keys := make([][]byte, len(t.Columns))
	for j, c := range t.Columns {
		k, err := json.Marshal(c.Name)
		if err != nil {
			return err
		}
		keys[j] = k
	}
	bw.WriteString("[")
	for i := range t.Rows() {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  {")
		for j, c := range t.Columns {
			if j > 0 {
				bw.WriteString(", ")
			}
			bw.Write(keys[j])
			bw.WriteString(": ")
			switch {
			case c.Strings != nil:
				s, err := json.Marshal(c.Strings[i])
				if err != nil {
					return err
				}
				bw.Write(s)
			case math.IsNaN(c.Floats[i]) || math.IsInf(c.Floats[i], 0):
				bw.WriteString("null")
			default:
				bw.WriteString(formatFloat(c.Floats[i]))
			}
		}
		bw.WriteString("}")
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
