package synth_test

import (
	"cmp"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/stdlib/gp"
	"github.com/bayesl/bayesl/stdlib/synth"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
)

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func sample(t *testing.T, p synth.GMMPrior, seed uint64) *synth.Dataset {
	t.Helper()
	ds, err := p.Sample(rng(seed))
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return ds
}

// limits returns p's effective bounds, applying the documented defaults.
func limits(p synth.GMMPrior) synth.GMMPrior {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MinClusters, synth.DefaultMinClusters)
	def(&p.MaxClusters, synth.DefaultMaxClusters)
	def(&p.MinDim, synth.DefaultMinDim)
	def(&p.MaxDim, synth.DefaultMaxDim)
	def(&p.MinPoints, synth.DefaultMinPoints)
	def(&p.MaxPoints, synth.DefaultMaxPoints)
	def(&p.MaxTotal, synth.DefaultMaxTotal)
	def(&p.MaxCategorical, synth.DefaultMaxCategorical)
	def(&p.MaxCategories, synth.DefaultMaxCategories)
	deff(&p.EigMin, synth.DefaultEigMin)
	deff(&p.EigMax, synth.DefaultEigMax)
	deff(&p.StartDistance, synth.DefaultStartDistance)
	deff(&p.EndDistance, synth.DefaultEndDistance)
	return p
}

func TestSampleShapes(t *testing.T) {
	priors := map[string]synth.GMMPrior{
		"default": {},
		"small": {MinClusters: 3, MaxClusters: 4, MinDim: 3, MaxDim: 5, MinPoints: 10, MaxPoints: 20,
			CategoricalProb: 0.5, MaxCategorical: 2, MaxCategories: 3},
		"one cluster": {MinClusters: 1, MaxClusters: 1, MinDim: 1, MaxDim: 1, CategoricalProb: -1},
	}
	for name, p := range priors {
		t.Run(name, func(t *testing.T) {
			l := limits(p)
			seen := map[int]bool{}
			withCats := 0
			const seeds = 150
			for seed := range uint64(seeds) {
				ds := sample(t, p, seed)
				seen[ds.K] = true
				if ds.K < l.MinClusters || ds.K > l.MaxClusters {
					t.Fatalf("seed %d: k = %d outside %d..%d", seed, ds.K, l.MinClusters, l.MaxClusters)
				}
				width := 0
				for _, c := range ds.Categories {
					if c < 2 || c > l.MaxCategories {
						t.Fatalf("seed %d: %d categories, want 2..%d", seed, c, l.MaxCategories)
					}
					width += c
				}
				if len(ds.Categories) > 0 {
					withCats++
				}
				if len(ds.Categories) > l.MaxCategorical || ds.Dim < l.MinDim || ds.Dim+width > l.MaxDim {
					t.Fatalf("seed %d: d = %d with categories %v, want %d ≤ d, d + one-hot ≤ %d",
						seed, ds.Dim, ds.Categories, l.MinDim, l.MaxDim)
				}
				capPts := max(l.MinPoints, min(l.MaxPoints, l.MaxTotal/ds.K+1))
				n := 0
				for i, s := range ds.Sizes {
					if s < l.MinPoints || s > capPts {
						t.Fatalf("seed %d: cluster %d has %d points, want %d..%d", seed, i, s, l.MinPoints, capPts)
					}
					n += s
				}
				if r, c := ds.X.Dims(); r != n || c != ds.Dim+width || len(ds.Labels) != n {
					t.Fatalf("seed %d: X is %d×%d with %d labels, want %d×%d", seed, r, c, len(ds.Labels), n, ds.Dim+width)
				}
				counts := make([]int, ds.K)
				for i, y := range ds.Labels {
					counts[y]++
					if i > 0 && y < ds.Labels[i-1] {
						t.Fatalf("seed %d: unshuffled rows are not grouped by cluster", seed)
					}
				}
				if !slices.Equal(counts, ds.Sizes) {
					t.Fatalf("seed %d: label counts %v, sizes %v", seed, counts, ds.Sizes)
				}
				if len(ds.Means) != ds.K || len(ds.Covs) != ds.K || len(ds.Eigenvalues) != ds.K ||
					len(ds.Threshold) != ds.K || len(ds.CategoryProbs) != ds.K || len(ds.RawMin) != ds.Dim {
					t.Fatalf("seed %d: metadata lengths do not match k = %d, d = %d", seed, ds.K, ds.Dim)
				}
				for i, th := range ds.Threshold {
					if th < l.EndDistance || th > l.StartDistance {
						t.Fatalf("seed %d: threshold %d = %v outside [%v, %v]", seed, i, th, l.EndDistance, l.StartDistance)
					}
				}
				checkColumns(t, seed, ds)
			}
			if name == "default" {
				if len(seen) != l.MaxClusters-l.MinClusters+1 {
					t.Errorf("cluster counts seen: %v, want all of %d..%d", seen, l.MinClusters, l.MaxClusters)
				}
				// Categorical features appear with probability 0.3.
				if f := float64(withCats) / seeds; f < 0.15 || f > 0.45 {
					t.Errorf("%d of %d data sets have categorical features, want about 30%%", withCats, seeds)
				}
			}
		})
	}
}

