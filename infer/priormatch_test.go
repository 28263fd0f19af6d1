package infer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/gp"
	"gonum.org/v1/gonum/mat"
)

// affineNet is f(x) = c + w·x + b·x² over θ = [w, b, c, q] (q unused): a
// network whose prior covariance is known in closed form.
type affineNet struct{}

func (affineNet) Outputs(dst, theta []float64, x *mat.Dense) {
	for i := range dst {
		v := x.At(i, 0)
		dst[i] = theta[2] + theta[0]*v + theta[1]*v*v
	}
}

func (affineNet) Backward(grad, theta []float64, x *mat.Dense, dOut []float64) {
	clear(grad)
	for i, d := range dOut {
		v := x.At(i, 0)
		grad[0] += d * v
		grad[1] += d * v * v
		grad[2] += d
	}
}

func affinePriorNet(c float64) *PriorNet {
	return &PriorNet{
		Dim: 4, InputWidth: 1,
		Tensors: []PriorTensor{
			{Name: "w", Offset: 0, Size: 1, Scale: 1},
			{Name: "b", Offset: 1, Size: 1, Scale: 1},
			{Name: "c", Offset: 2, Size: 1, Loc: c, Scale: 1e-3, Learn: LearnLoc},
			{Name: "q", Offset: 3, Size: 1, Scale: 1, Learn: LearnNone},
		},
		NewEvaluator: func() PriorEvaluator { return affineNet{} },
	}
}

// TestMatchPriorGradient: the gradient of one step's loss in the
// hyperparameters matches central finite differences of the loss with the
// same points and noise.
func TestMatchPriorGradient(t *testing.T) {
	net := affinePriorNet(0.7)
	s := &MatchSettings{Kernel: gp.RBF{Lengthscale: 0.8, Variance: 1}, Lo: []float64{-2}, Hi: []float64{2}, Points: 9, Steps: 1, Samples: 16, LR: 0.01, Workers: 2}
	m, err := newMatcher(net, s, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	m.z[0], m.z[1] = 0.3, -0.4
	m.points(m.x, rand.New(rand.NewPCG(3, 4)))
	if _, err := m.step(5, 0, true); err != nil {
		t.Fatal(err)
	}
	grad := append([]float64(nil), m.gz...)
	if len(grad) != 3 {
		t.Fatalf("%d hyperparameters, want 3 (two scales, one location)", len(grad))
	}
	for j := range m.z {
		h := 1e-6
		z0 := m.z[j]
		m.z[j] = z0 + h
		up, _ := m.step(5, 0, false)
		m.z[j] = z0 - h
		down, _ := m.step(5, 0, false)
		m.z[j] = z0
		fd := (up - down) / (2 * h)
		if math.Abs(fd-grad[j]) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("d loss/d z[%d] = %.9g, finite difference %.9g", j, grad[j], fd)
		}
	}
}

// TestMatchPriorLinearKernel: matching f(x) = c + w·x + b·x² to the GP with
// the linear kernel v·xx' + o sends σ_w² to v, σ_b to 0 and the location of
// c to 0 (the GP's mean), within Monte-Carlo error.
func TestMatchPriorLinearKernel(t *testing.T) {
	net := affinePriorNet(1.5)
	net.Tensors[2].Scale = 0.5 // c = loc + 0.5ε: variance 0.25 = o
	s := &MatchSettings{Kernel: gp.Linear{Variance: 0.36, Offset: 0.25}, Lo: []float64{-1}, Hi: []float64{1}, Points: 12, Steps: 1500, Samples: 256, LR: 0.02}
	res, err := MatchPrior(context.Background(), net, s, rand.New(rand.NewPCG(7, 8)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scales %v locs %v, loss %.4g -> %.4g", res.Scales, res.Locs, res.Before, res.After)
	if w := res.Scales[0]; math.Abs(w-0.6) > 0.06 {
		t.Errorf("σ_w = %.4f, want 0.6 ± 0.06", w)
	}
	if b := res.Scales[1]; b > 0.1 {
		t.Errorf("σ_b = %.4f, want about 0", b)
	}
	if c := res.Locs[2][0]; math.Abs(c) > 0.1 {
		t.Errorf("location of c = %.4f, want about 0", c)
	}
	if res.Scales[2] != 0.5 || res.Scales[3] != 1 || res.Locs[3] != nil {
		t.Errorf("tensors that learn no scale changed: %v %v", res.Scales, res.Locs)
	}
	if !(res.After < res.Before/20) {
		t.Errorf("loss %.4g -> %.4g: want a 20-fold reduction", res.Before, res.After)
	}
}

// TestMatchPriorWorkers: the result does not depend on the number of
// worker goroutines.
func TestMatchPriorWorkers(t *testing.T) {
	var got [2]*MatchResult
	for i, w := range []int{1, 3} {
		s := &MatchSettings{Kernel: gp.Matern52{Lengthscale: 1, Variance: 1}, Lo: []float64{-2}, Hi: []float64{2}, Points: 8, Steps: 20, Samples: 10, LR: 0.05, Workers: w}
		res, err := MatchPrior(context.Background(), affinePriorNet(0.2), s, rand.New(rand.NewPCG(1, 1)), nil)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = res
	}
	for k := range got[0].Scales {
		if got[0].Scales[k] != got[1].Scales[k] {
			t.Errorf("scale %d: %v with 1 worker, %v with 3", k, got[0].Scales[k], got[1].Scales[k])
		}
	}
	if got[0].After != got[1].After {
		t.Errorf("after: %v vs %v", got[0].After, got[1].After)
	}
}

func TestMatchPriorBadSettings(t *testing.T) {
	ok := MatchSettings{Kernel: gp.RBF{Lengthscale: 1, Variance: 1}, Lo: []float64{0}, Hi: []float64{1}, Points: 4, Steps: 1, Samples: 4, LR: 0.1}
	for name, mut := range map[string]func(s *MatchSettings){
		"one point":     func(s *MatchSettings) { s.Points = 1 },
		"one sample":    func(s *MatchSettings) { s.Samples = 1 },
		"bad kernel":    func(s *MatchSettings) { s.Kernel = gp.RBF{Lengthscale: -1, Variance: 1} },
		"empty box":     func(s *MatchSettings) { s.Hi = []float64{0} },
		"wrong box dim": func(s *MatchSettings) { s.Lo = []float64{0, 0} },
	} {
		s := ok
		mut(&s)
		if _, err := MatchPrior(context.Background(), affinePriorNet(0), &s, rand.New(rand.NewPCG(1, 1)), nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
