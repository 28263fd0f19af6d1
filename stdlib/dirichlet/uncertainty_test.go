package dirichlet_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
	"github.com/bayesl/bayesl/stdlib/num"
)

// TestSanityTable is the table of docs/algorithms.md §6.
func TestSanityTable(t *testing.T) {
	for _, c := range []struct {
		alpha                       []float64
		total, aleatoric, epistemic float64
	}{
		{[]float64{1, 1}, 0.693147, 0.500000, 0.193147},
		{[]float64{1, 1, 1}, 1.098612, 0.833333, 0.265279},
		{[]float64{5, 5, 5}, 1.098612, 1.034896, 0.063717},
		{[]float64{5, 1, 1}, 0.796312, 0.676190, 0.120121},
		{[]float64{25, 5, 5}, 0.796312, 0.768716, 0.027596},
		{[]float64{100, 100}, 0.693147, 0.690653, 0.002494},
	} {
		t.Run(fmt.Sprint(c.alpha), func(t *testing.T) {
			prob, tot, ale, epi := dirichlet.Uncertainty(c.alpha)
			if !near(tot, c.total, 1e-6) || !near(ale, c.aleatoric, 1e-6) || !near(epi, c.epistemic, 1e-6) {
				t.Errorf("got total %.6f aleatoric %.6f epistemic %.6f, want %v %v %v",
					tot, ale, epi, c.total, c.aleatoric, c.epistemic)
			}
			var a0 float64
			for _, a := range c.alpha {
				a0 += a
			}
			for k, p := range prob {
				if !near(p, c.alpha[k]/a0, 1e-15) {
					t.Errorf("prob = %v, want α/α0", prob)
				}
			}
		})
	}
}

// direct is the textbook form of the decomposition, total − aleatoric.
func direct(alpha []float64) (total, aleatoric, epistemic float64) {
	var a0 float64
	for _, a := range alpha {
		a0 += a
	}
	for _, a := range alpha {
		p := a / a0
		total -= num.XLogX(p)
		aleatoric += p * (num.Digamma(a0+1) - num.Digamma(a+1))
	}
	return total, aleatoric, total - aleatoric
}

func TestAgainstDirectForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for range 200 {
		k := 1 + rng.IntN(10)
		alpha := make([]float64, k)
		for i := range alpha {
			alpha[i] = math.Exp(12*rng.Float64() - 5) // 7e-3 .. 1e3
		}
		_, tot, ale, epi := dirichlet.Uncertainty(alpha)
		wt, wa, we := direct(alpha)
		if !near(tot, wt, 1e-12) || !near(ale, wa, 1e-12) || !near(epi, we, 1e-12) {
			t.Errorf("α=%v: got %v %v %v, direct %v %v %v", alpha, tot, ale, epi, wt, wa, we)
		}
		if epi < 0 || ale < 0 || !near(tot, ale+epi, 1e-15) {
			t.Errorf("α=%v: total %v ≠ aleatoric %v + epistemic %v, or negative", alpha, tot, ale, epi)
		}
	}
	// K = 1: no uncertainty at all.
	if _, a, b, c := dirichlet.Uncertainty([]float64{3}); a != 0 || b != 0 || c != 0 {
		t.Errorf("K=1: %v %v %v, want zeros", a, b, c)
	}
}

// TestLargeConcentration checks MI ≈ (K−1)/(2α0), and its next term
// −(Σ_k 1/p̂_k − 1)/(12 α0²), far beyond where total − aleatoric cancels.
func TestLargeConcentration(t *testing.T) {
	p := []float64{0.2, 0.3, 0.5}
	var inv float64
	for _, v := range p {
		inv += 1 / v
	}
	for _, a0 := range []float64{1e2, 1e3, 1e4, 1e6, 1e9, 1e12} {
		alpha := []float64{p[0] * a0, p[1] * a0, p[2] * a0}
		_, tot, ale, epi := dirichlet.Uncertainty(alpha)
		first := 2 / (2 * a0)
		if r := epi/first - 1; math.Abs(r) > 1/a0 {
			t.Errorf("α0=%g: MI = %v, (K−1)/(2α0) = %v (relative %v)", a0, epi, first, r)
		}
		second := first - (inv-1)/(12*a0*a0)
		if a0 >= 1e4 && !near(epi/second, 1, 1e-9) {
			t.Errorf("α0=%g: MI = %.15g, second-order %.15g", a0, epi, second)
		}
		if !near(tot, -num.XLogX(.2)-num.XLogX(.3)-num.XLogX(.5), 1e-12) || !near(ale, tot-epi, 1e-15) {
			t.Errorf("α0=%g: total %v aleatoric %v", a0, tot, ale)
		}
	}
}

