package infer

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The cyclical schedule starts every cycle at lr, falls on a cosine to
// floor over the exploration stage without noise, samples at floor from
// r = β on, and stores the epochs of each sampling stage's second half.
func TestCosineSchedule(t *testing.T) {
	for _, c := range []struct{ epochs, cycles, spe int }{
		{200, 4, 10}, {10, 4, 60}, {7, 7, 100}, {1000, 3, 1}, {50, 1, 40},
	} {
		const lr, floor, beta = 0.3, 0.01, 0.5
		s := newCosineSchedule(lr, floor, beta, c.cycles, c.epochs, c.spe)
		total := c.epochs * c.spe
		k := -1
		var prev float64
		for step := range total {
			kk := s.cycleOf(step / c.spe)
			if want := (step / c.spe) * c.cycles / c.epochs; kk < 0 || kk >= c.cycles ||
				!(s.startEpoch(kk) <= step/c.spe && step/c.spe < s.startEpoch(kk+1)) {
				t.Fatalf("%+v: step %d in cycle %d (%d)", c, step, kk, want)
			}
			eps, noisy := s.at(step)
			start := s.startEpoch(kk) * c.spe
			length := s.cycleSteps(kk)
			r := float64(step-start) / float64(length)
			switch {
			case kk != k: // a cycle starts
				if eps != lr || noisy {
					t.Fatalf("%+v: cycle %d starts at step %d with ε = %v (noisy %v), want %v", c, kk, step, eps, noisy, lr)
				}
				k = kk
			case r >= beta:
				if eps != floor {
					t.Fatalf("%+v: sampling step %d has ε = %v, want %v", c, step, eps, floor)
				}
			case !(eps < prev && eps > floor):
				t.Fatalf("%+v: ε does not fall towards %v at step %d: %v after %v", c, floor, step, eps, prev)
			}
			if noisy != (r >= beta || step == start+length-1) {
				t.Fatalf("%+v: step %d at r = %v noisy = %v", c, step, r, noisy)
			}
			prev = eps
		}
		if k != c.cycles-1 {
			t.Errorf("%+v: %d cycles", c, k+1)
		}
		for kk := range c.cycles {
			lo, hi := s.samplingEpochs(kk)
			for e := s.startEpoch(kk) + 1; e <= s.startEpoch(kk+1); e++ {
				j, length := s.position(e*c.spe - 1)
				want := float64(j)/float64(length) >= (1+beta)/2 || e == hi
				if in := e >= lo && e <= hi; in != want {
					t.Errorf("%+v: epoch %d of cycle %d: sampling %v, want %v", c, e, kk, in, want)
				}
			}
		}
	}
}

func TestDecaySchedule(t *testing.T) {
	s := &chainSpec{epochs: 100, stepsPerEpoch: 10}
	d := newDecaySchedule(0.1, 0.55, 0, s)
	if eps, noisy := d.at(0); eps != 0.1 || !noisy {
		t.Errorf("first step %v %v", eps, noisy)
	}
	if eps, _ := d.at(1000); math.Abs(eps-0.1*math.Pow(3, -0.55)) > 1e-15 {
		t.Errorf("last step %v, want 0.1·3^-0.55", eps)
	}
	// Welling & Teh's a(b+t)^-γ with a = lr·b^γ.
	d = newDecaySchedule(0.01, 0.7, 40, s)
	for _, step := range []int{0, 1, 17, 5000} {
		want := 0.01 * math.Pow(40, 0.7) * math.Pow(40+float64(step), -0.7)
		if eps, _ := d.at(step); math.Abs(eps-want) > 1e-15 {
			t.Errorf("step %d: %v, want %v", step, eps, want)
		}
	}
	if eps, _ := newDecaySchedule(0.2, 0, 0, s).at(777); eps != 0.2 {
		t.Errorf("constant schedule gives %v", eps)
	} // A run of default length holds the step from its first round's end.
	d = newDecaySchedule(0.1, 0.55, 0, s)
	d.hold = 1000
	a, _ := d.at(1000)
	if b, _ := d.at(5000); a != b || math.Abs(a-0.1*math.Pow(3, -0.55)) > 1e-15 {
		t.Errorf("held step %v then %v", a, b)
	}
}

