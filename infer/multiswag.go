package infer

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// MultiSWAG is an ensemble of independent SWAG fits (Wilson & Izmailov
// 2020): each member starts from its own p.Init draw and sees its own
// minibatch order, so the members usually settle around different modes,
// and the posterior is their equal-weight mixture, a *MultiSWAGPosterior.
// A single SWAG Gaussian describes one basin; the mixture covers several,
// which is where most of the gain in calibration comes from.
//
// The settings are SWAG's, with the same names and defaults, plus Members.
// The zero value is ready to use. Members are units of runUnits, as an
// ensemble's: member i draws from a PCG source seeded with two numbers
// taken from the fit's rng up front, so its result depends only on the seed
// and its index. Members run concurrently, one per available core
// (GOMAXPROCS), each on its own p.Fork(); without Fork they run one after
// the other on p. Either way the posterior is the same, bit for bit.
type MultiSWAG struct {
	Members int `bl:"members,pos"` // independent SWAG fits; default 3

	// The settings of every member; see SWAG.
	Epochs       int     `bl:"epochs,pos"`
	LR           float64 `bl:"lr,pos"`
	SWALR        float64 `bl:"swa_lr,pos"`
	SWAStart     int     `bl:"swa_start,nonneg,zero=-1"`
	CollectEvery int     `bl:"collect_every,pos"`
	Rank         int     `bl:"rank,pos"`
	Scale        float64 `bl:"scale,nonneg,zero=-1"`
	Diagonal     int     `bl:"diagonal"`
	Batch        int     `bl:"batch,pos"`
	Optimizer    string  `bl:"optimizer,oneof=sgd|adam"`
	Momentum     float64 `bl:"momentum,unit,zero=-1"`
	// Predictive "glm" is the mixture of the members' linearisations,
	// each at its own SWA mean; "nn" runs the network at parameter draws.
	Predictive string `bl:"predictive,oneof=glm|nn"`
	Covariance string `bl:"covariance,oneof=curvature|iterates"`
}

var (
	_ Method      = (*MultiSWAG)(nil)
	_ EpochCapper = (*MultiSWAG)(nil)
)

// Name returns "multiswag".
func (MultiSWAG) Name() string { return "multiswag" }

// Member returns the settings every member runs with.
func (m MultiSWAG) Member() SWAG {
	return SWAG{Epochs: m.Epochs, LR: m.LR, SWALR: m.SWALR, SWAStart: m.SWAStart,
		CollectEvery: m.CollectEvery, Rank: m.Rank, Scale: m.Scale, Diagonal: m.Diagonal,
		Batch: m.Batch, Optimizer: m.Optimizer, Momentum: m.Momentum, Predictive: m.Predictive, Covariance: m.Covariance}
}

// withMember returns m with the member settings s.
func (m MultiSWAG) withMember(s SWAG) MultiSWAG {
	return MultiSWAG{Members: m.Members, Epochs: s.Epochs, LR: s.LR, SWALR: s.SWALR, SWAStart: s.SWAStart,
		CollectEvery: s.CollectEvery, Rank: s.Rank, Scale: s.Scale, Diagonal: s.Diagonal,
		Batch: s.Batch, Optimizer: s.Optimizer, Momentum: s.Momentum, Predictive: s.Predictive, Covariance: s.Covariance}
}

// CapEpochs returns a copy whose members run at most n epochs each (see
// SWAG.CapEpochs).
func (m MultiSWAG) CapEpochs(n int) Method {
	c := m.withMember(m.Member().capped(n))
	return &c
}

func (m MultiSWAG) members() int {
	if m.Members == 0 {
		return 3
	}
	return m.Members
}

