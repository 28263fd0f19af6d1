package tensorio

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/nlpodyssey/safetensors"
)

// ReadSafetensors reads every tensor of the safetensors file at path
// (https://huggingface.co/docs/safetensors: an 8-byte little-endian header
// length, a JSON header giving each tensor's dtype, shape and data_offsets,
// then the data), sorted by name: the header is a JSON object, so the file
// defines no order.
//
// Every dtype the format defines converts exactly to float64: F64, F32,
// F16, BF16, BOOL (0 or 1) and the integers U8 to U64 and I8 to I64. A
// 64-bit integer beyond ±2⁵³, which float64 cannot hold exactly, is an
// error naming the tensor and the element. Dtypes the format added later
// (such as the 8-bit floats F8_E4M3 and F8_E5M2) are errors.
//
// Sizes declared in the file are checked against its actual length before
// anything is allocated for them: a header length, or data offsets, that
// reach past the end of the file are errors, never large allocations. The
// whole file is then read into memory (the safetensors module works on
// byte buffers), and the float64 tensors take up to 8 bytes per byte of
// data on top of it while they are built.
func ReadSafetensors(path string) ([]Tensor, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size < 8 {
		return nil, &Error{File: path, Msg: fmt.Sprintf("%d bytes is too short for a safetensors file (8-byte header length first)", size)}
	}
	var head [8]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil, &Error{File: path, Msg: "cannot read header length", Err: err}
	}
	n := binary.LittleEndian.Uint64(head[:])
	if n > uint64(size-8) {
		return nil, &Error{File: path, Msg: fmt.Sprintf("header length %d is larger than the %d bytes that follow it", n, size-8)}
	}
	buf := make([]byte, size)
	copy(buf, head[:])
	if _, err := io.ReadFull(f, buf[8:]); err != nil {
		return nil, &Error{File: path, Msg: "cannot read", Err: err}
	}
	return decodeSafetensors(path, buf)
}

