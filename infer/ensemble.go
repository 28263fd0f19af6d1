package infer

import (
	"context"
	"errors"
	"fmt"
	"github.com/bayesl/bayesl/stdlib/spell"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"
)

// PointMethod is a Method whose posterior is always a single parameter
// vector, such as MAP. Ensemble trains several of them and Laplace puts a
// Gaussian around one; both take any PointMethod, so a new optimiser that
// implements it can serve as either's inner method.
type PointMethod interface {
	Method
	// FitPoint is Fit with the posterior's concrete type.
	FitPoint(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (*Point, error)
}

var _ PointMethod = (*MAP)(nil)

// FitPoint is Fit returning the *Point.
func (m MAP) FitPoint(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (*Point, error) {
	post, err := m.Fit(ctx, p, rng, obs)
	if err != nil {
		return nil, err
	}
	return post.(*Point), nil
}

// Ensemble is a deep ensemble (Lakshminarayanan et al. 2017): Members
// independent fits of a point method, each from its own initialisation and
// with its own minibatch order, and the posterior is the equal-weight set
// of their parameter vectors, a *Points. On a non-convex loss the members
// settle in different modes, so their disagreement measures what one fit
// cannot: the spread between explanations of the data. (On a convex problem
// every member finds the same optimum and the ensemble has no epistemic
// variance at all.) The zero value is ready to use: 5 MAP members with
// MAP's defaults.
//
// Member i draws from a PCG source seeded with two numbers that Fit takes
// from its rng up front, in member order, so a member's result depends only
// on the fit's seed and i, not on how many members there are or how they
// are scheduled. Members train concurrently, one per available core
// (GOMAXPROCS), each worker on its own p.Fork(); without Fork they run one
// after the other on p. The posterior is the same bit for bit either way.
type Ensemble struct {
	Members int         `bl:"members,pos"` // number of members; default 5
	Method  PointMethod // what each member runs; nil means MAP{} (set from a script as method: map(...))
}

var (
	_ Method      = (*Ensemble)(nil)
	_ EpochCapper = (*Ensemble)(nil)
)

// Name returns "ensemble".
func (Ensemble) Name() string { return "ensemble" }

func (e Ensemble) withDefaults() Ensemble {
	if e.Members == 0 {
		e.Members = 5
	}
	if e.Method == nil {
		e.Method = &MAP{}
	}
	return e
}

// CapEpochs returns a copy whose members run at most n epochs each. A member
// method that does not count epochs is left as it is.
func (e Ensemble) CapEpochs(n int) Method {
	e = e.withDefaults()
	if c, ok := CapEpochs(e.Method, n).(PointMethod); ok {
		e.Method = c
	}
	return &e
}

// MemberError reports the failure of one ensemble member. Err is the
// member's error (a *DivergenceError when it diverged; errors.As finds it
// through MemberError).
type MemberError struct {
	Method  string // the composite method, e.g. "ensemble"
	Index   int    // 0-based member index
	Members int
	Err     error
}

func (e *MemberError) Error() string {
	return fmt.Sprintf("%s member %d of %d: %v", e.Method, e.Index+1, e.Members, e.Err)
}

func (e *MemberError) Unwrap() error { return e.Err }

// Fit trains the members and returns their vectors as a *Points. Progress
// reports count member epochs (Epochs is Members × the member's epochs, when
// members report epochs); they come from the members' goroutines, one at a
// time. When members fail, the error is that of the failing member with the
// lowest index, a *MemberError, the same error a sequential run gives:
// a failure stops only the members after it.
func (e Ensemble) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if e.Members < 0 {
		return nil, fmt.Errorf("ensemble: %w", &SettingError{-1, fmt.Sprintf("members must be positive, got %d", e.Members)})
	}
	if err := checkProblem("ensemble", p); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("ensemble: %w", errNilRNG)
	}
	e = e.withDefaults()
	thetas, err := trainMembers(ctx, "ensemble", e.Members, e.Method, p, rng, obs)
	if err != nil {
		return nil, err
	}
	return &Points{Thetas: thetas, By: "ensemble"}, nil
}