// The stored epochs never exceed the bound, are evenly spaced with a
// multiple of thin, and always include the end of each group.
func TestSelectEpochs(t *testing.T) {
	for _, c := range []struct {
		groups     [][2]int
		thin, max  int
		want       []int
		wantStride int
	}{
		{[][2]int{{6, 10}}, 1, 50, []int{6, 7, 8, 9, 10}, 1},
		{[][2]int{{6, 10}}, 2, 50, []int{6, 8, 10}, 2},
		{[][2]int{{101, 1000}}, 1, 7, nil, 129},  // ⌈900/7⌉
		{[][2]int{{101, 1000}}, 50, 7, nil, 150}, // a multiple of thin
		{[][2]int{{1, 1}}, 3, 1, []int{1}, 0},
		{[][2]int{{9, 10}, {19, 20}, {29, 30}}, 1, 6, []int{9, 10, 19, 20, 29, 30}, 1},
		{[][2]int{{9, 10}, {19, 20}, {29, 30}}, 1, 5, []int{10, 20, 30}, 2},
		{[][2]int{{9, 10}, {19, 20}, {29, 30}}, 1, 2, []int{20, 30}, 2}, // more cycles than the bound
	} {
		s := &chainSpec{groups: c.groups, thin: c.thin, maxSamples: c.max}
		s.selectEpochs()
		if len(s.kept) > c.max || len(s.kept) == 0 {
			t.Errorf("%+v: %d kept", c, len(s.kept))
		}
		if c.want != nil && !reflect.DeepEqual(s.kept, c.want) {
			t.Errorf("%+v: kept %v", c, s.kept)
		}
		last := c.groups[len(c.groups)-1][1]
		if s.kept[len(s.kept)-1] != last {
			t.Errorf("%+v: the last epoch %d is not kept: %v", c, last, s.kept)
		}
		if c.wantStride > 0 && len(c.groups) == 1 {
			for i := 1; i < len(s.kept); i++ {
				if d := s.kept[i] - s.kept[i-1]; d != c.wantStride {
					t.Errorf("%+v: stride %d, want %d", c, d, c.wantStride)
				}
			}
			if len(s.kept) < c.max && s.kept[0]-c.wantStride >= c.groups[0][0] {
				t.Errorf("%+v: room for another sample before %d", c, s.kept[0])
			}
		}
	}
}

// A step of SGLD or pSGLD, with or without noise, allocates nothing.
func TestChainStepsAllocateNothing(t *testing.T) {
	fused, generic := segmentedPrior(700)
	idx := []int{3, 1, 4, 15, 9, 26, 5, 29}
	for _, c := range []struct {
		p       *Problem
		precond bool
	}{{fused, false}, {fused, true}, {generic, false}, {generic, true}} {
		p, precond := c.p, c.precond
		s := &chainSpec{temperature: 1, precond: precond, alpha: 0.99, lambda: 1e-5}
		st := newChainState(p, s, rand.New(rand.NewPCG(1, 2)))
		st.step(idx, 1e-3, true)
		if a := testing.AllocsPerRun(200, func() { st.step(idx, 1e-3, true) }); a != 0 {
			t.Errorf("precond=%v fused=%v: %v allocations per step", precond, st.segs != nil, a)
		}
		if a := testing.AllocsPerRun(200, func() { st.step(idx, 1e-3, false) }); a != 0 {
			t.Errorf("precond=%v fused=%v, no noise: %v allocations per step", precond, st.segs != nil, a)
		}
	}
}

