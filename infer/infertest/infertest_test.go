package infertest

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExactPosterior1D(t *testing.T) {
	_, mean, cov := Sanity1D()
	if math.Abs(mean[0]-50.0/57) > 1e-15 || math.Abs(cov.At(0, 0)-1.0/57) > 1e-16 {
		t.Errorf("N(%v, %v), want N(50/57, 1/57)", mean[0], cov.At(0, 0))
	}
	if v := MeanFieldVar(cov); math.Abs(v[0]-1.0/57) > 1e-16 {
		t.Errorf("mean-field variance %v, want 1/57 in 1-D", v[0])
	}
}

// The gradients match central differences, and the exact mean is a
// stationary point of the log joint.
func TestGradients(t *testing.T) {
	x, y := RandomData(20, 3, 0.25, 4)
	p, mean, _ := LinearRegression(x, y, 0.25, 2)
	idx := []int{0, 3, 4, 7, 19}
	all := make([]int, p.N)
	for i := range all {
		all[i] = i
	}
	theta := []float64{0.3, -0.2, 1.1}
	f := func(th []float64) float64 { return p.NegLogLik(nil, th, idx) + p.NegLogPrior(nil, th) }
	g := make([]float64, 3)
	p.NegLogLik(g, theta, idx)
	p.NegLogPrior(g, theta)
	for j := range theta {
		h := 1e-6
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[j] += h
		tm[j] -= h
		if fd := (f(tp) - f(tm)) / (2 * h); math.Abs(fd-g[j]) > 1e-6*math.Max(1, math.Abs(fd)) {
			t.Errorf("d/dθ%d = %v, finite difference %v", j, g[j], fd)
		}
	}
	p.NegLogLik(g, mean, all)
	p.NegLogPrior(g, mean)
	for j := range g {
		if math.Abs(g[j]) > 1e-9 {
			t.Errorf("gradient at the exact mean [%d] = %v", j, g[j])
		}
	}
}

// VarNegLogLik's average over many draws matches the closed-form
// expectation E_q[NLL] = Σ_n [(y_n − x_nᵀμ)² + Σ_j x_nj²σ_j²]/(2s²) + c and
// its gradients, so the local reparameterisation is unbiased.
func TestVarNegLogLikUnbiased(t *testing.T) {
	x, y := RandomData(10, 3, 0.25, 5)
	p, _, _ := LinearRegression(x, y, 0.25, 1)
	mu := []float64{0.5, -0.3, 0.1}
	sigma := []float64{0.2, 0.05, 0.3}
	idx := []int{1, 2, 5, 9}
	r := rand.New(rand.NewPCG(1, 1))
	gm, gs := make([]float64, 3), make([]float64, 3)
	sm, ss := make([]float64, 3), make([]float64, 3)
	const draws = 200000
	sum := 0.0
	for range draws {
		sum += p.VarNegLogLik(gm, gs, mu, sigma, idx, r)
		for j := range 3 {
			sm[j] += gm[j] / draws
			ss[j] += gs[j] / draws
		}
	}
	want := p.NegLogLik(gm, mu, idx) // at μ, plus the variance term below
	wantGS := make([]float64, 3)
	for _, i := range idx {
		for j := range 3 {
			xv := x.At(i, j)
			want += xv * xv * sigma[j] * sigma[j] / (2 * 0.25)
			wantGS[j] += xv * xv * sigma[j] / 0.25
		}
	}
	if got := sum / draws; math.Abs(got-want) > 0.01*want {
		t.Errorf("E[VarNegLogLik] = %v, want %v", got, want)
	}
	for j := range 3 {
		if math.Abs(sm[j]-gm[j]) > 0.02*math.Max(1, math.Abs(gm[j])) {
			t.Errorf("E[dμ%d] = %v, want %v", j, sm[j], gm[j])
		}
		if math.Abs(ss[j]-wantGS[j]) > 0.02*math.Max(1, math.Abs(wantGS[j])) {
			t.Errorf("E[dσ%d] = %v, want %v", j, ss[j], wantGS[j])
		}
	}
}

func TestMoments(t *testing.T) {
	m, v := Moments([][]float64{{1, 2}, {3, 2}})
	if m[0] != 2 || m[1] != 2 || v[0] != 1 || v[1] != 0 {
		t.Errorf("Moments = %v, %v", m, v)
	}
}