// checkColumns checks the scaled continuous columns and the one-hot blocks.
func checkColumns(t *testing.T, seed uint64, ds *synth.Dataset) {
	t.Helper()
	n, _ := ds.X.Dims()
	for j := range ds.Dim {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range n {
			v := ds.X.At(i, j)
			lo, hi = min(lo, v), max(hi, v)
		}
		if n > 1 && (lo != -1 || hi != 1) {
			t.Fatalf("seed %d: column %d spans [%v, %v], want exactly [−1, 1]", seed, j, lo, hi)
		}
	}
	off := ds.Dim
	for f, c := range ds.Categories {
		for i := range n {
			var ones int
			for j := off; j < off+c; j++ {
				switch ds.X.At(i, j) {
				case 1:
					ones++
				case 0:
				default:
					t.Fatalf("seed %d: one-hot entry (%d, %d) = %v", seed, i, j, ds.X.At(i, j))
				}
			}
			if ones != 1 {
				t.Fatalf("seed %d: row %d has %d ones in categorical feature %d", seed, i, ones, f)
			}
		}
		for i := range ds.K {
			var s float64
			for _, q := range ds.CategoryProbs[i][f] {
				s += q
			}
			if len(ds.CategoryProbs[i][f]) != c || math.Abs(s-1) > 1e-12 {
				t.Fatalf("seed %d: cluster %d feature %d probabilities %v", seed, i, f, ds.CategoryProbs[i][f])
			}
		}
		off += c
	}
}

func TestSeparation(t *testing.T) {
	for name, p := range map[string]synth.GMMPrior{
		"default": {},
		"zeus":    synth.ZEUSPretraining(),
		"far":     {StartDistance: 20, EndDistance: 10, MaxDim: 6},
	} {
		l := limits(p)
		for seed := range uint64(40) {
			ds := sample(t, p, seed)
			for i := range ds.K {
				for j := range i {
					w, err := gp.W2Squared(ds.Means[i], ds.Covs[i], ds.Means[j], ds.Covs[j])
					if err != nil {
						t.Fatal(err)
					}
					if w < ds.Threshold[i]-1e-9 || w < l.EndDistance-1e-9 {
						t.Errorf("%s seed %d: W2²(%d, %d) = %v below threshold %v (minimum %v)",
							name, seed, i, j, w, ds.Threshold[i], l.EndDistance)
					}
				}
			}
		}
	}
}

func TestCovariances(t *testing.T) {
	l := limits(synth.GMMPrior{})
	var comps, degenerate, narrow int
	for seed := range uint64(60) {
		ds := sample(t, synth.GMMPrior{}, seed)
		for i, c := range ds.Covs {
			comps++
			if c.SymmetricDim() != ds.Dim {
				t.Fatalf("seed %d: covariance %d is %d×%d, want d = %d", seed, i, c.SymmetricDim(), c.SymmetricDim(), ds.Dim)
			}
			var chol mat.Cholesky
			if !chol.Factorize(c) {
				t.Fatalf("seed %d: covariance %d is not positive definite", seed, i)
			}
			var es mat.EigenSym
			if !es.Factorize(c, false) {
				t.Fatalf("seed %d: eigendecomposition failed", seed)
			}
			got := es.Values(nil)
			slices.Reverse(got)
			want := ds.Eigenvalues[i]
			small := 0
			for a := range got {
				if math.Abs(got[a]-want[a]) > 1e-12 {
					t.Fatalf("seed %d: covariance %d has eigenvalues %v, recorded %v", seed, i, got, want)
				}
				if a > 0 && want[a] > want[a-1] {
					t.Fatalf("seed %d: eigenvalues %v not decreasing", seed, want)
				}
				if want[a] <= 0 || want[a] > l.EigMax {
					t.Fatalf("seed %d: eigenvalue %v outside (0, %v]", seed, want[a], l.EigMax)
				}
				if want[a] < l.EigMin {
					small++
				}
			}
			if small > max(1, ds.Dim/3) {
				t.Fatalf("seed %d: %d eigenvalues below EigMin in d = %d", seed, small, ds.Dim)
			}
			if small > 0 {
				degenerate++
			} else if want[len(want)-1] >= l.EigMax-l.EigMin {
				narrow++
			}
		}
	}
	// About 20% near-degenerate; of the rest about 75% narrow (plus the few
	// wide ones that happen to land in the narrow band).
	if f := float64(degenerate) / float64(comps); f < 0.12 || f > 0.28 {
		t.Errorf("%d of %d components near-degenerate, want about 20%%", degenerate, comps)
	}
	if f := float64(narrow) / float64(comps-degenerate); f < 0.65 || f > 0.9 {
		t.Errorf("%d of %d components narrow, want about 75%%", narrow, comps-degenerate)
	}
}