// A step's noise follows N(0, ε·T): from θ = 0 with a zero gradient, one
// step gives draws of variance ε·T.
func TestChainStepNoise(t *testing.T) {
	const d = 20000
	free := &Problem{Dim: d, N: 10, NegLogLik: func(grad, theta []float64, idx []int) float64 { clear(grad); return 0 }}
	for _, temp := range []float64{1, 0.25} {
		s := &chainSpec{temperature: temp}
		st := newChainState(free, s, rand.New(rand.NewPCG(1, 2)))
		if _, ok := st.step([]int{0}, 0.04, true); !ok {
			t.Fatal("step failed")
		}
		_, v := meanVar(st.theta)
		if want := 0.04 * temp; math.Abs(v/want-1) > 4*math.Sqrt(2.0/d) {
			t.Errorf("T = %v: noise variance %v, want %v", temp, v, want)
		}
	}
}

// pSGLD's update by hand: V starts at ḡ² (not 0) and then averages, and
// θ moves by (ε/2)·G⊙∇Ũ with G = 1/(λ + √V); without noise the steps are
// exact.
func TestPSGLDUpdate(t *testing.T) {
	fused := quadratic(4, 3) // ∇NLL_i = θ − c_i, prior N(0, I)
	generic := *fused
	generic.PriorLoc, generic.PriorScale = nil, nil
	for _, p := range []*Problem{fused, &generic} {
		testPSGLDUpdate(t, p)
	}
}

func testPSGLDUpdate(t *testing.T, p *Problem) {
	s := &chainSpec{temperature: 1, precond: true, alpha: 0.9, lambda: 1e-5}
	st := newChainState(p, s, rand.New(rand.NewPCG(1, 2)))
	copy(st.theta, []float64{0.5, -1, 2})
	idx := []int{2, 0}
	v := make([]float64, 3)
	for k := range 3 {
		theta := slices.Clone(st.theta)
		g := make([]float64, 3)
		p.NegLogLik(g, theta, idx)
		want := slices.Clone(theta)
		for j := range g {
			gbar := g[j] / 2
			if k == 0 {
				v[j] = gbar * gbar
			} else {
				v[j] = 0.9*v[j] + 0.1*gbar*gbar
			}
			gu := g[j]*4/2 + theta[j] // (N/B)∇NLL + ∇(−log prior)
			want[j] -= 0.01 / 2 * gu / (1e-5 + math.Sqrt(v[j]))
		}
		if _, ok := st.step(idx, 0.01, false); !ok {
			t.Fatal("step failed")
		}
		for j := range want {
			if math.Abs(st.theta[j]-want[j]) > 1e-15 || math.Abs(st.v[j]-v[j]) > 1e-15 {
				t.Fatalf("fused=%v step %d: θ %v V %v, want %v and %v", st.segs != nil, k, st.theta, st.v, want, v)
			}
		}
	}
}

// segmentedPrior returns a problem over d coordinates whose normal prior
// changes in runs that do not line up with the noise blocks, stated both
// as PriorLoc/PriorScale and through NegLogPrior, and the same problem
// with NegLogPrior only.
func segmentedPrior(d int) (fused, generic *Problem) {
	p := quadratic(30, d)
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range d {
		switch {
		case j < 300:
			loc[j], scale[j] = 0, 1
		case j == 300:
			loc[j], scale[j] = 0.5, 2
		default:
			loc[j], scale[j] = -1, 0.3
		}
	}
	p.PriorLoc, p.PriorScale = loc, scale
	p.NegLogPrior = func(grad, theta []float64) float64 {
		u := 0.0
		for j, t := range theta {
			e := (t - loc[j]) / scale[j]
			u += 0.5*e*e + math.Log(scale[j]) + 0.5*math.Log(2*math.Pi)
			if grad != nil {
				grad[j] += e / scale[j]
			}
		}
		return u
	}
	q := *p
	q.PriorLoc, q.PriorScale = nil, nil
	return p, &q
}

