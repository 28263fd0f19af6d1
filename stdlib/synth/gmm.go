package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/bayesl/bayesl/stdlib/gp"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
)

// GMMPrior is the ZEUS Gaussian-mixture prior over clustering data sets
// (docs/algorithms.md §9, after gmum/zeus zeus/datasets.py). A zero field takes
// the default in brackets, so the zero GMMPrior is §9's prior; the
// probabilities take a negative value to mean "never".
//
// One draw (Sample) proceeds as follows.
//
//  1. The number of clusters is k ~ U{MinClusters..MaxClusters} [2, 10].
//  2. With probability CategoricalProb [0.3] there are 1..MaxCategorical
//     [5] categorical features, each with 2..MaxCategories [5] categories;
//     they are dropped if their one-hot width would leave fewer than MinDim
//     continuous dimensions.
//  3. The continuous dimension is d ~ U{MinDim..MaxDim − one-hot width}
//     [2, 30], so the total width never exceeds MaxDim.
//  4. Each cluster gets n_i ~ U{MinPoints..min(MaxPoints, MaxTotal/k + 1)}
//     points [50, 500, 2500] (at least MinPoints).
//  5. Each covariance is Σ_i = U·diag(s)·Uᵀ, U the left singular vectors of
//     a d×d standard Gaussian matrix. The eigenvalues s are U[lo, EigMax]
//     with lo = EigMin [0.25; EigMax 1], except that with probability
//     NarrowProb [0.75] lo = max(EigMin, EigMax − EigMin), as in the
//     reference code. With probability DegenerateProb [0.2] the component is
//     made near-degenerate: between 1 and max(1, d/3) of its eigenvalues are
//     redrawn from U(0, EigMin].
//  6. Component i draws a separation threshold t_i ~ U[EndDistance,
//     StartDistance] [0.5, 1.0] and its mean walks out from the origin along
//     a random direction, in steps of 0.003·max(1, 51 − d)·t_i, until
//     W2²(N(μ_i, Σ_i), N(μ_j, Σ_j)) > t_i for every earlier j (gp.W2Squared
//     gives the covariance part; the mean part is ‖μ_i − μ_j‖²). After 500
//     steps it starts again along a new direction with twice the step, at
//     most 20 times; Sample reports an error if that fails.
//  7. The points of cluster i are μ_i + U·diag(√s)·ε, ε ~ N(0, I), and each
//     categorical feature takes its categories with cluster-specific
//     probabilities drawn from Dirichlet(0.5, …, 0.5).
//  8. Each continuous column is standardised, then min-max scaled to
//     [−1, 1]. (Min-max scaling ignores an increasing affine map applied
//     before it, so this is done in one step.) One-hot columns stay 0/1.
//
// The reference code's optional "transformed" variant (§9 step 6: a random
// residual network applied to [X, onehot(y)], then PCA) is not
// implemented.
//
// ZEUS's own pre-training configuration (gmum/zeus configs.py) overrides
// the eigenvalue range to [0.005, 0.05], giving much tighter and better
// separated clusters than §9's [0.25, 1]; ZEUSPretraining returns that
// prior.
type GMMPrior struct {
	MinClusters, MaxClusters int
	MinDim, MaxDim           int
	MinPoints, MaxPoints     int
	// MaxTotal caps the points per cluster at MaxTotal/k + 1.
	MaxTotal int

	EigMin, EigMax float64
	// NarrowProb is the probability that a component's eigenvalues are drawn
	// from [max(EigMin, EigMax − EigMin), EigMax] instead of [EigMin, EigMax].
	NarrowProb float64
	// DegenerateProb is the probability that a component is made
	// near-degenerate (some eigenvalues in (0, EigMin]).
	DegenerateProb float64

	// StartDistance and EndDistance bound each component's separation
	// threshold on the squared 2-Wasserstein distance to earlier components.
	StartDistance, EndDistance float64

	CategoricalProb float64
	MaxCategorical  int
	MaxCategories   int

	// Shuffle permutes the rows; otherwise they come cluster by cluster, as
	// in the reference. The permutation is drawn last, so the same rng
	// gives the same data set either way, up to row order.
	Shuffle bool
}

// Defaults of GMMPrior (docs/algorithms.md §9 and gmum/zeus).
const (
	DefaultMinClusters     = 2
	DefaultMaxClusters     = 10
	DefaultMinDim          = 2
	DefaultMaxDim          = 30
	DefaultMinPoints       = 50
	DefaultMaxPoints       = 500
	DefaultMaxTotal        = 2500
	DefaultEigMin          = 0.25
	DefaultEigMax          = 1.0
	DefaultNarrowProb      = 0.75
	DefaultDegenerateProb  = 0.2
	DefaultStartDistance   = 1.0
	DefaultEndDistance     = 0.5
	DefaultCategoricalProb = 0.3
	DefaultMaxCategorical  = 5
	DefaultMaxCategories   = 5
)

