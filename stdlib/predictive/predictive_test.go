package predictive

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func near(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// classif builds a classification Predictive from per-sample probability
// rows probs[s][n] (each of length K).
func classif(probs [][][]float64) *Predictive {
	S, N, K := len(probs), len(probs[0]), len(probs[0][0])
	p := new(Predictive)
	p.Resize(Classification, S, N, K)
	for s := range S {
		for n := range N {
			for k := range K {
				p.LogProb[(s*N+n)*K+k] = math.Log(probs[s][n][k])
			}
		}
	}
	return p
}

// regress builds a regression Predictive from S x N locations and scales.
func regress(obs Observation, loc, scale [][]float64) *Predictive {
	S, N := len(loc), len(loc[0])
	p := &Predictive{Obs: obs}
	p.Resize(Regression, S, N, 0)
	for s := range S {
		copy(p.Loc[s*N:], loc[s])
		copy(p.Scale[s*N:], scale[s])
	}
	return p
}

func TestClassificationSanity(t *testing.T) {
	tests := []struct {
		name            string
		probs           [][][]float64
		total, alea, mi float64
	}{
		{
			name:  "two disagreeing members",
			probs: [][][]float64{{{0.9, 0.1}}, {{0.1, 0.9}}},
			total: 0.693147, alea: 0.325083, mi: 0.368064,
		},
		{
			name:  "one-hot members",
			probs: [][][]float64{{{1, 0}}, {{0, 1}}},
			total: math.Ln2, alea: 0, mi: math.Ln2,
		},
		{
			name:  "identical members",
			probs: [][][]float64{{{0.2, 0.5, 0.3}}, {{0.2, 0.5, 0.3}}, {{0.2, 0.5, 0.3}}},
			total: 1.029653, alea: 1.029653, mi: 0,
		},
		{
			name:  "single sample",
			probs: [][][]float64{{{0.5, 0.5}}},
			total: math.Ln2, alea: math.Ln2, mi: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prob, total, alea, mi := classif(tc.probs).Classification()
			if math.Abs(total[0]-tc.total) > 5e-7 || math.Abs(alea[0]-tc.alea) > 5e-7 || math.Abs(mi[0]-tc.mi) > 5e-7 {
				t.Errorf("total, aleatoric, MI = %.6f, %.6f, %.6f, want %.6f, %.6f, %.6f",
					total[0], alea[0], mi[0], tc.total, tc.alea, tc.mi)
			}
			if mi[0] < 0 {
				t.Errorf("MI = %v < 0", mi[0])
			}
			if d := total[0] - alea[0] - mi[0]; math.Abs(d) > 1e-12 {
				t.Errorf("total - aleatoric - MI = %v", d)
			}
			S := float64(len(tc.probs))
			for k := range prob {
				want := 0.0
				for s := range tc.probs {
					want += tc.probs[s][0][k] / S
				}
				if !near(prob[k], want, 1e-15) {
					t.Errorf("prob[%d] = %v, want %v", k, prob[k], want)
				}
			}
		})
	}
}

func TestClassificationIdenticalRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const S, N, K = 7, 50, 5
	row := make([][]float64, N)
	for n := range row {
		row[n] = make([]float64, K)
		sum := 0.0
		for k := range row[n] {
			row[n][k] = rng.ExpFloat64()
			sum += row[n][k]
		}
		for k := range row[n] {
			row[n][k] /= sum
		}
	}
	probs := make([][][]float64, S)
	for s := range probs {
		probs[s] = row
	}
	_, _, _, mi := classif(probs).Classification()
	for n, v := range mi {
		if math.Abs(v) > 1e-15 || v < 0 {
			t.Errorf("MI[%d] = %v for identical samples, want 0", n, v)
		}
	}
}

func TestClassificationRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const S, N, K = 10, 40, 4
	p := new(Predictive)
	p.Resize(Classification, S, N, K)
	logits := make([]float64, K)
	for s := range S {
		for n := range N {
			for k := range logits {
				logits[k] = 3 * rng.NormFloat64()
			}
			lse := math.Log(math.Exp(logits[0]) + math.Exp(logits[1]) + math.Exp(logits[2]) + math.Exp(logits[3]))
			for k := range logits {
				p.LogProb[(s*N+n)*K+k] = logits[k] - lse
			}
		}
	}
	prob, total, alea, mi := p.Classification()
	for n := range N {
		sum := 0.0
		for k := range K {
			sum += prob[n*K+k]
		}
		if !near(sum, 1, 1e-14) {
			t.Errorf("Σ prob[%d] = %v", n, sum)
		}
		if !(mi[n] >= 0) || total[n] > math.Log(K)+1e-15 || alea[n] < 0 {
			t.Errorf("example %d: total %v, aleatoric %v, MI %v", n, total[n], alea[n], mi[n])
		}
		if d := total[n] - alea[n] - mi[n]; math.Abs(d) > 1e-12 {
			t.Errorf("example %d: total - aleatoric - MI = %v", n, d)
		}
	}
}