// TestMixtureMetadata checks that the points follow the recorded mixture:
// mapping X back to raw units, each cluster's sample mean lies within six
// standard errors of its recorded mean.
func TestMixtureMetadata(t *testing.T) {
	for seed := range uint64(20) {
		ds := sample(t, synth.GMMPrior{}, seed)
		n, _ := ds.X.Dims()
		sums := make([][]float64, ds.K)
		for i := range sums {
			sums[i] = make([]float64, ds.Dim)
		}
		for r := range n {
			for j := range ds.Dim {
				raw := (ds.X.At(r, j)+1)/2*(ds.RawMax[j]-ds.RawMin[j]) + ds.RawMin[j]
				sums[ds.Labels[r]][j] += raw
			}
		}
		for i := range ds.K {
			for j := range ds.Dim {
				m := sums[i][j] / float64(ds.Sizes[i])
				se := math.Sqrt(ds.Covs[i].At(j, j) / float64(ds.Sizes[i]))
				if math.Abs(m-ds.Means[i][j]) > 6*se+1e-9 {
					t.Errorf("seed %d cluster %d dim %d: sample mean %v, recorded %v ± %v", seed, i, j, m, ds.Means[i][j], se)
				}
			}
		}
	}
}

func TestDeterminism(t *testing.T) {
	p := synth.GMMPrior{CategoricalProb: 1}
	for seed := range uint64(5) {
		a, b := sample(t, p, seed), sample(t, p, seed)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("seed %d: two draws differ", seed)
		}
		if c := sample(t, p, seed+100); mat.Equal(a.X, c.X) {
			t.Errorf("seeds %d and %d give the same data", seed, seed+100)
		}

		// Shuffling permutes the rows and changes nothing else.
		p.Shuffle = true
		s := sample(t, p, seed)
		p.Shuffle = false
		if !slices.Equal(a.Sizes, s.Sizes) || !reflect.DeepEqual(a.Means, s.Means) {
			t.Errorf("seed %d: shuffling changed the mixture", seed)
		}
		if slices.IsSorted(s.Labels) {
			t.Errorf("seed %d: shuffled labels are sorted", seed)
		}
		if !slices.EqualFunc(sortedRows(a), sortedRows(s), slices.Equal) {
			t.Errorf("seed %d: shuffled rows are not a permutation", seed)
		}
	}
}

// sortedRows returns the rows of X with the label appended, sorted.
func sortedRows(ds *synth.Dataset) [][]float64 {
	n, c := ds.X.Dims()
	rows := make([][]float64, n)
	for i := range n {
		rows[i] = append(mat.Row(nil, i, ds.X), float64(ds.Labels[i]))
	}
	slices.SortFunc(rows, func(a, b []float64) int {
		for j := range c + 1 {
			if r := cmp.Compare(a[j], b[j]); r != 0 {
				return r
			}
		}
		return 0
	})
	return rows
}

// TestClassifierSignal checks that the labels are learnable: the Bayes
// classifier with the true mixture beats chance clearly on §9's prior,
// whose clusters overlap, and is nearly perfect on ZEUS's pre-training
// prior, whose clusters are tighter than their separation (mean distance
// between cluster means above the mean within-cluster spread √Tr Σ).
func TestClassifierSignal(t *testing.T) {
	for _, c := range []struct {
		name            string
		p               synth.GMMPrior
		minAcc, minGain float64 // mean accuracy, and mean accuracy − chance
		minRatio        float64 // mean between/within
	}{
		{"default", synth.GMMPrior{}, 0.45, 0.25, 0.15},
		{"zeus", synth.ZEUSPretraining(), 0.9, 0.6, 1.2},
	} {
		var acc, chance, ratio float64
		const seeds = 15
		for seed := range uint64(seeds) {
			ds := sample(t, c.p, seed)
			a := bayesAccuracy(t, ds)
			if a <= 1/float64(ds.K) {
				t.Errorf("%s seed %d: Bayes accuracy %v at chance 1/%d", c.name, seed, a, ds.K)
			}
			acc += a / seeds
			chance += 1 / float64(ds.K) / seeds
			var between, within float64
			pairs := 0
			for i := range ds.K {
				within += math.Sqrt(mat.Trace(ds.Covs[i])) / float64(ds.K)
				for j := range i {
					var s float64
					for a := range ds.Dim {
						s += (ds.Means[i][a] - ds.Means[j][a]) * (ds.Means[i][a] - ds.Means[j][a])
					}
					between += math.Sqrt(s)
					pairs++
				}
			}
			ratio += between / float64(pairs) / within / seeds
		}
		t.Logf("%s: Bayes accuracy %.3f (chance %.3f), between/within %.3f", c.name, acc, chance, ratio)
		if acc < c.minAcc || acc-chance < c.minGain || ratio < c.minRatio {
			t.Errorf("%s: accuracy %.3f (chance %.3f), between/within %.3f; want ≥ %v, gain ≥ %v, ratio ≥ %v",
				c.name, acc, chance, ratio, c.minAcc, c.minGain, c.minRatio)
		}
	}
}

