package tensorio

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// format is one file format under test.
type format struct {
	ext   string
	write func(path string, ts []Tensor, opt *WriteOptions) error
	read  func(path string) ([]Tensor, error)
	empty bool // can store empty tensors
	multi bool // holds several named tensors
}

var formats = []format{
	{".safetensors", WriteSafetensors, ReadSafetensors, true, true},
	{".npz", WriteNPZ, ReadNPZ, false, true},
	{".npy", func(path string, ts []Tensor, opt *WriteOptions) error {
		return WriteNPY(path, ts[0], opt)
	}, func(path string) ([]Tensor, error) {
		t, err := ReadNPY(path)
		return []Tensor{t}, err
	}, false, false},
}

// specials are values a round trip must keep bit for bit.
var specials = []float64{0, math.Copysign(0, -1), 1, -1, math.Pi, 1e-300, 5e-324, math.MaxFloat64,
	-math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0.1, 1.0 / 3}

func testTensors() []Tensor {
	seq := func(n int) []float64 {
		d := make([]float64, n)
		for i := range d {
			d[i] = math.Sin(float64(i)*1.7) * math.Pow(10, float64(i%7-3))
		}
		return d
	}
	return []Tensor{
		{Name: "layers.0.weight", Shape: []int{2, 3, 4}, Data: seq(24)},
		{Name: "layers.0.bias", Shape: []int{4}, Data: seq(4)},
		{Name: "specials", Shape: []int{len(specials)}, Data: slices.Clone(specials)},
		{Name: "scalar", Shape: []int{}, Data: []float64{-2.5}},
		{Name: "matrix", Shape: []int{3, 1}, Data: seq(3)},
		{Name: "deep", Shape: []int{1, 2, 1, 2, 1}, Data: seq(4)},
	}
}