func TestRegression(t *testing.T) {
	t.Run("hand values", func(t *testing.T) {
		p := regress(Normal{}, [][]float64{{1, 0}, {3, 0}}, [][]float64{{1, 2}, {2, 2}})
		mean, alea, epi := p.Regression()
		want := [][]float64{{2, 0}, {2.5, 4}, {1, 0}}
		for i, got := range [][]float64{mean, alea, epi} {
			for n := range got {
				if got[n] != want[i][n] {
					t.Errorf("output %d = %v, want %v", i, got, want[i])
				}
			}
		}
	})
	t.Run("nil Obs is Normal", func(t *testing.T) {
		p := regress(nil, [][]float64{{1}, {3}}, [][]float64{{1}, {2}})
		_, alea, _ := p.Regression()
		if alea[0] != 2.5 {
			t.Errorf("aleatoric = %v, want 2.5", alea[0])
		}
	})
	t.Run("identical samples", func(t *testing.T) {
		loc := [][]float64{{0.1, -7.3}, {0.1, -7.3}, {0.1, -7.3}}
		sc := [][]float64{{0.5, 2}, {0.5, 2}, {0.5, 2}}
		mean, alea, epi := regress(Normal{}, loc, sc).Regression()
		for n := range mean {
			if epi[n] > 1e-30 || !near(mean[n], loc[0][n], 1e-15) || !near(alea[n], sc[0][n]*sc[0][n], 1e-15) {
				t.Errorf("example %d: mean %v, aleatoric %v, epistemic %v", n, mean[n], alea[n], epi[n])
			}
		}
	})
	// total = aleatoric + epistemic is the variance of the mixture, which
	// is checked here against E[Var + μ²] - E[μ]² computed independently.
	obsModels := []struct {
		name string
		obs  Observation
	}{
		{"normal", Normal{}},
		{"studentt", StudentT{DF: 5}},
		{"poisson", Poisson{}},
	}
	for _, om := range obsModels {
		t.Run("mixture variance "+om.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 9))
			const S, N = 30, 20
			loc, sc := make([][]float64, S), make([][]float64, S)
			for s := range S {
				loc[s], sc[s] = make([]float64, N), make([]float64, N)
				for n := range N {
					loc[s][n] = float64(n)/10 + 0.5*rng.NormFloat64()
					sc[s][n] = math.Exp(0.3 * rng.NormFloat64())
				}
			}
			p := regress(om.obs, loc, sc)
			mean, alea, epi := p.Regression()
			for n := range N {
				m, m2 := 0.0, 0.0
				for s := range S {
					mu := om.obs.Mean(loc[s][n], sc[s][n])
					m += mu / S
					m2 += (om.obs.Var(loc[s][n], sc[s][n]) + mu*mu) / S
				}
				total := m2 - m*m
				if !near(mean[n], m, 1e-13) || !near(alea[n]+epi[n], total, 1e-12) || epi[n] < 0 {
					t.Errorf("example %d: mean %v (want %v), aleatoric+epistemic %v (want %v)",
						n, mean[n], m, alea[n]+epi[n], total)
				}
			}
		})
	}
}

func TestLogLik(t *testing.T) {
	t.Run("regression mixture", func(t *testing.T) {
		p := regress(Normal{}, [][]float64{{0, 1}, {2, 1}}, [][]float64{{1, 0.5}, {0.5, 0.5}})
		y := []float64{0.7, 40}
		got := p.LogLik(y)
		for n := range y {
			d0 := distuv.Normal{Mu: p.Loc[n], Sigma: p.Scale[n]}.Prob(y[n])
			d1 := distuv.Normal{Mu: p.Loc[2+n], Sigma: p.Scale[2+n]}.Prob(y[n])
			want := math.Log((d0 + d1) / 2)
			if n == 1 {
				// Both densities underflow; the mixture of two equal
				// log-densities is that log-density.
				want = distuv.Normal{Mu: 1, Sigma: 0.5}.LogProb(40)
			}
			if !near(got[n], want, 1e-13) {
				t.Errorf("LogLik[%d] = %v, want %v", n, got[n], want)
			}
		}
		if math.IsInf(got[1], 0) {
			t.Errorf("LogLik underflowed to %v", got[1])
		}
	})
	t.Run("classification", func(t *testing.T) {
		p := classif([][][]float64{{{0.9, 0.1}, {0.6, 0.4}}, {{0.1, 0.9}, {0.2, 0.8}}})
		got := p.LogLik([]float64{0, 1})
		want := []float64{math.Log(0.5), math.Log(0.6)}
		for n := range want {
			if !near(got[n], want[n], 1e-15) {
				t.Errorf("LogLik[%d] = %v, want %v", n, got[n], want[n])
			}
		}
	})
	t.Run("classification one-hot wrong", func(t *testing.T) {
		p := classif([][][]float64{{{1, 0}}, {{1, 0}}})
		if got := p.LogLik([]float64{1}); !math.IsInf(got[0], -1) {
			t.Errorf("LogLik = %v, want -Inf", got)
		}
	})
}

