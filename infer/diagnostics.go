package infer

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// RhatWarn is the R̂ above which Diagnose warns (Vehtari et al. 2021
// recommend 1.01 for final results; 1.05 flags chains that plainly
// disagree).
const RhatWarn = 1.05

// Diagnostics summarises how well a sampler's chains agree, over many
// output scalars (see Diagnose).
type Diagnostics struct {
	MaxRhat    float64 // the largest rank-normalised split-R̂ over the outputs
	MedianRhat float64
	MinESS     float64 // the smallest bulk effective sample size over the outputs
	MedianESS  float64
	Outputs    int    // output scalars diagnosed (constant ones are skipped)
	Chains     int    // chains compared
	Draws      int    // draws per chain used
	Warning    string // set when MaxRhat > RhatWarn, or when nothing could be diagnosed (then the statistics are NaN)
}

// Diagnose checks the convergence of a posterior made of Markov chains
// (any Posterior that is a Chainer, such as *Samples) in function space:
// parameters of a neural network are not identifiable (hidden units
// permute, modes repeat), so chains that agree on every prediction can
// still disagree on every weight, and weight-space R̂ would cry wolf. It
// predicts with every stored state at the rows of x (a few hundred
// training inputs are plenty) and diagnoses one scalar per input, or per
// input and class:
//
//   - regression: the predictive location (predictive.Predictive.Loc, the
//     mean of a normal or Student-t likelihood, the log rate of a Poisson);
//   - classification: the probability of each class.
//
// For a neural network R̂ > 1 has two readings: chains that have not
// mixed yet, or chains that settled in different modes and would stay
// apart however long they ran. The predictive averages over all chains
// either way, which is what several chains are for; the warning says that
// they are not yet samples of one distribution.
//
// For each scalar it computes the rank-normalised split-R̂ (the maximum of
// the bulk and folded-tail R̂) and the bulk ESS of Vehtari, Gelman,
// Simpson, Carpenter & Bürkner (2021), as ArviZ does (RankRhat, BulkESS),
// and summarises them. Chains of unequal length are cut to the shortest,
// keeping their last states. With fewer than 4 draws per chain (a run
// capped for a quick trial) there is nothing to compare: the statistics
// are NaN and Warning says why, which is not an error. Scalars that are
// constant across all draws carry no information and are skipped.
func Diagnose(ctx context.Context, post Posterior, p *Problem, x *mat.Dense) (*Diagnostics, error) {
	ch, ok := post.(Chainer)
	switch {
	case post == nil:
		return nil, fmt.Errorf("infer: diagnose: nil posterior")
	case !ok:
		return nil, fmt.Errorf("infer: diagnose: a %s posterior (%T) has no chains to compare", post.Method(), post)
	case p == nil || p.Predict == nil:
		return nil, fmt.Errorf("infer: diagnose: the problem cannot predict")
	case x == nil:
		return nil, fmt.Errorf("infer: diagnose: no inputs")
	case post.Dim() != p.Dim:
		return nil, fmt.Errorf("infer: diagnose: posterior over %d parameters, model has %d", post.Dim(), p.Dim)
	}
	chains := ch.Chains()
	if len(chains) == 0 {
		return nil, fmt.Errorf("infer: diagnose: posterior has no chains")
	}
	n := len(chains[0])
	for _, c := range chains {
		n = min(n, len(c))
	}
	if n < 4 {
		nan := math.NaN()
		return &Diagnostics{MaxRhat: nan, MedianRhat: nan, MinESS: nan, MedianESS: nan, Chains: len(chains), Draws: n,
			Warning: fmt.Sprintf("%d draws per chain are too few to compare the chains (4 needed)", n)}, nil
	}
	rows, _ := x.Dims()
	// vals[o] holds output o's draws, chain after chain.
	var vals [][]float64
	out := new(predictive.Predictive)
	for c, chain := range chains {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.Predict(out, chain[len(chain)-n:], x)
		if out.S != n || out.N != rows {
			return nil, fmt.Errorf("infer: diagnose: model returned %d x %d outputs for %d draws at %d inputs", out.S, out.N, n, rows)
		}
		per := rows
		if out.Kind == predictive.Classification {
			per = rows * out.K
		}
		if vals == nil {
			vals = make([][]float64, per)
			for o := range vals {
				vals[o] = make([]float64, len(chains)*n)
			}
		}
		for s := range n {
			for o := range per {
				v := 0.0
				if out.Kind == predictive.Classification {
					v = math.Exp(out.LogProb[s*per+o])
				} else {
					v = out.Loc[s*rows+o]
				}
				vals[o][c*n+s] = v
			}
		}
	}
	d := &Diagnostics{Chains: len(chains), Draws: n}
	rhats := make([]float64, 0, len(vals))
	esss := make([]float64, 0, len(vals))
	split := make([][]float64, len(chains))
	for o, v := range vals {
		if o%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		r, e, ok := chainDiagnostic(split, v, n)
		if !ok {
			continue
		}
		rhats = append(rhats, r)
		esss = append(esss, e)
	}
	d.Outputs = len(rhats)
	if d.Outputs == 0 {
		d.MaxRhat, d.MedianRhat, d.MinESS, d.MedianESS = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		d.Warning = "every output is constant across the draws; nothing to diagnose"
		return d, nil
	}
	slices.Sort(rhats)
	slices.Sort(esss)
	d.MaxRhat, d.MedianRhat = rhats[len(rhats)-1], median(rhats)
	d.MinESS, d.MedianESS = esss[0], median(esss)
	if d.MaxRhat > RhatWarn {
		bad := len(rhats) - sort.SearchFloat64s(rhats, math.Nextafter(RhatWarn, 2))
		d.Warning = fmt.Sprintf("the chains disagree: R̂ up to %.3f, above %.2f on %d of %d outputs (not mixed yet, or in different modes)",
			d.MaxRhat, RhatWarn, bad, d.Outputs)
	}
	return d, nil
}

