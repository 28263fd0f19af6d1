package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/bayesl/bayesl/stdlib/gp"
	"github.com/bayesl/bayesl/stdlib/num"
	"gonum.org/v1/gonum/mat"
)

// GP-matched priors (docs/algorithms.md §5; Sendera, Sorkhei, Kuśmierczyk, UAI
// 2025). MatchPrior fits the hyperparameters of a network's prior, one
// scale per parameter tensor and the coefficients of learnable
// activations, so that the network's prior over its output at measurement
// points matches a Gaussian process: each step it
//
//  1. draws n points X uniformly in the input box (sorted in 1-D),
//  2. draws S parameter vectors θ_s = loc + σ⊙ε_s, ε_s from the prior's
//     standardised family (one σ = softplus(u) + 1e-8 per tensor), and
//     evaluates F (S x n), F[s, i] = f(X_i; θ_s),
//  3. fits the moments μ̂ = mean_s F and C1 = (F − μ̂)ᵀ/√(S−1) (gp.SampleRoot)
//     and takes the loss W2²(N(μ̂, C1C1ᵀ), N(0, K(X, X) + jitter))/n with the
//     exact GP side C2 = gp.Root (the reference code samples the GP side
//     too; the exact moments are less noisy, §11.6),
//  4. backpropagates: dW2/dC1 and dW2/dμ̂ from gp.W2SquaredRootsGrad,
//     through the centring and 1/√(S−1) to dF, through the network to
//     dθ_s (PriorEvaluator.Backward), and to the hyperparameters:
//     dσ_k = Σ_s Σ_{j ∈ k} ε_sj·dθ_sj, du_k = dσ_k·sigmoid(u_k); a learned
//     location gets Σ_s dθ_sj,
//  5. takes an Adam step.
//
// Each u starts at softplus⁻¹(σ₀ − 1e-8), σ₀ the tensor's declared prior
// scale, so MatchResult.Before is the distance of the prior as written (the
// reference code starts from u ~ N(0, 1) instead).
//
// The network evaluations run on every core (one PriorEvaluator per
// worker) and allocate nothing once the workspaces exist; the GP root and
// the W2 gradient (an S x n SVD) allocate per step. Per-sample noise comes
// from a generator seeded by the step and the sample index, and per-sample
// results are reduced in sample order, so the result does not depend on the
// number of workers.

// PriorNet is a network whose prior MatchPrior fits: its parameter vector
// laid out in tensors, and evaluators of its single output.
type PriorNet struct {
	Dim        int // length of θ
	InputWidth int // columns of the measurement points
	// Tensors are the parameter blocks drawn from the prior. Coordinates in
	// no tensor are 0 in every draw.
	Tensors []PriorTensor
	// NewEvaluator returns an evaluator with its own workspaces. MatchPrior
	// calls it once per worker goroutine.
	NewEvaluator func() PriorEvaluator
}

// PriorEvaluator evaluates a network's output and its gradient. It need not
// be safe for concurrent use.
type PriorEvaluator interface {
	// Outputs writes f(X_i; θ) for each row X_i of x into dst.
	Outputs(dst, theta []float64, x *mat.Dense)
	// Backward overwrites grad with the gradient in θ of Σ_i dOut[i]·f(X_i; θ).
	Backward(grad, theta []float64, x *mat.Dense, dOut []float64)
}

// Learn says which hyperparameter of a tensor's prior MatchPrior fits.
type Learn int

// What a tensor learns.
const (
	// LearnScale fits the prior's scale σ = softplus(u) + 1e-8 (one for the
	// tensor) and keeps its location: a layer's weights or biases.
	LearnScale Learn = iota
	// LearnLoc fits one location per coordinate and keeps the scale: the
	// coefficients of a learnable activation.
	LearnLoc
	// LearnNone draws the tensor from its prior and fits nothing: a
	// parameter the output does not depend on.
	LearnNone
)

// PriorTensor is one parameter block of θ and its prior: coordinate j is
// Loc (or, for LearnLoc, its own location) + Scale·ε_j, with ε_j drawn by
// Noise (nil: standard normal).
type PriorTensor struct {
	Name         string
	Offset, Size int
	Loc, Scale   float64
	Learn        Learn
	Noise        func(*rand.Rand) float64
}

// MatchSettings are the target and the optimisation of MatchPrior.
type MatchSettings struct {
	Kernel gp.Kernel // the target GP's covariance (zero mean)
	// Lo and Hi bound the box the measurement points are drawn from, one
	// pair per input column.
	Lo, Hi   []float64
	Points   int     // n, measurement points per step (at least 2)
	Steps    int     // Adam steps
	Samples  int     // S, prior draws per step (at least 2)
	LR       float64 // Adam's learning rate
	EvalSets int     // measurement sets behind Before and After (default 8)
	Workers  int     // goroutines (default GOMAXPROCS)
}