func TestCDF(t *testing.T) {
	obsModels := []struct {
		name string
		obs  Observation
	}{
		{"normal", Normal{}},
		{"studentt", StudentT{DF: 3}},
	}
	for _, om := range obsModels {
		t.Run(om.name, func(t *testing.T) {
			p := regress(om.obs, [][]float64{{0}, {2}, {-1}}, [][]float64{{1}, {0.5}, {2}})
			// The mixture CDF's derivative is the mixture density.
			for _, y := range []float64{-3, -0.5, 0.3, 1.9, 4} {
				const h = 1e-5
				fd := (p.CDF(0, y+h) - p.CDF(0, y-h)) / (2 * h)
				if dens := math.Exp(p.LogLik([]float64{y})[0]); !near(fd, dens, 1e-7) {
					t.Errorf("dCDF/dy(%v) = %v, mixture density %v", y, fd, dens)
				}
			}
			if c := p.CDF(0, math.Inf(-1)); c != 0 {
				t.Errorf("CDF(-Inf) = %v", c)
			}
			if c := p.CDF(0, math.Inf(1)); c != 1 {
				t.Errorf("CDF(+Inf) = %v", c)
			}
		})
	}
	t.Run("poisson", func(t *testing.T) {
		p := regress(Poisson{}, [][]float64{{math.Log(2)}, {math.Log(5)}}, [][]float64{{0}, {0}})
		prev := 0.0
		for y := range 30 {
			c := p.CDF(0, float64(y))
			pmf := math.Exp(p.LogLik([]float64{float64(y)})[0])
			if !near(c-prev, pmf, 1e-13) {
				t.Errorf("CDF(%d) - CDF(%d) = %v, pmf %v", y, y-1, c-prev, pmf)
			}
			if p.CDF(0, float64(y)+0.5) != c {
				t.Errorf("CDF is not a step function at %d", y)
			}
			prev = c
		}
	})
}

func TestObservations(t *testing.T) {
	tests := []struct {
		name string
		obs  Observation
		ref  interface {
			LogProb(float64) float64
			CDF(float64) float64
			Mean() float64
			Variance() float64
		}
		loc, scale float64
		ys         []float64
	}{
		{"normal", Normal{}, distuv.Normal{Mu: 1.5, Sigma: 0.7}, 1.5, 0.7, []float64{-3, 0, 1.5, 2.2, 9}},
		{"studentt", StudentT{DF: 4.5}, distuv.StudentsT{Mu: -1, Sigma: 2, Nu: 4.5}, -1, 2, []float64{-30, -1, 0.3, 5}},
		{"poisson", Poisson{}, distuv.Poisson{Lambda: 3.5}, math.Log(3.5), 99, []float64{0, 1, 3, 7, 20}},
		{"gamma", Gamma{}, distuv.Gamma{Alpha: 2.5, Beta: 2.5 / 4}, math.Log(4), 2.5, []float64{0.01, 1, 4, 12, 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := tc.obs.Mean(tc.loc, tc.scale), tc.ref.Mean(); !near(got, want, 1e-14) {
				t.Errorf("Mean = %v, want %v", got, want)
			}
			if got, want := tc.obs.Var(tc.loc, tc.scale), tc.ref.Variance(); !near(got, want, 1e-14) {
				t.Errorf("Var = %v, want %v", got, want)
			}
			for _, y := range tc.ys {
				if got, want := tc.obs.LogProb(y, tc.loc, tc.scale), tc.ref.LogProb(y); !near(got, want, 1e-13) {
					t.Errorf("LogProb(%v) = %v, want %v", y, got, want)
				}
				if got, want := tc.obs.CDF(y, tc.loc, tc.scale), tc.ref.CDF(y); !near(got, want, 1e-13) {
					t.Errorf("CDF(%v) = %v, want %v", y, got, want)
				}
			}
		})
	}
	t.Run("normal lower tail", func(t *testing.T) {
		// Φ(-30) ≈ 4.906e-198: 1 - Φ(30) would give 0.
		if c := (Normal{}).CDF(-30, 0, 1); !near(c/4.906713927148187e-198, 1, 1e-12) {
			t.Errorf("CDF(-30) = %v", c)
		}
	})
	t.Run("studentt moments", func(t *testing.T) {
		if v := (StudentT{DF: 2}).Var(0, 1); !math.IsInf(v, 1) {
			t.Errorf("Var with DF=2 = %v, want +Inf", v)
		}
		if v := (StudentT{DF: 1}).Var(0, 1); !math.IsNaN(v) {
			t.Errorf("Var with DF=1 = %v, want NaN", v)
		}
		if m := (StudentT{DF: 1}).Mean(0, 1); !math.IsNaN(m) {
			t.Errorf("Mean with DF=1 = %v, want NaN", m)
		}
	})
	t.Run("poisson support", func(t *testing.T) {
		o := Poisson{}
		if lp := o.LogProb(-1, 0, 0); !math.IsInf(lp, -1) {
			t.Errorf("LogProb(-1) = %v", lp)
		}
		if lp := o.LogProb(1.5, 0, 0); !math.IsInf(lp, -1) {
			t.Errorf("LogProb(1.5) = %v", lp)
		}
		if c := o.CDF(-0.5, 0, 0); c != 0 {
			t.Errorf("CDF(-0.5) = %v", c)
		}
		if c := o.CDF(math.Inf(1), 0, 0); c != 1 {
			t.Errorf("CDF(+Inf) = %v", c)
		}
		if c := o.CDF(0, math.Inf(-1), 0); c != 1 {
			t.Errorf("CDF(0) at rate 0 = %v", c)
		}
	})
}

