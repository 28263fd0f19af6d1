package infer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A posterior file, format version 1. All integers are little-endian.
//
//	offset  size  field
//	0       10    magic "BAYESLPOST"
//	10      2     format version (uint16) = 1
//	12      8     total file length in bytes, this header and the trailer included (uint64)
//	20      4     CRC-32C of bytes [0, 20)
//	24            kind:   uint16 length + UTF-8 bytes (the decoder's key, e.g. "gaussian")
//	              method: uint16 length + UTF-8 bytes (the backend, e.g. "vi")
//	              meta:   uint64 length + bytes (the caller's blob, opaque here)
//	              count:  uint64 number of vectors
//	              count × (uint64 length n + n float64 as IEEE-754 bits)
//	total−4 4     CRC-32C (Castagnoli) of bytes [0, total−4)
//
// The magic and the version come first in every version, so a reader can
// always tell a file it cannot read from one that is damaged. The header
// carries its own checksum, so the total length can be trusted before the
// rest is read; no length read from a file can make the decoder allocate
// more than the bytes actually present.
const (
	magic         = "BAYESLPOST"
	formatVersion = 1
	headerSize    = 24
	minBodySize   = 2 + 2 + 8 + 8 + 4 // empty kind, method, meta, no vectors, trailer
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors a posterior file can give, wrapped in a *FormatError; test them
// with errors.Is.
var (
	ErrNotPosterior = errors.New("not a bayesl posterior file")
	ErrVersion      = errors.New("unsupported posterior file format version")
	ErrTruncated    = errors.New("posterior file is truncated")
	ErrChecksum     = errors.New("posterior file is corrupted (checksum mismatch)")
	ErrCorrupt      = errors.New("posterior file is malformed")
	ErrUnknownKind  = errors.New("unknown posterior kind")
)

// FormatError reports a posterior file that cannot be read. Err is one of
// the Err* values above; Detail says more.
type FormatError struct {
	Path   string // file name, when reading a file
	Err    error
	Detail string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(err error, format string, args ...any) *FormatError {
	return &FormatError{Err: err, Detail: fmt.Sprintf(format, args...)}
}

// Saver is a posterior that can be written to a file. Its payload is a list
// of float64 vectors; a Decoder registered under Kind rebuilds it.
type Saver interface {
	Posterior
	// Kind names the payload layout, e.g. "point"; it keys the Decoders.
	Kind() string
	// Vectors returns the payload. Encode only reads it.
	Vectors() [][]float64
}

// A Decoder rebuilds a posterior from the method name and payload vectors
// that its Saver wrote. It must validate the vectors, never trusting them.
type Decoder func(method string, vecs [][]float64) (Posterior, error)

// Decoders maps a posterior kind to its decoder. It is an ordinary value:
// BuiltinDecoders returns a fresh one, and every new posterior kind adds an
// entry (and implements Saver).
type Decoders map[string]Decoder

// BuiltinDecoders returns the decoders of this package's posteriors:
// "point" (*Point), "gaussian" (*Gaussian), "lowrank_gaussian"
// (*LowRankGaussian),
// "swag" (*SWAGPosterior), "multiswag" (*MultiSWAGPosterior) and
// "samples" (*Samples), "ensemble" (*Points), "laplace"
// (*LaplacePosterior) and "student" (*Student).
func BuiltinDecoders() Decoders {
	return Decoders{
		"point":            decodePoint,
		"gaussian":         decodeGaussian,
		"lowrank_gaussian": decodeLowRankGaussian,
		"swag":             decodeSWAG,
		"multiswag":        decodeMultiSWAG,
		"samples":          decodeSamples,
		"ensemble":         decodePoints,
		"laplace":          decodeLaplace,
		"student":          decodeStudent,
		"mc_dropout":       decodeDropout,
	}
}

// Encode writes post, which must be a Saver, and the caller's metadata blob
// in the posterior file format. Vectors are written bit for bit (NaN
// payloads included).
func Encode(w io.Writer, post Posterior, meta []byte) error {
	s, ok := post.(Saver)
	if !ok {
		return fmt.Errorf("infer: cannot save a posterior of type %T: it does not implement infer.Saver", post)
	}
	kind, method, vecs := s.Kind(), s.Method(), s.Vectors()
	if len(kind) > math.MaxUint16 || len(method) > math.MaxUint16 {
		return fmt.Errorf("infer: posterior kind or method name too long")
	}
	total := uint64(headerSize + minBodySize + len(kind) + len(method) + len(meta))
	for _, v := range vecs {
		total += 8 + 8*uint64(len(v))
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	e := &encoder{w: bw}
	var hdr [headerSize]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint16(hdr[10:], formatVersion)
	binary.LittleEndian.PutUint64(hdr[12:], total)
	binary.LittleEndian.PutUint32(hdr[20:], crc32.Checksum(hdr[:20], castagnoli))
	e.write(hdr[:])
	e.u16(len(kind))
	e.write([]byte(kind))
	e.u16(len(method))
	e.write([]byte(method))
	e.u64(uint64(len(meta)))
	e.write(meta)
	e.u64(uint64(len(vecs)))
	for _, v := range vecs {
		e.u64(uint64(len(v)))
		e.floats(v)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], e.crc)
	e.write(sum[:])
	if e.err != nil {
		return e.err
	}
	if e.n != total {
		return fmt.Errorf("infer: internal error: wrote %d bytes, header says %d", e.n, total)
	}
	return bw.Flush()
}

// encoder writes through a buffer while keeping the running checksum.
type encoder struct {
	w       *bufio.Writer
	crc     uint32
	n       uint64
	err     error
	scratch [4096]byte
}

func (e *encoder) write(b []byte) {
	if e.err != nil {
		return
	}
	e.crc = crc32.Update(e.crc, castagnoli, b)
	e.n += uint64(len(b))
	_, e.err = e.w.Write(b)
}

func (e *encoder) u16(x int) {
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], uint16(x))
	e.write(b[:])
}

