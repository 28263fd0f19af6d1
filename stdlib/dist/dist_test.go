package dist

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/num"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// near reports whether a and b agree to tol relative to max(1, |a|, |b|).
func near(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// fd returns the central finite difference of f at x.
func fd(f func(float64) float64, x float64) float64 {
	h := 1e-6 * math.Max(1, math.Abs(x))
	return (f(x+h) - f(x-h)) / (2 * h)
}

// fdTol is the tolerance for comparing analytic derivatives with fd.
const fdTol = 1e-6

func TestNormalLogProb(t *testing.T) {
	tests := []struct {
		name          string
		y, loc, scale float64
	}{
		{"standard", 0.3, 0, 1},
		{"shifted", -2, 1.5, 0.7},
		{"narrow", 1e-3, 0, 1e-2},
		{"wide", 40, -3, 25},
		{"far tail", 30, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp, dLoc, dScale := NormalLogProb(tc.y, tc.loc, tc.scale)
			want := distuv.Normal{Mu: tc.loc, Sigma: tc.scale}.LogProb(tc.y)
			if !near(lp, want, 1e-14) {
				t.Errorf("lp = %v, want %v", lp, want)
			}
			gLoc := fd(func(l float64) float64 { v, _, _ := NormalLogProb(tc.y, l, tc.scale); return v }, tc.loc)
			gScale := fd(func(s float64) float64 { v, _, _ := NormalLogProb(tc.y, tc.loc, s); return v }, tc.scale)
			if !near(dLoc, gLoc, fdTol) {
				t.Errorf("dLoc = %v, finite difference %v", dLoc, gLoc)
			}
			if !near(dScale, gScale, fdTol) {
				t.Errorf("dScale = %v, finite difference %v", dScale, gScale)
			}
		})
	}
}

func TestLaplaceLogProb(t *testing.T) {
	tests := []struct {
		name          string
		y, loc, scale float64
	}{
		{"right", 0.8, 0, 1},
		{"left", -3, 1, 0.5},
		{"wide", 10, 2, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp, dY := LaplaceLogProb(tc.y, tc.loc, tc.scale)
			want := distuv.Laplace{Mu: tc.loc, Scale: tc.scale}.LogProb(tc.y)
			if !near(lp, want, 1e-14) {
				t.Errorf("lp = %v, want %v", lp, want)
			}
			g := fd(func(y float64) float64 { v, _ := LaplaceLogProb(y, tc.loc, tc.scale); return v }, tc.y)
			if !near(dY, g, fdTol) {
				t.Errorf("dY = %v, finite difference %v", dY, g)
			}
		})
	}
	t.Run("at loc", func(t *testing.T) {
		lp, dY := LaplaceLogProb(2, 2, 0.5)
		if dY != 0 {
			t.Errorf("dY at the kink = %v, want subgradient 0", dY)
		}
		if want := -math.Log(2 * 0.5); !near(lp, want, 1e-15) {
			t.Errorf("lp = %v, want %v", lp, want)
		}
	})
}

