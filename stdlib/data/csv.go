package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// ColumnRef names feature columns: a single column when To is "", or the
// inclusive range of header columns From .. To, expanded in header order.
type ColumnRef struct {
	From string // the column, or the first column of a range
	To   string // the last column of a range; "" for a single column
}

// Col refers to the single column name.
func Col(name string) ColumnRef { return ColumnRef{From: name} }

// Range refers to the header columns from .. to, both included.
func Range(from, to string) ColumnRef { return ColumnRef{From: from, To: to} }

// String returns "name" or "from .. to".
func (r ColumnRef) String() string {
	if r.To == "" {
		return r.From
	}
	return r.From + " .. " + r.To
}

// CSVSpec says which columns of a CSV file are features and target.
type CSVSpec struct {
	// X lists the feature columns. Empty means every column except Y.
	X []ColumnRef
	// Y is the target column. "" means the data set has no target (for
	// example inputs to predict at); Y of the Dataset is then nil.
	Y string
	// Classes is the number of classes K for classification, or 0 for
	// regression. Labels in Y are either integers 0..K-1 or text labels,
	// which are numbered in sorted order.
	Classes int
	// Standardize is copied to Dataset.Standardize; reading never rescales.
	Standardize bool
	// DropMissing drops the rows with a missing value (an empty cell, or
	// NaN, as pandas writes a missing number) in a column the spec reads,
	// recording them in Dataset.Dropped. Without it such a row is an error
	// naming its line and column.
	DropMissing bool
}

// ReadCSV reads the CSV file at path. See ParseCSV.
func ReadCSV(path string, spec CSVSpec) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: "cannot open file: " + msg, Err: err}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &Error{File: path, Msg: "is a directory, not a CSV file"}
	}
	return ParseCSV(path, f, spec)
}

