package dist

import (
	"math"
	"testing"

	"github.com/bayesl/bayesl/stdlib/num"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestGammaLogProb(t *testing.T) {
	for _, tc := range []struct{ y, logMean, shape float64 }{
		{1, 0, 1}, {0.3, 0.5, 2.5}, {80, math.Log(70), 40}, {1e-3, -2, 0.3}, {5, 1, 1e4},
	} {
		lp, dMean, dShape := GammaLogProb(tc.y, tc.logMean, tc.shape)
		want := distuv.Gamma{Alpha: tc.shape, Beta: tc.shape / math.Exp(tc.logMean)}.LogProb(tc.y)
		if !near(lp, want, 1e-12) {
			t.Errorf("GammaLogProb(%v) = %.17g, gonum %.17g", tc, lp, want)
		}
		gMean := fd(func(a float64) float64 { v, _, _ := GammaLogProb(tc.y, a, tc.shape); return v }, tc.logMean)
		gShape := fd(func(s float64) float64 { v, _, _ := GammaLogProb(tc.y, tc.logMean, s); return v }, tc.shape)
		if !near(dMean, gMean, fdTol) || !near(dShape, gShape, fdTol) {
			t.Errorf("%v: gradient (%v, %v), finite differences (%v, %v)", tc, dMean, dShape, gMean, gShape)
		}
	}
}

// The Fisher information is the variance of the score under the model:
// integrated here by quadrature over y, for the shape and the log mean.
func TestGammaFisher(t *testing.T) {
	for _, shape := range []float64{0.5, 1, 3, 50} {
		logMean := 0.7
		d := distuv.Gamma{Alpha: shape, Beta: shape / math.Exp(logMean)}
		score2 := func(k int) float64 {
			f := func(u float64) float64 { // y = quantile(u), so the integral is an expectation
				if u <= 0 || u >= 1 {
					return 0
				}
				_, a, s := GammaLogProb(d.Quantile(u), logMean, shape)
				return [...]float64{a, s}[k] * [...]float64{a, s}[k]
			}
			return quad.Fixed(f, 0, 1, 2000, nil, 0)
		}
		wantMean, wantShape := GammaFisher(shape)
		if got := score2(0); !near(got, wantMean, 2e-3) {
			t.Errorf("shape %v: E[score_logmean²] = %v, GammaFisher %v", shape, got, wantMean)
		}
		if got := score2(1); !near(got, wantShape, 2e-3*math.Max(1, 1/wantShape)) {
			t.Errorf("shape %v: E[score_shape²] = %v, GammaFisher %v", shape, got, wantShape)
		}
	}
}

func TestTrigamma(t *testing.T) {
	if got := Trigamma(1); !near(got, math.Pi*math.Pi/6, 1e-14) {
		t.Errorf("ψ'(1) = %.17g, want π²/6", got)
	}
	if got := Trigamma(0.5); !near(got, math.Pi*math.Pi/2, 1e-14) {
		t.Errorf("ψ'(½) = %.17g, want π²/2", got)
	}
	for _, x := range []float64{0.1, 2.5, 19.9, 20.1, 300} {
		if got, want := Trigamma(x), fd(num.Digamma, x); !near(got, want, 1e-6) {
			t.Errorf("ψ'(%v) = %v, finite difference of ψ %v", x, got, want)
		}
	}
	if !math.IsNaN(Trigamma(0)) {
		t.Error("ψ'(0) is not NaN")
	}
}
