package infer_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
)

func encode(t testing.TB, post infer.Posterior, meta []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := infer.Encode(&buf, post, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// odd holds values whose bits a careless codec would lose.
var odd = []float64{0, math.Copysign(0, -1), 1, -2.5, math.Inf(1), math.Inf(-1),
	math.Float64frombits(0x7ff8_dead_beef_0001), math.SmallestNonzeroFloat64, math.MaxFloat64, 1.0 / 3}

func TestCodecRoundTrip(t *testing.T) {
	std := make([]float64, len(odd))
	for i := range std {
		std[i] = float64(i) * 0.1
	}
	meta := []byte("model net(x: 1) { ... }\x00\xff")
	for _, post := range []infer.Posterior{
		&infer.Point{Theta: odd, By: "map"},
		&infer.Point{Theta: []float64{}, By: ""},
		&infer.Gaussian{Mean: odd, Std: std, By: "vi"},
	} {
		for _, m := range [][]byte{meta, nil} {
			b := encode(t, post, m)
			got, gotMeta, err := infer.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%T: %v", post, err)
			}
			if got.Method() != post.Method() || !bytes.Equal(gotMeta, m) {
				t.Errorf("%T: method %q meta %q", post, got.Method(), gotMeta)
			}
			want, have := post.(infer.Saver).Vectors(), got.(infer.Saver).Vectors()
			if len(want) != len(have) {
				t.Fatalf("%T: %d vectors back, want %d", post, len(have), len(want))
			}
			for i := range want {
				if len(want[i]) != len(have[i]) {
					t.Fatalf("%T: vector %d has %d values back, want %d", post, i, len(have[i]), len(want[i]))
				}
				for j := range want[i] {
					if math.Float64bits(want[i][j]) != math.Float64bits(have[i][j]) {
						t.Errorf("%T: vector %d[%d] = %x, want %x", post, i, j, math.Float64bits(have[i][j]), math.Float64bits(want[i][j]))
					}
				}
			}
		}
	}
}

func TestWriteReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.post")
	post := &infer.Gaussian{Mean: []float64{1, 2}, Std: []float64{0.5, 0.25}, By: "vi"}
	if err := infer.WriteFile(path, post, []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("stat: %v %v", st, err)
	}
	got, meta, err := infer.ReadFile(path)
	if err != nil || string(meta) != "meta" || got.(*infer.Gaussian).Std[1] != 0.25 {
		t.Fatalf("ReadFile: %v %q %v", got, meta, err)
	}
	// Trailing bytes are an error when the whole file is the posterior.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, 0), 0o644)
	_, _, err = infer.ReadFile(path)
	var fe *infer.FormatError
	if !errors.Is(err, infer.ErrCorrupt) || !errors.As(err, &fe) || fe.Path != path {
		t.Errorf("trailing byte: %v", err)
	}
	if _, _, err := infer.ReadFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	nested := filepath.Join(t.TempDir(), "out", "sub", "p.post")
	if err := infer.WriteFile(nested, post, nil); err != nil {
		t.Errorf("save into a new directory: %v", err)
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	if err := infer.WriteFile(filepath.Join(blocker, "p.post"), post, nil); err == nil {
		t.Error("save under a regular file succeeded")
	}
	if err := infer.WriteFile(t.TempDir(), post, nil); err == nil {
		t.Error("save over a directory succeeded")
	}
}

type unsaveable struct{ infer.Point }

func (unsaveable) Kind() {} // hides Point's Kind, so not a Saver

type foreign struct{ infer.Point }

func (foreign) Kind() string { return "foreign" }

func TestEncodeErrors(t *testing.T) {
	if err := infer.Encode(&bytes.Buffer{}, &unsaveable{}, nil); err == nil {
		t.Error("encoded a non-Saver")
	}
	// An unknown kind is reported with the known ones, and a Decoders value
	// extended with it reads the file.
	b := encode(t, &foreign{infer.Point{Theta: []float64{1}, By: "foreign"}}, nil)
	_, _, err := infer.Decode(bytes.NewReader(b))
	known := slices.Sorted(maps.Keys(infer.BuiltinDecoders()))
	if !errors.Is(err, infer.ErrUnknownKind) || !strings.Contains(err.Error(), `"foreign" (this build reads: `+strings.Join(known, ", ")+")") ||
		!slices.Contains(known, "point") || !slices.Contains(known, "gaussian") {
		t.Errorf("unknown kind: %v", err)
	}
	d := infer.BuiltinDecoders()
	d["foreign"] = func(method string, vecs [][]float64) (infer.Posterior, error) {
		return &foreign{infer.Point{Theta: vecs[0], By: method}}, nil
	}
	if p, _, err := d.Decode(bytes.NewReader(b)); err != nil || p.Method() != "foreign" {
		t.Errorf("extended decoders: %v %v", p, err)
	}
}

func TestDecodeTruncated(t *testing.T) {
	b := encode(t, &infer.Gaussian{Mean: []float64{1, 2, 3}, Std: []float64{1, 1, 1}, By: "vi"}, []byte("meta"))
	dir := t.TempDir()
	for n := range len(b) {
		_, _, err := infer.Decode(bytes.NewReader(b[:n]))
		if !errors.Is(err, infer.ErrTruncated) {
			t.Errorf("first %d of %d bytes: %v", n, len(b), err)
		}
		path := filepath.Join(dir, "t.post")
		os.WriteFile(path, b[:n], 0o644)
		if _, _, err := infer.ReadFile(path); !errors.Is(err, infer.ErrTruncated) {
			t.Errorf("file of the first %d of %d bytes: %v", n, len(b), err)
		}
	}
}

func TestDecodeFlippedBytes(t *testing.T) {
	b := encode(t, &infer.Gaussian{Mean: []float64{1, 2, 3}, Std: []float64{1, 1, 1}, By: "vi"}, []byte("meta"))
	for i := range b {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(b)
			c[i] ^= mask
			_, _, err := infer.Decode(bytes.NewReader(c))
			var fe *infer.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("byte %d ^ %#x: err = %v, want *FormatError", i, mask, err)
			}
			var want error
			switch {
			case i < 10:
				want = infer.ErrNotPosterior
			case i < 12:
				want = infer.ErrVersion
			default:
				want = infer.ErrChecksum
			}
			if !errors.Is(err, want) {
				t.Errorf("byte %d ^ %#x: %v, want %v", i, mask, err, want)
			}
		}
	}
}