func TestStudentTLogProb(t *testing.T) {
	// ref is the log-density from mpmath at 40 digits, where given; the
	// others are checked against gonum's distuv.StudentsT, which forms the
	// same expression and is exact enough for small df.
	tests := []struct {
		name              string
		y, df, loc, scale float64
		ref               float64
	}{
		{"cauchy", 0.5, 1, 0, 1, 0},
		{"df3", -2, 3, 0.5, 2, 0},
		{"df30 tail", 12, 30, 0, 1.5, -19.035245142908662106},
		{"heavy tail", 1e3, 2.5, 0, 0.1, 0},
		{"below series switch", 0.5, 99.9, 0, 1, -1.0475345361920467168},
		{"above series switch", 0.5, 100.1, 0, 1, -1.0475273541304896324},
		{"df200", 0.5, 200, 0, 1, -1.0457350777399040911},
		{"near normal", 0.7, 1e6, 0.2, 1.1, -1.1175548407666552668},
		{"nearer normal", 0.7, 1e9, 0.2, 1.1, -1.117554498475598285},
		{"normal limit", 0.7, 1e15, 0.2, 1.1, -1.1175544981329649277},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp, dLoc, dScale := StudentTLogProb(tc.y, tc.df, tc.loc, tc.scale)
			want, tol := tc.ref, 1e-14
			if want == 0 {
				want, tol = distuv.StudentsT{Mu: tc.loc, Sigma: tc.scale, Nu: tc.df}.LogProb(tc.y), 1e-13
			}
			if !near(lp, want, tol) {
				t.Errorf("lp = %.17g, want %.17g", lp, want)
			}
			gLoc := fd(func(l float64) float64 { v, _, _ := StudentTLogProb(tc.y, tc.df, l, tc.scale); return v }, tc.loc)
			gScale := fd(func(s float64) float64 { v, _, _ := StudentTLogProb(tc.y, tc.df, tc.loc, s); return v }, tc.scale)
			if !near(dLoc, gLoc, fdTol) {
				t.Errorf("dLoc = %v, finite difference %v", dLoc, gLoc)
			}
			if !near(dScale, gScale, fdTol) {
				t.Errorf("dScale = %v, finite difference %v", dScale, gScale)
			}
			lpY, dY := StudentTLogProbY(tc.y, tc.df, tc.loc, tc.scale)
			gY := fd(func(y float64) float64 { v, _ := StudentTLogProbY(y, tc.df, tc.loc, tc.scale); return v }, tc.y)
			if lpY != lp {
				t.Errorf("StudentTLogProbY lp = %v, StudentTLogProb lp = %v", lpY, lp)
			}
			if !near(dY, gY, fdTol) {
				t.Errorf("dY = %v, finite difference %v", dY, gY)
			}
		})
	}
	t.Run("large df tends to normal", func(t *testing.T) {
		lp, _, _ := StudentTLogProb(0.7, 1e12, 0.2, 1.1)
		want, _, _ := NormalLogProb(0.7, 0.2, 1.1)
		if !near(lp, want, 1e-11) {
			t.Errorf("lp = %v, normal limit %v", lp, want)
		}
	})
}

func TestPoissonLogProb(t *testing.T) {
	tests := []struct {
		name       string
		y, logRate float64
	}{
		{"zero count", 0, 0.3},
		{"small rate", 2, -3},
		{"moderate", 7, math.Log(5.5)},
		{"large", 1000, math.Log(980)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp, d := PoissonLogProb(tc.y, tc.logRate)
			want := distuv.Poisson{Lambda: math.Exp(tc.logRate)}.LogProb(tc.y)
			if !near(lp, want, 1e-12) {
				t.Errorf("lp = %v, want %v", lp, want)
			}
			g := fd(func(l float64) float64 { v, _ := PoissonLogProb(tc.y, l); return v }, tc.logRate)
			if !near(d, g, fdTol) {
				t.Errorf("dLogRate = %v, finite difference %v", d, g)
			}
		})
	}
}

func TestBernoulliLogitLogProb(t *testing.T) {
	tests := []struct {
		name     string
		y, logit float64
		want     float64 // log p(y | logit)
	}{
		{"one", 1, 0.4, math.Log(1 / (1 + math.Exp(-0.4)))},
		{"zero", 0, 0.4, math.Log(1 - 1/(1+math.Exp(-0.4)))},
		{"one at 0", 1, 0, -math.Ln2},
		{"confident right", 1, 800, 0},
		{"confident wrong", 0, 800, -800},
		{"confident wrong neg", 1, -800, -800},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lp, d := BernoulliLogitLogProb(tc.y, tc.logit)
			if !near(lp, tc.want, 1e-14) {
				t.Errorf("lp = %v, want %v", lp, tc.want)
			}
			if math.Abs(tc.logit) < 100 {
				want := distuv.Bernoulli{P: 1 / (1 + math.Exp(-tc.logit))}.LogProb(tc.y)
				if !near(lp, want, 1e-14) {
					t.Errorf("lp = %v, distuv %v", lp, want)
				}
			}
			g := fd(func(l float64) float64 { v, _ := BernoulliLogitLogProb(tc.y, l); return v }, tc.logit)
			if !near(d, g, fdTol) {
				t.Errorf("dLogit = %v, finite difference %v", d, g)
			}
		})
	}
}

func TestCategoricalLogitLogProb(t *testing.T) {
	tests := []struct {
		name   string
		logits []float64
		k      int
	}{
		{"three", []float64{0.1, -1.2, 2.3}, 0},
		{"last", []float64{0.1, -1.2, 2.3}, 2},
		{"large logits", []float64{500, 501, 499.5}, 1},
		{"single", []float64{3}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			grad := make([]float64, len(tc.logits))
			lp := CategoricalLogitLogProb(grad, tc.logits, tc.k)
			want := num.LogSoftmax(nil, tc.logits)[tc.k]
			if !near(lp, want, 1e-13) {
				t.Errorf("lp = %v, want %v", lp, want)
			}
			if lpNil := CategoricalLogitLogProb(nil, tc.logits, tc.k); lpNil != lp {
				t.Errorf("with nil grad lp = %v, want %v", lpNil, lp)
			}
			for j := range tc.logits {
				g := fd(func(v float64) float64 {
					l := append([]float64(nil), tc.logits...)
					l[j] = v
					return CategoricalLogitLogProb(nil, l, tc.k)
				}, tc.logits[j])
				if !near(grad[j], g, fdTol) {
					t.Errorf("grad[%d] = %v, finite difference %v", j, grad[j], g)
				}
			}
		})
	}
}