// The one-pass update for a normal prior in runs moves θ (and V) as the
// general path through NegLogPrior does, with the same noise, and reports
// the same Ũ.
func TestFusedUpdateMatchesGeneral(t *testing.T) {
	fused, generic := segmentedPrior(700)
	if segs, _ := priorSegments(fused); len(segs) != 3 {
		t.Fatalf("%d runs, want 3", len(segs))
	}
	for _, precond := range []bool{false, true} {
		s := &chainSpec{temperature: 0.7, precond: precond, alpha: 0.9, lambda: 1e-5}
		a := newChainState(fused, s, rand.New(rand.NewPCG(1, 2)))
		b := newChainState(generic, s, rand.New(rand.NewPCG(1, 2)))
		if a.segs == nil || b.segs != nil || b.prec != nil {
			t.Fatal("wrong paths")
		}
		if precond {
			// The general path bounds G where it knows the prior's
			// precision, as it does for a normal prior not in runs.
			b.prec = make([]float64, len(b.theta))
			for j, sc := range fused.PriorScale {
				b.prec[j] = 1 / (sc * sc)
			}
		}
		r := rand.New(rand.NewPCG(3, 3))
		for j := range a.theta {
			a.theta[j] = r.NormFloat64()
		}
		copy(b.theta, a.theta)
		for k := range 5 {
			idx := []int{k, 7, 11, 2 * k}
			ua, oka := a.step(idx, 1e-3, k != 2)
			ub, okb := b.step(idx, 1e-3, k != 2)
			if !oka || !okb || math.Abs(ua-ub) > 1e-12*math.Abs(ub) {
				t.Fatalf("precond=%v step %d: Ũ/N %v (%v) vs %v (%v)", precond, k, ua, oka, ub, okb)
			}
			for j := range a.theta {
				if math.Abs(a.theta[j]-b.theta[j]) > 1e-12 || precond && math.Abs(a.v[j]-b.v[j]) > 1e-12*b.v[j] {
					t.Fatalf("precond=%v step %d: θ[%d] %v vs %v", precond, k, j, a.theta[j], b.theta[j])
				}
			}
		}
	}
	// A prior that changes at every coordinate takes the general path.
	p := quadratic(4, 64)
	for j := range p.PriorScale {
		p.PriorScale[j] = 1 + float64(j)
	}
	if segs, _ := priorSegments(p); segs != nil {
		t.Errorf("%d runs for 64 coordinates", len(segs))
	}
}

// mlpProblem is a fake problem of the MLP 784-256-256-10 of
// the README's speed table, case c (269 322 parameters) whose gradient does the real
// model's matrix products on a batch of 128 (3 forward, 5 backward; the
// elementwise work, a small part, is left out), so that the cost of the
// noise can be set against the cost of a gradient.
func mlpProblem() *Problem {
	sizes := []int{784, 256, 256, 10}
	const batch = 128
	d := 0
	for i := range 3 {
		d += sizes[i]*sizes[i+1] + sizes[i+1]
	}
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, batch*784)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	act := [][]float64{x, make([]float64, batch*256), make([]float64, batch*256), make([]float64, batch*10)}
	dact := [][]float64{nil, make([]float64, batch*256), make([]float64, batch*256), make([]float64, batch*10)}
	gen := func(rows, cols int, data []float64) blas64.General {
		return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: data}
	}
	return &Problem{Dim: d, N: 60000, NegLogLik: func(grad, theta []float64, idx []int) float64 {
		off := 0
		for i := range 3 {
			in, out := sizes[i], sizes[i+1]
			w := gen(in, out, theta[off:off+in*out])
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(batch, in, act[i]), w, 0, gen(batch, out, act[i+1]))
			off += in*out + out
		}
		copy(dact[3], act[3])
		for i := 2; i >= 0; i-- {
			in, out := sizes[i], sizes[i+1]
			off -= in*out + out
			blas64.Gemm(blas.Trans, blas.NoTrans, 1, gen(batch, in, act[i]), gen(batch, out, dact[i+1]), 0, gen(in, out, grad[off:off+in*out]))
			if i > 0 {
				blas64.Gemm(blas.NoTrans, blas.Trans, 1, gen(batch, out, dact[i+1]), gen(in, out, theta[off:off+in*out]), 0, gen(batch, in, dact[i]))
			}
		}
		return 0
	}}
}