func (e *encoder) u64(x uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], x)
	e.write(b[:])
}

func (e *encoder) floats(v []float64) {
	for len(v) > 0 && e.err == nil {
		k := min(len(v), len(e.scratch)/8)
		for i, x := range v[:k] {
			binary.LittleEndian.PutUint64(e.scratch[8*i:], math.Float64bits(x))
		}
		e.write(e.scratch[:8*k])
		v = v[k:]
	}
}

// Decode reads one posterior written by Encode, with the built-in decoders,
// and returns it with the caller's metadata blob. It reads exactly the
// posterior's bytes from r.
func Decode(r io.Reader) (Posterior, []byte, error) { return BuiltinDecoders().Decode(r) }

// ReadFile reads a posterior file written by WriteFile, with the built-in
// decoders.
func ReadFile(path string) (Posterior, []byte, error) { return BuiltinDecoders().ReadFile(path) }

// Decode reads one posterior written by Encode and returns it with the
// caller's metadata blob. It reads exactly the posterior's bytes from r.
// Damaged input gives a *FormatError, never a panic.
func (d Decoders) Decode(r io.Reader) (Posterior, []byte, error) {
	post, meta, err := d.decode(r, -1)
	if err != nil {
		return nil, nil, err
	}
	return post, meta, nil
}

// ReadFile reads a posterior file. Errors about the contents are
// *FormatErrors carrying path; trailing bytes after the posterior are an
// error (ErrCorrupt).
func (d Decoders) ReadFile(path string) (Posterior, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	post, meta, err := d.decode(f, st.Size())
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, nil, err
	}
	return post, meta, nil
}

