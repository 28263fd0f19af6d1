package tensorio

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/bayesl/bayesl/stdlib/spell"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Tensor is a named array of float64 values in row-major (C) order: the
// last index varies fastest. Shape nil or empty is a scalar with one value;
// a zero anywhere in Shape is an empty tensor with no values.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float64
}

// Len returns the number of values the shape calls for, or -1 if a
// dimension is negative or the product overflows an int.
func (t Tensor) Len() int {
	n, ok := numel(t.Shape)
	if !ok {
		return -1
	}
	return n
}

// Validate checks that Shape has no negative dimension and that Data holds
// exactly the values Shape calls for. The error names the tensor and both
// counts.
func (t Tensor) Validate() error {
	for i, d := range t.Shape {
		if d < 0 {
			return &Error{Tensor: t.Name, Msg: fmt.Sprintf("dimension %d of shape %v is negative", i, t.Shape)}
		}
	}
	n, ok := numel(t.Shape)
	if !ok {
		return &Error{Tensor: t.Name, Msg: fmt.Sprintf("shape %v has more values than an int can count", t.Shape)}
	}
	if n != len(t.Data) {
		return &Error{Tensor: t.Name, Msg: fmt.Sprintf("shape %v needs %d values, Data holds %d", t.Shape, n, len(t.Data))}
	}
	return nil
}

// DType is the element type a writer stores.
type DType int

const (
	// Float64 stores every value exactly. It is the zero value and the
	// default.
	Float64 DType = iota
	// Float32 halves the file size and rounds every value to the nearest
	// float32: relative error at most 2⁻²⁴ ≈ 6e-8 for normal numbers,
	// subnormal below about 1.2e-38, and zero below about 1.4e-45. A finite
	// value beyond ±3.4e38 would become infinite, and is an error instead.
	Float32
)

func (d DType) String() string {
	switch d {
	case Float64:
		return "float64"
	case Float32:
		return "float32"
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}

// WriteOptions controls a write. A nil *WriteOptions, like the zero value,
// writes float64.
type WriteOptions struct {
	DType DType
	// Metadata is the safetensors header's "__metadata__", a string to
	// string map (safetensors.safe_open(...).metadata() in Python);
	// other formats ignore it.
	Metadata map[string]string
}

func (o *WriteOptions) metadata() map[string]string {
	if o == nil {
		return nil
	}
	return o.Metadata
}

func (o *WriteOptions) dtype() (DType, error) {
	if o == nil {
		return Float64, nil
	}
	switch o.DType {
	case Float64, Float32:
		return o.DType, nil
	}
	return 0, fmt.Errorf("unknown element type %v (want Float64 or Float32)", o.DType)
}

// Error is the error type of this package. File is the path read or written
// ("" for Lookup and Validate), Tensor the tensor concerned ("" when the
// problem is the file as a whole), and Err the underlying cause, returned
// by Unwrap (so errors.Is(err, fs.ErrNotExist) works for a missing file).
type Error struct {
	File   string
	Tensor string
	Msg    string
	Err    error
}

// Error returns the error on one line, as in
//
//	w.safetensors: tensor "fc1.weight": shape [128 1] of F32 needs 512 bytes, data_offsets [0, 256] span 256
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", e.Tensor)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// Lookup returns the tensor called name. When there is none, the error
// lists the names there are and suggests the nearest one.
func Lookup(ts []Tensor, name string) (Tensor, error) {
	names := make([]string, len(ts))
	for i, t := range ts {
		if t.Name == name {
			return t, nil
		}
		names[i] = t.Name
	}
	var b strings.Builder
	b.WriteString("not found")
	if s := spell.Nearest(name, names); s != "" {
		fmt.Fprintf(&b, "; did you mean %q?", s)
	}
	b.WriteString(" (tensors: ")
	b.WriteString(listNames(names, 12))
	b.WriteByte(')')
	return Tensor{}, &Error{Tensor: name, Msg: b.String()}
}

// checkNames validates every tensor and rejects empty and repeated names.
func checkNames(path string, ts []Tensor) error {
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		if t.Name == "" {
			return &Error{File: path, Msg: fmt.Sprintf("tensor %d of %d has no name", i+1, len(ts))}
		}
		if seen[t.Name] {
			return &Error{File: path, Tensor: t.Name, Msg: "name used twice"}
		}
		seen[t.Name] = true
		if err := t.Validate(); err != nil {
			err.(*Error).File = path
			return err
		}
	}
	return nil
}