func TestEmpty(t *testing.T) {
	t.Run("no samples", func(t *testing.T) {
		r := &Predictive{}
		r.Resize(Regression, 0, 2, 0)
		mean, alea, epi := r.Regression()
		ll := r.LogLik([]float64{1, 2})
		for _, v := range [][]float64{mean, alea, epi, ll, {r.CDF(0, 1)}} {
			for _, x := range v {
				if !math.IsNaN(x) {
					t.Errorf("got %v, want NaN with S = 0", v)
				}
			}
		}
		c := &Predictive{}
		c.Resize(Classification, 0, 2, 3)
		prob, total, _, _ := c.Classification()
		if len(prob) != 6 || len(total) != 2 || !math.IsNaN(prob[0]) || !math.IsNaN(total[0]) {
			t.Errorf("prob %v, total %v, want NaN with S = 0", prob, total)
		}
	})
	t.Run("no examples", func(t *testing.T) {
		r := &Predictive{}
		r.Resize(Regression, 4, 0, 0)
		mean, _, _ := r.Regression()
		if len(mean) != 0 || len(r.LogLik(nil)) != 0 {
			t.Errorf("non-empty results for N = 0")
		}
		c := &Predictive{}
		c.Resize(Classification, 4, 0, 3)
		prob, total, _, _ := c.Classification()
		if len(prob) != 0 || len(total) != 0 || len(c.LogLik(nil)) != 0 {
			t.Errorf("non-empty results for N = 0")
		}
	})
}

func TestMisuse(t *testing.T) {
	reg := regress(Normal{}, [][]float64{{0}}, [][]float64{{1}})
	cls := classif([][][]float64{{{0.5, 0.5}}})
	tests := []struct {
		name string
		f    func()
		msg  string
	}{
		{"Regression on classification", func() { cls.Regression() }, "Regression called on a classification"},
		{"Classification on regression", func() { reg.Classification() }, "Classification called on a regression"},
		{"CDF on classification", func() { cls.CDF(0, 0) }, "CDF called on a classification"},
		{"CDF out of range", func() { reg.CDF(1, 0) }, "out of range"},
		{"LogLik length", func() { reg.LogLik([]float64{1, 2}) }, "2 targets for 1 examples"},
		{"label too large", func() { cls.LogLik([]float64{2}) }, "not a class index"},
		{"label fractional", func() { cls.LogLik([]float64{0.5}) }, "not a class index"},
		{"label NaN", func() { cls.LogLik([]float64{math.NaN()}) }, "not a class index"},
		{"short slices", func() { (&Predictive{Kind: Regression, S: 2, N: 2}).Regression() }, "need S*N = 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, ok := r.(string)
				if !ok || !strings.HasPrefix(s, "predictive: ") || !strings.Contains(s, tc.msg) {
					t.Errorf("panic %v, want a predictive: panic containing %q", r, tc.msg)
				}
			}()
			tc.f()
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Regression: "regression", Classification: "classification", 7: "Kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
