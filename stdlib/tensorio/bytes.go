package tensorio

import (
	"bytes"

	"github.com/nlpodyssey/safetensors"
)

// EncodeSafetensors returns ts as the bytes of a safetensors file (F64, or
// F32 when opt asks for it), for embedding in another file. The checks are
// WriteSafetensors's.
func EncodeSafetensors(ts []Tensor, opt *WriteOptions) ([]byte, error) {
	views, err := safetensorViews("", ts, opt)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(views, nil, &buf); err != nil {
		return nil, &Error{Msg: "encode failed", Err: err}
	}
	return buf.Bytes(), nil
}

// DecodeSafetensors reads the tensors of a safetensors file held in buf,
// with ReadSafetensors's checks: no size the header declares is trusted.
func DecodeSafetensors(buf []byte) ([]Tensor, error) { return decodeSafetensors("", buf) }
