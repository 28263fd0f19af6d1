package predictive

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Every Sampler draws from its own observation model: the sample mean and
// variance of many draws match Mean and Var.
func TestSamplers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		obs        Observation
		loc, scale float64
	}{
		{"normal", Normal{}, 1.5, 0.7}, {"studentt", StudentT{DF: 8}, -1, 2},
		{"poisson", Poisson{}, math.Log(3.5), 0}, {"gamma", Gamma{}, math.Log(4), 2.5},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 200000
		sum, sum2 := 0.0, 0.0
		for range n {
			y := tc.obs.(Sampler).Rand(tc.loc, tc.scale, rng)
			sum += y
			sum2 += y * y
		}
		mean, v := sum/n, sum2/n-(sum/n)*(sum/n)
		wantM, wantV := tc.obs.Mean(tc.loc, tc.scale), tc.obs.Var(tc.loc, tc.scale)
		if math.Abs(mean-wantM) > 5*math.Sqrt(wantV/n) || math.Abs(v/wantV-1) > 0.03 {
			t.Errorf("%s: sample mean %.4f, var %.4f; want %.4f, %.4f", tc.name, mean, v, wantM, wantV)
		}
	}
}
