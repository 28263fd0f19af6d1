package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bayesl/bayesl/stdlib/spell"
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

// Ensemble is an ensemble of Members independent fits of a point method,
// and its posterior is the equal-weight set of their parameter vectors, a
// *Points. It comes in two kinds.
//
// Anchored (randomised MAP; Pearce et al. 2020, Osband et al. 2018; see
// docs/anchored.md) is the default when every prior is normal. Member j
// draws an anchor θ_anc ~ p(θ) and minimises
//
//	NLL(θ; ỹ) + ½ Σ_i (θ_i − θ_anc,i)²/s_i²,
//
// the prior's penalty moved to its own draw, starting at the anchor. When
// the likelihood is normal with a scale the model fixes (the Problem's
// TargetNoise σ), it also fits targets perturbed once per member, ỹ_n =
// y_n + σ ξ_n, and for a linear-Gaussian model each member is then an exact
// draw from the posterior. With a learned or input-dependent noise scale,
// and for classifiers, there is no such perturbation and members are
// anchored only: centred right, with a spread that is exact in no model.
//
// Plain (kind: plain; Lakshminarayanan et al. 2017): each member is a MAP
// fit from its own initialisation and minibatch order. On a non-convex
// loss the members settle in different modes, so their disagreement
// measures what one fit cannot; on a convex problem every member finds the
// same optimum and there is no epistemic variance at all. Without a normal
// prior on every parameter a default ensemble is plain.
//
// The zero value is ready to use: 5 members, each the default MAP run for
// at least minMemberSteps steps (a member that stops short of its optimum
// is not a posterior draw). Members are units of runUnits: member i draws
// from a source seeded with two numbers that Fit takes from its rng up
// front, so its result depends only on the fit's seed and i, and the
// posterior is the same bit for bit however many cores run the members.
type Ensemble struct {
	Members int         `bl:"members,pos"`               // number of members; default 5
	Kind    string      `bl:"kind,oneof=anchored|plain"` // default anchored when every prior is normal, plain otherwise
	Method  PointMethod // what each member runs; nil means MAP{} run to convergence (set from a script as method: map(...))

	epochCap int // CapEpochs' bound on the default member's epochs, applied once N is known
}

// Ensemble kinds.
const (
	ensembleAnchored = "anchored"
	ensemblePlain    = "plain"
)

// minMemberSteps is the fewest optimiser steps the default member takes:
// on small data MAP's 200 epochs are 200 steps, short of the optimum that
// an anchored member must reach to be a posterior draw.
const minMemberSteps = 5000

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
	return e
}

// member returns the method each member runs on n training rows.
func (e Ensemble) member(n int) PointMethod {
	if e.Method != nil {
		return e.Method
	}
	m := MAP{}.withDefaults()
	steps := (n + m.Batch - 1) / m.Batch
	m.Epochs = max(m.Epochs, (minMemberSteps+steps-1)/steps)
	if e.epochCap > 0 {
		m.Epochs = min(m.Epochs, e.epochCap)
	}
	return &m
}

// CapEpochs returns a copy whose members run at most n epochs each. A member
// method that does not count epochs is left as it is.
func (e Ensemble) CapEpochs(n int) Method {
	if e.Method == nil {
		if n > 0 {
			e.epochCap = n
		}
		return &e
	}
	if c, ok := CapEpochs(e.Method, n).(PointMethod); ok {
		e.Method = c
	}
	return &e
}

// Fit trains the members and returns their vectors as a *Points. Progress
// reports count member epochs (see fanProgress). When
// members fail, the error is a *MemberError for the failing member with the
// lowest index, the same error a sequential run gives.
func (e Ensemble) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if e.Members < 0 {
		return nil, fmt.Errorf("ensemble: %w", &SettingError{-1, fmt.Sprintf("members must be positive, got %d", e.Members)})
	}
	if err := checkSettings(e); err != nil {
		return nil, fmt.Errorf("ensemble: %w", err)
	}
	if err := checkProblem("ensemble", p); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("ensemble: %w", errNilRNG)
	}
	e = e.withDefaults()
	anchored := e.Kind == ensembleAnchored || e.Kind == "" && p.PriorLoc != nil
	if anchored && p.PriorLoc == nil {
		return nil, fmt.Errorf("ensemble: %w", &SettingError{-1, "kind: anchored needs a normal prior on every parameter, to draw anchors from; use kind: plain"})
	}
	pm := e.member(p.N)
	seeds := unitSeeds(rng, e.Members)
	prog := newFanProgress(obs, "ensemble", e.Members)
	thetas := make([][]float64, e.Members)
	err := runUnits(ctx, p, "ensemble", "member", e.Members, func(ctx context.Context, q *Problem, i int) error {
		r := unitRNG(seeds[i])
		if anchored {
			q = anchoredProblem(q, r)
		}
		pt, err := pm.FitPoint(ctx, q, r, prog.unit(i))
		if err != nil {
			return err
		}
		if len(pt.Theta) != p.Dim {
			return fmt.Errorf("%s: member returned %d parameters, want %d", pm.Name(), len(pt.Theta), p.Dim)
		}
		thetas[i] = pt.Theta
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Points{Thetas: thetas, By: "ensemble"}, nil
}

// anchoredProblem returns the problem of one anchored member: q with its
// normal prior N(loc, s²) moved to an anchor drawn from it with rng, the
// start at the anchor, and, when q offers TargetNoise σ, targets shifted
// by σξ with ξ ~ N(0, I) drawn with rng. The anchor is drawn first.
func anchoredProblem(q *Problem, rng *rand.Rand) *Problem {
	anc := make([]float64, q.Dim)
	for j := range anc {
		anc[j] = q.PriorLoc[j] + q.PriorScale[j]*rng.NormFloat64()
	}
	r := *q
	if q.TargetNoise > 0 && q.ShiftTargets != nil {
		shift := make([]float64, q.N)
		for n := range shift {
			shift[n] = q.TargetNoise * rng.NormFloat64()
		}
		r = *q.ShiftTargets(shift)
	}
	scale := q.PriorScale
	c := float64(q.Dim) * 0.5 * log2Pi
	for _, s := range scale {
		c += math.Log(s)
	}
	r.PriorLoc, r.PriorScale = anc, scale
	r.NegLogPrior = func(grad, theta []float64) float64 {
		sum := 0.0
		for j, t := range theta {
			z := (t - anc[j]) / scale[j]
			sum += z * z
			if grad != nil {
				grad[j] += z / scale[j]
			}
		}
		return 0.5*sum + c
	}
	r.Init = func(theta []float64, _ *rand.Rand) { copy(theta, anc) }
	r.Fork, r.ShiftTargets = nil, nil
	return &r
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
	Members int    `bl:"members,pos"`
	Kind    string `bl:"kind,oneof=anchored|plain"`
	Method  *Call  `bl:"method"`
}

func (ensembleArgs) Name() string { return "ensemble" }

// buildEnsemble is the registry constructor of "ensemble": the member
// method is built through r, so any point method r knows can be nested.
func (r Registry) buildEnsemble(args []Arg) (Method, error) {
	var s ensembleArgs
	if err := ParseSettings(&s, args); err != nil {
		return nil, err
	}
	e := &Ensemble{Members: s.Members, Kind: s.Kind}
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
