package main

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// band is what a backend at its defaults must reach against the exact
// posterior. Zero fields are not checked.
type band struct {
	minAgreement float64 // classification: top-class agreement
	maxTV        float64 // classification: mean total variation
	epiLo, epiHi float64 // summed epistemic (MI or variance) over exact's
	minSpearman  float64 // rank correlation of per-row epistemic with exact's
	nllLo, nllHi float64 // NLL over exact's: better than exact is no more faithful than worse
	maxMeanErr   float64 // regression: mean error in exact predictive sds
	sdLo, sdHi   float64 // regression: epistemic sd ratio (geometric mean over rows)
}

// issueBand is issue 12's pass band: what a faithful backend reaches.
var issueBand = band{minAgreement: 0.97, maxTV: 0.03, epiLo: 0.5, epiHi: 2, minSpearman: 0.7, nllLo: 0.97, nllHi: 1.03, maxMeanErr: 0.05, sdLo: 0.75, sdHi: 1.33}

// bands holds each backend's band at its defaults. A backend missing here
// is held to issueBand. Where a family does not reach issueBand today the
// band records today's measured worst case over the cases with a little
// slack, and says so: tighten it as the backend improves.
var bands = map[string]band{
	// sgld, psgld, csgmcmc and nuts pass issueBand on every case.

	// Laplace's GLM predictive is centred on the MAP: mcycle's mean 0.057
	// sd off exact's, breast_cancer's NLL 0.94 of exact.
	"laplace":                             relax(glmLaplace),
	"laplace(hessian: full)":              relax(glmLaplace),
	"laplace(subset: all, hessian: full)": relax(glmLaplace),
	// K-FAC: faithful 2.1x the epistemic variance (sd 1.5x), mcycle rank 0.64.
	"laplace(hessian: kron)":              relax(kron),
	"laplace(subset: all, hessian: kron)": relax(kron),
	// Last-layer Laplace: 0.22 - 0.69 of the epistemic size, rank 0.37.
	"laplace(hessian: last_layer)": relax(func(b *band) {
		glmLaplace(b)
		b.epiLo, b.minSpearman, b.nllLo, b.maxMeanErr, b.sdLo = 0.18, 0.3, 0.88, 0.08, 0.55
	}),
	// Diagonal GGN: 1.7 - 19x too wide, NLL up to 1.17 of exact.
	"laplace(hessian: diag)": relax(func(b *band) {
		glmLaplace(b)
		b.maxTV, b.epiHi, b.minSpearman, b.nllHi, b.sdHi = 0.05, 23, 0.25, 1.22, 5.4
	}),
	// Sampling the network instead of linearising it: 4 - 170x too wide.
	"laplace(predictive: nn)": relax(func(b *band) {
		b.maxTV, b.epiHi, b.minSpearman, b.nllHi, b.maxMeanErr, b.sdHi = 0.22, 210, 0, 3.6, 1.7, 16.5
	}),
	// The probit link gives one predictive distribution, no draws: no
	// mutual information at all on the classifiers.
	"laplace(link_approx: probit)": relax(func(b *band) {
		glmLaplace(b)
		b.epiLo, b.minSpearman = 0, 0
	}),
	// A marginal-likelihood prior: iris 1.9x the epistemic size, rank 0.53.
	"laplace(prior_precision: optimize)": relax(func(b *band) {
		glmLaplace(b)
		b.minSpearman, b.nllHi = 0.45, 1.045
	}),
	// A point: no epistemic uncertainty at all; mcycle's mean 0.3 sd off.
	"map": relax(func(b *band) {
		b.epiLo, b.epiHi, b.minSpearman, b.sdLo, b.sdHi, b.nllLo, b.nllHi, b.maxMeanErr = 0, 0, 0, 0, 0, 0.85, 1.05, 0.35
	}),
	// Anchored ensemble (the default kind): 1.03 - 1.39 of the epistemic
	// size, but iris's TV 0.045 and NLL 0.79 of exact, mcycle's mean 0.14
	// sd off.
	"ensemble":                 relax(anchored),
	"ensemble(kind: anchored)": relax(anchored),
	// Plain ensemble of MAPs: 0.003 - 0.17 of the epistemic size.
	"ensemble(kind: plain)": relax(func(b *band) {
		b.epiLo, b.minSpearman, b.nllLo, b.maxMeanErr, b.sdLo = 0.0025, 0, 0.85, 0.08, 0.045
	}),
	// MC dropout: the size is right (0.72 - 1.55), the ranking is not
	// (rank correlation -0.47 - 0.39); mcycle's mean 0.17 sd off;
	// faithful's epistemic sd 1.28x exact's (1.41x from 200 draws).
	"mc_dropout": relax(func(b *band) {
		b.minSpearman, b.nllLo, b.nllHi, b.maxMeanErr, b.sdHi = 0, 0.93, 1.12, 0.21, 1.6
	}),
	// SWAG and MultiSWAG (the subspace's curvature, glm): the size
	// (0.81 - 1.15) and ranking (>= 0.85) within the issue's band on all
	// four; the SWA mean is not the posterior mean: mcycle's mean 0.19 sd
	// off, breast_cancer's NLL 0.925 of exact.
	"swag":      relax(swagMean),
	"multiswag": relax(swagMean),
	// The paper's iterate covariance: iris 0.18 of the epistemic size; on
	// the regressions its rank correlation is negative.
	"swag(covariance: iterates)": relax(func(b *band) {
		swagMean(b)
		b.epiLo, b.minSpearman, b.sdLo = 0.13, 0, 0.7
	}),
	// The subspace Laplace sampled through the network: 22x on faithful.
	"swag(covariance: curvature, predictive: nn)": relax(func(b *band) {
		swagMean(b)
		b.epiHi, b.minSpearman, b.sdHi = 30, 0.4, 6.5
	}),
	// Mean-field VI with its GLM predictive: 1.2 - 2.3x the epistemic
	// size, TV up to 0.04, NLL 0.8 of exact, means 0.14 sd off.
	"vi": relax(vi),
	"vi(rank: 4)": relax(func(b *band) {
		vi(b)
		b.maxTV, b.nllHi = 0.06, 1.13
	}),
	// Sampling the network: 2.6 - 4.6x the epistemic size.
	"vi(predictive: nn)": relax(func(b *band) {
		vi(b)
		b.epiHi, b.minSpearman, b.nllHi, b.sdHi = 5.6, 0, 1.22, 2.5
	}),
}

