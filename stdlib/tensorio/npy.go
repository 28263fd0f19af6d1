package tensorio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npy/float16"
)

// ReadNPY reads the one array of the NumPy .npy file at path
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
// named after the file without its extension ("w.npy" gives "w"). Arrays
// stored in Fortran order are returned in row-major order.
//
// Supported element types, in either byte order, all converted exactly to
// float64: float64, float32 and float16 ('f8', 'f4', 'f2'), bool ('b1'), and
// the integers 'i1' to 'i8' and 'u1' to 'u8', where a 64-bit value beyond
// ±2⁵³ is an error naming the element. Complex, string, object (pickled),
// structured and datetime arrays are errors naming the dtype, and so is
// format version 3 (a UTF-8 header, which npyio does not read).
//
// The header length and the data size the header declares are checked
// against the file's actual length before anything is allocated for them;
// a file holding fewer or more data bytes than its shape and dtype call for
// is an error.
func ReadNPY(path string) (Tensor, error) {
	f, size, err := openSized(path)
	if err != nil {
		return Tensor{}, err
	}
	defer f.Close()
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	t, derr := decodeNPY(f, size, name)
	if derr != nil {
		derr.File = path
		return Tensor{}, derr
	}
	return t, nil
}

// npyDtype describes a supported element type.
type npyDtype struct {
	descr string // as in the header, e.g. "<f8"
	kind  byte   // 'f', 'i', 'u' or 'b'
	size  int
}

func (d npyDtype) String() string { return d.descr }

// parseNPYDescr recognises the simple dtypes this package converts: an
// optional byte-order mark followed by a kind and an item size. It only
// classifies the descr string npyio has already parsed out of the header.
func parseNPYDescr(s string) (npyDtype, bool) {
	s = strings.Trim(strings.TrimSpace(s), `'"`)
	d := npyDtype{descr: s}
	if len(s) < 2 {
		return d, false
	}
	if strings.IndexByte("<>|=", s[0]) >= 0 {
		s = s[1:]
	}
	if len(s) < 2 {
		return d, false
	}
	size, err := strconv.Atoi(s[1:])
	if err != nil {
		return d, false
	}
	d.kind, d.size = s[0], size
	switch {
	case d.kind == 'f' && (size == 2 || size == 4 || size == 8),
		(d.kind == 'i' || d.kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8),
		d.kind == 'b' && size == 1:
		return d, true
	}
	return d, false
}

// decodeNPY reads one .npy array of size bytes from r. The returned error
// leaves File for the caller to fill in.
func decodeNPY(r io.Reader, size int64, name string) (t Tensor, e *Error) {
	fail := func(format string, args ...any) (Tensor, *Error) {
		return Tensor{}, &Error{Msg: fmt.Sprintf(format, args...)}
	}
	// Magic, version and header length, read here so that the header length
	// can be checked against the file size before npyio allocates it.
	const magicLen = 6
	if size < magicLen+4 {
		return fail("%d bytes is too short for a .npy file", size)
	}
	prefix := make([]byte, magicLen+4, magicLen+6)
	if _, err := io.ReadFull(r, prefix); err != nil {
		return Tensor{}, &Error{Msg: "cannot read the .npy header", Err: err}
	}
	if !bytes.Equal(prefix[:magicLen], npy.Magic[:]) {
		return fail("not a .npy file (no \\x93NUMPY magic at the start)")
	}
	var hlen int64
	switch major := prefix[magicLen]; major {
	case 1:
		hlen = int64(binary.LittleEndian.Uint16(prefix[magicLen+2:]))
	case 2:
		prefix = prefix[:magicLen+6]
		if _, err := io.ReadFull(r, prefix[magicLen+4:]); err != nil {
			return Tensor{}, &Error{Msg: "cannot read the .npy header", Err: err}
		}
		hlen = int64(binary.LittleEndian.Uint32(prefix[magicLen+2:]))
	default:
		return fail(".npy format version %d.%d is not supported (npyio reads 1.0 and 2.0)", major, prefix[magicLen+1])
	}
	dataStart := int64(len(prefix)) + hlen
	if dataStart > size {
		return fail("header claims %d bytes but the file holds %d after the %d-byte prefix", hlen, size-int64(len(prefix)), len(prefix))
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return Tensor{}, &Error{Msg: "cannot read the .npy header", Err: err}
	}
	if hlen == 0 || header[hlen-1] != '\n' {
		// npyio slices the header at its last newline and panics without one.
		return fail("damaged .npy header: it does not end in a newline")
	}
	stream := io.MultiReader(bytes.NewReader(prefix), bytes.NewReader(header), r)

	rd, err := guard(func() (*npy.Reader, error) { return npy.NewReader(stream) })
	if err != nil {
		return Tensor{}, &Error{Msg: "invalid .npy header", Err: err}
	}
	dt, ok := parseNPYDescr(rd.Header.Descr.Type)
	if !ok {
		return fail("unsupported dtype %s (supported: f2 f4 f8, i1 i2 i4 i8, u1 u2 u4 u8, b1)", rd.Header.Descr.Type)
	}
	shape := append([]int{}, rd.Header.Descr.Shape...)
	need, ok := byteLen(shape, dt.size)
	if !ok {
		return fail("shape %v of %s is invalid or too large", shape, dt)
	}
	if have := size - dataStart; need != have {
		if need > have {
			return fail("shape %v of %s needs %d bytes of data but the file holds %d", shape, dt, need, have)
		}
		return fail("shape %v of %s needs %d bytes of data but the file holds %d: %d bytes too many", shape, dt, need, have, have-need)
	}
	var arr npy.Array
	if _, err := guard(func() (struct{}, error) { return struct{}{}, rd.Read(&arr) }); err != nil {
		return Tensor{}, &Error{Msg: "cannot read data", Err: err}
	}
	data, err := fromNPY(arr.Data())
	if err != nil {
		return Tensor{}, &Error{Msg: err.Error()}
	}
	n, _ := numel(shape)
	if len(data) != n {
		return fail("shape %v of %s needs %d values but the data holds %d", shape, dt, n, len(data))
	}
	if rd.Header.Descr.Fortran {
		data = fortranToC(data, shape)
	}
	return Tensor{Name: name, Shape: shape, Data: data}, nil
}