func byName(ts []Tensor) map[string]Tensor {
	m := make(map[string]Tensor, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, f := range formats {
		for _, dt := range []DType{Float64, Float32} {
			t.Run(f.ext+"/"+dt.String(), func(t *testing.T) {
				ts := testTensors()
				if dt == Float32 {
					ts[2].Data[7] = math.MaxFloat32 // ±MaxFloat64 do not fit
					ts[2].Data[8] = -math.MaxFloat32
				}
				if f.empty {
					ts = append(ts, Tensor{Name: "empty", Shape: []int{0, 3}})
				}
				// A multi-tensor format stores them all in one file; a .npy
				// file holds one, named after the file.
				files := [][]Tensor{ts}
				if !f.multi {
					files = nil
					for _, tt := range ts {
						files = append(files, []Tensor{tt})
					}
				}
				for _, in := range files {
					path := filepath.Join(dir, "rt"+f.ext)
					if err := f.write(path, in, &WriteOptions{DType: dt}); err != nil {
						t.Fatal(err)
					}
					got, err := f.read(path)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(in) {
						t.Fatalf("read %d tensors, wrote %d", len(got), len(in))
					}
					if !f.multi {
						got[0].Name = in[0].Name
					}
					if f.ext == ".npz" { // archive order is kept
						for j := range in {
							if got[j].Name != in[j].Name {
								t.Errorf("tensor %d is %q, want %q", j, got[j].Name, in[j].Name)
							}
						}
					}
					gm := byName(got)
					for _, src := range in {
						g, ok := gm[src.Name]
						if !ok {
							t.Fatalf("tensor %q missing", src.Name)
						}
						if len(g.Shape) != len(src.Shape) || (len(src.Shape) > 0 && !slices.Equal(g.Shape, src.Shape)) {
							t.Errorf("%q: shape %v, want %v", src.Name, g.Shape, src.Shape)
						}
						exp := slices.Clone(src.Data)
						if dt == Float32 {
							// The stated precision loss: each value rounds to
							// the nearest float32, relative error ≤ 2⁻²⁴ for
							// normal numbers.
							for k, v := range exp {
								exp[k] = float64(float32(v))
								normal := math.Abs(v) >= 0x1p-126 && !math.IsInf(v, 0)
								if r := math.Abs(exp[k]-v) / math.Abs(v); normal && r > 0x1p-24 {
									t.Fatalf("float32 rounding of %g has relative error %g", v, r)
								}
							}
						}
						if !sameBits(g.Data, exp) {
							t.Errorf("%q: data %v, want %v", src.Name, g.Data, exp)
						}
					}
				}
			})
		}
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	good := Tensor{Name: "w", Shape: []int{2}, Data: []float64{1, 2}}
	tests := []struct {
		name string
		ts   []Tensor
		opt  *WriteOptions
		want string
	}{
		{"shape mismatch", []Tensor{{Name: "fc1.weight", Shape: []int{2, 3}, Data: make([]float64, 5)}}, nil,
			`tensor "fc1.weight": shape [2 3] needs 6 values, Data holds 5`},
		{"negative dimension", []Tensor{{Name: "x", Shape: []int{2, -1}}}, nil, `tensor "x": dimension 1 of shape [2 -1] is negative`},
		{"duplicate", []Tensor{good, good}, nil, `tensor "w": name used twice`},
		{"no name", []Tensor{good, {Shape: []int{}, Data: []float64{1}}}, nil, "tensor 2 of 2 has no name"},
		{"float32 overflow", []Tensor{{Name: "big", Shape: []int{2}, Data: []float64{1, 1e39}}}, &WriteOptions{DType: Float32},
			`tensor "big": value 1e+39 at index 1 does not fit in float32`},
		{"bad dtype", []Tensor{good}, &WriteOptions{DType: 7}, "unknown element type DType(7)"},
	}
	for _, f := range formats {
		for _, tt := range tests {
			if !f.multi && (tt.name == "duplicate" || tt.name == "no name") {
				continue
			}
			path := filepath.Join(dir, "x"+f.ext)
			err := f.write(path, tt.ts, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("%s %s: err = %v, want %q after the file name", f.ext, tt.name, err, tt.want)
			}
		}
	}
	empty := Tensor{Name: "e", Shape: []int{0, 3}}
	if err := WriteNPY(filepath.Join(dir, "e.npy"), empty, nil); err == nil || !strings.Contains(err.Error(), "cannot write empty shape [0 3]") {
		t.Errorf("empty .npy: %v", err)
	}
	if err := WriteNPZ(filepath.Join(dir, "e.npz"), []Tensor{good, empty}, nil); err == nil || !strings.Contains(err.Error(), `tensor "e"`) {
		t.Errorf("empty .npz entry: %v", err)
	}
	if err := WriteSafetensors(filepath.Join(dir, "m.safetensors"), []Tensor{{Name: "__metadata__", Shape: []int{}, Data: []float64{1}}}, nil); err == nil ||
		!strings.Contains(err.Error(), "reserved") {
		t.Errorf("__metadata__: %v", err)
	}
	if err := WriteNPY(dir, good, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("writing over a directory: %v", err)
	}
	if err := WriteNPY(filepath.Join(dir, "missing", "x.npy"), good, nil); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("writing into a missing directory: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	old := []Tensor{{Name: "w", Shape: []int{1}, Data: []float64{7}}}
	if err := WriteSafetensors(path, old, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// A write that fails half way leaves the old file as it was.
	boom := errors.New("disk on fire")
	err := writeAtomic(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte{0xAB}, 100000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a failed write changed the old file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1", len(entries))
	}
	// A successful rewrite keeps the file's permissions.
	if err := WriteSafetensors(path, []Tensor{{Name: "w", Shape: []int{1}, Data: []float64{8}}}, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after rewrite, want 0600", st.Mode().Perm())
	}
	ts, err := ReadSafetensors(path)
	if err != nil || ts[0].Data[0] != 8 {
		t.Errorf("after rewrite: %v %v", ts, err)
	}
}

func TestReadMissing(t *testing.T) {
	for _, f := range formats {
		path := filepath.Join(t.TempDir(), "nope"+f.ext)
		_, err := f.read(path)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v", f.ext, err)
		}
		if _, err := f.read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s on a directory: err = %v", f.ext, err)
		}
	}
}

// TestTruncated reads every proper prefix of a valid file of each format:
// each must be an error, never a panic or a short tensor.
func TestTruncated(t *testing.T) {
	dir := t.TempDir()
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			full := filepath.Join(dir, "full"+f.ext)
			if err := f.write(full, testTensors(), nil); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(dir, "cut"+f.ext)
			for n := range len(b) {
				if err := os.WriteFile(cut, b[:n], 0o644); err != nil {
					t.Fatal(err)
				}
				if ts, err := f.read(cut); err == nil {
					t.Fatalf("%d of %d bytes: no error, read %d tensors", n, len(b), len(ts))
				} else if !strings.HasPrefix(err.Error(), cut+": ") {
					t.Fatalf("%d of %d bytes: error does not name the file: %v", n, len(b), err)
				}
			}
			// Trailing garbage is an error too, except for zip, which finds
			// its directory from the end.
			if f.ext != ".npz" {
				if err := os.WriteFile(cut, append(b, 0, 0, 0, 0, 0, 0, 0, 0), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := f.read(cut); err == nil {
					t.Error("8 trailing bytes: no error")
				}
			}
		})
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// noHugeAlloc reads path with read, expecting an error containing want and
// far less allocation than the header claims.
func noHugeAlloc(t *testing.T, path string, read func(string) error, want string) {
	t.Helper()
	var err error
	n := allocated(func() { err = read(path) })
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if n > 1<<20 {
		t.Errorf("allocated %d bytes for a lying header", n)
	}
}

func npyHeader(major byte, dict string) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x93NUMPY"))
	b.WriteByte(major)
	b.WriteByte(0)
	pad := 16 - (10+len(dict)+1)%16
	dict += strings.Repeat(" ", pad%16) + "\n"
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(dict)))
	}
	b.WriteString(dict)
	return b.Bytes()
}