// BenchmarkSamplerStep sets the sampler's own work per step (N/B scaling,
// prior gradient, update and noise over 269 322 parameters) against a
// gradient of the same model (gonum's pure-Go gemm; OpenBLAS is about 6x
// faster), against MAP's Adam step with the same prior, and against the
// bare update with math/rand/v2's NormFloat64 noise. ns/param is per
// parameter per step.
func BenchmarkSamplerStep(b *testing.B) {
	p := mlpProblem()
	d := p.Dim
	theta := make([]float64, d)
	for i := range theta {
		theta[i] = 0.01 * float64(i%7-3)
	}
	idx := make([]int, 128)
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(d), "ns/param")
	}
	b.Run("gradient", func(b *testing.B) {
		g := make([]float64, d)
		for b.Loop() {
			p.NegLogLik(g, theta, idx)
		}
		report(b)
	})
	// The model costs nothing here; the prior is N(0, 1) for every
	// parameter, stated as PriorLoc/PriorScale (one run: the fused
	// one-pass update) and through NegLogPrior (the general path).
	free := func(grad, theta []float64, idx []int) float64 { clear(grad); return 0 } // writes ∇NLL = 0
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range scale {
		scale[j] = 1
	}
	normalPrior := func(grad, theta []float64) float64 {
		u := 0.0
		for j, t := range theta {
			u += 0.5 * t * t
			grad[j] += t
		}
		return u
	}
	fused := &Problem{Dim: d, N: 60000, NegLogLik: free, PriorLoc: loc, PriorScale: scale}
	generic := &Problem{Dim: d, N: 60000, NegLogLik: free, NegLogPrior: normalPrior}
	for _, c := range []struct {
		name    string
		p       *Problem
		precond bool
		noisy   bool
	}{
		{"sgld", fused, false, true}, {"sgld-no-noise", fused, false, false}, {"sgld-general", generic, false, true},
		{"psgld", fused, true, true}, {"psgld-general", generic, true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := newChainState(c.p, &chainSpec{temperature: 1, precond: c.precond, alpha: 0.99, lambda: 1e-5}, rand.New(rand.NewPCG(1, 2)))
			copy(st.theta, theta)
			for b.Loop() {
				st.step(idx, 1e-7, c.noisy)
			}
			report(b)
		})
	}
	b.Run("sgld-NormFloat64", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		th, g := slices.Clone(theta), make([]float64, d)
		for b.Loop() {
			for i := range th {
				th[i] += -1e-7*g[i] + 3e-4*r.NormFloat64()
			}
		}
		report(b)
	})
	b.Run("map-adam", func(b *testing.B) {
		st := &mapState{p: generic, theta: slices.Clone(theta), grad: make([]float64, d), opt: newAdam(d, 1e-3)}
		for b.Loop() {
			st.step(idx)
		}
		report(b)
	})
}

