package metric

import (
	"fmt"
	"math"
	"slices"
)

// DefaultECEBins is the number of equal-width bins conventionally used for
// ECE (Guo et al. 2017). The reference code of the papers this project
// follows uses 20 (b-lora-xs) and 10 (BPE-KD), so the bin count is always
// an explicit argument.
const DefaultECEBins = 15

func sameLen(fn string, a, b []float64) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("metric: %s: slice lengths %d and %d differ", fn, len(a), len(b)))
	}
}

// classRows checks that prob holds len(y) rows of k probabilities.
func classRows(fn string, prob []float64, k int, y []float64) {
	if k < 1 || len(prob) != len(y)*k {
		panic(fmt.Sprintf("metric: %s: %d probabilities for %d labels and %d classes", fn, len(prob), len(y), k))
	}
}

// label converts y_n to a class index, panicking if it is not an integer in
// [0, k).
func label(fn string, y float64, k, n int) int {
	if !(y >= 0 && y < float64(k)) || y != math.Trunc(y) {
		panic(fmt.Sprintf("metric: %s: label %v of example %d is not a class index in [0, %d)", fn, y, n, k))
	}
	return int(y)
}

// argmax returns the index and value of the largest entry of row, the
// lowest index among ties. NaN entries are never the maximum; a row that is
// all NaN gives index 0 and value NaN.
func argmax(row []float64) (int, float64) {
	best, m := 0, math.Inf(-1)
	for k, v := range row {
		if v > m {
			best, m = k, v
		}
	}
	if math.IsInf(m, -1) && len(row) > 0 {
		m = row[0]
	}
	return best, m
}

// RMSE returns the root mean squared error sqrt((1/N) Σ (pred_n - y_n)²).
func RMSE(pred, y []float64) float64 {
	sameLen("RMSE", pred, y)
	if len(y) == 0 {
		return math.NaN()
	}
	s := 0.0
	for i, p := range pred {
		d := p - y[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}

// MAE returns the mean absolute error (1/N) Σ |pred_n - y_n|.
func MAE(pred, y []float64) float64 {
	sameLen("MAE", pred, y)
	if len(y) == 0 {
		return math.NaN()
	}
	s := 0.0
	for i, p := range pred {
		s += math.Abs(p - y[i])
	}
	return s / float64(len(y))
}

// NLL returns the negative mean log predictive density, -(1/N) Σ loglik_n,
// for per-example log-likelihoods such as predictive.Predictive.LogLik
// returns. Computing those in log space (LogMeanExp over samples) is this
// project's convention; no eps is added, so a zero-probability observation
// gives +Inf rather than a clipped value.
func NLL(loglik []float64) float64 {
	if len(loglik) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, l := range loglik {
		s += l
	}
	return -s / float64(len(loglik))
}

// Coverage returns the fraction of observations that fall inside the
// central predictive interval of the given level (for example 0.9): with
// cdf_n the predictive CDF at the observed y_n, an observation is covered
// when (1-level)/2 ≤ cdf_n ≤ (1+level)/2. A calibrated continuous model
// gives Coverage ≈ level. NaN CDF values count as not covered; a level
// outside [0, 1] returns NaN.
func Coverage(cdf []float64, level float64) float64 {
	if len(cdf) == 0 || !(level >= 0 && level <= 1) {
		return math.NaN()
	}
	lo, hi := (1-level)/2, (1+level)/2
	in := 0
	for _, c := range cdf {
		if c >= lo && c <= hi {
			in++
		}
	}
	return float64(in) / float64(len(cdf))
}

// Accuracy returns the fraction of examples whose most probable class
// (argmax of the row, ties to the lowest index) equals the label. prob is
// N×K row-major with K = k, and y holds N class indices.
func Accuracy(prob []float64, k int, y []float64) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	classRows("Accuracy", prob, k, y)
	hit := 0
	for n, yn := range y {
		c := label("Accuracy", yn, k, n)
		if a, _ := argmax(prob[n*k : (n+1)*k]); a == c {
			hit++
		}
	}
	return float64(hit) / float64(len(y))
}

// ECE returns the top-label expected calibration error with bins
// equal-width bins ((b-1)/bins, b/bins], b = 1..bins:
//
//	ECE = Σ_b (|B_b|/N) · |mean_{n∈B_b} correct_n - mean_{n∈B_b} conf_n|
//
// where conf_n is the largest probability of row n and correct_n says
// whether its class (ties to the lowest index) equals y_n. Empty bins are
// skipped; a confidence of exactly 0 falls in the first bin. Bin edges are
// compared as b/bins so that a confidence equal to an edge lands in the
// lower bin, as in the reference code. DefaultECEBins is the usual bins.
// bins < 1 or a NaN confidence returns NaN.
func ECE(prob []float64, k int, y []float64, bins int) float64 {
	if len(y) == 0 || bins < 1 {
		return math.NaN()
	}
	classRows("ECE", prob, k, y)
	// Per bin: Σ correct - Σ conf, which is |B_b|·(acc_b - conf_b); the
	// weighted sum over bins then needs one division by N.
	gap := make([]float64, bins)
	m := float64(bins)
	for n, yn := range y {
		c := label("ECE", yn, k, n)
		a, conf := argmax(prob[n*k : (n+1)*k])
		if math.IsNaN(conf) {
			return math.NaN()
		}
		b := min(max(int(math.Ceil(conf*m))-1, 0), bins-1)
		for b > 0 && conf <= float64(b)/m {
			b--
		}
		for b < bins-1 && conf > float64(b+1)/m {
			b++
		}
		if a == c {
			gap[b]++
		}
		gap[b] -= conf
	}
	s := 0.0
	for _, g := range gap {
		s += math.Abs(g) // an empty bin contributes exactly 0
	}
	return s / float64(len(y))
}

// Brier returns the multi-class Brier score
//
//	(1/N) Σ_n Σ_k (prob_nk - 1[y_n = k])²,
//
// which lies in [0, 2] (the b-lora-xs convention). BrierPerClass divides
// it by K.
func Brier(prob []float64, k int, y []float64) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	classRows("Brier", prob, k, y)
	s := 0.0
	for n, yn := range y {
		c := label("Brier", yn, k, n)
		for j, p := range prob[n*k : (n+1)*k] {
			if j == c {
				p--
			}
			s += p * p
		}
	}
	return s / float64(len(y))
}

