package tensorio_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bayesl/bayesl/stdlib/tensorio"
)

func Example() {
	dir, _ := os.MkdirTemp("", "tensorio")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "net.safetensors")

	ts := []tensorio.Tensor{
		{Name: "fc1.weight", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}},
		{Name: "fc1.bias", Shape: []int{2}, Data: []float64{0.5, -0.5}},
	}
	if err := tensorio.WriteSafetensors(path, ts, nil); err != nil {
		fmt.Println(err)
		return
	}
	back, err := tensorio.ReadSafetensors(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range back {
		fmt.Println(t.Name, t.Shape, t.Data)
	}
	// Output:
	// fc1.bias [2] [0.5 -0.5]
	// fc1.weight [2 3] [1 2 3 4 5 6]
}

func ExampleLookup() {
	ts := []tensorio.Tensor{
		{Name: "fc1.weight", Shape: []int{1}, Data: []float64{1}},
		{Name: "fc2.weight", Shape: []int{1}, Data: []float64{2}},
	}
	_, err := tensorio.Lookup(ts, "fc1.wieght")
	fmt.Println(err)
	// Output: tensor "fc1.wieght": not found; did you mean "fc1.weight"? (tensors: fc1.weight, fc2.weight)
}

func ExampleReadNPZ() {
	// model.npz was written by numpy.savez(weight=..., bias=float32, step=int64).
	ts, err := tensorio.ReadNPZ("testdata/model.npz")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range ts {
		fmt.Println(t.Name, t.Shape, t.Data)
	}
	// Output:
	// weight [3 2] [0 0.5 1 1.5 2 2.5]
	// bias [2] [0.25 -0.75]
	// step [] [1200]
}

func ExampleWriteNPY() {
	dir, _ := os.MkdirTemp("", "tensorio")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "draws.npy")

	t := tensorio.Tensor{Shape: []int{2, 2}, Data: []float64{0.1, 0.2, 0.3, 0.4}}
	// Float32 halves the file; each value rounds to the nearest float32.
	if err := tensorio.WriteNPY(path, t, &tensorio.WriteOptions{DType: tensorio.Float32}); err != nil {
		fmt.Println(err)
		return
	}
	back, err := tensorio.ReadNPY(path) // numpy.load(path) reads it too
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Name, back.Shape)
	fmt.Printf("%.9f\n", back.Data)
	// Output:
	// draws [2 2]
	// [0.100000001 0.200000003 0.300000012 0.400000006]
}

func ExampleReadNPY_lyingHeader() {
	// A header that claims a billion float64 values in a file of 16 data
	// bytes is an error before anything is allocated for it.
	dir, _ := os.MkdirTemp("", "tensorio")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "lie.npy")
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }    \n"
	file := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), 0)
	file = append(append(file, dict...), make([]byte, 16)...)
	os.WriteFile(path, file, 0o644)

	_, err := tensorio.ReadNPY(path)
	fmt.Println(err.(*tensorio.Error).Msg)
	// Output: shape [1000000000] of <f8 needs 8000000000 bytes of data but the file holds 16
}