// Internal constants of the reference code.
const (
	categoryConcentration = 0.5   // Dirichlet(0.5) category probabilities
	walkSteps             = 500   // steps along one direction
	walkRestarts          = 20    // directions tried, doubling the step
	walkStep              = 0.003 // step = walkStep·max(1, 51 − d)·t_i
)

// ZEUSPretraining returns the prior ZEUS is pre-trained on: §9's, with the
// eigenvalue range [0.005, 0.05] of gmum/zeus configs.py.
func ZEUSPretraining() GMMPrior {
	return GMMPrior{EigMin: 0.005, EigMax: 0.05}
}

// Dataset is one draw from a GMMPrior: the data and the mixture behind it.
// Rows are points; unless the prior shuffles, they come cluster by cluster.
type Dataset struct {
	// X is n×(Dim + Σ Categories): Dim continuous columns scaled to [−1, 1],
	// then one 0/1 column per category of each categorical feature.
	X *mat.Dense
	// Labels holds the cluster of each row, 0..K−1.
	Labels []int
	// K is the number of clusters and Dim the number of continuous columns.
	K, Dim int
	// Categories holds the number of categories of each categorical feature
	// (its one-hot width); nil if there are none.
	Categories []int
	// Sizes holds the number of rows of each cluster.
	Sizes []int

	// Means (K×Dim) and Covs (K, Dim×Dim) are the mixture components in raw
	// units, before scaling. Eigenvalues holds each covariance's spectrum in
	// decreasing order.
	Means       [][]float64
	Covs        []*mat.SymDense
	Eigenvalues [][]float64
	// Threshold holds each component's separation threshold t_i: its W2² to
	// every earlier component exceeds it (raw units).
	Threshold []float64
	// CategoryProbs[i][f] holds cluster i's category probabilities for
	// categorical feature f.
	CategoryProbs [][][]float64
	// RawMin and RawMax are each continuous column's range before scaling:
	// X[:, j] = 2(raw − RawMin[j])/(RawMax[j] − RawMin[j]) − 1, or 0 for a
	// constant column.
	RawMin, RawMax []float64
}

// withDefaults returns p with every zero field set to its default.
func (p GMMPrior) withDefaults() GMMPrior {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setFloat := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	setInt(&p.MinClusters, DefaultMinClusters)
	setInt(&p.MaxClusters, DefaultMaxClusters)
	setInt(&p.MinDim, DefaultMinDim)
	setInt(&p.MaxDim, DefaultMaxDim)
	setInt(&p.MinPoints, DefaultMinPoints)
	setInt(&p.MaxPoints, DefaultMaxPoints)
	setInt(&p.MaxTotal, DefaultMaxTotal)
	setFloat(&p.EigMin, DefaultEigMin)
	setFloat(&p.EigMax, DefaultEigMax)
	setFloat(&p.NarrowProb, DefaultNarrowProb)
	setFloat(&p.DegenerateProb, DefaultDegenerateProb)
	setFloat(&p.StartDistance, DefaultStartDistance)
	setFloat(&p.EndDistance, DefaultEndDistance)
	setFloat(&p.CategoricalProb, DefaultCategoricalProb)
	setInt(&p.MaxCategorical, DefaultMaxCategorical)
	setInt(&p.MaxCategories, DefaultMaxCategories)
	return p
}