// decode reads one posterior; size is the number of bytes r holds, or -1
// when unknown.
func (d Decoders) decode(r io.Reader, size int64) (Posterior, []byte, error) {
	var hdr [headerSize]byte
	n, err := io.ReadFull(r, hdr[:len(magic)])
	if err != nil {
		if isEOF(err) {
			if n == 0 {
				return nil, nil, formatErr(ErrTruncated, "no data")
			}
			if string(hdr[:n]) == magic[:n] {
				return nil, nil, formatErr(ErrTruncated, "%d bytes, shorter than the header", n)
			}
			return nil, nil, formatErr(ErrNotPosterior, "wrong magic")
		}
		return nil, nil, err
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, nil, formatErr(ErrNotPosterior, "wrong magic %q", hdr[:len(magic)])
	}
	if _, err := io.ReadFull(r, hdr[len(magic):]); err != nil {
		if isEOF(err) {
			return nil, nil, formatErr(ErrTruncated, "shorter than the %d-byte header", headerSize)
		}
		return nil, nil, err
	}
	if v := binary.LittleEndian.Uint16(hdr[10:]); v != formatVersion {
		if v > formatVersion {
			return nil, nil, formatErr(ErrVersion, "version %d is newer than this build reads (%d); upgrade bayesl", v, formatVersion)
		}
		return nil, nil, formatErr(ErrVersion, "version %d", v)
	}
	if binary.LittleEndian.Uint32(hdr[20:]) != crc32.Checksum(hdr[:20], castagnoli) {
		return nil, nil, formatErr(ErrChecksum, "in the header")
	}
	total := binary.LittleEndian.Uint64(hdr[12:])
	if total < headerSize+minBodySize || total > math.MaxInt64 || total-headerSize > uint64(math.MaxInt) {
		return nil, nil, formatErr(ErrCorrupt, "total length %d", total)
	}
	rest := int64(total - headerSize)
	var body []byte
	if size >= 0 {
		switch {
		case size < int64(total):
			return nil, nil, formatErr(ErrTruncated, "%d bytes, want %d", size, total)
		case size > int64(total):
			return nil, nil, formatErr(ErrCorrupt, "%d bytes after the end of the posterior", size-int64(total))
		}
		body = make([]byte, rest)
		if _, err := io.ReadFull(r, body); err != nil {
			if isEOF(err) {
				return nil, nil, formatErr(ErrTruncated, "file shrank while being read")
			}
			return nil, nil, err
		}
	} else {
		// Unknown size: grow with the data actually read, never by the
		// length field.
		body, err = io.ReadAll(io.LimitReader(r, rest))
		if err != nil {
			return nil, nil, err
		}
		if int64(len(body)) < rest {
			return nil, nil, formatErr(ErrTruncated, "%d bytes, want %d", headerSize+len(body), total)
		}
	}
	sum := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, body[:len(body)-4])
	if sum != binary.LittleEndian.Uint32(body[len(body)-4:]) {
		return nil, nil, formatErr(ErrChecksum, "")
	}

	p := parser{b: body[:len(body)-4]}
	kind := string(p.bytes(p.u16()))
	method := string(p.bytes(p.u16()))
	meta := p.bytes(p.u64())
	count := p.u64()
	if count > uint64(len(p.b))/8 {
		p.fail("%d vectors in %d bytes", count, len(p.b))
	}
	var vecs [][]float64
	if p.err == nil {
		vecs = make([][]float64, count)
	}
	for i := range vecs {
		vecs[i] = p.floats(p.u64())
	}
	if p.err == nil && len(p.b) != 0 {
		p.fail("%d unread bytes before the checksum", len(p.b))
	}
	if p.err != nil {
		return nil, nil, p.err
	}
	dec := d[kind]
	if dec == nil {
		known := slices.Sorted(maps.Keys(d))
		return nil, nil, formatErr(ErrUnknownKind, "%q (this build reads: %s)", kind, strings.Join(known, ", "))
	}
	post, err := dec(method, vecs)
	if err != nil {
		return nil, nil, formatErr(ErrCorrupt, "%v", err)
	}
	return post, meta, nil
}

func isEOF(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

// parser reads the checksummed body; every length is checked against the
// bytes that remain before anything is allocated.
type parser struct {
	b   []byte
	err error
}

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = formatErr(ErrCorrupt, format, args...)
	}
}

func (p *parser) take(n uint64) []byte {
	if p.err != nil {
		return nil
	}
	if n > uint64(len(p.b)) {
		p.fail("field of %d bytes with %d left", n, len(p.b))
		return nil
	}
	b := p.b[:n:n]
	p.b = p.b[n:]
	return b
}

func (p *parser) u16() uint64 {
	b := p.take(2)
	if b == nil {
		return 0
	}
	return uint64(binary.LittleEndian.Uint16(b))
}

func (p *parser) u64() uint64 {
	b := p.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (p *parser) bytes(n uint64) []byte {
	b := p.take(n)
	if b == nil {
		return nil
	}
	return slices.Clone(b)
}

func (p *parser) floats(n uint64) []float64 {
	if n > uint64(len(p.b))/8 {
		p.fail("vector of %d values with %d bytes left", n, len(p.b))
		return nil
	}
	b := p.take(8 * n)
	if b == nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}

// WriteFile saves post and meta to path atomically: it encodes into a
// temporary file in the same directory, fsyncs it, and renames it over
// path, so an interrupted or failed save leaves any existing file intact.
// Missing parent directories are created (mode 0755). A new file gets mode
// 0644; an existing file keeps its mode.
func WriteFile(path string, post Posterior, meta []byte) error {
	return writeFile(path, post, meta, nil)
}

// writeFile is WriteFile with a hook that wraps the temporary file's writer
// (tests use it to fail a write half-way).
func writeFile(path string, post Posterior, meta []byte, wrap func(io.Writer) io.Writer) (err error) {
	if _, ok := post.(Saver); !ok {
		return fmt.Errorf("infer: cannot save a posterior of type %T: it does not implement infer.Saver", post)
	}
	dir := filepath.Dir(path)
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("infer: %s exists and is not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		// Name the destination, not the temporary file.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &os.PathError{Op: "save", Path: path, Err: err}
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if wrap != nil {
		w = wrap(f)
	}
	if err = Encode(w, post, meta); err != nil {
		return fmt.Errorf("infer: saving %s: %w", path, err)
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some systems
// cannot open or sync a directory, and the data itself is already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
