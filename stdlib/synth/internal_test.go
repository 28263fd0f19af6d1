package synth

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSeparateGivesUp checks that the mean search is bounded: a distance
// that never exceeds the threshold (NaN) ends in an error, not a hang.
func TestSeparateGivesUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	_, err := separate(rng, [][]float64{{0, 0}}, []float64{math.NaN()}, 1, 2)
	if err == nil || !strings.Contains(err.Error(), "no mean at squared W2 distance") {
		t.Errorf("separate with an unreachable threshold: %v", err)
	}
	// The first component stops after one step.
	m, err := separate(rng, nil, nil, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	var norm float64
	for _, v := range m {
		norm += v * v
	}
	if want := walkStep * 48; math.Abs(math.Sqrt(norm)-want) > 1e-15 {
		t.Errorf("first mean at distance %v from the origin, want one step %v", math.Sqrt(norm), want)
	}
}
