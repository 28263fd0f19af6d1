#!/usr/bin/python3
"""Regenerates the interoperability fixtures of stdlib/tensorio.

Run once with Debian's numpy (python3-numpy 1.24):  /usr/bin/python3 gen_fixtures.py
The Go tests read the files this writes and never need Python.

The .npy and .npz files come from numpy itself. The safetensors file is built
by hand from the published format (https://huggingface.co/docs/safetensors):
an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
the end of the header, tensors contiguous), an optional "__metadata__" of
string values, then the data, little endian. No safetensors library is used.
"""
import json
import os
import struct

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


# --- .npy ---------------------------------------------------------------
np.save(path("f8_2x3.npy"), np.arange(6, dtype="<f8").reshape(2, 3) / 4)
np.save(path("f8_3d.npy"), np.arange(24, dtype="<f8").reshape(2, 3, 4) - 11.5)
np.save(path("f8_scalar.npy"), np.float64(2.75))
np.save(path("f8_fortran_3x4.npy"), np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4)))
np.save(path("f8_bigendian.npy"), np.array([[1.5, -2.0], [1e300, -0.0]], dtype=">f8"))
np.save(path("f8_empty_0x3.npy"), np.zeros((0, 3), dtype="<f8"))
np.save(path("f4_vec.npy"), np.array([0.1, -2.5, 3e38, 1e-40], dtype="<f4"))
np.save(path("f2_half.npy"), np.array([0.5, -1.25, 65504, 6e-8], dtype="<f2"))
np.save(path("i8_labels.npy"), np.array([0, 1, 2, -3, 2**53], dtype="<i8"))
np.save(path("i8_too_big.npy"), np.array([1, 2**53 + 1], dtype="<i8"))
np.save(path("u1_bytes.npy"), np.array([0, 7, 255], dtype="u1"))
np.save(path("b1_mask.npy"), np.array([True, False, True]))
np.save(path("c16_complex.npy"), np.array([1 + 2j, 3 - 4j]))
np.save(path("u5_strings.npy"), np.array(["abc", "de"]))
np.save(path("object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
with open(path("f8_v2.npy"), "wb") as f:  # format version 2.0 (4-byte header length)
    np.lib.format.write_array(f, np.array([1.0, 2.0, 3.0]), version=(2, 0))

# --- .npz ---------------------------------------------------------------
weight = np.arange(6, dtype="<f8").reshape(3, 2) * 0.5
bias = np.array([0.25, -0.75], dtype="<f4")
np.savez(path("model.npz"), weight=weight, bias=bias, step=np.int64(1200))
np.savez_compressed(path("model_compressed.npz"), weight=weight, bias=bias, step=np.int64(1200))

# --- .safetensors, by hand -------------------------------------------------
tensors = [  # stored in this order (not sorted) to check that readers sort
    ("w", "F32", [2, 2], np.array([1.5, -2.0, 0.1, 3e38], dtype="<f4").tobytes()),
    ("b", "F64", [2], np.array([0.125, -1e-300], dtype="<f8").tobytes()),
    ("h", "F16", [3], np.array([0.5, -65504, 6e-8], dtype="<f2").tobytes()),
    # bfloat16 is the top half of a float32: 1.0 -> 0x3F80, -2.5 -> 0xC020.
    ("bf", "BF16", [2], struct.pack("<HH", 0x3F80, 0xC020)),
    ("i", "I64", [3], np.array([-7, 0, 2**53], dtype="<i8").tobytes()),
    ("flag", "BOOL", [2], bytes([1, 0])),
    ("s", "F64", [], struct.pack("<d", 42.0)),
]
header = {"__metadata__": {"format": "pt"}}
offset = 0
for name, dtype, shape, data in tensors:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
    offset += len(data)
hb = json.dumps(header, separators=(",", ":")).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)  # pad with spaces, as the format allows
with open(path("handmade.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)))
    f.write(hb)
    for _, _, _, data in tensors:
        f.write(data)

# An 8-bit float dtype the Go module does not know.
hb = json.dumps({"q": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)
with open(path("f8e4m3.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + bytes([0x38, 0xB8]))