func glmLaplace(b *band) { b.nllLo, b.maxMeanErr = 0.92, 0.07 }

func kron(b *band) {
	glmLaplace(b)
	b.epiHi, b.minSpearman, b.sdHi = 2.6, 0.55, 1.8
}

func swagMean(b *band) { b.nllLo, b.nllHi, b.maxMeanErr = 0.88, 1.04, 0.3 }

func anchored(b *band) {
	b.maxTV, b.minSpearman, b.nllLo, b.nllHi, b.maxMeanErr = 0.055, 0.58, 0.75, 1.06, 0.18
}

func vi(b *band) {
	b.maxTV, b.epiHi, b.minSpearman, b.nllLo, b.maxMeanErr = 0.05, 2.8, 0.2, 0.75, 0.18
}

// relax returns issueBand changed by edit.
func relax(edit func(b *band)) band {
	b := issueBand
	edit(&b)
	return b
}

func bandFor(backend string) band {
	if b, ok := bands[backend]; ok {
		return b
	}
	return issueBand
}

// violations lists how s falls outside b.
func (b band) violations(s Score) []string {
	var out []string
	bad := func(ok bool, format string, v, lim float64) {
		if !ok || math.IsNaN(v) {
			out = append(out, strings.ReplaceAll(strings.ReplaceAll(format, "%v", formatG(v)), "%l", formatG(lim)))
		}
	}
	if s.Task == "classification" {
		if b.minAgreement > 0 {
			bad(s.Agreement >= b.minAgreement, "agreement %v < %l", s.Agreement, b.minAgreement)
		}
		if b.maxTV > 0 {
			bad(s.TV <= b.maxTV, "mean TV %v > %l", s.TV, b.maxTV)
		}
	} else {
		if b.maxMeanErr > 0 {
			bad(s.MeanErr <= b.maxMeanErr, "mean error %v sd > %l", s.MeanErr, b.maxMeanErr)
		}
		if b.sdLo > 0 {
			bad(s.EpiSDRatio >= b.sdLo, "epistemic sd ratio %v < %l", s.EpiSDRatio, b.sdLo)
		}
		if b.sdHi > 0 {
			bad(s.EpiSDRatio <= b.sdHi, "epistemic sd ratio %v > %l", s.EpiSDRatio, b.sdHi)
		}
	}
	if b.epiLo > 0 {
		bad(s.EpiRatio >= b.epiLo, "epistemic size %v < %l of exact", s.EpiRatio, b.epiLo)
	}
	if b.epiHi > 0 {
		bad(s.EpiRatio <= b.epiHi, "epistemic size %v > %l of exact", s.EpiRatio, b.epiHi)
	}
	if b.minSpearman > 0 {
		bad(s.Spearman >= b.minSpearman, "rank correlation %v < %l", s.Spearman, b.minSpearman)
	}
	if b.nllLo > 0 {
		bad(s.NLLRatio >= b.nllLo, "NLL %v of exact < %l", s.NLLRatio, b.nllLo)
	}
	if b.nllHi > 0 {
		bad(s.NLLRatio <= b.nllHi, "NLL %v of exact > %l", s.NLLRatio, b.nllHi)
	}
	return out
}