// SGD's one-pass step for a normal prior (SWAG's and map(optimizer: sgd)'s)
// moves θ as the general path through NegLogPrior does, and reports the
// same loss; a non-finite gradient is caught.
func TestFusedSGDMatchesGeneral(t *testing.T) {
	fused, generic := segmentedPrior(701) // odd: the unrolled loop's tail runs too
	for _, momentum := range []float64{0.9, -1} {
		a := &mapState{p: fused, theta: make([]float64, fused.Dim), grad: make([]float64, fused.Dim), opt: newSGD(fused.Dim, 1e-2, momentum)}
		b := &mapState{p: generic, theta: make([]float64, fused.Dim), grad: make([]float64, fused.Dim), opt: newSGD(fused.Dim, 1e-2, momentum)}
		a.fuseNormalPrior()
		b.fuseNormalPrior()
		if a.ploc == nil || b.ploc != nil {
			t.Fatal("wrong paths")
		}
		r := rand.New(rand.NewPCG(3, 3))
		for j := range a.theta {
			a.theta[j] = r.NormFloat64()
		}
		copy(b.theta, a.theta)
		for k := range 5 {
			idx := []int{k, 7, 11, 2 * k}
			la, bada := a.step(idx)
			lb, badb := b.step(idx)
			if bada != 0 || badb != 0 || math.Abs(la-lb) > 1e-12*math.Abs(lb) {
				t.Fatalf("momentum %v step %d: loss %v (%v) vs %v (%v)", momentum, k, la, bada, lb, badb)
			}
			for j := range a.theta {
				if math.Abs(a.theta[j]-b.theta[j]) > 1e-12 {
					t.Fatalf("momentum %v step %d: θ[%d] %v vs %v", momentum, k, j, a.theta[j], b.theta[j])
				}
			}
		}
	}
	sg := newSGD(3, 0.1, 0.9)
	x, g := []float64{1, 2, 3}, []float64{0, math.NaN(), 0}
	if _, ok := sg.stepNormalPrior(x, g, 1, make([]float64, 3), []float64{1, 1, 1}, 1); ok {
		t.Error("a NaN gradient was not reported")
	}
}

// A chain's default length is 10 000 steps when the data give few steps an
// epoch, 200 epochs otherwise; a cap above 200 applies once N is known.
// A run of default length starts at 10 000 steps or 200 epochs and may
// grow to 160 000 steps (or its start, when that is more), within a cap;
// a cap at or under 200 epochs makes a fixed run. Cyclical SG-MCMC's
// first round is whole cycles.
func TestDefaultSamplerEpochs(t *testing.T) {
	for _, c := range []struct {
		n, cap, want, max, cyclic int
	}{
		{100, 0, 10000, 160000, 10000}, {1797, 0, 667, 10667, 664}, {60000, 0, 200, 342, 200},
		{100, 1000, 1000, 1000, 1000}, {100, 50, 50, 0, 50}, {60000, 1000, 200, 342, 200},
	} {
		p := quadratic(c.n, 2)
		m := SGLD{}.CapEpochs(c.cap).(*SGLD)
		if s := m.spec(p); s.epochs != c.want || s.burnin != c.want/2 || s.maxEpochs != c.max || (s.essTarget > 0) != (c.max > 0) {
			t.Errorf("N=%d cap %d: %d epochs up to %d, burn-in %d; want %d up to %d and %d", c.n, c.cap, s.epochs, s.maxEpochs, s.burnin, c.want, c.max, c.want/2)
		}
		cs := CSGMCMC{}.CapEpochs(c.cap).(*CSGMCMC)
		if s := cs.spec(p); s.epochs != c.cyclic {
			t.Errorf("csgmcmc N=%d cap %d: %d epochs, want %d", c.n, c.cap, s.epochs, c.cyclic)
		}
	}
	// An explicit Epochs is the run's length, or with ESS its bound.
	p := quadratic(100, 2)
	if s := (SGLD{Epochs: 3000}).spec(p); s.epochs != 3000 || s.essTarget != 0 {
		t.Errorf("epochs 3000: %d epochs, ess %v", s.epochs, s.essTarget)
	}
	if s := (SGLD{Epochs: 30000, ESS: 50}).spec(p); s.epochs != 10000 || s.maxEpochs != 30000 || s.essTarget != 50 {
		t.Errorf("epochs 30000, ess 50: %d epochs up to %d, ess %v", s.epochs, s.maxEpochs, s.essTarget)
	}
}

// A NUTS transition allocates nothing.
func TestNUTSTransitionAllocs(t *testing.T) {
	p := quadratic(20, 5)
	ch := newNUTSChain(p, NUTS{}.withDefaults(), rand.New(rand.NewPCG(1, 2)))
	ch.ctx = context.Background()
	ch.potential(&ch.cur)
	ch.eps = 0.1
	if a := testing.AllocsPerRun(20, func() { ch.transition() }); a != 0 {
		t.Errorf("%v allocations per transition", a)
	}
}