// median returns the median of sorted values.
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// RankRhat returns the rank-normalised split-R̂ of the scalar draws of
// several chains (chain → draws), the convergence diagnostic of Vehtari
// et al. (2021): each chain is split into halves (dropping a middle draw),
// all draws are replaced by the normal scores of their pooled ranks, and
// the classic R̂ of Gelman & Rubin is taken on those, and on the scores of
// |θ − median θ| to catch chains that differ in spread rather than
// location; the larger is returned. Near 1 when the chains mix; it grows
// as they disagree. Chains of unequal length are cut to the shortest,
// keeping their ends. It returns NaN with fewer than 4 draws per chain or
// when every draw is equal.
func RankRhat(chains [][]float64) float64 {
	s := splitChains(chains)
	if s == nil {
		return math.NaN()
	}
	bulk := rhat(zScale(s))
	all := slices.Concat(s...)
	slices.Sort(all)
	med := median(all)
	folded := make([][]float64, len(s))
	for c, ch := range s {
		folded[c] = make([]float64, len(ch))
		for i, v := range ch {
			folded[c][i] = math.Abs(v - med)
		}
	}
	tail := rhat(zScale(folded))
	if math.IsNaN(bulk) || math.IsNaN(tail) {
		return math.NaN()
	}
	return max(bulk, tail)
}

// BulkESS returns the bulk effective sample size of the scalar draws of
// several chains: the ESS of Geyer's initial monotone sequence estimator,
// combining the chains' autocovariances as Stan and ArviZ do, computed on
// the rank-normalised split chains (Vehtari et al. 2021). For independent
// draws it is close to the number of draws; for an AR(1) chain with
// coefficient ρ it approaches n(1−ρ)/(1+ρ). It returns NaN with fewer than
// 4 draws per chain.
func BulkESS(chains [][]float64) float64 {
	s := splitChains(chains)
	if s == nil {
		return math.NaN()
	}
	return ess(zScale(s))
}

// splitChains cuts each chain (to the common length, keeping its end)
// into its first and last halves.
func splitChains(chains [][]float64) [][]float64 {
	if len(chains) == 0 {
		return nil
	}
	n := len(chains[0])
	for _, c := range chains {
		n = min(n, len(c))
	}
	if n < 4 {
		return nil
	}
	half := n / 2
	out := make([][]float64, 0, 2*len(chains))
	for _, c := range chains {
		c = c[len(c)-n:]
		out = append(out, c[:half], c[n-half:])
	}
	return out
}