// Validate reports the first field of p, after defaults, that does not
// define a prior.
func (p GMMPrior) Validate() error {
	p = p.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("synth: GMMPrior: "+format, args...)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case p.MinClusters < 1 || p.MaxClusters < p.MinClusters:
		return bad("clusters must satisfy 1 ≤ MinClusters ≤ MaxClusters, got %d..%d", p.MinClusters, p.MaxClusters)
	case p.MinDim < 1 || p.MaxDim < p.MinDim:
		return bad("dimensions must satisfy 1 ≤ MinDim ≤ MaxDim, got %d..%d", p.MinDim, p.MaxDim)
	case p.MinPoints < 1 || p.MaxPoints < p.MinPoints:
		return bad("points per cluster must satisfy 1 ≤ MinPoints ≤ MaxPoints, got %d..%d", p.MinPoints, p.MaxPoints)
	case p.MaxTotal < 1:
		return bad("MaxTotal must be positive, got %d", p.MaxTotal)
	case !finite(p.EigMin) || !finite(p.EigMax) || p.EigMin <= 0 || p.EigMax < p.EigMin:
		return bad("eigenvalues must satisfy 0 < EigMin ≤ EigMax < Inf, got %g..%g", p.EigMin, p.EigMax)
	case !finite(p.EndDistance) || !finite(p.StartDistance) || p.EndDistance <= 0 || p.StartDistance < p.EndDistance:
		return bad("distances must satisfy 0 < EndDistance ≤ StartDistance < Inf, got %g..%g", p.EndDistance, p.StartDistance)
	case p.MaxCategorical < 1:
		return bad("MaxCategorical must be positive, got %d", p.MaxCategorical)
	case p.MaxCategories < 2:
		return bad("MaxCategories must be at least 2, got %d", p.MaxCategories)
	}
	for _, q := range []struct {
		name string
		v    float64
	}{{"NarrowProb", p.NarrowProb}, {"DegenerateProb", p.DegenerateProb}, {"CategoricalProb", p.CategoricalProb}} {
		if math.IsNaN(q.v) || q.v > 1 {
			return bad("%s must be a probability (or negative for never), got %g", q.name, q.v)
		}
	}
	return nil
}

// Sample draws one data set from the prior. Every random number comes from
// rng, in a fixed order, so the same seed gives the same data set. It
// returns an error if p is invalid (see Validate) or if a component cannot
// be separated from the earlier ones.
func (p GMMPrior) Sample(rng *rand.Rand) (*Dataset, error) {
	if rng == nil {
		return nil, errors.New("synth: GMMPrior.Sample: nil rng")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	uniInt := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

	k := uniInt(p.MinClusters, p.MaxClusters)
	var cats []int
	width := 0
	if rng.Float64() < p.CategoricalProb {
		nc := uniInt(1, p.MaxCategorical)
		for range nc {
			c := uniInt(2, p.MaxCategories)
			cats = append(cats, c)
			width += c
		}
		if p.MaxDim-width < p.MinDim {
			cats, width = nil, 0
		}
	}
	d := uniInt(p.MinDim, p.MaxDim-width)
	maxPts := max(p.MinPoints, min(p.MaxPoints, p.MaxTotal/k+1))

	ds := &Dataset{
		K: k, Dim: d, Categories: cats,
		Sizes:         make([]int, k),
		Means:         make([][]float64, k),
		Covs:          make([]*mat.SymDense, k),
		Eigenvalues:   make([][]float64, k),
		Threshold:     make([]float64, k),
		CategoryProbs: make([][][]float64, k),
	}
	// trace[i][j] = W2²(N(0, Σ_i), N(0, Σ_j)), the covariance part.
	trace := make([][]float64, k)
	roots := make([]*mat.Dense, k)
	for i := range k {
		ds.Threshold[i] = uniform(p.EndDistance, p.StartDistance)
		ds.Sizes[i] = uniInt(p.MinPoints, maxPts)
		cov, root, eig := p.covariance(rng, d)
		ds.Covs[i], roots[i], ds.Eigenvalues[i] = cov, root, eig
		trace[i] = make([]float64, i)
		for j := range i {
			w, err := gp.W2Squared(nil, cov, nil, ds.Covs[j])
			if err != nil {
				return nil, fmt.Errorf("synth: GMMPrior.Sample: component %d: %w", i, err)
			}
			trace[i][j] = w
		}
		mean, err := separate(rng, ds.Means[:i], trace[i], ds.Threshold[i], d)
		if err != nil {
			return nil, fmt.Errorf("synth: GMMPrior.Sample: component %d of %d in %d dimensions: %w", i, k, d, err)
		}
		ds.Means[i] = mean
		ds.CategoryProbs[i] = make([][]float64, len(cats))
		for f, c := range cats {
			conc := make([]float64, c)
			for j := range conc {
				conc[j] = categoryConcentration
			}
			ds.CategoryProbs[i][f] = distmv.NewDirichlet(conc, rng).Rand(nil)
		}
	}

	n := 0
	for _, s := range ds.Sizes {
		n += s
	}
	cols := d + width
	ds.X = mat.NewDense(n, cols, nil)
	ds.Labels = make([]int, n)
	eps := make([]float64, d)
	row := 0
	for i := range k {
		root := roots[i]
		for range ds.Sizes[i] {
			x := ds.X.RawRowView(row)
			for j := range eps {
				eps[j] = rng.NormFloat64()
			}
			for a := range d {
				v := ds.Means[i][a]
				for b := range d {
					v += root.At(a, b) * eps[b]
				}
				x[a] = v
			}
			off := d
			for f, c := range cats {
				x[off+categorical(rng, ds.CategoryProbs[i][f])] = 1
				off += c
			}
			ds.Labels[row] = i
			row++
		}
	}
	ds.RawMin, ds.RawMax = scale(ds.X, d)
	if p.Shuffle {
		shuffle(rng, ds)
	}
	return ds, nil
}

// covariance draws Σ = U·diag(s)·Uᵀ and returns it with its root
// U·diag(√s) and s in decreasing order.
func (p GMMPrior) covariance(rng *rand.Rand, d int) (*mat.SymDense, *mat.Dense, []float64) {
	g := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var svd mat.SVD
	var u mat.Dense
	if svd.Factorize(g, mat.SVDThinU) {
		svd.UTo(&u)
	} else { // does not happen for a Gaussian matrix; fall back to I
		u.CloneFrom(eye(d))
	}
	lo := p.EigMin
	if rng.Float64() < p.NarrowProb {
		lo = max(p.EigMin, p.EigMax-p.EigMin)
	}
	s := make([]float64, d)
	for j := range s {
		s[j] = lo + (p.EigMax-lo)*rng.Float64()
	}
	if rng.Float64() < p.DegenerateProb {
		m := 1 + rng.IntN(max(1, d/3))
		for j := range m {
			s[j] = (1 - rng.Float64()) * p.EigMin // (0, EigMin]
		}
	}
	slices.Sort(s)
	slices.Reverse(s)

	root := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			root.Set(i, j, u.At(i, j)*math.Sqrt(s[j]))
		}
	}
	cov := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			var v float64
			for l := range d {
				v += u.At(i, l) * s[l] * u.At(j, l)
			}
			cov.SetSym(i, j, v)
		}
	}
	return cov, root, s
}