// ParseCSV reads CSV text from r; name is used as the file name in errors
// and as Dataset.Source. The first record is the header. Fields may be
// quoted, lines may end in CRLF and a leading UTF-8 byte order mark is
// ignored, as is space around names and numbers. Only the columns chosen by
// spec are parsed as numbers, but every row must have as many fields as the
// header. All errors are of type *Error.
func ParseCSV(name string, r io.Reader, spec CSVSpec) (*Dataset, error) {
	if spec.Classes < 0 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("classes must be positive, got %d", spec.Classes)}
	}
	if spec.Classes > 0 && spec.Y == "" {
		return nil, &Error{File: name, Msg: "classes needs a target column (y)"}
	}

	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	lines := &newlineCounter{r: br}
	cr := csv.NewReader(lines)
	cr.FieldsPerRecord = -1 // checked below, with a better message
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: name, Msg: "empty file: no header row"}
	}
	if err != nil {
		return nil, readError(name, err)
	}
	headerLine, _ := cr.FieldPos(0)
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}

	cols, err := resolveColumns(name, headerLine, names, spec)
	if err != nil {
		return nil, err
	}
	xIdx, yIdx := cols.x, cols.y

	var (
		xs         []float64
		ys         []float64
		labels     []string
		labelLines []int
		n          int
		row        int // data rows read, kept or dropped
		dropped    []int
		last       = headerLine // the line the previous record ended on
	)
	// encoding/csv skips blank lines, but in a one-column file a blank line
	// is a row whose one cell is empty (pandas writes a missing value so):
	// each counts as a row with a missing value.
	blanks := func(to int) error {
		for l := last + 1; len(names) == 1 && l < to; l++ {
			row++
			if !spec.DropMissing {
				return &Error{File: name, Line: l, Column: names[0],
					Msg: fmt.Sprintf("missing value (an empty line) in data row %d; drop the rows with one: csv(..., drop_missing: true)", row)}
			}
			dropped = append(dropped, row)
		}
		return nil
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			if err := blanks(lines.n + 1); err != nil {
				return nil, err
			}
			break
		}
		if err != nil {
			return nil, readError(name, err)
		}
		start, _ := cr.FieldPos(0)
		if err := blanks(start); err != nil {
			return nil, err
		}
		last, _ = cr.FieldPos(len(rec) - 1)
		row++
		if len(rec) != len(names) {
			line, _ := cr.FieldPos(0)
			return nil, &Error{File: name, Line: line,
				Msg: fmt.Sprintf("expected %d fields, got %d", len(names), len(rec))}
		}
		if j := missingCell(rec, xIdx, yIdx, spec.Classes > 0); j >= 0 {
			if spec.DropMissing {
				dropped = append(dropped, row)
				continue
			}
			what := "an empty cell"
			if strings.TrimSpace(rec[j]) != "" {
				what = "NaN"
			}
			line, _ := cr.FieldPos(j)
			return nil, &Error{File: name, Line: line, Column: names[j],
				Msg: fmt.Sprintf("missing value (%s) in data row %d; drop the rows with one: csv(..., drop_missing: true)", what, row)}
		}
		for _, j := range xIdx {
			v, msg := parseCell(rec[j])
			if msg != "" {
				line, _ := cr.FieldPos(j)
				return nil, &Error{File: name, Line: line, Column: names[j], Msg: msg}
			}
			xs = append(xs, v)
		}
		if yIdx >= 0 {
			line, _ := cr.FieldPos(yIdx)
			if spec.Classes > 0 {
				labels = append(labels, strings.Clone(strings.TrimSpace(rec[yIdx])))
				labelLines = append(labelLines, line)
			} else {
				v, msg := parseCell(rec[yIdx])
				if msg != "" {
					return nil, &Error{File: name, Line: line, Column: names[yIdx], Msg: msg}
				}
				ys = append(ys, v)
			}
		}
		n++
	}
	if n == 0 && len(dropped) > 0 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("every one of the %d data rows has a missing value", len(dropped))}
	}
	if n == 0 {
		return nil, &Error{File: name, Msg: "no data rows after the header"}
	}

	d := &Dataset{
		X:           mat.NewDense(n, len(xIdx), xs),
		XNames:      make([]string, len(xIdx)),
		Standardize: spec.Standardize,
		Source:      name,
		Dropped:     dropped,
	}
	for k, j := range xIdx {
		d.XNames[k] = names[j]
	}
	if yIdx >= 0 {
		d.YName = names[yIdx]
		d.Y = ys
		if spec.Classes > 0 {
			d.Y, d.Classes, err = classify(name, d.YName, labels, labelLines, spec.Classes)
			if err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

type columns struct {
	x []int // header indices of the features, in spec order
	y int   // header index of the target, or -1
}

// resolveColumns maps the names and ranges of spec onto header indices.
func resolveColumns(file string, line int, names []string, spec CSVSpec) (columns, error) {
	index := make(map[string]int, len(names))
	for i, nm := range names {
		if j, dup := index[nm]; dup {
			return columns{}, &Error{File: file, Line: line, Column: nm,
				Msg: fmt.Sprintf("duplicate column name (fields %d and %d of the header)", j+1, i+1)}
		}
		index[nm] = i
	}
	lookup := func(nm string) (int, error) {
		if j, ok := index[nm]; ok {
			return j, nil
		}
		return 0, unknownColumn(file, line, nm, names)
	}

	c := columns{y: -1}
	if spec.Y != "" {
		j, err := lookup(spec.Y)
		if err != nil {
			return columns{}, err
		}
		c.y = j
	}
	if len(spec.X) == 0 {
		for j := range names {
			if j != c.y {
				c.x = append(c.x, j)
			}
		}
	}
	seen := make(map[int]bool)
	for _, ref := range spec.X {
		from, err := lookup(ref.From)
		if err != nil {
			return columns{}, err
		}
		to := from
		if ref.To != "" {
			if to, err = lookup(ref.To); err != nil {
				return columns{}, err
			}
			if to < from {
				return columns{}, &Error{File: file, Line: line, Column: ref.To,
					Msg: fmt.Sprintf("range %s runs backwards: %q comes before %q in the header", ref, ref.To, ref.From)}
			}
		}
		for j := from; j <= to; j++ {
			switch {
			case j == c.y:
				return columns{}, &Error{File: file, Line: line, Column: names[j],
					Msg: "column is both a feature (x) and the target (y)"}
			case seen[j]:
				return columns{}, &Error{File: file, Line: line, Column: names[j],
					Msg: "column is listed more than once in x"}
			}
			seen[j] = true
			c.x = append(c.x, j)
		}
	}
	if len(c.x) == 0 {
		return columns{}, &Error{File: file, Line: line, Msg: "no feature columns"}
	}
	return c, nil
}

// missingCell returns the header index of the first cell of rec, among
// the features x and the target y (-1 for none), that holds no value: an
// empty cell, or NaN in a numeric column. It returns -1 when none does.
func missingCell(rec []string, x []int, y int, labels bool) int {
	missing := func(j int, numeric bool) bool {
		t := strings.TrimSpace(rec[j])
		return t == "" || numeric && strings.EqualFold(t, "nan")
	}
	for _, j := range x {
		if missing(j, true) {
			return j
		}
	}
	if y >= 0 && missing(y, !labels) {
		return y
	}
	return -1
}

// parseCell parses one numeric cell. It returns a message instead of an
// error so that the caller can add the position.
func parseCell(s string) (float64, string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "missing value (empty cell)"
	}
	v, err := strconv.ParseFloat(t, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("%q is out of range for a float64", t)
	case err != nil:
		return 0, fmt.Sprintf("cannot parse %q as a number", t)
	case math.IsNaN(v):
		return 0, "data contains NaN"
	case math.IsInf(v, 0):
		return 0, fmt.Sprintf("data contains %v", v)
	}
	return v, ""
}

// classify turns class labels into indices 0..k-1. All labels must be
// numbers (integers in [0, k)) or all text (numbered in sorted order).
func classify(file, column string, labels []string, lines []int, k int) ([]float64, []string, error) {
	fail := func(i int, msg string) ([]float64, []string, error) {
		return nil, nil, &Error{File: file, Line: lines[i], Column: column, Msg: msg}
	}
	isNum := func(s string) bool {
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	}
	y := make([]float64, len(labels))
	numeric := isNum(labels[0])
	for i, l := range labels {
		if l == "" {
			return fail(i, "missing class label (empty cell)")
		}
		if isNum(l) != numeric {
			if numeric {
				return fail(i, fmt.Sprintf("class label %q is text but the labels before it are numbers", l))
			}
			return fail(i, fmt.Sprintf("class label %q is a number but the labels before it are text", l))
		}
	}

	if numeric {
		for i, l := range labels {
			v, _ := strconv.ParseFloat(l, 64)
			switch {
			case math.IsNaN(v):
				return fail(i, "data contains NaN")
			case math.IsInf(v, 0):
				return fail(i, fmt.Sprintf("data contains %v", v))
			case v != math.Trunc(v):
				return fail(i, fmt.Sprintf("class label %s is not an integer", l))
			case v < 0 || v >= float64(k):
				return fail(i, fmt.Sprintf("class label %s is out of range for classes: %d (want 0 to %d)", l, k, k-1))
			}
			y[i] = v
		}
		names := make([]string, k)
		for c := range names {
			names[c] = strconv.Itoa(c)
		}
		return y, names, nil
	}

	var distinct []string
	firstSeen := make(map[string]int)
	for i, l := range labels {
		if _, ok := firstSeen[l]; !ok {
			firstSeen[l] = i
			distinct = append(distinct, l)
		}
	}
	if len(distinct) > k {
		over := firstSeen[distinct[k]]
		sorted := slices.Sorted(slices.Values(distinct))
		return fail(over, fmt.Sprintf("found %d distinct class labels but classes: %d (labels: %s)",
			len(distinct), k, listNames(sorted, 12)))
	}
	slices.Sort(distinct)
	code := make(map[string]int, len(distinct))
	for c, l := range distinct {
		code[l] = c
	}
	for i, l := range labels {
		y[i] = float64(code[l])
	}
	names := make([]string, k)
	copy(names, distinct)
	for c := len(distinct); c < k; c++ {
		names[c] = strconv.Itoa(c) // classes declared but absent from the file
	}
	return y, names, nil
}

// newlineCounter counts the newlines read through it.
type newlineCounter struct {
	r io.Reader
	n int
}

func (c *newlineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}

// readError converts an error from encoding/csv or the reader.
func readError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Msg: "malformed CSV: " + pe.Err.Error(), Err: err}
	}
	return &Error{File: file, Msg: "read error: " + err.Error(), Err: err}
}

// WriteCSV writes a header row (unless header is nil) and rows of numbers
// to w, formatting each with strconv.FormatFloat(v, 'g', -1, 64), which
// round-trips exactly. Every row must be as wide as the header (or, without
// a header, as the first row).
func WriteCSV(w io.Writer, header []string, rows [][]float64) error {
	cw := csv.NewWriter(w)
	width, line := -1, 1
	if header != nil {
		width = len(header)
		if err := cw.Write(header); err != nil {
			return err
		}
		line++
	}
	var rec []string
	for i, row := range rows {
		if width < 0 {
			width = len(row)
		}
		if len(row) != width {
			return &Error{Line: line + i, Msg: fmt.Sprintf("row %d has %d values, want %d", i, len(row), width)}
		}
		rec = rec[:0]
		for _, v := range row {
			rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