func TestSoftplusSigmoidDelegate(t *testing.T) {
	for _, x := range []float64{-800, -30, -1, 0, 1e-3, 2, 700, 800} {
		if Softplus(x) != num.Softplus(x) || Sigmoid(x) != num.Sigmoid(x) {
			t.Errorf("dist and num disagree at %v", x)
		}
	}
	if v := Softplus(-800); !(v > 0) {
		t.Errorf("Softplus(-800) = %v, want > 0", v)
	}
}

// klQuad integrates q log(q/p) numerically over ±30 standard deviations of q.
func klQuad(mu, sigma, loc, scale float64) float64 {
	f := func(x float64) float64 {
		lq, _, _ := NormalLogProb(x, mu, sigma)
		lp, _, _ := NormalLogProb(x, loc, scale)
		return math.Exp(lq) * (lq - lp)
	}
	return quad.Fixed(f, mu-30*sigma, mu+30*sigma, 4000, nil, 0)
}

func TestKLNormal(t *testing.T) {
	tests := []struct {
		name                  string
		mu, sigma, loc, scale float64
	}{
		{"standard prior", 0.3, 0.5, 0, 1},
		{"narrow posterior", -1.2, 1e-3, 0, 1},
		{"shifted prior", 2, 0.8, 1, 0.3},
		{"wide posterior", 0, 4, 0.5, 1.5},
		{"near prior", 1e-4, 1 + 1e-4, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kl, dMu, dSigma := KLNormal(tc.mu, tc.sigma, tc.loc, tc.scale)
			direct := math.Log(tc.scale/tc.sigma) + (tc.sigma*tc.sigma+(tc.mu-tc.loc)*(tc.mu-tc.loc))/(2*tc.scale*tc.scale) - 0.5
			if !near(kl, direct, 1e-12) {
				t.Errorf("kl = %v, direct formula %v", kl, direct)
			}
			if q := klQuad(tc.mu, tc.sigma, tc.loc, tc.scale); !near(kl, q, 1e-8) {
				t.Errorf("kl = %v, quadrature %v", kl, q)
			}
			gMu := fd(func(m float64) float64 { v, _, _ := KLNormal(m, tc.sigma, tc.loc, tc.scale); return v }, tc.mu)
			gSigma := fd(func(s float64) float64 { v, _, _ := KLNormal(tc.mu, s, tc.loc, tc.scale); return v }, tc.sigma)
			if !near(dMu, gMu, fdTol) {
				t.Errorf("dMu = %v, finite difference %v", dMu, gMu)
			}
			if !near(dSigma, gSigma, fdTol) {
				t.Errorf("dSigma = %v, finite difference %v", dSigma, gSigma)
			}
		})
	}
	t.Run("q equals p", func(t *testing.T) {
		kl, dMu, dSigma := KLNormal(0.7, 1.3, 0.7, 1.3)
		if kl != 0 || dMu != 0 || math.Abs(dSigma) > 1e-16 {
			t.Errorf("KL(p‖p) = %v (dMu %v, dSigma %v), want 0", kl, dMu, dSigma)
		}
	})
	t.Run("nonnegative", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 11))
		for range 1000 {
			mu, loc := 3*rng.NormFloat64(), 3*rng.NormFloat64()
			sigma, scale := math.Exp(2*rng.NormFloat64()), math.Exp(2*rng.NormFloat64())
			if kl, _, _ := KLNormal(mu, sigma, loc, scale); !(kl >= 0) {
				t.Fatalf("KLNormal(%v, %v, %v, %v) = %v, want ≥ 0", mu, sigma, loc, scale, kl)
			}
		}
	})
	t.Run("small ratio precision", func(t *testing.T) {
		// sigma = scale(1+ε): KL ≈ ε² exactly to leading order; the naive
		// form would lose it to cancellation.
		const eps = 1e-7
		kl, _, _ := KLNormal(0, 1+eps, 0, 1)
		if want := eps * eps; !near(kl/want, 1, 1e-6) {
			t.Errorf("kl = %v, want ≈ %v", kl, want)
		}
	})
}
