package infer

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bayesl/bayesl/stdlib/dist"
)

// quadratic is a fake Problem without workspaces: row i pulls θ towards
// the point c_i, NLL_i = ½|θ − c_i|², with a N(0, 1) prior.
func quadratic(n, d int) *Problem {
	r := rand.New(rand.NewPCG(1, 1))
	c := make([]float64, n*d)
	for i := range c {
		c[i] = r.NormFloat64()
	}
	nll := func(grad, theta []float64, idx []int) float64 {
		s := 0.0
		if grad != nil {
			clear(grad)
		}
		for _, i := range idx {
			for j, t := range theta {
				e := t - c[i*d+j]
				s += 0.5 * e * e
				if grad != nil {
					grad[j] += e
				}
			}
		}
		return s
	}
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range scale {
		scale[j] = 1
	}
	return &Problem{
		Dim: d, N: n,
		Init:      func(theta []float64, r *rand.Rand) { clear(theta) },
		NegLogLik: nll,
		NegLogPrior: func(grad, theta []float64) float64 {
			s := 0.0
			for j, t := range theta {
				s += 0.5 * t * t
				if grad != nil {
					grad[j] += t
				}
			}
			return s
		},
		PriorLoc: loc, PriorScale: scale,
		VarNegLogLik: func(gm, gs, mu, sigma []float64, idx []int, r *rand.Rand) float64 {
			// E_q NLL_i = ½|μ − c_i|² + ½Σσ²; an unbiased one-draw estimate.
			s := 0.0
			clear(gm)
			clear(gs)
			for _, i := range idx {
				for j, m := range mu {
					z := r.NormFloat64()
					e := m + sigma[j]*z - c[i*d+j]
					s += 0.5 * e * e
					gm[j] += e
					gs[j] += e * z
				}
			}
			return s
		},
	}
}

func TestStepsAllocateNothing(t *testing.T) {
	p := quadratic(40, 5)
	idx := []int{3, 1, 4, 15, 9, 26, 5, 35}
	r := rand.New(rand.NewPCG(1, 2))
	for _, opt := range []string{optAdam, optSGD} {
		m := MAP{Optimizer: opt}.withDefaults()
		st := &mapState{p: p, theta: make([]float64, p.Dim), grad: make([]float64, p.Dim),
			opt: newOptimizer(m.Optimizer, p.Dim, m.LR, m.Momentum)}
		if a := testing.AllocsPerRun(1000, func() { st.step(idx) }); a != 0 {
			t.Errorf("map/%s: %v allocations per step", opt, a)
		}
	}
	for _, lrt := range []bool{true, false} {
		for _, closed := range []bool{true, false} {
			q := *p
			if !lrt {
				q.VarNegLogLik = nil
			}
			if !closed {
				q.PriorLoc, q.PriorScale = nil, nil
			}
			for _, s := range []int{1, 4} {
				st := newVIState(&q, VI{Samples: s}.withDefaults(), r)
				if a := testing.AllocsPerRun(1000, func() { st.step(idx) }); a != 0 {
					t.Errorf("vi lrt=%v closed=%v samples=%d: %v allocations per step", lrt, closed, s, a)
				}
			}
		}
	}
	l := newLoop("x", 1, 8, 40)
	if a := testing.AllocsPerRun(1000, func() { shuffle(l.perm, r) }); a != 0 {
		t.Errorf("shuffle: %v allocations", a)
	}
}

// The closed-form KL and its gradient inside a VI step agree with
// dist.KLNormal, and the σ-gradient reaches ρ through sigmoid(ρ).
func TestVIClosedKLMatchesDist(t *testing.T) {
	d := 6
	p := &Problem{Dim: d, N: 10,
		NegLogLik: func(grad, theta []float64, idx []int) float64 { clear(grad); return 0 },
		PriorLoc:  []float64{0, 1, -2, 0.5, 0, 3}, PriorScale: []float64{1, 0.5, 2, 1e-2, 3, 1},
	}
	st := newVIState(p, VI{KLWeight: 2, Samples: 1}.withDefaults(), rand.New(rand.NewPCG(1, 2)))
	copy(st.mu, []float64{0.3, -1, 2, 0.5, 0, 40})
	copy(st.rho, []float64{-7, -1, 0, 2, 0.5, 30})
	mu, rho := append([]float64(nil), st.mu...), append([]float64(nil), st.rho...)
	st.opt = newSGD(2*d, 0, 0) // lr 0: keep the parameters
	loss, bad := st.step([]int{0, 1})
	if bad != 0 {
		t.Fatal(bad)
	}
	kw := 2.0 / 10
	want := 0.0
	for j := range d {
		sigma := dist.Softplus(rho[j])
		kl, dMu, dSigma := dist.KLNormal(mu[j], sigma, p.PriorLoc[j], p.PriorScale[j])
		want += kl
		if sg := st.sigma[j]; math.Abs(sg-sigma) > 1e-15*sigma {
			t.Errorf("σ[%d] = %v, want softplus = %v", j, sg, sigma)
		}
		if sg := st.sig[j]; math.Abs(sg-dist.Sigmoid(rho[j])) > 1e-16 {
			t.Errorf("sigmoid[%d] = %v, want %v", j, sg, dist.Sigmoid(rho[j]))
		}
		if g := st.gmu[j]; math.Abs(g-kw*dMu) > 1e-12*math.Max(1, math.Abs(g)) {
			t.Errorf("dμ[%d] = %v, want %v", j, g, kw*dMu)
		}
		if g, w := st.gsig[j], kw*dSigma*dist.Sigmoid(rho[j]); math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)) {
			t.Errorf("dρ[%d] = %v, want %v", j, g, w)
		}
	}
	if math.Abs(loss-kw*want) > 1e-10*kw*want {
		t.Errorf("loss %v, want KLWeight·KL/N = %v", loss, kw*want)
	}
}