// bayesAccuracy classifies every row by the most probable component of the
// recorded mixture (raw units, weights ∝ cluster sizes).
func bayesAccuracy(t *testing.T, ds *synth.Dataset) float64 {
	norms := make([]*distmv.Normal, ds.K)
	for i := range ds.K {
		var ok bool
		if norms[i], ok = distmv.NewNormal(ds.Means[i], ds.Covs[i], nil); !ok {
			t.Fatalf("component %d: covariance not positive definite", i)
		}
	}
	n, _ := ds.X.Dims()
	x := make([]float64, ds.Dim)
	correct := 0
	for r := range n {
		for j := range ds.Dim {
			x[j] = (ds.X.At(r, j)+1)/2*(ds.RawMax[j]-ds.RawMin[j]) + ds.RawMin[j]
		}
		best, arg := math.Inf(-1), -1
		for i, d := range norms {
			if l := d.LogProb(x) + math.Log(float64(ds.Sizes[i])); l > best {
				best, arg = l, i
			}
		}
		if arg == ds.Labels[r] {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

func TestValidate(t *testing.T) {
	if err := (synth.GMMPrior{}).Validate(); err != nil {
		t.Errorf("zero prior: %v", err)
	}
	if err := synth.ZEUSPretraining().Validate(); err != nil {
		t.Errorf("ZEUS prior: %v", err)
	}
	for name, p := range map[string]synth.GMMPrior{
		"clusters":    {MinClusters: 5, MaxClusters: 3},
		"negative k":  {MinClusters: -1},
		"dims":        {MinDim: 4, MaxDim: 3},
		"points":      {MinPoints: 600},
		"total":       {MaxTotal: -5},
		"eig order":   {EigMin: 2},
		"eig sign":    {EigMin: -1},
		"eig inf":     {EigMax: math.Inf(1)},
		"distance":    {EndDistance: 2},
		"distance na": {StartDistance: math.NaN()},
		"prob":        {NarrowProb: 1.5},
		"prob nan":    {CategoricalProb: math.NaN()},
		"categories":  {MaxCategories: 1},
		"categorical": {MaxCategorical: -2},
	} {
		err := p.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "synth: GMMPrior: ") {
			t.Errorf("%s: Validate() = %v, want a synth: GMMPrior error", name, err)
			continue
		}
		if _, err2 := p.Sample(rng(1)); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("%s: Sample error %v, want %v", name, err2, err)
		}
	}
	if _, err := (synth.GMMPrior{}).Sample(nil); err == nil {
		t.Error("Sample(nil) succeeded")
	}
}

// TestNever checks that negative probabilities switch features off.
func TestNever(t *testing.T) {
	p := synth.GMMPrior{CategoricalProb: -1, DegenerateProb: -1, NarrowProb: -1, MaxDim: 8}
	for seed := range uint64(30) {
		ds := sample(t, p, seed)
		if ds.Categories != nil {
			t.Fatalf("seed %d: categorical features %v", seed, ds.Categories)
		}
		for _, e := range ds.Eigenvalues {
			if e[len(e)-1] < synth.DefaultEigMin {
				t.Fatalf("seed %d: eigenvalue %v below EigMin without degeneracy", seed, e)
			}
		}
	}
	// Categorical features too wide for MaxDim are dropped.
	q := synth.GMMPrior{CategoricalProb: 1, MaxDim: 3}
	for seed := range uint64(30) {
		if ds := sample(t, q, seed); ds.Categories != nil || ds.Dim < 2 || ds.Dim > 3 {
			t.Fatalf("seed %d: d = %d with categories %v, want 2..3 and none", seed, ds.Dim, ds.Categories)
		}
	}
	// With CategoricalProb 1 and room for them, they always appear.
	q.MaxDim = 0
	for seed := range uint64(30) {
		if ds := sample(t, q, seed); ds.Categories == nil {
			t.Fatalf("seed %d: no categorical features with CategoricalProb 1", seed)
		}
	}
}