func TestLyingNPY(t *testing.T) {
	dir := t.TempDir()
	readNPY := func(p string) error { _, err := ReadNPY(p); return err }
	data16 := make([]byte, 16)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"shape claims 8 GB", append(npyHeader(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }"), data16...),
			"shape [1000000000] of <f8 needs 8000000000 bytes of data but the file holds 16"},
		{"shape overflows", append(npyHeader(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }"), data16...),
			"is invalid or too large"},
		{"negative dimension", append(npyHeader(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }"), data16...),
			"shape [-2] of <f8 is invalid"},
		{"v2 header length 4 GB", append([]byte("\x93NUMPY\x02\x00\xf0\xff\xff\xff"), data16...),
			"header claims 4294967280 bytes but the file holds 16"},
		{"v1 header length past the end", append([]byte("\x93NUMPY\x01\x00\xff\xff"), data16...),
			"header claims 65535 bytes"},
		{"too few data bytes", append(npyHeader(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"), data16...),
			"needs 24 bytes of data but the file holds 16"},
		{"header without newline", []byte("\x93NUMPY\x01\x00\x04\x00{}  "), "does not end in a newline"},
		{"keys out of order", append(npyHeader(1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f8', }"), data16...),
			"invalid .npy header"},
		{"version 3", append([]byte("\x93NUMPY\x03\x00\x04\x00\x00\x00"), data16...), "format version 3.0 is not supported"},
		{"not npy", []byte("PK\x03\x04 this is a zip file"), "not a .npy file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "lie.npy")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			noHugeAlloc(t, path, readNPY, tt.want)
		})
	}
}

func safetensorsFile(header string, data []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestLyingSafetensors(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) error { _, err := ReadSafetensors(p); return err }
	data16 := make([]byte, 16)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"header length 1 TB", append(binary.LittleEndian.AppendUint64(nil, 1<<40), data16...),
			"header length 1099511627776 is larger than the 16 bytes that follow it"},
		{"offsets claim 8 GB", safetensorsFile(`{"x":{"dtype":"F64","shape":[1000000000],"data_offsets":[0,8000000000]}}`, data16),
			`tensor "x": data_offsets [0, 8000000000] reach past the 16 bytes of data the file holds (shape [1000000000] of F64)`},
		{"shape disagrees with offsets", safetensorsFile(`{"x":{"dtype":"F64","shape":[3],"data_offsets":[0,16]}}`, data16),
			`tensor "x": shape [3] of F64 needs 24 bytes, data_offsets [0, 16] span 16`},
		{"offsets backwards", safetensorsFile(`{"x":{"dtype":"F64","shape":[0],"data_offsets":[16,0]}}`, data16),
			"end before they start"},
		{"shape overflows", safetensorsFile(`{"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`, data16),
			"too large"},
		{"gap between tensors", safetensorsFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, data16),
			"invalid file"},
		{"not json", safetensorsFile(`not json at all`, data16), "invalid header"},
		{"too short", []byte{1, 2, 3}, "3 bytes is too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "lie.safetensors")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			noHugeAlloc(t, path, read, tt.want)
		})
	}
}