func TestTransform(t *testing.T) {
	var rho []float64
	for r := -745.0; r <= 745; r += 0.37 {
		rho = append(rho, r)
	}
	rho = append(rho, 0, -1e-300, 1e-300, 36.7368005696771, -36.7368005696771, 1e-9, -1e-9)
	s := &viState{rho: rho, sigma: make([]float64, len(rho)), sig: make([]float64, len(rho))}
	s.transform()
	for j, r := range rho {
		want := math.Max(r, 0) + math.Log1p(math.Exp(-math.Abs(r)))
		if d := math.Abs(s.sigma[j] - want); d > 4e-16*want {
			t.Errorf("softplus(%v) = %v, want %v (rel %.2g)", r, s.sigma[j], want, d/want)
		}
		if w := dist.Sigmoid(r); math.Abs(s.sig[j]-w) > 2.3e-16*w {
			t.Errorf("sigmoid(%v) = %v, want %v", r, s.sig[j], w)
		}
	}
}

func TestSumLog(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	v := make([]float64, 300000)
	want := 0.0
	for i := range v {
		v[i] = math.Exp(-20 * r.Float64()) // σ from 2e-9 to 1
		want += math.Log(v[i])
	}
	if got := sumLog(v); math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("sumLog = %v, want %v", got, want)
	}
	if got := sumLog([]float64{1e300, 1e300, 1e-300, 1e-300, 1e-300}); math.Abs(got-math.Log(1e-300)) > 1e-12 {
		t.Errorf("sumLog over a wide range = %v, want %v", got, math.Log(1e-300))
	}
	if !math.IsInf(sumLog([]float64{1, 0, 2}), -1) || !math.IsNaN(sumLog([]float64{1, math.NaN()})) {
		t.Error("sumLog of a zero or a NaN")
	}
}

func TestSoftplusInv(t *testing.T) {
	for _, y := range []float64{1e-6, 1e-3, 0.1, 1, 10, 50} {
		if got := dist.Softplus(softplusInv(y)); math.Abs(got-y) > 1e-12*math.Max(1, y) {
			t.Errorf("softplus(softplusInv(%g)) = %g", y, got)
		}
	}
}

