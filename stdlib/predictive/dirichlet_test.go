package predictive

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestDirichletTable: a Dirichlet predictive reproduces the closed-form
// values of docs/algorithms.md §6 and takes its NLL from α_y/α0.
func TestDirichletTable(t *testing.T) {
	rows := []struct {
		alpha                 []float64
		total, alea, epistemc float64
	}{
		{[]float64{5, 1, 1}, 0.796312, 0.676190, 0.120121},
		{[]float64{25, 5, 5}, 0.796312, 0.768716, 0.027596},
		{[]float64{5, 5, 5}, 1.098612, 1.034896, 0.063717},
	}
	var alpha []float64
	for _, r := range rows {
		alpha = append(alpha, r.alpha...)
	}
	p := new(Predictive)
	p.SetDirichlet(alpha, len(rows), 3)
	if p.Kind != Classification || p.S != 1 || p.N != 3 || p.K != 3 {
		t.Fatalf("SetDirichlet gave %v S=%d N=%d K=%d", p.Kind, p.S, p.N, p.K)
	}
	prob, total, alea, epi := p.Classification()
	for n, r := range rows {
		if !near(total[n], r.total, 1e-6) || !near(alea[n], r.alea, 1e-6) || !near(epi[n], r.epistemc, 1e-6) {
			t.Errorf("α=%v: total %.6f aleatoric %.6f epistemic %.6f, want %.6f %.6f %.6f",
				r.alpha, total[n], alea[n], epi[n], r.total, r.alea, r.epistemc)
		}
		a0 := r.alpha[0] + r.alpha[1] + r.alpha[2]
		for k, a := range r.alpha {
			if !near(prob[n*3+k], a/a0, 1e-15) {
				t.Errorf("α=%v: prob[%d] = %v, want %v", r.alpha, k, prob[n*3+k], a/a0)
			}
		}
	}
	ll := p.LogLik([]float64{0, 1, 2})
	for n, y := range []int{0, 1, 2} {
		a0 := rows[n].alpha[0] + rows[n].alpha[1] + rows[n].alpha[2]
		if want := math.Log(rows[n].alpha[y] / a0); !near(ll[n], want, 1e-14) {
			t.Errorf("LogLik[%d] = %v, want %v", n, ll[n], want)
		}
	}
}

// TestDirichletMonteCarlo: the closed form agrees with the S-draw
// decomposition of probability vectors drawn from the same Dirichlet.
func TestDirichletMonteCarlo(t *testing.T) {
	alpha := []float64{2, 0.7, 4.5, 1.2}
	const K, S = 4, 200000
	rng := rand.New(rand.NewPCG(3, 4))
	draws := make([][][]float64, S)
	g := make([]distuv.Gamma, K)
	for k := range g {
		g[k] = distuv.Gamma{Alpha: alpha[k], Beta: 1, Src: rng}
	}
	for s := range draws {
		row := make([]float64, K)
		sum := 0.0
		for k := range row {
			row[k] = g[k].Rand()
			sum += row[k]
		}
		for k := range row {
			row[k] /= sum
		}
		draws[s] = [][]float64{row}
	}
	mc := classif(draws)
	_, mt, ma, me := mc.Classification()
	p := new(Predictive)
	p.SetDirichlet(append([]float64(nil), alpha...), 1, K)
	_, ct, ca, ce := p.Classification()
	if !near(mt[0], ct[0], 5e-3) || !near(ma[0], ca[0], 5e-3) || math.Abs(me[0]-ce[0]) > 5e-3 {
		t.Errorf("closed form (%.4f, %.4f, %.4f) vs Monte Carlo (%.4f, %.4f, %.4f)", ct[0], ca[0], ce[0], mt[0], ma[0], me[0])
	}
}

// TestDirichletResize: reusing a Dirichlet predictive for draws forgets α.
func TestDirichletResize(t *testing.T) {
	p := new(Predictive)
	p.SetDirichlet([]float64{1, 2}, 1, 2)
	p.Resize(Classification, 2, 1, 2)
	if len(p.Alpha) != 0 {
		t.Fatalf("Resize kept %d concentrations", len(p.Alpha))
	}
	for i := range p.LogProb {
		p.LogProb[i] = math.Log(0.5)
	}
	if _, _, _, epi := p.Classification(); epi[0] != 0 {
		t.Errorf("epistemic %v after Resize, want 0", epi[0])
	}
}

func TestDirichletPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short alpha": func() { new(Predictive).SetDirichlet([]float64{1, 2, 3}, 2, 2) },
		"alpha with S > 1": func() {
			p := new(Predictive)
			p.SetDirichlet([]float64{1, 2}, 1, 2)
			p.S = 2
			p.LogProb = append(p.LogProb, 0, 0)
			p.Classification()
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
