package infer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
)

// NUTS samples the exact posterior of the conjugate problems: means within
// 0.01 and variances within 5% from 4 x 1000 draws.
func TestConformanceNUTS(t *testing.T) {
	infertest.Run(t, &infer.NUTS{Warmup: 300, Samples: 1000}, infertest.Want{MeanTol: 0.01, VarTol: 0.05, Draws: 4000})
}

// gaussian is a problem whose posterior is N(0, diag(sd²)) with sd spread
// over three orders of magnitude and one pair strongly correlated: the
// adapted mass matrix must absorb the scales for the sampler to mix.
func gaussian(sd []float64, corr float64) *infer.Problem {
	d := len(sd)
	// Precision of the 2 x 2 block of coordinates 0 and 1 with correlation corr.
	det := 1 - corr*corr
	return &infer.Problem{Dim: d, N: 1,
		Init: func(theta []float64, rng *rand.Rand) {
			for i := range theta {
				theta[i] = rng.NormFloat64()
			}
		},
		NegLogLik: func(grad, theta []float64, idx []int) float64 {
			u := 0.0
			z0, z1 := theta[0]/sd[0], theta[1]/sd[1]
			u += 0.5 * (z0*z0 - 2*corr*z0*z1 + z1*z1) / det
			if grad != nil {
				grad[0] = (z0 - corr*z1) / det / sd[0]
				grad[1] = (z1 - corr*z0) / det / sd[1]
			}
			for i := 2; i < d; i++ {
				z := theta[i] / sd[i]
				u += 0.5 * z * z
				if grad != nil {
					grad[i] = z / sd[i]
				}
			}
			return u
		},
	}
}

func TestNUTSScalesAndCorrelation(t *testing.T) {
	sd := []float64{1, 1, 0.01, 10, 0.3}
	p := gaussian(sd, 0.9)
	post, err := infer.NUTS{Warmup: 500, Samples: 1000, Chains: 2}.Fit(context.Background(), p, rand.New(rand.NewPCG(3, 4)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ns := post.(*infer.NUTSSamples)
	if ns.Divergent > 0 {
		t.Errorf("%d divergent transitions", ns.Divergent)
	}
	draws := post.Draw(0, nil)
	mean, variance := infertest.Moments(draws)
	for i, s := range sd {
		if math.Abs(mean[i]) > 0.1*s {
			t.Errorf("mean[%d] = %.4g, want 0 ± %.3g", i, mean[i], 0.1*s)
		}
		if r := variance[i] / (s * s); r < 0.85 || r > 1.15 {
			t.Errorf("var[%d] / sd² = %.3f, want 1 ± 0.15", i, r)
		}
	}
	c := 0.0
	for _, th := range draws {
		c += th[0] * th[1]
	}
	if c /= float64(len(draws)); math.Abs(c-0.9) > 0.05 {
		t.Errorf("corr(θ0, θ1) = %.3f, want 0.9", c)
	}
	for c, eps := range ns.StepSize {
		if !(eps > 0.1 && eps < 2) {
			t.Errorf("chain %d: adapted step size %g: the mass matrix did not take the scales", c, eps)
		}
	}
}

// Same seed, same draws, whatever the scheduling of the chains.
func TestNUTSDeterminism(t *testing.T) {
	p := gaussian([]float64{1, 2, 0.5}, 0.5)
	m := infer.NUTS{Warmup: 50, Samples: 30, Chains: 3}
	a, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(9, 9)), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Fit(context.Background(), p, rand.New(rand.NewPCG(9, 9)), nil)
	da, db := a.Draw(0, nil), b.Draw(0, nil)
	if len(da) != 90 {
		t.Fatalf("%d draws, want 90", len(da))
	}
	if n := a.(*infer.NUTSSamples).Transitions; n != 90 {
		t.Errorf("%d transitions counted, want 90", n)
	}
	for i := range da {
		for j := range da[i] {
			if da[i][j] != db[i][j] {
				t.Fatalf("draw %d differs", i)
			}
		}
	}
}

// A log density that is not finite at the start is an error naming the
// chain, not NaN draws.
func TestNUTSBadStart(t *testing.T) {
	p := gaussian([]float64{1, 1}, 0)
	p.NegLogPrior = func(grad, theta []float64) float64 { return math.NaN() }
	_, err := infer.NUTS{Warmup: 5, Samples: 5, Chains: 1}.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 1)), nil)
	var de *infer.DivergenceError
	if !errors.As(err, &de) || de.Chain != 1 {
		t.Fatalf("err = %v, want a DivergenceError of chain 1", err)
	}
}

// Cancelling stops a fit inside a transition, not after it.
func TestNUTSCancel(t *testing.T) {
	p := gaussian([]float64{1, 1}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	inner := p.NegLogLik
	p.NegLogLik = func(grad, theta []float64, idx []int) float64 {
		if calls++; calls == 50 {
			cancel()
		}
		return inner(grad, theta, idx)
	}
	_, err := infer.NUTS{Warmup: 1000, Samples: 1000, Chains: 1}.Fit(ctx, p, rand.New(rand.NewPCG(1, 1)), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls > 51 {
		t.Errorf("%d gradient evaluations after the cancel", calls-50)
	}
}

// Thinning keeps every Thin-th draw but counts every transition, the
// denominator of the divergence warning.
func TestNUTSThin(t *testing.T) {
	p := gaussian([]float64{1, 2}, 0)
	post, err := infer.NUTS{Warmup: 30, Samples: 20, Thin: 3, Chains: 2}.Fit(context.Background(), p, rand.New(rand.NewPCG(2, 2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ns := post.(*infer.NUTSSamples)
	if ns.Len() != 40 || ns.Transitions != 120 {
		t.Errorf("%d draws of %d transitions, want 40 of 120", ns.Len(), ns.Transitions)
	}
	ns.Divergent = 3
	if w := ns.Warning(); !strings.HasPrefix(w, "3 of 120 transitions") {
		t.Errorf("warning %q", w)
	}
}
