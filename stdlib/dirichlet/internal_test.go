package dirichlet

import (
	"math"
	"testing"

	"github.com/bayesl/bayesl/stdlib/num"
)

// TestDigammaGap checks the series branch of g(x) = ψ(x+1) − log x against
// the direct form where both are accurate, and its continuity at the switch.
func TestDigammaGap(t *testing.T) {
	for _, x := range []float64{20, 25, 40, 100} {
		want := num.Digamma(x+1) - math.Log(x)
		if got := digammaGap(x); math.Abs(got-want) > 1e-15 {
			t.Errorf("g(%v) = %.17g, direct %.17g", x, got, want)
		}
	}
	below := digammaGap(math.Nextafter(20, 0))
	if at := digammaGap(20); math.Abs(at-below) > 1e-15 {
		t.Errorf("g jumps at 20: %.17g vs %.17g", below, at)
	}
	for _, x := range []float64{1e3, 1e6, 1e12} {
		if r := digammaGap(x) * 2 * x; math.Abs(r-1) > 1/x {
			t.Errorf("2x·g(%g) = %v, want ≈ 1", x, r)
		}
	}
}
