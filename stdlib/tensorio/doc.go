// Package tensorio reads and writes named float64 tensors in the file
// formats other tools use for weights and arrays: safetensors (Hugging
// Face), NumPy .npy (one array) and .npz (named arrays). It is how trained
// or pretrained weights, GP-fitted prior scales and prediction arrays cross
// between bayesl and PyTorch or NumPy.
//
// A Tensor is a name, a shape and row-major float64 data. Readers convert
// every real element type the format defines (floats of 16, 32 and 64
// bits, bfloat16, integers, bool) to float64, exactly or not at all: a
// 64-bit integer beyond ±2⁵³ is an error, and so are complex, string,
// object and 8-bit-float data. Writers store float64 by default, or float32
// with WriteOptions{DType: Float32}, which rounds each value to the nearest
// float32 (relative error ≤ 2⁻²⁴) and refuses values beyond its range.
//
// Files from elsewhere are not trusted: every size a header declares (the
// header length, shapes, data offsets, zip entry sizes) is checked against
// the file's actual length before anything is allocated for it, so a
// truncated or lying file is an error, never a huge allocation or a panic.
// Writes are atomic: the data goes to a temporary file in the target
// directory, synced and renamed into place only when complete, so a failed
// write leaves any old file untouched. Errors are *Error values that name
// the file, the tensor when one is to blame, and the numbers involved
// (expected and found shape, dtype, byte counts). Lookup finds a tensor by
// name and suggests the nearest name when there is none.
//
// The formats come from two modules: github.com/nlpodyssey/safetensors and
// codeberg.org/sbinet/npyio. This package wraps their quirks: the
// safetensors module works on whole byte buffers, sorts tensors by dtype and
// name when writing, and would write a scalar's shape as null; npyio
// allocates header and data sizes as declared, panics on some damaged
// headers, drops zero dimensions when writing (so empty tensors cannot be
// written to .npy/.npz), and converts float16 subnormals wrongly (they are
// converted here instead). .npz archives are opened with archive/zip, whose
// entry sizes npyio's npz.Reader does not expose, and each entry is decoded
// by npyio.
//
// The package knows nothing of the language.
package tensorio