func formatG(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// TestScoreSelf: a summary scored against itself is perfect, and known
// distortions give the numbers they must.
func TestScoreSelf(t *testing.T) {
	cls := Summary{
		Prob: [][]float64{{0.7, 0.2, 0.1}, {0.1, 0.5, 0.4}, {0.3, 0.3, 0.4}, {0.05, 0.05, 0.9}},
		MI:   []float64{0.02, 0.1, 0.3, 0.01},
		NLL:  0.5,
	}
	s := score(cls, cls)
	want := Score{Task: "classification", Agreement: 1, TV: 0, EpiRatio: 1, Spearman: 1, NLLRatio: 1}
	if s != want {
		t.Errorf("classifier against itself: %+v, want %+v", s, want)
	}
	// Swap the top two classes of row 1 (TV 0.4 there), double every MI
	// but keep its order, and a 10% worse NLL.
	other := Summary{
		Prob: [][]float64{{0.7, 0.2, 0.1}, {0.5, 0.1, 0.4}, {0.3, 0.3, 0.4}, {0.05, 0.05, 0.9}},
		MI:   []float64{0.04, 0.2, 0.6, 0.02},
		NLL:  0.55,
	}
	s = score(other, cls)
	want = Score{Task: "classification", Agreement: 0.75, TV: 0.1, EpiRatio: 2, Spearman: 1, NLLRatio: 1.1}
	if !nearScore(s, want) {
		t.Errorf("distorted classifier: %+v, want %+v", s, want)
	}

	reg := Summary{
		Mean:  []float64{1, 2, 3},
		SD:    []float64{1, 2, 4},
		EpiSD: []float64{0.5, 1, 3},
		NLL:   -0.2,
	}
	s = score(reg, reg)
	want = Score{Task: "regression", EpiRatio: 1, Spearman: 1, NLLRatio: 1, MeanErr: 0, EpiSDRatio: 1}
	if s != want {
		t.Errorf("regression against itself: %+v, want %+v", s, want)
	}
	// Shift every mean by half an sd, halve every epistemic sd and take a
	// worse NLL: -0.2 → -0.1 is 50% worse, so the ratio is 1.5 even though
	// the reference NLL is negative.
	shifted := Summary{
		Mean:  []float64{1.5, 3, 5},
		SD:    []float64{1, 2, 4},
		EpiSD: []float64{0.25, 0.5, 1.5},
		NLL:   -0.1,
	}
	s = score(shifted, reg)
	want = Score{Task: "regression", EpiRatio: 0.25, Spearman: 1, NLLRatio: 1.5, MeanErr: 0.5, EpiSDRatio: 0.5}
	if !nearScore(s, want) {
		t.Errorf("distorted regression: %+v, want %+v", s, want)
	}
	if v := issueBand.violations(s); len(v) != 4 {
		t.Errorf("distorted regression breaks %q, want the mean error, both epistemic sizes and the NLL", v)
	}
}

func nearScore(a, b Score) bool {
	f := func(x, y float64) bool { return math.Abs(x-y) < 1e-12 }
	return a.Task == b.Task && f(a.Agreement, b.Agreement) && f(a.TV, b.TV) && f(a.EpiRatio, b.EpiRatio) &&
		f(a.Spearman, b.Spearman) && f(a.NLLRatio, b.NLLRatio) && f(a.MeanErr, b.MeanErr) && f(a.EpiSDRatio, b.EpiSDRatio)
}

// TestReferences: every stored reference is complete, and NUTS at a second
// seed reproduces it to TV < 0.01 (classification) or a mean within 0.02
// sd and an epistemic sd within 3% (regression).
func TestReferences(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		ref, err := loadReference(root, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		n := len(ref.Mean)
		if c.Classifier {
			n = len(ref.Prob)
		}
		if ref.Classifier != c.Classifier || n != ref.Rows || n == 0 || ref.Method != nutsRef {
			t.Errorf("%s: reference is stale or incomplete (classifier %v, %d rows of %d, method %q): rerun -refs", c.Name, ref.Classifier, n, ref.Rows, ref.Method)
			continue
		}
		sc := ref.SeedCheck
		ok := sc.Agreement >= 0.99 && sc.TV < 0.01 && math.Abs(sc.EpiRatio-1) < 0.1
		if !c.Classifier {
			ok = sc.MeanErr < 0.02 && math.Abs(sc.EpiSDRatio-1) < 0.03 && math.Abs(sc.EpiRatio-1) < 0.06
		}
		if !ok || math.Abs(sc.NLLRatio-1) > 0.01 {
			t.Errorf("%s: two NUTS seeds disagree: %s", c.Name, brief(sc))
		}
	}
}

// TestFidelity fits backends at their defaults and holds each to its band.
// Default: iris and faithful, every registered method at defaults (nuts
// excepted), 200 draws. -short: iris only, three fast backends.
// BAYESL_FIDELITY=full: every case, method and variant, 1000 draws.
func TestFidelity(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{root: root, samples: 200, seed: 1}
	sel, methods := []string{"iris", "faithful"}, defaults()
	switch {
	case os.Getenv("BAYESL_FIDELITY") == "full":
		sel, methods, r.samples = nil, backends(), 1000
	case testing.Short():
		sel, methods = []string{"iris"}, []string{"map", "swag", "laplace"}
	}
	cs, err := selectCases(strings.Join(sel, ","))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		ref, err := loadReference(root, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range methods {
			t.Run(c.Name+"/"+m, func(t *testing.T) {
				if err := checkMethod(c, m); err != nil {
					t.Skipf("the registry rejects %s: %v", m, firstLine(err.Error()))
				}
				s := r.scoreBackend(context.Background(), c, ref, m)
				if s.Err != "" {
					t.Fatalf("fit failed: %s", s.Err)
				}
				t.Log(brief(s))
				if v := bandFor(m).violations(s); len(v) > 0 {
					t.Errorf("%s on %s: %s", m, c.Name, strings.Join(v, "; "))
				}
			})
		}
	}
}