func TestLyingNPZ(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) error { _, err := ReadNPZ(p); return err }
	lyingNPY := append(npyHeader(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }"), make([]byte, 16)...)

	// zipWith builds an archive from entries written by add.
	zipWith := func(add func(zw *zip.Writer)) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		add(zw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	raw := func(zw *zip.Writer, name string, method uint16, usize uint64, data []byte) {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: method,
			CompressedSize64: uint64(len(data)), UncompressedSize64: usize})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"npy header claims 8 GB", zipWith(func(zw *zip.Writer) {
			w, _ := zw.Create("w.npy")
			w.Write(lyingNPY)
		}), `tensor "w": shape [1000000000] of <f8 needs 8000000000 bytes of data but the file holds 16`},
		{"stored entry claims 1 TB", zipWith(func(zw *zip.Writer) {
			raw(zw, "w.npy", zip.Store, 1<<40, lyingNPY)
		}), "stored zip entry claims 1099511627776 bytes uncompressed"},
		{"deflated entry claims 1 TB", zipWith(func(zw *zip.Writer) {
			raw(zw, "w.npy", zip.Deflate, 1<<40, []byte{3, 0})
		}), "more than deflate can produce"},
		{"entry shorter than claimed", zipWith(func(zw *zip.Writer) {
			raw(zw, "w.npy", zip.Store, uint64(len(lyingNPY)), lyingNPY[:len(lyingNPY)-8])
		}), "stored zip entry claims"},
		{"not an array", zipWith(func(zw *zip.Writer) {
			w, _ := zw.Create("readme.txt")
			w.Write([]byte("hello"))
		}), `archive entry "readme.txt" is not a .npy array`},
		{"name twice", zipWith(func(zw *zip.Writer) {
			for range 2 {
				w, _ := zw.Create("w.npy")
				npyWrite(t, w, Tensor{Shape: []int{1}, Data: []float64{1}})
			}
		}), `tensor "w": appears twice`},
		{"not zip", []byte("\x93NUMPY this is not a zip file"), "not a readable .npz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "lie.npz")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			noHugeAlloc(t, path, read, tt.want)
		})
	}
}

// npyWrite writes t as a .npy stream through a temporary file.
func npyWrite(t *testing.T, w io.Writer, tt Tensor) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteNPY(path, tt, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
}

