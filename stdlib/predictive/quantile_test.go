package predictive

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func regression(obs Observation, loc, scale []float64) *Predictive {
	p := &Predictive{Obs: obs}
	p.Resize(Regression, len(loc), 1, 1)
	copy(p.Loc, loc)
	copy(p.Scale, scale)
	return p
}

// One Normal draw: the quantile is loc + scale·Φ⁻¹(q).
func TestQuantileNormal(t *testing.T) {
	p := regression(nil, []float64{3}, []float64{0.5})
	for _, q := range []float64{1e-6, 0.05, 0.5, 0.95, 0.999} {
		want := 3 + 0.5*distuv.UnitNormal.Quantile(q)
		if got := p.Quantile(0, q); math.Abs(got-want) > 1e-9 {
			t.Errorf("q=%v: got %v, want %v", q, got, want)
		}
	}
}

// A symmetric two-component mixture has its median at the centre, and
// every quantile solves the mixture CDF (not the Normal with the same
// mean and variance, whose 5% quantile is far from it).
func TestQuantileMixture(t *testing.T) {
	p := regression(nil, []float64{-2, 2}, []float64{1, 1})
	if got := p.Quantile(0, 0.5); math.Abs(got) > 1e-9 {
		t.Errorf("median %v, want 0", got)
	}
	for _, q := range []float64{0.05, 0.3, 0.9} {
		y := p.Quantile(0, q)
		c := 0.5*distuv.UnitNormal.CDF(y+2) + 0.5*distuv.UnitNormal.CDF(y-2)
		if math.Abs(c-q) > 1e-10 {
			t.Errorf("q=%v: CDF(%v) = %v", q, y, c)
		}
	}
	moment := distuv.Normal{Mu: 0, Sigma: math.Sqrt(5)}.Quantile(0.05)
	if y := p.Quantile(0, 0.05); math.Abs(y-moment) < 0.1 {
		t.Errorf("5%% quantile %v is the moment-matched Normal's %v", y, moment)
	}
}

// A Cauchy (Student-t, 1 degree of freedom) has no mean or variance; its
// quantile is loc + scale·tan(π(q - ½)). (gonum's Student-t CDF, through
// the incomplete beta function, is good to about 1e-9, hence 1e-7 in y.)
func TestQuantileCauchy(t *testing.T) {
	p := regression(StudentT{DF: 1}, []float64{1}, []float64{2})
	for _, q := range []float64{0.01, 0.25, 0.5, 0.99} {
		want := 1 + 2*math.Tan(math.Pi*(q-0.5))
		if got := p.Quantile(0, q); math.Abs(got-want) > 1e-7*(1+math.Abs(want)) {
			t.Errorf("q=%v: got %v, want %v", q, got, want)
		}
	}
}

// A Poisson's quantile is the smallest count whose CDF reaches q.
func TestQuantilePoisson(t *testing.T) {
	rate := 3.5
	p := regression(Poisson{}, []float64{math.Log(rate)}, []float64{0})
	pois := distuv.Poisson{Lambda: rate}
	for _, q := range []float64{0.01, 0.05, 0.5, 0.95, pois.CDF(3)} {
		want := 0.0
		for pois.CDF(want) < q {
			want++
		}
		if got := p.Quantile(0, q); got != want {
			t.Errorf("q=%v: got %v, want %v", q, got, want)
		}
	}
}

func TestQuantilesLayout(t *testing.T) {
	p := &Predictive{}
	p.Resize(Regression, 1, 2, 1)
	copy(p.Loc, []float64{0, 10})
	copy(p.Scale, []float64{1, 1})
	qs := p.Quantiles([]float64{0.5, 0.975})
	if math.Abs(qs[0][1]-10) > 1e-9 || math.Abs(qs[1][0]-1.959963984540054) > 1e-9 {
		t.Errorf("quantiles %v", qs)
	}
}

// Far-apart components leave a trough where the density is almost zero:
// Newton's steps from there leave the bracket, and bisection takes over.
func TestQuantileSeparatedMixture(t *testing.T) {
	p := regression(nil, []float64{-30, 0.5, 40}, []float64{1, 0.01, 3})
	for _, q := range []float64{0.001, 0.2, 1.0 / 3, 0.5, 0.66, 0.9, 0.999} {
		y := p.Quantile(0, q)
		if c := p.CDF(0, y); math.Abs(c-q) > 1e-9 {
			t.Errorf("q=%v: CDF(%v) = %v", q, y, c)
		}
	}
}
