package tensorio

import (
	"math"
	"reflect"
	"testing"
)

// Tensors encoded in memory decode to exactly what was encoded, and a
// damaged buffer is an error, never a panic or a huge allocation.
func TestSafetensorsBytes(t *testing.T) {
	ts := []Tensor{
		{Name: "a.w", Shape: []int{2, 3}, Data: []float64{1, -2, math.Pi, 1e-310, math.MaxFloat64, 0}},
		{Name: "b", Shape: []int{1}, Data: []float64{-0.5}},
	}
	buf, err := EncodeSafetensors(ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSafetensors(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ts) {
		t.Errorf("round trip: got %v, want %v", back, ts)
	}
	for _, n := range []int{0, 7, 8, 20, len(buf) - 1} {
		if _, err := DecodeSafetensors(buf[:n]); err == nil {
			t.Errorf("a buffer cut to %d of %d bytes decoded without error", n, len(buf))
		}
	}
	lying := append([]byte(nil), buf...)
	lying[0], lying[7] = 0xff, 0x7f // a header length far beyond the buffer
	if _, err := DecodeSafetensors(lying); err == nil {
		t.Error("a lying header length decoded without error")
	}
	if _, err := EncodeSafetensors([]Tensor{{Name: "x", Shape: []int{2}, Data: []float64{1}}}, nil); err == nil {
		t.Error("a tensor whose data does not match its shape encoded without error")
	}
}