// zScale replaces every draw by Φ⁻¹((r − 3/8)/(S + 1/4)), r its rank among
// all S draws (ties get their average rank), in new slices.
func zScale(chains [][]float64) [][]float64 {
	type item struct {
		v    float64
		c, i int32
	}
	var items []item
	for c, ch := range chains {
		for i, v := range ch {
			items = append(items, item{v, int32(c), int32(i)})
		}
	}
	// Ties get one average rank, so the order among them does not matter.
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.v, b.v) })
	out := make([][]float64, len(chains))
	for c, ch := range chains {
		out[c] = make([]float64, len(ch))
	}
	total := float64(len(items))
	for lo := 0; lo < len(items); {
		hi := lo + 1
		for hi < len(items) && items[hi].v == items[lo].v {
			hi++
		}
		rank := float64(lo+1+hi) / 2 // mean of the 1-based ranks lo+1 ... hi
		z := math.Sqrt2 * math.Erfinv(2*(rank-0.375)/(total+0.25)-1)
		for _, it := range items[lo:hi] {
			out[it.c][it.i] = z
		}
		lo = hi
	}
	return out
}

// rhat is the classic (non-split) potential scale reduction factor of
// chains of equal length.
func rhat(chains [][]float64) float64 {
	m := len(chains)
	n := float64(len(chains[0]))
	means := make([]float64, m)
	w := 0.0
	for c, ch := range chains {
		mu, v := meanVar(ch)
		means[c] = mu
		w += v
	}
	w /= float64(m)
	_, vm := meanVar(means)
	b := n * vm
	if !(w > 0) {
		return math.NaN()
	}
	return math.Sqrt((b/w + n - 1) / n)
}

// meanVar returns the mean and the unbiased variance (0 for one value).
func meanVar(x []float64) (float64, float64) {
	mu := 0.0
	for _, v := range x {
		mu += v
	}
	mu /= float64(len(x))
	if len(x) < 2 {
		return mu, 0
	}
	s := 0.0
	for _, v := range x {
		s += (v - mu) * (v - mu)
	}
	return mu, s / float64(len(x)-1)
}

// ess is ArviZ's _ess (after Stan): the multi-chain autocorrelation
// ρ_t = 1 − (W − mean_c acov_c(t))/var⁺, summed by Geyer's initial positive
// sequence made monotone, with the variance-reducing last term for
// antithetic chains; ESS = M·n/τ, τ ≥ 1/log10(M·n). Autocovariances are
// computed lag by lag as the sum stops early, O(n) each.
func ess(chains [][]float64) float64 {
	m := len(chains)
	n := len(chains[0])
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ch := range chains {
		lo, hi = min(lo, slices.Min(ch)), max(hi, slices.Max(ch))
	}
	total := float64(m * n)
	if hi-lo < 1e-15 {
		return total
	}
	centred := make([][]float64, m)
	means := make([]float64, m)
	for c, ch := range chains {
		mu, _ := meanVar(ch)
		means[c] = mu
		centred[c] = make([]float64, n)
		for i, v := range ch {
			centred[c][i] = v - mu
		}
	}
	// meanAcov is the chains' mean biased autocovariance at lag t.
	meanAcov := func(t int) float64 {
		s := 0.0
		for _, x := range centred {
			for i := 0; i+t < n; i++ {
				s += x[i] * x[i+t]
			}
		}
		return s / float64(n) / float64(m)
	}
	fn := float64(n)
	meanVarW := meanAcov(0) * fn / (fn - 1)
	varPlus := meanVarW * (fn - 1) / fn
	if m > 1 {
		_, vm := meanVar(means)
		varPlus += vm
	}
	rho := make([]float64, n)
	rhoEven := 1.0
	rho[0] = rhoEven
	rhoOdd := 1 - (meanVarW-meanAcov(1))/varPlus
	rho[1] = rhoOdd
	t := 1
	for t < n-3 && rhoEven+rhoOdd > 0 {
		rhoEven = 1 - (meanVarW-meanAcov(t+1))/varPlus
		rhoOdd = 1 - (meanVarW-meanAcov(t+2))/varPlus
		if rhoEven+rhoOdd >= 0 {
			rho[t+1] = rhoEven
			rho[t+2] = rhoOdd
		}
		t += 2
	}
	maxT := t - 2
	if rhoEven > 0 {
		rho[maxT+1] = rhoEven
	}
	for t := 1; t <= maxT-2; t += 2 {
		if rho[t+1]+rho[t+2] > rho[t-1]+rho[t] {
			rho[t+1] = (rho[t-1] + rho[t]) / 2
			rho[t+2] = rho[t+1]
		}
	}
	tau := -1.0
	for _, r := range rho[:maxT+1] {
		tau += 2 * r
	}
	if maxT+1 < n {
		tau += rho[maxT+1]
	}
	tau = max(tau, 1/math.Log10(total))
	e := total / tau
	if math.IsNaN(e) {
		return math.NaN()
	}
	return e
}