// guard calls f, turning a panic inside npyio (which it raises on some
// damaged headers) into an error.
func guard[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("damaged file (npyio: %v)", p)
		}
	}()
	return f()
}

// fromNPY converts the typed slice npyio returns to float64.
func fromNPY(v any) ([]float64, error) {
	switch d := v.(type) {
	case []float64:
		return d, nil
	case []float32:
		return convert(d), nil
	case []float16.Num:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = half(x.Uint16())
		}
		return out, nil
	case []bool:
		out := make([]float64, len(d))
		for i, x := range d {
			if x {
				out[i] = 1
			}
		}
		return out, nil
	case []int8:
		return convert(d), nil
	case []int16:
		return convert(d), nil
	case []int32:
		return convert(d), nil
	case []uint8:
		return convert(d), nil
	case []uint16:
		return convert(d), nil
	case []uint32:
		return convert(d), nil
	case []int64:
		for i, x := range d {
			if x > maxExact || x < -maxExact {
				return nil, fmt.Errorf("element %d of int64 is %d, beyond ±2^53: no exact float64", i, x)
			}
		}
		return convert(d), nil
	case []uint64:
		for i, x := range d {
			if x > maxExact {
				return nil, fmt.Errorf("element %d of uint64 is %d, beyond 2^53: no exact float64", i, x)
			}
		}
		return convert(d), nil
	}
	return nil, fmt.Errorf("unsupported element type %T", v)
}

func convert[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](d []T) []float64 {
	out := make([]float64, len(d))
	for i, x := range d {
		out[i] = float64(x)
	}
	return out
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(data []float64, shape []int) []float64 {
	if len(shape) < 2 {
		return data
	}
	out := make([]float64, len(data))
	idx := make([]int, len(shape))
	for c := range out { // c walks row-major order; idx is its multi-index
		f, stride := 0, 1
		for k := range shape {
			f += idx[k] * stride
			stride *= shape[k]
		}
		out[c] = data[f]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// WriteNPY writes t to a .npy file at path, atomically, in C order, as
// float64 ('<f8') unless opt asks for Float32 ('<f4'). Tensor names are not
// stored in a .npy file. An empty tensor (a zero in its shape) is an error:
// npyio's writer drops zero dimensions and would record a wrong shape.
func WriteNPY(path string, t Tensor, opt *WriteOptions) error {
	dt, err := opt.dtype()
	if err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	if err := t.Validate(); err != nil {
		err.(*Error).File = path
		return err
	}
	v, err := npyValue(path, t, dt)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		if err := npy.Write(w, v); err != nil {
			return &Error{File: path, Tensor: t.Name, Msg: "write failed", Err: err}
		}
		return nil
	})
}

// npyValue builds the Go value npyio's writer turns into an array of t's
// shape: a scalar, a slice, or nested slices for two or more dimensions.
func npyValue(path string, t Tensor, dt DType) (any, error) {
	if n, _ := numel(t.Shape); n == 0 {
		return nil, &Error{File: path, Tensor: t.Name, Msg: fmt.Sprintf(
			"cannot write empty shape %v to .npy: npyio's writer drops zero dimensions", t.Shape)}
	}
	var flat reflect.Value
	switch dt {
	case Float32:
		f32, err := toFloat32(path, t)
		if err != nil {
			return nil, err
		}
		flat = reflect.ValueOf(f32)
	default:
		flat = reflect.ValueOf(t.Data)
	}
	if len(t.Shape) == 0 {
		return flat.Index(0).Interface(), nil
	}
	return nest(flat, t.Shape).Interface(), nil
}

// nest reshapes the flat slice into nested slices of the given shape,
// sharing its storage.
func nest(flat reflect.Value, shape []int) reflect.Value {
	if len(shape) == 1 {
		return flat
	}
	inner := 1
	for _, d := range shape[1:] {
		inner *= d
	}
	var typ reflect.Type = flat.Type()
	for range shape[1:] {
		typ = reflect.SliceOf(typ)
	}
	out := reflect.MakeSlice(typ, shape[0], shape[0])
	for i := range shape[0] {
		out.Index(i).Set(nest(flat.Slice(i*inner, (i+1)*inner), shape[1:]))
	}
	return out
}
