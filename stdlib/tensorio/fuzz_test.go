package tensorio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeNPY checks that no input makes the .npy decoder (npyio behind
// the guards of decodeNPY) panic, and that a decoded tensor is consistent.
func FuzzDecodeNPY(f *testing.F) {
	addSeeds(f, "*.npy")
	f.Fuzz(func(t *testing.T, b []byte) {
		tt, err := decodeNPY(bytes.NewReader(b), int64(len(b)), "x")
		if err == nil {
			if verr := tt.Validate(); verr != nil {
				t.Fatal(verr)
			}
		}
	})
}

// FuzzDecodeSafetensors does the same for safetensors.
func FuzzDecodeSafetensors(f *testing.F) {
	addSeeds(f, "*.safetensors")
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := decodeSafetensors("x", b)
		if err == nil {
			for _, tt := range ts {
				if verr := tt.Validate(); verr != nil {
					t.Fatal(verr)
				}
			}
		}
	})
}