// Thresholds of the sampler's own stopping rule (chainsMixed).
const (
	mixedRhat  = 1.1 // split-R̂ below which chains count as mixed
	mixedRows  = 256 // training rows whose log-likelihood is diagnosed
	defaultESS = 100 // the bulk ESS a default-length run aims for
)

// chainsMixed reports whether the chains' draws (chain → draws) pass the
// samplers' stopping rule in function space: the largest rank-normalised
// split-R̂ below mixedRhat and the median bulk ESS at least target, over
// scalars at up to mixedRows training rows spread evenly over the data.
// When the Problem has its Inputs they are Diagnose's scalars at the rows
// the fit summary diagnoses (a class probability, a predictive location),
// so a run stops on the statistics it then reports. Otherwise each draw's
// log-likelihood of the row, log p(y_n | x_n, θ), which every Problem can
// evaluate and which moves with the prediction at x_n. The median, not
// the minimum, is held to the target: among hundreds of outputs a few
// that are certain under every draw have ranks made of noise. With fewer
// than 4 draws per chain, or nothing that varies, there is nothing to
// wait for.
func chainsMixed(ctx context.Context, p *Problem, chains [][][]float64, target float64) (bool, error) {
	if p.Inputs != nil && p.Predict != nil {
		rows, cols := p.Inputs.Dims()
		n := min(rows, mixedRows)
		sub := mat.NewDense(n, cols, nil)
		for i := range n {
			sub.SetRow(i, p.Inputs.RawRowView(i*rows/n))
		}
		d, err := Diagnose(ctx, &Samples{dim: p.Dim, chains: chains}, p, sub)
		if err != nil {
			return false, err
		}
		if math.IsNaN(d.MaxRhat) {
			return true, nil
		}
		return d.MaxRhat < mixedRhat && d.MedianESS >= target, nil
	}
	n := len(chains[0])
	for _, c := range chains {
		n = min(n, len(c))
	}
	if n < 4 {
		return true, nil
	}
	rows := min(p.N, mixedRows)
	vals := make([][]float64, rows) // row → draws, chain after chain
	for i := range vals {
		vals[i] = make([]float64, len(chains)*n)
	}
	idx := make([]int, 1)
	for c, ch := range chains {
		for s, th := range ch[len(ch)-n:] {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			for i := range rows {
				idx[0] = i * p.N / rows
				vals[i][c*n+s] = -p.NegLogLik(nil, th, idx)
			}
		}
	}
	split := make([][]float64, len(chains))
	ess := make([]float64, 0, rows)
	for _, v := range vals {
		r, e, ok := chainDiagnostic(split, v, n)
		if !ok {
			continue
		}
		if r >= mixedRhat {
			return false, nil
		}
		ess = append(ess, e)
	}
	if len(ess) == 0 {
		return true, nil
	}
	slices.Sort(ess)
	return median(ess) >= target, nil
}

// chainDiagnostic returns the rank-normalised split-R̂ and bulk ESS of one
// output whose draws v hold n per chain, chain after chain (split receives
// the chains' views). ok is false for an output constant across the draws
// or one the diagnostics cannot score.
func chainDiagnostic(split [][]float64, v []float64, n int) (r, e float64, ok bool) {
	if slices.Min(v) == slices.Max(v) {
		return 0, 0, false
	}
	for c := range split {
		split[c] = v[c*n : (c+1)*n]
	}
	r, e = RankRhat(split), BulkESS(split)
	return r, e, !math.IsNaN(r) && !math.IsNaN(e)
}
