package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bayesl/bayesl/stdlib/predictive"
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
// TargetNoise σ), it fits targets perturbed once per member, ỹ_n = y_n +
// σξ_n, and for a linear-Gaussian model each member is then an exact draw
// from the posterior. Otherwise, when the Problem offers its outputs
// (OutputGrad), the member adds the same perturbation in its linearised
// form, a term ε_nᵀf_n(θ) with ε_n drawn from the likelihood's Fisher
// information in the outputs (see outputNoise): softmax or bernoulli
// logits, or a normal location whose scale is learned or depends on the
// input (NoiseScale). Without either, members are anchored only: centred
// right, and far too narrow where the data dominate the prior.
//
// Plain (kind: plain; Lakshminarayanan et al. 2017): each member is a MAP
// fit from its own initialisation and minibatch order. On a non-convex
// loss the members settle in different modes, so their disagreement
// measures what one fit cannot; on a convex problem every member finds the
// same optimum and there is no epistemic variance at all. Without a normal
// prior on every parameter a default ensemble is plain.
//
// The zero value is ready to use: 10 anchored members (5 plain), each the
// default MAP run for at least minMemberSteps steps (a member that stops
// short of its optimum is not a posterior draw). Members are units of
// runUnits: member i draws from a source seeded with two numbers that Fit
// takes from its rng up front, so its result depends only on the fit's
// seed and i, and the posterior is the same bit for bit however many cores
// run the members.
type Ensemble struct {
	Members int         `bl:"members,pos"`               // number of members; default 10 anchored, 5 plain
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

// Default member counts. Ten anchored members estimate the size of the
// epistemic spread to within about a third on the fidelity cases (five gave
// 0.50 to 1.29 of the exact size on mcycle over four seeds, ten 0.75 to
// 1.36); a plain ensemble has no such spread to estimate, and five is
// Lakshminarayanan et al.'s number.
const (
	defaultAnchoredMembers = 10
	defaultPlainMembers    = 5
)

func (e Ensemble) withDefaults(anchored bool) Ensemble {
	if e.Members == 0 {
		e.Members = defaultPlainMembers
		if anchored {
			e.Members = defaultAnchoredMembers
		}
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
	anchored := e.Kind == ensembleAnchored || e.Kind == "" && p.PriorLoc != nil
	e = e.withDefaults(anchored)
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

// outputNoise returns q's NegLogLik plus Σ_n ε_nᵀ f_n(θ) over the rows:
// what perturbing the targets adds, generalised to any likelihood. f_n are
// the outputs the likelihood reads first (logits, a location) and ε_n ~
// N(0, F_n), with F_n the Fisher information of the likelihood in them at
// the current θ, held constant in the gradient: diag(p) − ppᵀ for a
// softmax, p(1 − p) for one bernoulli logit, 1/σ_n² for a normal location
// whose scale σ_n is learned or depends on the input (q.NoiseScale). For a
// normal likelihood of fixed scale σ the term is exactly the perturbation
// of the targets by σξ; elsewhere it is its linearisation, since F_n moves
// with θ, and a learned scale itself is not perturbed. The standard
// normals behind ε are drawn once, with rng.
func outputNoise(q *Problem, rng *rand.Rand) func(grad, theta []float64, idx []int) float64 {
	k := q.OutputWidth
	z := make([]float64, q.N*k)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	pgrad := make([]float64, q.Dim)
	var rows []int
	var sd []float64 // the normal scale at the rows, regression only
	perturb := func(dOut, out []float64) float64 {
		s := 0.0
		for r, n := range rows {
			o, d, zn := out[r*k:(r+1)*k], dOut[r*k:(r+1)*k], z[n*k:(n+1)*k]
			switch {
			case sd != nil:
				e := zn[0] / sd[r]
				d[0] = e
				s += e * o[0]
			case k == 1:
				p := 1 / (1 + math.Exp(-o[0]))
				e := math.Sqrt(p*(1-p)) * zn[0]
				d[0] = e
				s += e * o[0]
			default:
				// ε = Σ_j √p_j z_j (e_j − p) has covariance diag(p) − ppᵀ.
				m := o[0]
				for _, v := range o[1:] {
					m = max(m, v)
				}
				sum := 0.0
				for j, v := range o {
					d[j] = math.Exp(v - m)
					sum += d[j]
				}
				c := 0.0
				for j := range d {
					d[j] /= sum
					c += math.Sqrt(d[j]) * zn[j]
				}
				for j, p := range d {
					e := math.Sqrt(p)*zn[j] - p*c
					d[j] = e
					s += e * o[j]
				}
			}
		}
		return s
	}
	regression := q.Kind != predictive.Classification
	return func(grad, theta []float64, idx []int) float64 {
		nll := q.NegLogLik(grad, theta, idx)
		rows = idx
		if regression {
			if cap(sd) < len(idx) {
				sd = make([]float64, len(idx))
			}
			sd = sd[:len(idx)]
			q.NoiseScale(sd, theta, idx)
		}
		if grad == nil {
			return nll + q.OutputGrad(nil, theta, idx, perturb)
		}
		s := q.OutputGrad(pgrad, theta, idx, perturb)
		for j, g := range pgrad {
			grad[j] += g
		}
		return nll + s
	}
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
	switch {
	case q.TargetNoise > 0 && q.ShiftTargets != nil:
		shift := make([]float64, q.N)
		for n := range shift {
			shift[n] = q.TargetNoise * rng.NormFloat64()
		}
		r = *q.ShiftTargets(shift)
	case q.OutputGrad != nil && (q.Kind == predictive.Classification && q.OutputWidth > 0 || q.NoiseScale != nil && q.OutputWidth == 1):
		r.NegLogLik = outputNoise(q, rng)
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