func TestDecodeForeignAndFutureFiles(t *testing.T) {
	for _, in := range []string{"", "hello, world", "BAYESLPOSX" + strings.Repeat("\x00", 30), "\x89PNG\r\n\x1a\n...."} {
		_, _, err := infer.Decode(strings.NewReader(in))
		want := infer.ErrNotPosterior
		if in == "" {
			want = infer.ErrTruncated
		}
		if !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", in, err, want)
		}
	}
	b := encode(t, &infer.Point{Theta: []float64{1}, By: "map"}, nil)
	binary.LittleEndian.PutUint16(b[10:], 2)
	resum(b)
	_, _, err := infer.Decode(bytes.NewReader(b))
	if !errors.Is(err, infer.ErrVersion) || !strings.Contains(err.Error(), "version 2 is newer than this build reads (1)") {
		t.Errorf("future version: %v", err)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// resum recomputes both checksums of an encoded posterior, as a deliberate
// forger would.
func resum(b []byte) {
	binary.LittleEndian.PutUint32(b[20:], crc32.Checksum(b[:20], castagnoli))
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
}

// Length fields that lie, behind valid checksums, give errors and never a
// large allocation.
func TestDecodeLyingLengths(t *testing.T) {
	meta := []byte("mm")
	b := encode(t, &infer.Point{Theta: []float64{1, 2}, By: "map"}, meta)
	// Layout: header 24 | kind 2+5 | method 2+3 | meta 8+2 | count 8 | len 8 | 16 | crc 4
	offMeta := 24 + 2 + 5 + 2 + 3
	offCount := offMeta + 8 + len(meta)
	offLen := offCount + 8
	for _, tc := range []struct {
		name string
		off  int
		val  uint64
		want error
	}{
		{"total", 12, 1 << 62, infer.ErrTruncated},
		{"total too small", 12, 10, infer.ErrCorrupt},
		{"meta", offMeta, 1 << 62, infer.ErrCorrupt},
		{"count", offCount, 1 << 62, infer.ErrCorrupt},
		{"vector", offLen, 1 << 61, infer.ErrCorrupt},
		{"vector short", offLen, 1, infer.ErrCorrupt},
	} {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint64(c[tc.off:], tc.val)
		resum(c)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := infer.Decode(bytes.NewReader(c))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%s: decoding allocated %d bytes", tc.name, d)
		}
	}
	// A Decoder that rejects the payload gives ErrCorrupt.
	g := encode(t, &infer.Gaussian{Mean: []float64{1}, Std: []float64{-1}, By: "vi"}, nil)
	if _, _, err := infer.Decode(bytes.NewReader(g)); !errors.Is(err, infer.ErrCorrupt) {
		t.Errorf("negative scale: %v", err)
	}
}

// Decode reads exactly one posterior, so several can share a stream.
func TestDecodeStream(t *testing.T) {
	var buf bytes.Buffer
	for i := range 3 {
		if err := infer.Encode(&buf, &infer.Point{Theta: []float64{float64(i)}, By: "map"}, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		p, meta, err := infer.Decode(&buf)
		if err != nil || p.(*infer.Point).Theta[0] != float64(i) || meta[0] != byte(i) {
			t.Fatalf("posterior %d: %v %v %v", i, p, meta, err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes left", buf.Len())
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, &infer.Point{Theta: []float64{1, 2}, By: "map"}, []byte("m")))
	f.Add(encode(f, &infer.Gaussian{Mean: []float64{1}, Std: []float64{2}, By: "vi"}, nil))
	f.Add([]byte("BAYESLPOST"))
	swag := [][]float64{{0.5, 0, 3, 2}, {1, 2}, {0.5, 0.25}, {0.1, -0.1}, {-0.2, 0.2}}
	f.Add(encode(f, &rawSaver{infer.Point{By: "swag"}, "swag", swag}, nil))
	f.Add(encode(f, &rawSaver{infer.Point{By: "multiswag"}, "multiswag", append([][]float64{{1, 5}}, swag...)}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		post, meta, err := infer.Decode(bytes.NewReader(b))
		if err == nil {
			// Whatever decodes re-encodes to the same bytes.
			var buf bytes.Buffer
			if err := infer.Encode(&buf, post, meta); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), b[:buf.Len()]) {
				t.Fatal("re-encoding differs")
			}
			return
		}
		var fe *infer.FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FormatError", err)
		}
	})
}