// MatchResult is what MatchPrior found.
type MatchResult struct {
	// Scales holds each tensor's prior scale after matching (unchanged for
	// LearnLoc and LearnNone tensors).
	Scales []float64
	// Locs holds, for each LearnLoc tensor, its coordinates' locations after
	// matching; nil for the others.
	Locs [][]float64
	// Before and After are the loss W2²/n at the starting and the matched
	// hyperparameters, each averaged over EvalSets fresh measurement sets
	// with S draws; both use the same points and noise.
	Before, After float64
	// Trace is the loss of every step (each on fresh points and draws).
	Trace   []float64
	Elapsed time.Duration
}

// scaleFloor is the 1e-8 of σ = softplus(u) + 1e-8.
const scaleFloor = 1e-8

// MatchPrior fits the prior of net to a zero-mean GP (see the comment at
// the top of this file). Progress goes to obs after every step, with the
// step as the epoch and the step's W2²/n as the loss. It stops with
// ctx.Err() when ctx is done, and with a *DivergenceError when the loss or
// its gradient stops being finite.
func MatchPrior(ctx context.Context, net *PriorNet, s *MatchSettings, rng *rand.Rand, obs Observer) (*MatchResult, error) {
	m, err := newMatcher(net, s, rng)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res := &MatchResult{Trace: make([]float64, 0, s.Steps)}
	evalSeed := rng.Uint64()
	if res.Before, err = m.evaluate(evalSeed); err != nil {
		return nil, err
	}
	stepSeed := rng.Uint64()
	for t := range s.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m.points(m.x, rng)
		loss, err := m.step(stepSeed, uint64(t), true)
		if err != nil {
			return nil, err
		}
		if !isFinite(loss) {
			return nil, &DivergenceError{Method: "w2", Epoch: t + 1, Step: 1, Value: loss}
		}
		if g := firstNonFinite(m.gz); g != 0 {
			return nil, &DivergenceError{Method: "w2", Epoch: t + 1, Step: 1, Value: g, Grad: true}
		}
		m.adamStep()
		res.Trace = append(res.Trace, loss)
		if obs != nil {
			obs(Progress{Method: "w2", Epoch: t + 1, Epochs: s.Steps, Loss: loss, Elapsed: time.Since(start)})
		}
	}
	if res.After, err = m.evaluate(evalSeed); err != nil {
		return nil, err
	}
	res.Scales = make([]float64, len(net.Tensors))
	res.Locs = make([][]float64, len(net.Tensors))
	for k, t := range net.Tensors {
		res.Scales[k] = m.scale(k)
		if t.Learn == LearnLoc {
			res.Locs[k] = slices.Clone(m.z[m.zOff[k] : m.zOff[k]+t.Size])
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// matcher holds the state of one MatchPrior run.
type matcher struct {
	net     *PriorNet
	s       MatchSettings
	n, S    int
	workers []*matchWorker

	// z are the optimised hyperparameters: u for each LearnScale tensor,
	// then the locations of each LearnLoc tensor; zOff[k] is tensor k's
	// first entry (-1 for LearnNone).
	z, gz, am, av []float64
	b1t, b2t      float64
	zOff          []int

	x      *mat.Dense // n x InputWidth measurement points
	f      *mat.Dense // S x n outputs
	eps    []float64  // S x Dim noise
	root   mat.Dense  // n x S sample root
	mean   []float64
	gradC  mat.Dense
	gradMu []float64
	dF     []float64 // S x n
	gs     []float64 // S x len(z): per-sample gradients, reduced in order
	ones   []int     // tensors that learn something
}

type matchWorker struct {
	ev          PriorEvaluator
	theta, grad []float64
}

func newMatcher(net *PriorNet, s *MatchSettings, rng *rand.Rand) (*matcher, error) {
	switch {
	case net == nil || net.NewEvaluator == nil:
		return nil, errors.New("match: no network")
	case s.Kernel == nil:
		return nil, errors.New("match: no kernel")
	case s.Points < 2:
		return nil, fmt.Errorf("match: too few measurement points: need at least 2, got %d", s.Points)
	case s.Samples < 2:
		return nil, fmt.Errorf("match: need at least 2 prior draws per step, got %d", s.Samples)
	case s.Steps < 0 || !(s.LR > 0):
		return nil, fmt.Errorf("match: bad steps %d or learning rate %v", s.Steps, s.LR)
	case len(s.Lo) != net.InputWidth || len(s.Hi) != net.InputWidth:
		return nil, fmt.Errorf("match: the box has %d and %d bounds, the network %d inputs", len(s.Lo), len(s.Hi), net.InputWidth)
	}
	if err := s.Kernel.Validate(); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	for i := range s.Lo {
		if !(s.Lo[i] < s.Hi[i]) {
			return nil, fmt.Errorf("match: box bound %d: low %v is not below high %v", i, s.Lo[i], s.Hi[i])
		}
	}
	if float64(s.Samples)*float64(net.Dim) > 1<<26 {
		return nil, fmt.Errorf("match: %d draws of %d parameters do not fit in memory; use fewer samples", s.Samples, net.Dim)
	}
	m := &matcher{net: net, s: *s, n: s.Points, S: s.Samples, b1t: 1, b2t: 1}
	if m.s.EvalSets <= 0 {
		m.s.EvalSets = 8
	}
	if m.s.Workers <= 0 {
		m.s.Workers = runtime.GOMAXPROCS(0)
	}
	m.zOff = make([]int, len(net.Tensors))
	for k, t := range net.Tensors {
		if t.Offset < 0 || t.Size < 0 || t.Offset+t.Size > net.Dim || !(t.Scale > 0) {
			return nil, fmt.Errorf("match: tensor %s: bad layout or scale", t.Name)
		}
		m.zOff[k] = -1
		switch t.Learn {
		case LearnScale:
			m.zOff[k] = len(m.z)
			m.z = append(m.z, num.SoftplusInv(max(t.Scale-scaleFloor, 1e-300)))
		case LearnLoc:
			m.zOff[k] = len(m.z)
			for range t.Size {
				m.z = append(m.z, t.Loc)
			}
		}
		if t.Learn != LearnNone {
			m.ones = append(m.ones, k)
		}
	}
	nz := len(m.z)
	m.gz, m.am, m.av = make([]float64, nz), make([]float64, nz), make([]float64, nz)
	m.x = mat.NewDense(m.n, net.InputWidth, nil)
	m.f = mat.NewDense(m.S, m.n, nil)
	m.eps = make([]float64, m.S*net.Dim)
	m.root.ReuseAs(m.n, m.S)
	m.mean = make([]float64, m.n)
	m.gradC.ReuseAs(m.n, m.S)
	m.gradMu = make([]float64, m.n)
	m.dF = make([]float64, m.S*m.n)
	m.gs = make([]float64, m.S*nz)
	for range min(m.s.Workers, m.S) {
		m.workers = append(m.workers, &matchWorker{ev: net.NewEvaluator(), theta: make([]float64, net.Dim), grad: make([]float64, net.Dim)})
	}
	return m, nil
}

// scale returns tensor k's current prior scale.
func (m *matcher) scale(k int) float64 {
	t := m.net.Tensors[k]
	if t.Learn == LearnScale {
		return num.Softplus(m.z[m.zOff[k]]) + scaleFloor
	}
	return t.Scale
}

// points fills x with n points uniform in the box; 1-D points are sorted.
func (m *matcher) points(x *mat.Dense, rng *rand.Rand) {
	raw := x.RawMatrix()
	d := m.net.InputWidth
	for i := range m.n {
		for j := range d {
			raw.Data[i*raw.Stride+j] = m.s.Lo[j] + (m.s.Hi[j]-m.s.Lo[j])*rng.Float64()
		}
	}
	if d == 1 {
		slices.Sort(raw.Data[:m.n])
	}
}

// parallel runs fn(w, s) for every sample s, samples spread over the workers.
func (m *matcher) parallel(fn func(w *matchWorker, s int)) {
	if len(m.workers) == 1 {
		for s := range m.S {
			fn(m.workers[0], s)
		}
		return
	}
	var wg sync.WaitGroup
	for i, w := range m.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := i; s < m.S; s += len(m.workers) {
				fn(w, s)
			}
		}()
	}
	wg.Wait()
}