func TestNPZCorrupted(t *testing.T) {
	// Flip a byte inside the deflated data: archive/zip's CRC check (or the
	// inflater) must turn it into an error.
	dir := t.TempDir()
	path := filepath.Join(dir, "c.npz")
	big := make([]float64, 4096)
	for i := range big {
		big[i] = math.Sqrt(float64(i))
	}
	if err := WriteNPZ(path, []Tensor{{Name: "w", Shape: []int{4096}, Data: big}}, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0x55
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNPZ(path); err == nil {
		t.Error("corrupted entry: no error")
	}
}

func TestIntegerLimits(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		dtype string
		v     uint64
		ok    bool
	}{
		{"I64", 1 << 53, true},
		{"I64", uint64(1<<64 - 1<<53), true}, // −2⁵³
		{"I64", 1<<53 + 1, false},
		{"I64", uint64(1<<64 - 1<<53 - 1), false}, // −2⁵³−1
		{"U64", 1 << 53, true},
		{"U64", 1<<64 - 1, false},
	} {
		path := filepath.Join(dir, "i.safetensors")
		file := safetensorsFile(fmt.Sprintf(`{"n":{"dtype":%q,"shape":[1],"data_offsets":[0,8]}}`, tt.dtype),
			binary.LittleEndian.AppendUint64(nil, tt.v))
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		ts, err := ReadSafetensors(path)
		if tt.ok && (err != nil || ts[0].Data[0] != float64(int64(tt.v)) && ts[0].Data[0] != float64(tt.v)) {
			t.Errorf("%s %d: %v %v", tt.dtype, tt.v, ts, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), `tensor "n": element 0 of `+tt.dtype)) {
			t.Errorf("%s %d: err = %v", tt.dtype, tt.v, err)
		}
	}
	// BOOL bytes other than 0 and 1 are damage.
	path := filepath.Join(dir, "b.safetensors")
	if err := os.WriteFile(path, safetensorsFile(`{"b":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSafetensors(path); err == nil || !strings.Contains(err.Error(), "element 1 of BOOL is 2") {
		t.Errorf("BOOL 2: %v", err)
	}
}

func TestHalf(t *testing.T) {
	for _, tt := range []struct {
		bits uint16
		want float64
	}{
		{0x3C00, 1}, {0xC000, -2}, {0x7BFF, 65504}, {0x0400, 0x1p-14}, {0x0001, 0x1p-24},
		{0x03FF, 1023 * 0x1p-24}, {0x3555, 0x1.554p-2}, {0x7C00, math.Inf(1)}, {0xFC00, math.Inf(-1)},
		{0x8000, math.Copysign(0, -1)},
	} {
		if got := half(tt.bits); math.Float64bits(got) != math.Float64bits(tt.want) {
			t.Errorf("half(%#04x) = %g, want %g", tt.bits, got, tt.want)
		}
	}
	if !math.IsNaN(half(0x7E00)) {
		t.Error("half(0x7E00) is not NaN")
	}
	// Strictly increasing over the positive finite values.
	for b := uint16(0); b < 0x7BFF; b++ {
		if !(half(b+1) > half(b)) {
			t.Fatalf("half(%#04x) = %g ≤ half(%#04x) = %g", b+1, half(b+1), b, half(b))
		}
	}
}

func TestLookup(t *testing.T) {
	ts := testTensors()
	got, err := Lookup(ts, "layers.0.bias")
	if err != nil || got.Name != "layers.0.bias" {
		t.Errorf("Lookup = %v, %v", got, err)
	}
	_, err = Lookup(ts, "layers.0.wieght")
	want := `tensor "layers.0.wieght": not found; did you mean "layers.0.weight"? (tensors: deep, layers.0.bias, layers.0.weight, matrix, scalar, specials)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	_, err = Lookup(ts, "optimizer_state")
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("unrelated name: %v", err)
	}
	_, err = Lookup(nil, "w")
	if err == nil || !strings.Contains(err.Error(), "(tensors: none)") {
		t.Errorf("no tensors: %v", err)
	}
	var many []Tensor
	for i := range 30 {
		many = append(many, Tensor{Name: fmt.Sprintf("t%02d", i)})
	}
	if _, err := Lookup(many, "x"); err == nil || !strings.Contains(err.Error(), "30 in all") {
		t.Errorf("30 tensors: %v", err)
	}
}

func TestFortranToC(t *testing.T) {
	// A 2×3×2 array a[i][j][k] = 100i + 10j + k, stored column-major.
	shape := []int{2, 3, 2}
	var fortran, c []float64
	for k := range 2 {
		for j := range 3 {
			for i := range 2 {
				fortran = append(fortran, float64(100*i+10*j+k))
			}
		}
	}
	for i := range 2 {
		for j := range 3 {
			for k := range 2 {
				c = append(c, float64(100*i+10*j+k))
			}
		}
	}
	if got := fortranToC(fortran, shape); !slices.Equal(got, c) {
		t.Errorf("got %v, want %v", got, c)
	}
}

// A crashed earlier write leaves ".NAME.tmp-*" behind; the next write to
// the same path removes it, and leaves other files' temporaries alone. A
// new file is readable by others (0644).
func TestWriteAtomicStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.csv")
	stale := filepath.Join(dir, ".p.csv.tmp-123")
	other := filepath.Join(dir, ".q.csv.tmp-456")
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "a\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temporary was removed: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("new file has mode %v, want 0644", st.Mode().Perm())
	}
}