// decodeSafetensors decodes a whole safetensors file held in buf.
func decodeSafetensors(path string, buf []byte) ([]Tensor, error) {
	if len(buf) < 8 {
		return nil, &Error{File: path, Msg: fmt.Sprintf("%d bytes is too short for a safetensors file (8-byte header length first)", len(buf))}
	}
	n := binary.LittleEndian.Uint64(buf)
	rest := uint64(len(buf) - 8)
	if n > rest {
		return nil, &Error{File: path, Msg: fmt.Sprintf("header length %d is larger than the %d bytes that follow it", n, rest)}
	}
	dataLen := rest - n

	// Decode the header with the module, then check every tensor's sizes
	// here, so that an error names the tensor and the numbers involved.
	var md safetensors.Metadata
	if err := json.Unmarshal(buf[8:8+n], &md); err != nil {
		return nil, &Error{File: path, Msg: "invalid header", Err: err}
	}
	infos := md.Tensors()
	names := make([]string, 0, len(infos))
	for name := range infos {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		info := infos[name]
		shape, ok := intShape(info.Shape)
		if !ok {
			return nil, &Error{File: path, Tensor: name, Msg: fmt.Sprintf("shape %v is too large", info.Shape)}
		}
		need, ok := byteLen(shape, int(info.DType.Size()))
		lo, hi := info.DataOffsets[0], info.DataOffsets[1]
		switch {
		case !ok:
			return nil, &Error{File: path, Tensor: name, Msg: fmt.Sprintf("shape %v of %v is too large", shape, info.DType)}
		case hi < lo:
			return nil, &Error{File: path, Tensor: name, Msg: fmt.Sprintf("data_offsets [%d, %d] end before they start", lo, hi)}
		case hi > dataLen:
			return nil, &Error{File: path, Tensor: name, Msg: fmt.Sprintf(
				"data_offsets [%d, %d] reach past the %d bytes of data the file holds (shape %v of %v)", lo, hi, dataLen, shape, info.DType)}
		case hi-lo != uint64(need):
			return nil, &Error{File: path, Tensor: name, Msg: fmt.Sprintf(
				"shape %v of %v needs %d bytes, data_offsets [%d, %d] span %d", shape, info.DType, need, lo, hi, hi-lo)}
		}
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return nil, &Error{File: path, Msg: "invalid file", Err: err}
	}
	views := st.Tensors()
	out := make([]Tensor, 0, len(views))
	for _, v := range views {
		shape, _ := intShape(v.TensorView.Shape())
		data, err := decodeValues(v.TensorView.DType(), v.TensorView.Data())
		if err != nil {
			return nil, &Error{File: path, Tensor: v.Name, Msg: err.Error()}
		}
		out = append(out, Tensor{Name: v.Name, Shape: shape, Data: data})
	}
	slices.SortFunc(out, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// intShape converts a header shape to ints, with ok false if a dimension
// does not fit.
func intShape(s []uint64) ([]int, bool) {
	out := make([]int, len(s))
	for i, d := range s {
		if d > uint64(math.MaxInt) {
			return nil, false
		}
		out[i] = int(d)
	}
	return out, true
}

// decodeValues converts little-endian values of dtype dt to float64.
func decodeValues(dt safetensors.DType, b []byte) ([]float64, error) {
	size := int(dt.Size())
	out := make([]float64, len(b)/size)
	le := binary.LittleEndian
	for i := range out {
		p := b[i*size:]
		switch dt {
		case safetensors.F64:
			out[i] = math.Float64frombits(le.Uint64(p))
		case safetensors.F32:
			out[i] = float64(math.Float32frombits(le.Uint32(p)))
		case safetensors.F16:
			out[i] = half(le.Uint16(p))
		case safetensors.BF16:
			out[i] = float64(math.Float32frombits(uint32(le.Uint16(p)) << 16))
		case safetensors.BOOL:
			if p[0] > 1 {
				return nil, fmt.Errorf("element %d of BOOL is %d, not 0 or 1", i, p[0])
			}
			out[i] = float64(p[0])
		case safetensors.U8:
			out[i] = float64(p[0])
		case safetensors.I8:
			out[i] = float64(int8(p[0]))
		case safetensors.U16:
			out[i] = float64(le.Uint16(p))
		case safetensors.I16:
			out[i] = float64(int16(le.Uint16(p)))
		case safetensors.U32:
			out[i] = float64(le.Uint32(p))
		case safetensors.I32:
			out[i] = float64(int32(le.Uint32(p)))
		case safetensors.U64:
			v := le.Uint64(p)
			if v > maxExact {
				return nil, fmt.Errorf("element %d of U64 is %d, beyond 2^53: no exact float64", i, v)
			}
			out[i] = float64(v)
		case safetensors.I64:
			v := int64(le.Uint64(p))
			if v > maxExact || v < -maxExact {
				return nil, fmt.Errorf("element %d of I64 is %d, beyond ±2^53: no exact float64", i, v)
			}
			out[i] = float64(v)
		default:
			return nil, fmt.Errorf("unsupported dtype %v", dt)
		}
	}
	return out, nil
}

// half converts IEEE 754 binary16 bits to float64, exactly. (npyio's
// float16 package mishandles subnormals, so it is not used for this.)
func half(b uint16) float64 {
	sign := 1.0
	if b&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(b>>10)&0x1f, int(b&0x3ff)
	switch exp {
	case 0: // zero or subnormal: frac·2⁻²⁴
		return sign * math.Ldexp(float64(frac), -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(float64(1024+frac), exp-25)
}

// view is a tensor encoded for the safetensors module.
type view struct {
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

func (v view) DType() safetensors.DType { return v.dtype }
func (v view) Shape() []uint64          { return v.shape }
func (v view) Data() []byte             { return v.data }
func (v view) DataLen() uint64          { return uint64(len(v.data)) }

// WriteSafetensors writes ts to a safetensors file at path, atomically (see
// the package documentation), as F64 unless opt asks for Float32. Names
// must be non-empty, distinct and not "__metadata__", and every tensor's
// Data must match its Shape. The safetensors module stores the tensors in
// name order.
func WriteSafetensors(path string, ts []Tensor, opt *WriteOptions) error {
	views, err := safetensorViews(path, ts, opt)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		if err := safetensors.SerializeToWriter(views, opt.metadata(), w); err != nil {
			return &Error{File: path, Msg: "write failed", Err: err}
		}
		return nil
	})
}

// safetensorViews checks ts and converts it to the safetensors module's
// views, in the element type opt asks for.
func safetensorViews(path string, ts []Tensor, opt *WriteOptions) (map[string]view, error) {
	dt, err := opt.dtype()
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if err := checkNames(path, ts); err != nil {
		return nil, err
	}
	views := make(map[string]view, len(ts))
	for _, t := range ts {
		if t.Name == "__metadata__" {
			return nil, &Error{File: path, Tensor: t.Name, Msg: "name is reserved by the safetensors format"}
		}
		shape := make([]uint64, len(t.Shape)) // never nil: a scalar's shape is [], not null
		for i, d := range t.Shape {
			shape[i] = uint64(d)
		}
		v := view{shape: shape}
		switch dt {
		case Float64:
			v.dtype = safetensors.F64
			v.data = make([]byte, 8*len(t.Data))
			for i, x := range t.Data {
				binary.LittleEndian.PutUint64(v.data[8*i:], math.Float64bits(x))
			}
		case Float32:
			f32, err := toFloat32(path, t)
			if err != nil {
				return nil, err
			}
			v.dtype = safetensors.F32
			v.data = make([]byte, 4*len(f32))
			for i, x := range f32 {
				binary.LittleEndian.PutUint32(v.data[4*i:], math.Float32bits(x))
			}
		}
		views[t.Name] = v
	}
	return views, nil
}