// BrierPerClass returns Brier divided by K, the mean of (prob_nk -
// 1[y_n = k])² over all N×K entries. This is the BayesPE/BPE-KD
// convention (numpy mean over the whole array), used in the evidential
// knowledge-distillation tables.
func BrierPerClass(prob []float64, k int, y []float64) float64 {
	return Brier(prob, k, y) / float64(k)
}

// score is one pooled AUROC score with its group.
type score struct {
	v   float64
	ood bool
}

// AUROC returns the area under the ROC curve for separating
// out-of-distribution inputs (the positive class, scores out) from
// in-distribution ones (scores in) when a higher score means "more likely
// OOD", for example the predictive entropy or the mutual information:
//
//	AUROC = P(s_out > s_in) + ½ P(s_out = s_in),
//
// the Mann–Whitney statistic. It is computed by sorting the pooled scores
// and, for each group of tied scores, counting the in-distribution scores
// strictly below it plus half of those tied with it. This is the average-
// rank formula (R_out - n_out(n_out+1)/2)/(n_out·n_in) without the large
// rank sums that cancel. Swapping in and out gives 1 - AUROC. An empty
// slice or any NaN score returns NaN.
func AUROC(in, out []float64) float64 {
	if len(in) == 0 || len(out) == 0 {
		return math.NaN()
	}
	pool := make([]score, 0, len(in)+len(out))
	for _, v := range in {
		pool = append(pool, score{v, false})
	}
	for _, v := range out {
		pool = append(pool, score{v, true})
	}
	for _, s := range pool {
		if math.IsNaN(s.v) {
			return math.NaN()
		}
	}
	slices.SortFunc(pool, func(a, b score) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	// pairs counts (out, in) pairs with the out score above the in score,
	// ties counting ½; below is the number of in scores seen so far.
	pairs, below := 0.0, 0
	for i := 0; i < len(pool); {
		j, nIn, nOut := i, 0, 0
		for ; j < len(pool) && pool[j].v == pool[i].v; j++ {
			if pool[j].ood {
				nOut++
			} else {
				nIn++
			}
		}
		pairs += float64(nOut) * (float64(below) + 0.5*float64(nIn))
		below += nIn
		i = j
	}
	return pairs / (float64(len(in)) * float64(len(out)))
}

// W1 returns the 1-Wasserstein (earth mover's) distance between the
// empirical distributions of a and b, with equal weights on the samples:
//
//	W1 = ∫ |F_a(t) - F_b(t)| dt,
//
// with F the right-continuous empirical CDFs; this is the definition of
// scipy.stats.wasserstein_distance. The integral is evaluated exactly as a
// sum over the merged sorted values t_i of |F_a(t_i) - F_b(t_i)|·(t_{i+1} -
// t_i). When len(a) == len(b) it equals mean |sort(a)_i - sort(b)_i|. It is
// symmetric, zero for equal distributions, and W1(a, a+c) = |c|. An empty
// slice or any NaN value returns NaN; the inputs are not modified.
func W1(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	if slices.ContainsFunc(sa, math.IsNaN) || slices.ContainsFunc(sb, math.IsNaN) {
		return math.NaN()
	}
	slices.Sort(sa)
	slices.Sort(sb)
	na, nb := float64(len(sa)), float64(len(sb))
	i, j := 0, 0
	t := math.Min(sa[0], sb[0])
	w := 0.0
	for i < len(sa) || j < len(sb) {
		// Step both ECDFs past t.
		for i < len(sa) && sa[i] <= t {
			i++
		}
		for j < len(sb) && sb[j] <= t {
			j++
		}
		next := math.Inf(1)
		if i < len(sa) {
			next = sa[i]
		}
		if j < len(sb) && sb[j] < next {
			next = sb[j]
		}
		if math.IsInf(next, 1) {
			break // both exhausted: F_a = F_b = 1 from here on
		}
		w += math.Abs(float64(i)/na-float64(j)/nb) * (next - t)
		t = next
	}
	return w
}

// The metrics below compare a posterior's predictive with a reference
// posterior's on the same rows (the exact posterior by NUTS, say), as in
// Izmailov et al. (2021), "What are Bayesian neural network posteriors
// really like?".

// Agreement returns the fraction of rows whose most probable class (ties
// to the lowest index) is the same under prob and ref, both N×K row-major
// with K = k.
func Agreement(prob, ref []float64, k int) float64 {
	sameLen("Agreement", prob, ref)
	n := len(prob) / k
	if n == 0 {
		return math.NaN()
	}
	hit := 0
	for i := range n {
		a, _ := argmax(prob[i*k : (i+1)*k])
		b, _ := argmax(ref[i*k : (i+1)*k])
		if a == b {
			hit++
		}
	}
	return float64(hit) / float64(n)
}

// TotalVariation returns the mean over rows of the total variation
// distance ½ Σ_k |prob_k − ref_k| between two N×K class distributions.
func TotalVariation(prob, ref []float64, k int) float64 {
	sameLen("TotalVariation", prob, ref)
	n := len(prob) / k
	if n == 0 {
		return math.NaN()
	}
	s := 0.0
	for i, p := range prob {
		s += math.Abs(p - ref[i])
	}
	return s / 2 / float64(n)
}

// GaussianW2 returns the mean over rows of the 2-Wasserstein distance
// between the Gaussians N(mean, sd²) and N(refMean, refSd²) matched to two
// predictives' first two moments: √((m − m')² + (s − s')²).
func GaussianW2(mean, sd, refMean, refSd []float64) float64 {
	sameLen("GaussianW2", mean, sd)
	sameLen("GaussianW2", mean, refMean)
	sameLen("GaussianW2", mean, refSd)
	if len(mean) == 0 {
		return math.NaN()
	}
	s := 0.0
	for i, m := range mean {
		dm, ds := m-refMean[i], sd[i]-refSd[i]
		s += math.Sqrt(dm*dm + ds*ds)
	}
	return s / float64(len(mean))
}