// TestMonteCarlo compares the closed forms with π ~ Dir(α) drawn by gonum:
// aleatoric = E[H(π)], total = H(E[π]) and epistemic = their difference,
// each within four standard errors.
func TestMonteCarlo(t *testing.T) {
	for i, alpha := range [][]float64{{1, 1, 1}, {5, 1, 1}, {0.5, 2, 3}, {25, 5, 5}, {0.3, 0.3}, {3, 1, 4, 1, 5}} {
		t.Run(fmt.Sprint(alpha), func(t *testing.T) {
			k := len(alpha)
			const s = 20000
			pis := draws(alpha, s, uint64(100+i))
			prob, tot, ale, epi := dirichlet.Uncertainty(alpha)

			// E[H(π)] and the sample mean of π.
			var hs, hs2 float64
			mean := make([]float64, k)
			for m := range s {
				row := pis[m*k : (m+1)*k]
				var h float64
				for j, v := range row {
					h -= num.XLogX(v)
					mean[j] += v / s
				}
				hs += h
				hs2 += h * h
			}
			eh := hs / s
			seH := math.Sqrt(max(0, hs2/s-eh*eh) / s)
			// H(p̄) and its delta-method standard error: the gradient of H
			// at p̂ is −(log p̂ + 1), so H(p̄) − H(p̂) ≈ mean of u_m − E u.
			var hm float64
			for _, v := range mean {
				hm -= num.XLogX(v)
			}
			var us, us2 float64
			for m := range s {
				var u float64
				for j, v := range pis[m*k : (m+1)*k] {
					u -= v * (math.Log(prob[j]) + 1)
				}
				us += u
				us2 += u * u
			}
			um := us / s
			seT := math.Sqrt(max(0, us2/s-um*um) / s)

			if !near(ale, eh, 4*seH) {
				t.Errorf("aleatoric %v, Monte Carlo E[H(π)] = %v ± %v", ale, eh, seH)
			}
			if !near(tot, hm, 4*seT+1e-4) {
				t.Errorf("total %v, Monte Carlo H(π̄) = %v ± %v", tot, hm, seT)
			}
			if !near(epi, hm-eh, 4*(seH+seT)+1e-4) {
				t.Errorf("epistemic %v, Monte Carlo %v ± %v", epi, hm-eh, seH+seT)
			}
		})
	}
}

func TestUncertaintyBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n, k = 7, 3
	alpha := make([]float64, n*k)
	for i := range alpha {
		alpha[i] = 1 + 20*rng.Float64()
	}
	alpha[2*k+1] = -1 // an invalid row stays local
	prob := make([]float64, n*k)
	tot, ale, epi := make([]float64, n), make([]float64, n), make([]float64, n)
	dirichlet.UncertaintyBatch(prob, tot, ale, epi, alpha, k)
	for i := range n {
		p, a, b, c := dirichlet.Uncertainty(alpha[i*k : (i+1)*k])
		same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
		if !same(tot[i], a) || !same(ale[i], b) || !same(epi[i], c) {
			t.Errorf("row %d: batch %v %v %v, single %v %v %v", i, tot[i], ale[i], epi[i], a, b, c)
		}
		for j := range p {
			if !same(prob[i*k+j], p[j]) {
				t.Errorf("row %d: batch prob %v, single %v", i, prob[i*k:(i+1)*k], p)
			}
		}
		if (i == 2) != math.IsNaN(tot[i]) {
			t.Errorf("row %d: total %v", i, tot[i])
		}
	}
	// Destinations may be skipped.
	e2 := make([]float64, n)
	dirichlet.UncertaintyBatch(nil, nil, nil, e2, alpha, k)
	for i := range e2 {
		if e2[i] != epi[i] && !math.IsNaN(e2[i]) {
			t.Errorf("epistemic only: row %d = %v, want %v", i, e2[i], epi[i])
		}
	}
}
