package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// loop is the minibatch driver shared by the gradient backends. Each epoch
// it shuffles the training rows with rng (reusing one index slice), walks
// them in minibatches of at most batch rows, calls step on each, checks ctx
// between steps and reports the epoch's mean per-example objective to obs.
type loop struct {
	method string
	epochs int
	batch  int
	n      int
	perm   []int

	// Optional hooks, nil for a plain fit. startEpoch runs before the
	// epoch's first step (SWAG sets the scheduled learning rate there).
	// endEpoch runs after its last step (steps of them) and before the
	// progress report (SWAG collects the iterate there); an error from it
	// stops the fit.
	startEpoch func(epoch int)
	endEpoch   func(epoch, steps int) error
}

func newLoop(method string, epochs, batch, n int) *loop {
	if batch > n {
		batch = n
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	return &loop{method: method, epochs: epochs, batch: batch, n: n, perm: perm}
}

// stepFunc takes one optimisation step on the rows idx and returns the
// per-example objective of the batch before the step. When the gradient
// has a NaN or infinite coordinate the step is not taken and badGrad is
// that coordinate; otherwise badGrad is 0.
type stepFunc func(idx []int) (loss, badGrad float64)

// run executes the epochs. It returns ctx.Err() when ctx is done and a
// *DivergenceError when step reports a non-finite value.
func (l *loop) run(ctx context.Context, rng *rand.Rand, obs Observer, step stepFunc) error {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return err
	}
	for epoch := 1; epoch <= l.epochs; epoch++ {
		shuffle(l.perm, rng)
		if l.startEpoch != nil {
			l.startEpoch(epoch)
		}
		sum := 0.0
		k := 0
		for lo := 0; lo < l.n; lo += l.batch {
			k++
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := l.perm[lo:min(lo+l.batch, l.n)]
			loss, badGrad := step(idx)
			if !isFinite(loss) {
				return &DivergenceError{Method: l.method, Epoch: epoch, Step: k, Value: loss}
			}
			if badGrad != 0 {
				return &DivergenceError{Method: l.method, Epoch: epoch, Step: k, Value: badGrad, Grad: true}
			}
			sum += loss * float64(len(idx))
		}
		if l.endEpoch != nil {
			if err := l.endEpoch(epoch, k); err != nil {
				return err
			}
		}
		if obs != nil {
			obs(Progress{Method: l.method, Epoch: epoch, Epochs: l.epochs,
				Loss: sum / float64(l.n), Elapsed: time.Since(start)})
		}
	}
	return nil
}

// shuffle is a Fisher-Yates shuffle drawing from rng.
func shuffle(p []int, rng *rand.Rand) {
	for i := len(p) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

// checkProblem validates the parts of p every gradient backend needs.
func checkProblem(method string, p *Problem) error {
	switch {
	case p == nil:
		return fmt.Errorf("%s: nil problem", method)
	case p.Dim < 1:
		return fmt.Errorf("%s: problem has %d parameters", method, p.Dim)
	case p.N < 1:
		return fmt.Errorf("%s: problem has no training rows", method)
	case p.NegLogLik == nil:
		return fmt.Errorf("%s: problem has no NegLogLik", method)
	}
	if (p.PriorLoc == nil) != (p.PriorScale == nil) {
		return fmt.Errorf("%s: problem sets only one of PriorLoc and PriorScale", method)
	}
	if p.PriorLoc != nil {
		if len(p.PriorLoc) != p.Dim || len(p.PriorScale) != p.Dim {
			return fmt.Errorf("%s: prior location and scale have lengths %d and %d, want %d",
				method, len(p.PriorLoc), len(p.PriorScale), p.Dim)
		}
		for j, s := range p.PriorScale {
			if !(s > 0) || math.IsInf(s, 0) || math.IsNaN(p.PriorLoc[j]) || math.IsInf(p.PriorLoc[j], 0) {
				return fmt.Errorf("%s: prior of parameter %d is N(%g, %g²)", method, j, p.PriorLoc[j], s)
			}
		}
	}
	return nil
}

var errNilRNG = errors.New("nil *rand.Rand: every fit draws from an explicit seeded source")