func TestOptimizers(t *testing.T) {
	// One Adam step moves every coordinate by lr against the gradient's sign
	// (bias correction makes m/√v = g/|g| at t = 1).
	a := newAdam(3, 0.1)
	x := []float64{1, 2, 3}
	a.step(x, []float64{2, -0.5, 0}, 1)
	for i, w := range []float64{0.9, 2.1, 3} {
		if math.Abs(x[i]-w) > 1e-8 {
			t.Errorf("adam x[%d] = %v, want %v", i, x[i], w)
		}
	}
	// Heavy ball: buf = β buf + g; x -= lr buf.
	s := newSGD(1, 0.1, 0.5)
	x = []float64{0}
	s.step(x, []float64{1}, 1) // buf 1, x −0.1
	s.step(x, []float64{1}, 1) // buf 1.5, x −0.25
	if math.Abs(x[0]+0.25) > 1e-15 {
		t.Errorf("sgd x = %v, want -0.25", x[0])
	}
	plain := newSGD(1, 0.1, -1)
	x = []float64{0}
	plain.step(x, []float64{1}, 1)
	plain.step(x, []float64{1}, 1)
	if math.Abs(x[0]+0.2) > 1e-15 {
		t.Errorf("plain sgd x = %v, want -0.2", x[0])
	}
	// A non-finite gradient is reported.
	for _, o := range []optimizer{newAdam(2, 0.1), newSGD(2, 0.1, 0.9), newSGD(2, 0.1, -1)} {
		if o.step([]float64{1, 1}, []float64{0, math.NaN()}, 1) {
			t.Errorf("%T took a NaN gradient", o)
		}
		if o.step([]float64{1, 1}, []float64{math.Inf(-1), 0}, 1) {
			t.Errorf("%T took an Inf gradient", o)
		}
		if !o.step([]float64{1, 1}, []float64{math.MaxFloat64, 0}, 1) {
			t.Errorf("%T refused a finite gradient", o)
		}
	}
	// The gradient's scale c multiplies g.
	s1, s2 := newSGD(2, 0.1, 0.9), newSGD(2, 0.1, 0.9)
	a1, a2 := newAdam(2, 0.1), newAdam(2, 0.1)
	x1, x2, x3, x4 := []float64{1, 2}, []float64{1, 2}, []float64{1, 2}, []float64{1, 2}
	for range 3 {
		s1.step(x1, []float64{0.5, -3}, 4)
		s2.step(x2, []float64{2, -12}, 1)
		a1.step(x3, []float64{0.5, -3}, 4)
		a2.step(x4, []float64{2, -12}, 1)
	}
	for i := range x1 {
		if x1[i] != x2[i] || math.Abs(x3[i]-x4[i]) > 1e-15 {
			t.Errorf("scaled gradient: sgd %v vs %v, adam %v vs %v", x1, x2, x3, x4)
		}
	}
	big := make([]float64, 1000)
	g := make([]float64, 1000)
	for _, o := range []optimizer{newAdam(1000, 1e-3), newSGD(1000, 1e-3, 0.9)} {
		if n := testing.AllocsPerRun(100, func() { o.step(big, g, 1) }); n != 0 {
			t.Errorf("%T: %v allocations per step", o, n)
		}
	}
}

// failAfter fails every write after the first n bytes.
type failAfter struct {
	w io.Writer
	n int
}

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k, _ := f.w.Write(b[:f.n])
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(b)
	return f.w.Write(b)
}

// A save that fails half-way leaves the previous file as it was and no
// temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.post")
	old := &Point{Theta: []float64{1, 2, 3}, By: "map"}
	if err := WriteFile(path, old, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	big := &Gaussian{Mean: make([]float64, 50000), Std: make([]float64, 50000), By: "vi"}
	for _, n := range []int{0, 10, 100, 70000, 500000} {
		err := writeFile(path, big, []byte("v2"), func(w io.Writer) io.Writer { return &failAfter{w, n} })
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("failing after %d bytes: err = %v", n, err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Fatalf("failing after %d bytes changed the old file", n)
		}
		post, meta, err := ReadFile(path)
		if err != nil || string(meta) != "v1" || post.(*Point).Theta[2] != 3 {
			t.Fatalf("old file no longer reads: %v", err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("left %d files in the directory", len(entries))
		}
	}
	// A successful save replaces it and keeps its mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, big, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if _, meta, err := ReadFile(path); err != nil || string(meta) != "v2" {
		t.Errorf("new file: %q, %v", meta, err)
	}
}

// The backends' own work per step, per parameter, with a model that costs
// nothing: the σ transform, the KL and the optimiser over 269 322
// parameters (the MLP 784-256-256-10 of the README's speed table, case c).
func BenchmarkStepOverhead(b *testing.B) {
	const d = 784*256 + 256 + 256*256 + 256 + 256*10 + 10
	free := func(grad, theta []float64, idx []int) float64 { clear(grad); return 0 }
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range scale {
		scale[j] = 1
	}
	p := &Problem{Dim: d, N: 60000, NegLogLik: free,
		NegLogPrior: func(grad, theta []float64) float64 { return 0 },
		PriorLoc:    loc, PriorScale: scale,
		VarNegLogLik: func(gm, gs, mu, sigma []float64, idx []int, r *rand.Rand) float64 {
			clear(gm)
			clear(gs)
			return 0
		},
	}
	idx := make([]int, 128)
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/d, "ns/param")
	}
	b.Run("map/adam", func(b *testing.B) {
		st := &mapState{p: p, theta: make([]float64, d), grad: make([]float64, d), opt: newAdam(d, 1e-3)}
		for b.Loop() {
			st.step(idx)
		}
		report(b)
	})
	for _, c := range []struct {
		name        string
		lrt, closed bool
	}{{"vi/lrt+closedKL", true, true}, {"vi/sampled+closedKL", false, true}, {"vi/lrt+mcKL", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			q := *p
			if !c.lrt {
				q.VarNegLogLik = nil
			}
			if !c.closed {
				q.PriorLoc, q.PriorScale = nil, nil
			}
			st := newVIState(&q, VI{}.withDefaults(), rand.New(rand.NewPCG(1, 2)))
			for j := range st.rho {
				st.rho[j] = -6
			}
			for b.Loop() {
				st.step(idx)
			}
			report(b)
		})
	}
}