// Fit runs the members and returns their mixture. Progress reports count
// member epochs (see fanProgress); they come from the
// members' goroutines but never two at a time. When members fail, the
// error is a *MemberError for the failing member with the lowest index,
// wrapping its error (a *DivergenceError when it diverged); a failure
// stops the members after it.
func (m MultiSWAG) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSettings(m); err != nil {
		return nil, fmt.Errorf("multiswag: %w", err)
	}
	if _, msg := m.Member().withDefaults().check(); msg != "" {
		return nil, fmt.Errorf("multiswag: %w", &SettingError{-1, msg})
	}
	if err := checkProblem("multiswag", p); err != nil {
		return nil, err
	}
	sw := m.Member().forProblem(p)
	if rng == nil {
		return nil, fmt.Errorf("multiswag: %w", errNilRNG)
	}
	pred, err := resolvePredictive("multiswag", m.Predictive, sw.predictive(), p)
	if err != nil {
		return nil, err
	}
	members := m.members()
	seeds := unitSeeds(rng, members)
	prog := newFanProgress(obs, "multiswag", members)
	posts := make([]*SWAGPosterior, members)
	err = runUnits(ctx, p, "multiswag", "member", members, func(ctx context.Context, q *Problem, i int) error {
		post, err := sw.fit(ctx, q, unitRNG(seeds[i]), "swag", prog.unit(i))
		posts[i] = post
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, q := range posts {
		q.predictive = pred
	}
	return &MultiSWAGPosterior{by: "multiswag", members: posts}, nil
}

// MultiSWAGPosterior is the equal-weight mixture of SWAG Gaussians that
// MultiSWAG fits.
type MultiSWAGPosterior struct {
	by      string
	members []*SWAGPosterior
}

var (
	_ Saver           = (*MultiSWAGPosterior)(nil)
	_ OutputPredictor = (*MultiSWAGPosterior)(nil)
)

// Linearised reports whether the predictive is the GLM one (the members
// share the setting, which each member's saved header holds).
func (q *MultiSWAGPosterior) Linearised() bool { return q.members[0].Linearised() }

// PredictOutputs returns the equal-weight mixture of the members'
// linearised predictives, each member linearised at its own SWA mean and
// given ⌊s/M⌋ or ⌈s/M⌉ of the draws, as Draw shares them.
func (q *MultiSWAGPosterior) PredictOutputs(ctx context.Context, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	parts := make([]weightGaussian, len(q.members))
	for i, m := range q.members {
		parts[i] = m.weightGaussian()
	}
	return mixturePredictive(ctx, q.by, parts, p, x, samples, rng)
}

// Method returns the backend that learned the posterior.
func (q *MultiSWAGPosterior) Method() string { return q.by }

// Dim returns the number of parameters.
func (q *MultiSWAGPosterior) Dim() int { return q.members[0].Dim() }

// Members returns the mixture's components (shared, not to be modified).
func (q *MultiSWAGPosterior) Members() []*SWAGPosterior { return q.members }

// StoredNumbers returns how many numbers define the posterior, summed over
// the members.
func (q *MultiSWAGPosterior) StoredNumbers() int {
	n := 0
	for _, m := range q.members {
		n += m.StoredNumbers()
	}
	return n
}

// Draw returns s draws spread over the members round-robin: draw i comes
// from member i mod M, so every member contributes ⌊s/M⌋ or ⌈s/M⌉ draws,
// an equal-weight mixture without the noise of drawing the component.
// With scale 0 the mixture is the M SWA means, which Draw returns (shared
// with q) whatever s is. It returns nil when s < 1.
func (q *MultiSWAGPosterior) Draw(s int, rng *rand.Rand) [][]float64 {
	if s < 1 {
		return nil
	}
	if q.members[0].scale == 0 {
		out := make([][]float64, len(q.members))
		for i, m := range q.members {
			out[i] = m.mean
		}
		return out
	}
	d := q.Dim()
	buf := make([]float64, s*d)
	out := make([][]float64, s)
	for i := range out {
		v := buf[i*d : (i+1)*d : (i+1)*d]
		q.members[i%len(q.members)].drawInto(v, rng)
		out[i] = v
	}
	return out
}

// Kind returns "multiswag", the key of its decoder.
func (q *MultiSWAGPosterior) Kind() string { return "multiswag" }

// Vectors returns the payload saved to a file: a header [M, c_1, ..., c_M]
// with the number of vectors of each member, then the members' own
// payloads (see SWAGPosterior.Vectors) one after the other.
func (q *MultiSWAGPosterior) Vectors() [][]float64 {
	h := make([]float64, 1+len(q.members))
	h[0] = float64(len(q.members))
	out := [][]float64{h}
	for i, m := range q.members {
		v := m.Vectors()
		h[1+i] = float64(len(v))
		out = append(out, v...)
	}
	return out
}

func decodeMultiSWAG(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) < 1 || len(vecs[0]) < 2 {
		return nil, fmt.Errorf("multiswag posterior has no members")
	}
	h := vecs[0]
	m, ok := wholeNumber(h[0])
	if !ok || m != len(h)-1 {
		return nil, fmt.Errorf("multiswag posterior header says %g members in %d numbers", h[0], len(h))
	}
	rest := vecs[1:]
	members := make([]*SWAGPosterior, m)
	for i := range members {
		c, ok := wholeNumber(h[1+i])
		if !ok || c > len(rest) {
			return nil, fmt.Errorf("multiswag member %d has %g vectors, %d left", i+1, h[1+i], len(rest))
		}
		sw, err := decodeSWAGVectors("swag", rest[:c])
		if err != nil {
			return nil, fmt.Errorf("multiswag member %d: %w", i+1, err)
		}
		if i > 0 && (sw.Dim() != members[0].Dim() || sw.scale != members[0].scale || sw.predictive != members[0].predictive) {
			return nil, fmt.Errorf("multiswag member %d differs from member 1 in its dimension, scale or predictive", i+1)
		}
		members[i] = sw
		rest = rest[c:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("multiswag posterior has %d vectors after its members", len(rest))
	}
	return &MultiSWAGPosterior{by: method, members: members}, nil
}