// numel returns the product of shape, with ok false for a negative
// dimension or an overflow. An empty shape (a scalar) has one element.
func numel(shape []int) (n int, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// byteLen returns numel(shape)·size as an int64, with ok false on a
// negative dimension or overflow.
func byteLen(shape []int, size int) (int64, bool) {
	n, ok := numel(shape)
	if !ok || size <= 0 || n > math.MaxInt64/size {
		return 0, false
	}
	return int64(n) * int64(size), true
}

// maxExact is 2⁵³: every integer of magnitude up to it is a float64.
const maxExact = 1 << 53

// toFloat32 converts data to float32, refusing finite values that would
// overflow to infinity.
func toFloat32(path string, t Tensor) ([]float32, error) {
	out := make([]float32, len(t.Data))
	for i, v := range t.Data {
		f := float32(v)
		if math.IsInf(float64(f), 0) && !math.IsInf(v, 0) {
			return nil, &Error{File: path, Tensor: t.Name,
				Msg: fmt.Sprintf("value %g at index %d does not fit in float32 (largest 3.4e38)", v, i)}
		}
		out[i] = f
	}
	return out, nil
}

// writeAtomic is WriteAtomic for this package's writers.
func writeAtomic(path string, write func(w io.Writer) error) error {
	return WriteAtomic(path, write)
}

// WriteAtomic writes path through a temporary file ".NAME.tmp-*" in the
// same directory, renamed into place only once write has succeeded and
// the data is synced, so a failed or interrupted write never leaves a
// partial file or damages an old one. An existing file keeps its
// permissions; a new one gets 0644. Temporary files that a crashed earlier
// write to the same path left behind are removed first. Every file bayesl
// writes goes through it (or an equivalent), so readers never see half a
// file.
func WriteAtomic(path string, write func(w io.Writer) error) (err error) {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return &Error{File: path, Msg: "exists and is not a regular file"}
		}
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	removeStale(dir, filepath.Base(path))
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &Error{File: path, Msg: "cannot create", Err: err}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return &Error{File: path, Msg: "write failed", Err: err}
	}
	if err = f.Chmod(mode); err != nil {
		return &Error{File: path, Msg: "write failed", Err: err}
	}
	if err = f.Sync(); err != nil {
		return &Error{File: path, Msg: "write failed", Err: err}
	}
	if err = f.Close(); err != nil {
		return &Error{File: path, Msg: "write failed", Err: err}
	}
	if err = os.Rename(tmp, path); err != nil {
		return &Error{File: path, Msg: "write failed", Err: err}
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

// RemoveStale deletes the temporary files ".NAME.tmp-*" that a killed
// write to path left beside it, as WriteAtomic does before it writes: for
// writers that make their own temporary file the same way (a posterior's
// .post file, infer.WriteFile).
func RemoveStale(path string) { removeStale(filepath.Dir(path), filepath.Base(path)) }

// removeStale deletes the temporary files ".base.tmp-*" of earlier writes
// to dir/base that never reached their rename (the process was killed).
// Best effort: a file it cannot remove stays, and the write goes on.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// openSized opens path for reading and returns its size.
func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, 0, &Error{File: path, Msg: "cannot open", Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, &Error{File: path, Msg: "cannot stat", Err: err}
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, &Error{File: path, Msg: "not a regular file"}
	}
	return f, st.Size(), nil
}

// listNames joins names with ", ", eliding the middle when there are more
// than limit of them.
func listNames(names []string, limit int) string {
	if len(names) == 0 {
		return "none"
	}
	names = slices.Clone(names)
	slices.Sort(names)
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	head := names[:limit-1]
	return fmt.Sprintf("%s, ..., %s; %d in all", strings.Join(head, ", "), names[len(names)-1], len(names))
}
