package infer

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bayesl/bayesl/stdlib/predictive"
)

// unitProblem is a problem whose forks count themselves.
func unitProblem(forks *int, mu *sync.Mutex) *Problem {
	p := &Problem{Dim: 1, N: 1, Kind: predictive.Regression,
		NegLogLik: func(grad, theta []float64, idx []int) float64 { return 0 }}
	p.Fork = func() *Problem {
		mu.Lock()
		*forks++
		mu.Unlock()
		return unitProblem(forks, mu)
	}
	return p
}

// A unit that panics fails the fit with a *MemberError holding a
// *PanicError, on any number of cores; the lowest failing unit is
// reported, whatever the schedule, and units after it do not start.
func TestRunUnitsPanic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		for _, fork := range []bool{true, false} {
			var forks int
			var mu sync.Mutex
			p := unitProblem(&forks, &mu)
			if !fork {
				p.Fork = nil
			}
			var ran []int
			err := runUnits(context.Background(), p, "ensemble", "member", 8, func(ctx context.Context, q *Problem, i int) error {
				mu.Lock()
				ran = append(ran, i)
				mu.Unlock()
				switch i {
				case 3:
					panic("unit 3 broke")
				case 5:
					return errors.New("unit 5 failed")
				}
				return nil
			})
			var me *MemberError
			var pe *PanicError
			if !errors.As(err, &me) || me.Index != 3 || me.Members != 8 || !errors.As(err, &pe) || pe.Value != "unit 3 broke" || len(pe.Stack) == 0 {
				t.Fatalf("procs %d, fork %v: %v", procs, fork, err)
			}
			if want := "ensemble: member 4 of 8: panic: unit 3 broke"; err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			slices.Sort(ran)
			if !fork && !slices.Equal(ran, []int{0, 1, 2, 3}) {
				t.Errorf("sequential: ran %v, want 0..3", ran)
			}
			for k, i := range ran[:4] {
				if i != k {
					t.Errorf("procs %d, fork %v: ran %v, units below the failure missing", procs, fork, ran)
				}
			}
		}
	}
}

// A panic inside a real backend's member, chain or SWAG fit comes back as
// an error naming the unit.
func TestUnitPanicInBackends(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var forks int
	var mu sync.Mutex
	base := unitProblem(&forks, &mu)
	calls := 0
	panicky := func() *Problem {
		q := *base
		q.NegLogLik = func(grad, theta []float64, idx []int) float64 {
			mu.Lock()
			calls++
			c := calls
			mu.Unlock()
			if c == 7 {
				panic("boom")
			}
			clear(grad)
			return 0
		}
		return &q
	}
	for _, m := range []Method{
		Ensemble{Members: 3, Kind: "plain", Method: &MAP{Epochs: 5}},
		MultiSWAG{Members: 3, Epochs: 5},
		SGLD{Epochs: 5, Chains: 3},
	} {
		calls = 0
		p := panicky()
		p.Fork = func() *Problem { return panicky() }
		_, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
		var pe *PanicError
		var me *MemberError
		if !errors.As(err, &pe) || !errors.As(err, &me) || !strings.Contains(err.Error(), "panic: boom") {
			t.Errorf("%s: %v", m.Name(), err)
		}
	}
}

// Units see the same seeds and give the same results on one core or many,
// and the merged progress counts unit epochs.
func TestRunUnitsGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	run := func(procs int) ([]uint64, []Progress) {
		runtime.GOMAXPROCS(procs)
		var forks int
		var mu sync.Mutex
		seeds := unitSeeds(rand.New(rand.NewPCG(3, 4)), 6)
		out := make([]uint64, 6)
		var seen []Progress
		prog := newFanProgress(func(pr Progress) { seen = append(seen, pr) }, "x", 6)
		err := runUnits(context.Background(), unitProblem(&forks, &mu), "x", "member", 6, func(ctx context.Context, q *Problem, i int) error {
			r := unitRNG(seeds[i])
			obs := prog.unit(i)
			for e := 1; e <= 3; e++ {
				out[i] = r.Uint64()
				obs(Progress{Epoch: e, Epochs: 3, Loss: float64(i)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, seen
	}
	one, p1 := run(1)
	many, p4 := run(4)
	if !slices.Equal(one, many) {
		t.Errorf("results differ: %v vs %v", one, many)
	}
	for _, seen := range [][]Progress{p1, p4} {
		last := seen[len(seen)-1]
		if len(seen) != 18 || last.Epoch != 18 || last.Epochs != 18 || last.Loss != 2.5 || last.Method != "x" {
			t.Errorf("progress %+v", seen)
		}
	}
}
