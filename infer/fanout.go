package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// A sampler's chains, an ensemble's members and MultiSWAG's SWAG fits are
// the same thing: independent units of one fit, each with its own source
// of randomness. runUnits runs them; unitSeeds seeds them; fanProgress
// merges their progress; a failure comes back as a *MemberError.

// unitSeeds draws two words for each of n units' sources from rng, before
// any unit starts, so that a unit's draws depend only on the fit's seed
// and the unit's index: not on how many units there are, how they are
// scheduled, or GOMAXPROCS.
func unitSeeds(rng *rand.Rand, n int) [][2]uint64 {
	seeds := make([][2]uint64, n)
	for i := range seeds {
		seeds[i] = [2]uint64{rng.Uint64(), rng.Uint64()}
	}
	return seeds
}

// unitRNG returns the source of the unit seeded with s.
func unitRNG(s [2]uint64) *rand.Rand { return rand.New(rand.NewPCG(s[0], s[1])) }

// MemberError reports the failure of one unit of a fit that runs several:
// a member of an ensemble or of MultiSWAG, or a chain of a sampler. Err is
// the unit's error (a *DivergenceError when it diverged, a *PanicError when
// it panicked; errors.As finds either through MemberError).
type MemberError struct {
	Method  string // the composite method, e.g. "ensemble"; "" for a sampler's chains
	Unit    string // "member" or "chain"; "" means "member"
	Index   int    // 0-based index of the unit
	Members int    // number of units
	Err     error
}

func (e *MemberError) Error() string {
	unit := e.Unit
	if unit == "" {
		unit = "member"
	}
	// A chain's divergence already says which chain it was.
	var de *DivergenceError
	if unit == "chain" && errors.As(e.Err, &de) && de.Chain == e.Index+1 {
		return e.Err.Error()
	}
	s := fmt.Sprintf("%s %d of %d: %v", unit, e.Index+1, e.Members, e.Err)
	if e.Method != "" {
		s = e.Method + ": " + s
	}
	return s
}

func (e *MemberError) Unwrap() error { return e.Err }

// PanicError is a panic inside one unit of a fit, recovered so that it
// fails the fit instead of the process.
type PanicError struct {
	Value any    // what the unit panicked with
	Stack []byte // the unit's goroutine stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// runUnits calls run for units 0 .. n−1, concurrently on up to GOMAXPROCS
// goroutines when p can Fork (one Problem per goroutine, the first being p
// itself), one after the other on p otherwise. Units start in index order.
//
// When units fail, the error is that of the failing unit with the lowest
// index, as a *MemberError naming method and unit: the error a sequential
// run gives, whatever the schedule. A failure cancels and stops only the
// units after it, since they cannot change the answer. A panic in a unit is
// recovered into a *PanicError; the goroutine that ran it takes no more
// units, as its Problem may be left half-updated. When ctx is done the
// error is ctx's.
func runUnits(ctx context.Context, p *Problem, method, unit string, n int, run func(ctx context.Context, q *Problem, i int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	workers := 1
	if p.Fork != nil {
		workers = max(1, min(n, runtime.GOMAXPROCS(0)))
	}
	probs := make([]*Problem, workers)
	probs[0] = p
	for w := 1; w < workers; w++ {
		q := p.Fork()
		if q == nil || q.Dim != p.Dim || q.N != p.N {
			return fmt.Errorf("%s: the problem's Fork returned a different problem", orName(method, unit))
		}
		probs[w] = q
	}

	var (
		mu      sync.Mutex
		next    int // next unit to start
		failed  = n // lowest failed unit so far
		cancels = make([]context.CancelFunc, n)
		errs    = make([]error, n)
	)
	// claim returns the next unit to run and its context, or -1.
	claim := func() (int, context.Context) {
		mu.Lock()
		defer mu.Unlock()
		if next >= n || next > failed {
			return -1, nil
		}
		i := next
		next++
		c, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		return i, c
	}
	finish := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		cancels[i]()
		if err == nil {
			return
		}
		errs[i] = err
		if i > failed || ctx.Err() != nil {
			return
		}
		failed = i
		for j := i + 1; j < n; j++ {
			if cancels[j] != nil {
				cancels[j]()
			}
		}
	}
	// one runs unit i, turning a panic into an error.
	one := func(c context.Context, q *Problem, i int) (err error, panicked bool) {
		defer func() {
			if r := recover(); r != nil {
				err, panicked = &PanicError{Value: r, Stack: debug.Stack()}, true
			}
		}()
		return run(c, q, i), false
	}
	work := func(q *Problem) {
		for {
			i, c := claim()
			if i < 0 {
				return
			}
			err, panicked := one(c, q, i)
			finish(i, err)
			if panicked {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for _, q := range probs[1:] {
		wg.Go(func() { work(q) })
	}
	work(probs[0])
	wg.Wait()
	// Every unit below the lowest failure has run: units are claimed in
	// index order, and a failure stops only the claims above it.

	if err := ctx.Err(); err != nil {
		return err
	}
	if failed < n {
		return &MemberError{Method: method, Unit: unit, Index: failed, Members: n, Err: errs[failed]}
	}
	return nil
}

func orName(method, unit string) string {
	if method != "" {
		return method
	}
	return unit + "s"
}

// fanProgress merges the progress reports of n units into one stream for
// the Observer, called from one goroutine at a time: one report per unit
// epoch, with Epoch counting the unit epochs done so far and Epochs n
// times the unit's, so that it rises steadily whether the units run
// together or one after another. Loss is the mean of each unit's latest.
type fanProgress struct {
	obs    Observer
	method string
	mu     sync.Mutex
	done   int
	loss   []float64 // the latest epoch's loss of each unit; NaN before
	start  time.Time
}

// newFanProgress returns the aggregator; nil when obs is nil.
func newFanProgress(obs Observer, method string, n int) *fanProgress {
	if obs == nil {
		return nil
	}
	fp := &fanProgress{obs: obs, method: method, loss: make([]float64, n), start: time.Now()}
	for i := range fp.loss {
		fp.loss[i] = math.NaN()
	}
	return fp
}

// unit returns the Observer of unit i: nil when there is no one to tell.
func (fp *fanProgress) unit(i int) Observer {
	if fp == nil {
		return nil
	}
	return func(pr Progress) { fp.report(i, pr.Epochs, pr.Loss) }
}

func (fp *fanProgress) report(i, epochs int, loss float64) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.done++
	fp.loss[i] = loss
	sum, k := 0.0, 0
	for _, l := range fp.loss {
		if !math.IsNaN(l) {
			sum += l
			k++
		}
	}
	fp.obs(Progress{Method: fp.method, Epoch: fp.done, Epochs: len(fp.loss) * epochs, Loss: sum / float64(k), Elapsed: time.Since(fp.start)})
}
