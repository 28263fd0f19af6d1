package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// loop is the minibatch driver shared by the gradient backends, SWAG's
// collecting phase and distillation. Each epoch it shuffles the training
// rows with rng (reusing one index slice) and walks them in minibatches of
// at most batch rows, or, with iid set, takes ⌈n/batch⌉ steps on batch rows
// drawn with replacement; it calls step on each, checks ctx between steps
// and reports the epoch's mean per-example objective to obs.
type loop struct {
	method string
	epochs int
	batch  int
	n      int
	perm   []int
	// iid: rows drawn with replacement, as constant-rate SGD read as
	// inference assumes (Mandt et al. 2017, A1): reshuffled epochs make the
	// noise of an epoch sum to zero.
	iid bool

	// Optional hooks, nil for a plain fit. startEpoch runs before the
	// epoch's first step (SWAG sets the scheduled learning rate there).
	// afterStep runs after each step (SWAG's per-step collection). endEpoch
	// runs after its last step (steps of them) and before the progress
	// report (SWAG collects the iterate there). An error from either stops
	// the fit. report replaces the reported loss by what it returns and
	// ends the fit after this epoch when stop is set (distillation reports
	// its loss over every row and stops on patience).
	startEpoch func(epoch int)
	afterStep  func(epoch, step int) error
	endEpoch   func(epoch, steps int) error
	report     func(epoch int, loss float64) (reported float64, stop bool, err error)
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
	steps := (l.n + l.batch - 1) / l.batch
	for epoch := 1; epoch <= l.epochs; epoch++ {
		if !l.iid {
			shuffle(l.perm, rng)
		}
		if l.startEpoch != nil {
			l.startEpoch(epoch)
		}
		sum, rows := 0.0, 0
		for k := 1; k <= steps; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			var idx []int
			if l.iid {
				idx = l.perm[:l.batch]
				for i := range idx {
					idx[i] = rng.IntN(l.n)
				}
			} else {
				lo := (k - 1) * l.batch
				idx = l.perm[lo:min(lo+l.batch, l.n)]
			}
			loss, badGrad := step(idx)
			if !isFinite(loss) {
				return &DivergenceError{Method: l.method, Epoch: epoch, Step: k, Value: loss}
			}
			if badGrad != 0 {
				return &DivergenceError{Method: l.method, Epoch: epoch, Step: k, Value: badGrad, Grad: true}
			}
			sum += loss * float64(len(idx))
			rows += len(idx)
			if l.afterStep != nil {
				if err := l.afterStep(epoch, k); err != nil {
					return err
				}
			}
		}
		if l.endEpoch != nil {
			if err := l.endEpoch(epoch, steps); err != nil {
				return err
			}
		}
		loss, stop := sum/float64(rows), false
		if l.report != nil {
			var err error
			if loss, stop, err = l.report(epoch, loss); err != nil {
				return err
			}
		}
		if obs != nil {
			obs(Progress{Method: l.method, Epoch: epoch, Epochs: l.epochs, Loss: loss, Elapsed: time.Since(start)})
		}
		if stop {
			return nil
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
