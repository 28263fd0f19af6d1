package tensorio

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata were written once by numpy 1.24 (and, for
// safetensors, by hand from the published format) with gen_fixtures.py.

func f32(x float64) float64 { return float64(float32(x)) }

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestNumpyFixtures(t *testing.T) {
	tests := []struct {
		file  string
		shape []int
		data  []float64
	}{
		{"f8_2x3.npy", []int{2, 3}, []float64{0, 0.25, 0.5, 0.75, 1, 1.25}},
		{"f8_3d.npy", []int{2, 3, 4}, func() []float64 {
			d := make([]float64, 24)
			for i := range d {
				d[i] = float64(i) - 11.5
			}
			return d
		}()},
		{"f8_scalar.npy", []int{}, []float64{2.75}},
		{"f8_fortran_3x4.npy", []int{3, 4}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"f8_bigendian.npy", []int{2, 2}, []float64{1.5, -2, 1e300, math.Copysign(0, -1)}},
		{"f8_empty_0x3.npy", []int{0, 3}, []float64{}},
		{"f8_v2.npy", []int{3}, []float64{1, 2, 3}},
		{"f4_vec.npy", []int{4}, []float64{f32(0.1), -2.5, f32(3e38), f32(1e-40)}},
		// 6e-8 is the smallest float16 subnormal, 2⁻²⁴, after rounding.
		{"f2_half.npy", []int{4}, []float64{0.5, -1.25, 65504, 0x1p-24}},
		{"i8_labels.npy", []int{5}, []float64{0, 1, 2, -3, 1 << 53}},
		{"u1_bytes.npy", []int{3}, []float64{0, 7, 255}},
		{"b1_mask.npy", []int{3}, []float64{1, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ReadNPY(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(tt.file, ".npy"); got.Name != want {
				t.Errorf("name %q, want %q", got.Name, want)
			}
			if !slices.Equal(got.Shape, tt.shape) || !sameBits(got.Data, tt.data) {
				t.Errorf("got shape %v data %v, want %v %v", got.Shape, got.Data, tt.shape, tt.data)
			}
			if err := got.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNumpyFixturesUnsupported(t *testing.T) {
	tests := []struct{ file, want string }{
		{"c16_complex.npy", "unsupported dtype '<c16'"},
		{"u5_strings.npy", "unsupported dtype '<U3'"},
		{"object.npy", "unsupported dtype '|O'"}, // never unpickled
		{"i8_too_big.npy", "element 1 of int64 is 9007199254740993, beyond ±2^53"},
	}
	for _, tt := range tests {
		path := filepath.Join("testdata", tt.file)
		_, err := ReadNPY(path)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: err = %v, want %q after the file name", tt.file, err, tt.want)
		}
	}
}

func TestNPZFixtures(t *testing.T) {
	for _, file := range []string{"model.npz", "model_compressed.npz"} {
		t.Run(file, func(t *testing.T) {
			ts, err := ReadNPZ(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			want := []Tensor{
				{Name: "weight", Shape: []int{3, 2}, Data: []float64{0, 0.5, 1, 1.5, 2, 2.5}},
				{Name: "bias", Shape: []int{2}, Data: []float64{0.25, -0.75}},
				{Name: "step", Shape: []int{}, Data: []float64{1200}},
			}
			if len(ts) != len(want) {
				t.Fatalf("got %d tensors, want %d", len(ts), len(want))
			}
			for i, w := range want {
				g := ts[i]
				if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || !sameBits(g.Data, w.Data) {
					t.Errorf("tensor %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestSafetensorsHandmade(t *testing.T) {
	ts, err := ReadSafetensors(filepath.Join("testdata", "handmade.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{ // sorted by name; the file stores w, b, h, bf, i, flag, s
		{Name: "b", Shape: []int{2}, Data: []float64{0.125, -1e-300}},
		{Name: "bf", Shape: []int{2}, Data: []float64{1, -2.5}},
		{Name: "flag", Shape: []int{2}, Data: []float64{1, 0}},
		{Name: "h", Shape: []int{3}, Data: []float64{0.5, -65504, 0x1p-24}},
		{Name: "i", Shape: []int{3}, Data: []float64{-7, 0, 1 << 53}},
		{Name: "s", Shape: []int{}, Data: []float64{42}},
		{Name: "w", Shape: []int{2, 2}, Data: []float64{1.5, -2, f32(0.1), f32(3e38)}},
	}
	if len(ts) != len(want) {
		t.Fatalf("got %d tensors %v, want %d", len(ts), ts, len(want))
	}
	for i, w := range want {
		g := ts[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || !sameBits(g.Data, w.Data) {
			t.Errorf("tensor %d = %+v, want %+v", i, g, w)
		}
	}
	_, err = ReadSafetensors(filepath.Join("testdata", "f8e4m3.safetensors"))
	if err == nil || !strings.Contains(err.Error(), `"F8_E4M3"`) {
		t.Errorf("F8_E4M3: err = %v", err)
	}
}