// trainMembers fits m members of pm and returns their vectors; see
// Ensemble.Fit for the seeding, scheduling and error rules.
func trainMembers(ctx context.Context, method string, m int, pm PointMethod, p *Problem, rng *rand.Rand, obs Observer) ([][]float64, error) {
	seeds := make([][2]uint64, m)
	for i := range seeds {
		seeds[i] = [2]uint64{rng.Uint64(), rng.Uint64()}
	}
	workers := 1
	if p.Fork != nil {
		workers = min(m, runtime.GOMAXPROCS(0))
	}
	probs := make([]*Problem, workers)
	probs[0] = p
	for w := 1; w < workers; w++ {
		q := p.Fork()
		if q == nil || q.Dim != p.Dim || q.N != p.N {
			return nil, fmt.Errorf("%s: the problem's Fork returned a different problem", method)
		}
		probs[w] = q
	}

	var (
		mu      sync.Mutex
		next    int // next member to start
		failed  = m // lowest failed member so far
		cancels = make([]context.CancelFunc, m)
		thetas  = make([][]float64, m)
		errs    = make([]error, m)
	)
	var report Observer
	if obs != nil {
		var omu sync.Mutex
		done, start := 0, time.Now()
		report = func(pr Progress) {
			omu.Lock()
			defer omu.Unlock()
			done++
			obs(Progress{Method: method, Epoch: done, Epochs: m * pr.Epochs, Loss: pr.Loss, Elapsed: time.Since(start)})
		}
	}
	// claim returns the next member to train and its context, or -1.
	claim := func() (int, context.Context) {
		mu.Lock()
		defer mu.Unlock()
		if next >= m || next > failed {
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
		if err == nil || i > failed || ctx.Err() != nil {
			return
		}
		failed = i
		for j := i + 1; j < m; j++ { // later members cannot change the answer
			if cancels[j] != nil {
				cancels[j]()
			}
		}
	}
	work := func(q *Problem) {
		for {
			i, c := claim()
			if i < 0 {
				return
			}
			pt, err := pm.FitPoint(c, q, rand.New(rand.NewPCG(seeds[i][0], seeds[i][1])), report)
			if err == nil && len(pt.Theta) != p.Dim {
				err = fmt.Errorf("%s: member returned %d parameters, want %d", pm.Name(), len(pt.Theta), p.Dim)
			}
			if err != nil {
				errs[i] = err
			} else {
				thetas[i] = pt.Theta
			}
			finish(i, err)
		}
	}
	var wg sync.WaitGroup
	for _, q := range probs[1:] {
		wg.Go(func() { work(q) })
	}
	work(probs[0])
	wg.Wait()

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if failed < m {
		return nil, &MemberError{Method: method, Index: failed, Members: m, Err: errs[failed]}
	}
	return thetas, nil
}

// Points is a posterior made of a finite set of equally weighted parameter
// vectors: the members of an ensemble.
type Points struct {
	Thetas [][]float64
	By     string // the backend that learned it, e.g. "ensemble"; Method returns it
}

var (
	_ Saver          = (*Points)(nil)
	_ StoredNumberer = (*Points)(nil)
)

// Method returns the backend that learned the set.
func (q *Points) Method() string { return q.By }

// Dim returns the length of the vectors.
func (q *Points) Dim() int {
	if len(q.Thetas) == 0 {
		return 0
	}
	return len(q.Thetas[0])
}

// Draw returns all the vectors, whatever s is: the predictive of an
// ensemble is the equal mixture of its members, exactly, with one forward
// pass per member. The vectors are shared with q; callers must not modify
// them.
func (q *Points) Draw(s int, rng *rand.Rand) [][]float64 { return q.Thetas }

// StoredNumbers returns how many numbers define the posterior: members ×
// Dim.
func (q *Points) StoredNumbers() int { return len(q.Thetas) * q.Dim() }

// Kind returns "ensemble", the key of its decoder.
func (q *Points) Kind() string { return "ensemble" }

// Vectors returns the payload saved to a file: the member vectors.
func (q *Points) Vectors() [][]float64 { return q.Thetas }

func decodePoints(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) == 0 {
		return nil, fmt.Errorf("ensemble posterior has no members")
	}
	for i, v := range vecs {
		if len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("ensemble member %d has %d parameters, member 0 has %d", i, len(v), len(vecs[0]))
		}
	}
	return &Points{Thetas: vecs, By: method}, nil
}

// ensembleArgs are the script settings of an ensemble.
type ensembleArgs struct {
	Members int   `bl:"members,pos"`
	Method  *Call `bl:"method"`
}

func (ensembleArgs) Name() string { return "ensemble" }

// buildEnsemble is the registry constructor of "ensemble": the member
// method is built through r, so any point method r knows can be nested.
func (r Registry) buildEnsemble(args []Arg) (Method, error) {
	var s ensembleArgs
	if err := ParseSettings(&s, args); err != nil {
		return nil, err
	}
	e := &Ensemble{Members: s.Members}
	if s.Method != nil {
		pm, err := r.nestedPoint("ensemble", s.Method, settingIndex(args, "method"))
		if err != nil {
			return nil, err
		}
		e.Method = pm
	}
	return e, nil
}

// nestedPoint builds the point method c that the setting at index of owner
// names. Every error is a *SettingError at index: an unknown method lists
// the point methods r knows, and an error in c's own settings keeps its
// message, prefixed with c's name.
func (r Registry) nestedPoint(owner string, c *Call, index int) (PointMethod, error) {
	m, err := r.New(c.Name, c.Args)
	if err != nil {
		var ue *UnknownMethodError
		var se *SettingError
		switch {
		case errors.As(err, &ue):
			known := r.pointNames()
			msg := fmt.Sprintf("unknown method %q for %s", c.Name, owner)
			if s := spell.Nearest(c.Name, known); s != "" {
				msg += "; did you mean " + s + "?"
			}
			return nil, &SettingError{index, msg + " (point methods: " + strings.Join(known, ", ") + ")"}
		case errors.As(err, &se):
			return nil, &SettingError{index, fmt.Sprintf("method %s: %s", c.Name, se.Msg)}
		}
		return nil, &SettingError{index, fmt.Sprintf("method %s: %v", c.Name, err)}
	}
	pm, ok := m.(PointMethod)
	if !ok {
		return nil, &SettingError{index, fmt.Sprintf("%s needs a method that learns one parameter vector (%s); %s learns a distribution",
			owner, strings.Join(r.pointNames(), ", "), c.Name)}
	}
	return pm, nil
}

// pointNames returns the sorted names of the registry's point methods: the
// entries that, built without settings, give a PointMethod.
func (r Registry) pointNames() []string {
	var out []string
	for _, name := range r.Names() {
		if f := r[name]; f != nil {
			if m, err := f(nil); err == nil {
				if _, ok := m.(PointMethod); ok {
					out = append(out, name)
				}
			}
		}
	}
	return out
}

// settingIndex returns the index of the last argument called name, or -1.
func settingIndex(args []Arg, name string) int {
	for i := len(args) - 1; i >= 0; i-- {
		if args[i].Name == name {
			return i
		}
	}
	return -1
}