// draw fills row s of eps from the sample's own generator and builds θ_s.
func (m *matcher) draw(theta []float64, seed, t uint64, s int) {
	r := rand.New(rand.NewPCG(seed, t<<24|uint64(s)))
	eps := m.eps[s*m.net.Dim : (s+1)*m.net.Dim]
	clear(theta)
	for k, tn := range m.net.Tensors {
		e := eps[tn.Offset : tn.Offset+tn.Size]
		th := theta[tn.Offset : tn.Offset+tn.Size]
		for j := range e {
			if tn.Noise != nil {
				e[j] = tn.Noise(r)
			} else {
				e[j] = r.NormFloat64()
			}
		}
		sc := m.scale(k)
		if tn.Learn == LearnLoc {
			loc := m.z[m.zOff[k] : m.zOff[k]+tn.Size]
			for j := range e {
				th[j] = loc[j] + sc*e[j]
			}
			continue
		}
		for j := range e {
			th[j] = tn.Loc + sc*e[j]
		}
	}
}

// step evaluates the loss at the points in m.x with the draws of (seed, t)
// and, when grad is set, its gradient in z (into gz).
func (m *matcher) step(seed, t uint64, grad bool) (float64, error) {
	m.parallel(func(w *matchWorker, s int) {
		m.draw(w.theta, seed, t, s)
		w.ev.Outputs(m.f.RawRowView(s), w.theta, m.x)
	})
	if err := gp.SampleRoot(&m.root, m.mean, m.f); err != nil {
		return 0, fmt.Errorf("match: %w", err)
	}
	var l mat.Dense
	if _, err := gp.Root(&l, m.s.Kernel, m.x); err != nil {
		return 0, fmt.Errorf("match: %w", err)
	}
	n := float64(m.n)
	if !grad {
		v, err := gp.W2SquaredRoots(m.mean, &m.root, nil, &l)
		if err != nil {
			return 0, fmt.Errorf("match: %w", err)
		}
		return v / n, nil
	}
	v, err := gp.W2SquaredRootsGrad(&m.gradC, m.gradMu, m.mean, &m.root, nil, &l)
	if err != nil {
		return 0, fmt.Errorf("match: %w", err)
	}
	// dF[s, i] = ((gC[i, s] − mean_s' gC[i, s'])/√(S−1) + gμ[i]/S)/n.
	S := float64(m.S)
	inv := 1 / math.Sqrt(S-1)
	for i := range m.n {
		row := m.gradC.RawRowView(i)
		avg := 0.0
		for _, g := range row {
			avg += g
		}
		avg /= S
		mu := m.gradMu[i] / S
		for s, g := range row {
			m.dF[s*m.n+i] = ((g-avg)*inv + mu) / n
		}
	}
	nz := len(m.z)
	m.parallel(func(w *matchWorker, s int) {
		m.rebuild(w.theta, s)
		w.ev.Backward(w.grad, w.theta, m.x, m.dF[s*m.n:(s+1)*m.n])
		gs := m.gs[s*nz : (s+1)*nz]
		eps := m.eps[s*m.net.Dim : (s+1)*m.net.Dim]
		for _, k := range m.ones {
			tn := m.net.Tensors[k]
			g := w.grad[tn.Offset : tn.Offset+tn.Size]
			o := m.zOff[k]
			if tn.Learn == LearnLoc {
				copy(gs[o:o+tn.Size], g)
				continue
			}
			ds := 0.0
			for j, e := range eps[tn.Offset : tn.Offset+tn.Size] {
				ds += e * g[j]
			}
			gs[o] = ds * num.Sigmoid(m.z[o]) // dσ/du = sigmoid(u)
		}
	})
	clear(m.gz)
	for s := range m.S {
		for j, g := range m.gs[s*nz : (s+1)*nz] {
			m.gz[j] += g
		}
	}
	return v / n, nil
}

