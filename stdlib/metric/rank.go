package metric

import (
	"math"
	"slices"
)

// Spearman returns Spearman's rank correlation between a and b: the
// Pearson correlation of their ranks, ties given their average rank. It
// says whether two uncertainty scores order rows alike (1: the same order,
// −1: reversed), whatever their scales. It is NaN for fewer than two rows
// or when either side is constant.
func Spearman(a, b []float64) float64 {
	sameLen("Spearman", a, b)
	if len(a) < 2 {
		return math.NaN()
	}
	return pearson(ranks(a), ranks(b))
}

// ranks returns the 1-based rank of each value, ties averaged.
func ranks(x []float64) []float64 {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		switch {
		case x[i] < x[j]:
			return -1
		case x[i] > x[j]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(x))
	for lo := 0; lo < len(order); {
		hi := lo + 1
		for hi < len(order) && x[order[hi]] == x[order[lo]] {
			hi++
		}
		avg := float64(lo+hi+1) / 2 // mean of the ranks lo+1 .. hi
		for _, i := range order[lo:hi] {
			r[i] = avg
		}
		lo = hi
	}
	return r
}

// pearson returns the correlation of a and b, NaN when either is constant.
func pearson(a, b []float64) float64 {
	n := float64(len(a))
	ma, mb := 0.0, 0.0
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= n
	mb /= n
	sab, saa, sbb := 0.0, 0.0, 0.0
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}