// separate walks a mean out from the origin until ‖μ − μ_j‖² + trace[j]
// exceeds t for every earlier mean μ_j (ZEUS's rule; the first component
// stops after one step).
func separate(rng *rand.Rand, means [][]float64, trace []float64, t float64, d int) ([]float64, error) {
	mean := make([]float64, d)
	dir := make([]float64, d)
	step := walkStep * float64(max(1, 51-d)) * t
	for range walkRestarts {
		var norm float64
		for norm == 0 {
			for j := range dir {
				dir[j] = rng.NormFloat64()
				norm += dir[j] * dir[j]
			}
		}
		norm = math.Sqrt(norm)
		clear(mean)
		for range walkSteps {
			for j := range mean {
				mean[j] += step * dir[j] / norm
			}
			if separated(mean, means, trace, t) {
				return mean, nil
			}
		}
		step *= 2
	}
	return nil, fmt.Errorf("no mean at squared W2 distance above %g from the earlier components after %d directions", t, walkRestarts)
}

func separated(mean []float64, means [][]float64, trace []float64, t float64) bool {
	for j, m := range means {
		dist := trace[j]
		for a, v := range m {
			dist += (mean[a] - v) * (mean[a] - v)
		}
		if !(dist > t) {
			return false
		}
	}
	return true
}

// categorical draws an index with the given probabilities.
func categorical(rng *rand.Rand, probs []float64) int {
	u := rng.Float64()
	var c float64
	for j, q := range probs {
		c += q
		if u < c {
			return j
		}
	}
	return len(probs) - 1
}

// scale min-max scales the first d columns of x to [−1, 1] in place and
// returns their raw ranges.
func scale(x *mat.Dense, d int) (lo, hi []float64) {
	n, _ := x.Dims()
	lo = make([]float64, d)
	hi = make([]float64, d)
	for j := range d {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		for i := range n {
			v := x.At(i, j)
			lo[j] = min(lo[j], v)
			hi[j] = max(hi[j], v)
		}
		r := hi[j] - lo[j]
		for i := range n {
			if r > 0 {
				x.Set(i, j, 2*((x.At(i, j)-lo[j])/r)-1)
			} else {
				x.Set(i, j, 0)
			}
		}
	}
	return lo, hi
}

// shuffle permutes the rows of ds.X and ds.Labels together.
func shuffle(rng *rand.Rand, ds *Dataset) {
	perm := rng.Perm(len(ds.Labels))
	old := mat.DenseCopyOf(ds.X)
	labels := slices.Clone(ds.Labels)
	for i, src := range perm {
		ds.X.SetRow(i, old.RawRowView(src))
		ds.Labels[i] = labels[src]
	}
}

func eye(d int) *mat.Dense {
	m := mat.NewDense(d, d, nil)
	for i := range d {
		m.Set(i, i, 1)
	}
	return m
}