// rebuild sets θ_s from the stored noise of sample s.
func (m *matcher) rebuild(theta []float64, s int) {
	eps := m.eps[s*m.net.Dim : (s+1)*m.net.Dim]
	clear(theta)
	for k, tn := range m.net.Tensors {
		e := eps[tn.Offset : tn.Offset+tn.Size]
		th := theta[tn.Offset : tn.Offset+tn.Size]
		sc := m.scale(k)
		if tn.Learn == LearnLoc {
			loc := m.z[m.zOff[k] : m.zOff[k]+tn.Size]
			for j := range e {
				th[j] = loc[j] + sc*e[j]
			}
			continue
		}
		for j := range e {
			th[j] = tn.Loc + sc*e[j]
		}
	}
}

// adamStep is Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8) on z.
func (m *matcher) adamStep() {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	m.b1t *= b1
	m.b2t *= b2
	step := m.s.LR / (1 - m.b1t)
	bc2 := math.Sqrt(1 - m.b2t)
	for j, g := range m.gz {
		m.am[j] = b1*m.am[j] + (1-b1)*g
		m.av[j] = b2*m.av[j] + (1-b2)*g*g
		m.z[j] -= step * m.am[j] / (math.Sqrt(m.av[j])/bc2 + eps)
	}
}

// evaluate returns the loss averaged over EvalSets measurement sets, each
// drawn (points and noise) from generators seeded by seed, so two calls
// with the same seed see the same sets.
func (m *matcher) evaluate(seed uint64) (float64, error) {
	total := 0.0
	for e := range m.s.EvalSets {
		m.points(m.x, rand.New(rand.NewPCG(seed, uint64(e))))
		v, err := m.step(seed+1, uint64(e), false)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total / float64(m.s.EvalSets), nil
}
