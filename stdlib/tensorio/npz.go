package tensorio

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
)

// maxDeflateRatio bounds how many bytes deflate can expand one compressed
// byte into (about 1032 for the longest runs); a zip entry claiming more is
// lying about its size.
const maxDeflateRatio = 1032

// ReadNPZ reads every array of the NumPy .npz archive at path, as written
// by numpy.savez or numpy.savez_compressed, in archive order. Each entry
// "name.npy" gives the tensor "name", decoded as by ReadNPY; an entry that
// is not a .npy array, and a name used twice, are errors.
//
// Nothing is allocated on a size the archive declares without checking it
// first: each entry's compressed size must fit in the file, its
// uncompressed size must be reachable from that (stored entries: equal;
// deflated: at most 1032 times), and its .npy header must call for exactly
// the data the entry holds. archive/zip then checks the actual length and
// CRC of every entry as it is read. (npyio's own npz.Reader hides the zip
// entries' sizes, so the archive is opened here with archive/zip and each
// entry handed to npyio's .npy decoder.)
func ReadNPZ(path string) ([]Tensor, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil, &Error{File: path, Msg: "not a readable .npz (zip) archive", Err: err}
	}
	out := make([]Tensor, 0, len(zr.File))
	seen := make(map[string]bool, len(zr.File))
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") && zf.UncompressedSize64 == 0 {
			continue // a directory entry
		}
		name, ok := strings.CutSuffix(zf.Name, ".npy")
		if !ok || name == "" {
			return nil, &Error{File: path, Msg: fmt.Sprintf("archive entry %q is not a .npy array", zf.Name)}
		}
		if seen[name] {
			return nil, &Error{File: path, Tensor: name, Msg: "appears twice in the archive"}
		}
		seen[name] = true
		t, err := readNPZEntry(zf, size, name)
		if err != nil {
			err.File, err.Tensor = path, name
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func readNPZEntry(zf *zip.File, fileSize int64, name string) (Tensor, *Error) {
	csize, usize := zf.CompressedSize64, zf.UncompressedSize64
	switch {
	case csize > uint64(fileSize):
		return Tensor{}, &Error{Msg: fmt.Sprintf("zip entry claims %d compressed bytes in a %d-byte file", csize, fileSize)}
	case zf.Method == zip.Store && usize != csize:
		return Tensor{}, &Error{Msg: fmt.Sprintf("stored zip entry claims %d bytes uncompressed but %d stored", usize, csize)}
	case zf.Method == zip.Deflate && usize > maxDeflateRatio*csize+1024:
		return Tensor{}, &Error{Msg: fmt.Sprintf("zip entry claims %d bytes uncompressed from %d compressed, more than deflate can produce", usize, csize)}
	case usize > 1<<62:
		return Tensor{}, &Error{Msg: fmt.Sprintf("zip entry claims %d bytes", usize)}
	}
	rc, err := zf.Open()
	if err != nil {
		return Tensor{}, &Error{Msg: "cannot open archive entry", Err: err}
	}
	defer rc.Close()
	t, e := decodeNPY(rc, int64(usize), name)
	if e != nil {
		return Tensor{}, e
	}
	// Reach the end of the entry so that archive/zip verifies its CRC.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return Tensor{}, &Error{Msg: "damaged archive entry", Err: err}
	}
	return t, nil
}

// WriteNPZ writes ts to a NumPy .npz archive at path, atomically, each
// tensor as the deflated entry "name.npy" in the order given, as float64
// unless opt asks for Float32. numpy.load reads it back by name. Names must
// be non-empty and distinct, and, as for WriteNPY, empty tensors are an
// error.
func WriteNPZ(path string, ts []Tensor, opt *WriteOptions) error {
	dt, err := opt.dtype()
	if err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	if err := checkNames(path, ts); err != nil {
		return err
	}
	values := make([]any, len(ts))
	for i, t := range ts {
		if values[i], err = npyValue(path, t, dt); err != nil {
			return err
		}
	}
	return writeAtomic(path, func(w io.Writer) error {
		zw := npz.NewWriter(w)
		for i, t := range ts {
			if err := zw.Write(t.Name+".npy", values[i]); err != nil {
				return &Error{File: path, Tensor: t.Name, Msg: "write failed", Err: err}
			}
		}
		if err := zw.Close(); err != nil {
			return &Error{File: path, Msg: "write failed", Err: err}
		}
		return nil
	})
}
