package tabular

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bayesl/bayesl/stdlib/tensorio"
)

// The .npy format (numpy.lib.format): the magic "\x93NUMPY", a version,
// a little-endian header length, then a Python dict literal giving the
// dtype, the order and the shape, padded with spaces and a newline so the
// data starts at a multiple of 64 bytes, then the raw values in C order.

// npyHeader returns the header of an array with descr (a quoted descr
// string or a list of fields) and shape.
func npyHeader(descr string, shape []int) []byte {
	var sh strings.Builder
	sh.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		sh.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + sh.String() + ", }"
	// As numpy.lib.format writes it: room for the first axis to grow to 21
	// digits in place, then spaces up to a multiple of 64 bytes (a whole 64
	// when already aligned) and a newline. Version 1.0 holds a header of up
	// to 65535 bytes, 2.0 up to 4 GiB; 10 and 12 are the bytes before the
	// dict.
	if len(shape) > 0 {
		dict += strings.Repeat(" ", max(0, 21-len(strconv.Itoa(shape[0]))))
	}
	pre, lenSize, version := 10, 2, byte(1)
	pad := 64 - (pre+len(dict)+1)%64
	if len(dict)+pad+1 > math.MaxUint16 {
		pre, lenSize, version = 12, 4, 2
		pad = 64 - (pre+len(dict)+1)%64
	}
	hlen := len(dict) + pad + 1
	out := make([]byte, 0, pre+hlen)
	out = append(out, "\x93NUMPY"...)
	out = append(out, version, 0)
	if lenSize == 2 {
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	}
	out = append(out, dict...)
	out = append(out, strings.Repeat(" ", pad)...)
	return append(out, '\n')
}

// pyString quotes s as a Python string literal that ast.literal_eval (which
// numpy uses on the header) reads back as s, in ASCII so that any header
// version holds it.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			fmt.Fprintf(&b, "\\U%08x", r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// unicodeWidth is the width n of numpy's '<Un' dtype for strs: the longest
// string in code points, at least 1.
func unicodeWidth(strs []string) int {
	n := 1
	for _, s := range strs {
		n = max(n, utf8.RuneCountInString(s))
	}
	return n
}

// descr returns c's dtype: '<f8' for numbers, '<Un' for strings.
func (c Column) descr() (string, int) {
	if c.Strings != nil {
		n := unicodeWidth(c.Strings)
		return "<U" + strconv.Itoa(n), n
	}
	return "<f8", 0
}

// writeValue writes row i of c: a float64, or the string as n UTF-32LE
// code points padded with zeros.
func (c Column) writeValue(w *bufio.Writer, i, n int, buf []byte) {
	if c.Strings == nil {
		w.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(c.Floats[i])))
		return
	}
	k := 0
	for _, r := range c.Strings[i] {
		w.Write(binary.LittleEndian.AppendUint32(buf[:0], uint32(r)))
		k++
	}
	for ; k < n; k++ {
		w.Write([]byte{0, 0, 0, 0})
	}
}

// WriteNPY writes t as one structured array of shape (N,), one field per
// column in order: np.load(path)["mean"] is a column, and
// pandas.DataFrame(np.load(path)) the table.
func WriteNPY(w io.Writer, t *Table) error {
	fields := make([]string, len(t.Columns))
	widths := make([]int, len(t.Columns))
	for j, c := range t.Columns {
		d, n := c.descr()
		fields[j] = "(" + pyString(c.Name) + ", '" + d + "')"
		widths[j] = n
	}
	bw := bufio.NewWriter(w)
	bw.Write(npyHeader("["+strings.Join(fields, ", ")+"]", []int{t.Rows()}))
	buf := make([]byte, 8)
	for i := range t.Rows() {
		for j, c := range t.Columns {
			c.writeValue(bw, i, widths[j], buf)
		}
	}
	return bw.Flush()
}

// writeColumnNPY writes one column as a 1-D .npy array.
func writeColumnNPY(w io.Writer, c Column) error {
	d, n := c.descr()
	bw := bufio.NewWriter(w)
	bw.Write(npyHeader("'"+d+"'", []int{c.Len()}))
	buf := make([]byte, 8)
	for i := range c.Len() {
		c.writeValue(bw, i, n, buf)
	}
	return bw.Flush()
}

// WriteNPZ writes each column as the 1-D array "NAME.npy" and each extra
// array as "NAME.npy" of its shape, all float64 or unicode, deflated, in
// order: np.load(path)["prob_setosa"].
func WriteNPZ(w io.Writer, t *Table) error { return WriteArchive(w, t.Columns, t.Arrays) }

// WriteArchive writes an .npz archive of 1-D columns, which need not have
// the same length (names, labels, values), then N-dimensional float64
// arrays, in order; names must be distinct.
func WriteArchive(w io.Writer, cols []Column, arrays []tensorio.Tensor) error {
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c.Name] = true
	}
	for _, a := range arrays {
		if seen[a.Name] {
			return fmt.Errorf("tabular: two arrays are called %q", a.Name)
		}
		seen[a.Name] = true
	}
	zw := zip.NewWriter(w)
	for _, c := range cols {
		f, err := zw.Create(c.Name + ".npy")
		if err != nil {
			return err
		}
		if err := writeColumnNPY(f, c); err != nil {
			return err
		}
	}
	for _, a := range arrays {
		f, err := zw.Create(a.Name + ".npy")
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		bw.Write(npyHeader("'<f8'", a.Shape))
		buf := make([]byte, 8)
		for _, v := range a.Data {
			bw.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(v)))
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	return zw.Close()
}
