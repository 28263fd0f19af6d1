package tabular

import (
	"fmt"
	"math"
	"strconv"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/tensorio"
)

// PredictionOptions chooses what Predictions reports besides the summary every
// prediction has. The zero value (or nil) reports the summary only.
type PredictionOptions struct {
	// Classes are the class labels in index order, which name the
	// probability columns and fill the label column; nil means "0", "1",
	// .... Labels that are all numbers give a numeric label column.
	Classes []string
	// Quantiles are levels in (0, 1) of the regression predictive, each a
	// column "q<level>" (q0.05), solved on the mixture CDF (predictive.Quantile).
	Quantiles []float64
	// Intervals are coverage levels in (0, 1) of central intervals, each
	// two columns "lo<level>" and "hi<level>": the (1-level)/2 and
	// (1+level)/2 quantiles.
	Intervals []float64
	// Draws adds the per-draw outputs as arrays: "draws_prob" (S x N x K)
	// for a classifier, "draws_mean" and "draws_sd" (S x N) for regression.
	Draws bool
}

// Predictions returns one row per example (N rows) of the summary of the
// predictive p:
//
//	regression:      mean, sd, aleatoric_var, epistemic_var
//	                 (sd² = aleatoric_var + epistemic_var, predictive.Regression),
//	                 then the quantile and interval columns
//	classification:  prob_<class> for each class, label (the most probable
//	                 class), prob (its probability), total, aleatoric,
//	                 epistemic (entropies in nats, predictive.Classification)
//
// and, with Draws, the per-draw outputs as the table's arrays. It panics
// as predictive.Quantile does on a level outside (0, 1).
func Predictions(p *predictive.Predictive, opt *PredictionOptions) *Table {
	if opt == nil {
		opt = &PredictionOptions{}
	}
	t := &Table{}
	add := func(name string, v []float64) { t.Columns = append(t.Columns, Column{Name: name, Floats: v}) }
	if p.Kind == predictive.Regression {
		mean, ale, epi := p.Regression()
		sd := make([]float64, p.N)
		for n := range sd {
			sd[n] = math.Sqrt(ale[n] + epi[n])
		}
		add("mean", mean)
		add("sd", sd)
		add("aleatoric_var", ale)
		add("epistemic_var", epi)
		for _, q := range opt.Quantiles {
			add("q"+level(q), p.Quantiles([]float64{q})[0])
		}
		for _, c := range opt.Intervals {
			b := p.Quantiles([]float64{(1 - c) / 2, (1 + c) / 2})
			add("lo"+level(c), b[0])
			add("hi"+level(c), b[1])
		}
		if opt.Draws {
			t.Arrays = regressionDraws(p)
		}
		return t
	}
	prob, total, ale, epi := p.Classification()
	K := p.K
	names := opt.Classes
	if len(names) != K {
		names = make([]string, K)
		for k := range names {
			names[k] = strconv.Itoa(k)
		}
	}
	for k, name := range names {
		col := make([]float64, p.N)
		for n := range col {
			col[n] = prob[n*K+k]
		}
		add("prob_"+name, col)
	}
	best, bestP := make([]int, p.N), make([]float64, p.N)
	for n := range p.N {
		for k := 1; k < K; k++ {
			if prob[n*K+k] > prob[n*K+best[n]] {
				best[n] = k
			}
		}
		bestP[n] = prob[n*K+best[n]]
	}
	t.Columns = append(t.Columns, labelColumn(names, best))
	add("prob", bestP)
	add("total", total)
	add("aleatoric", ale)
	add("epistemic", epi)
	if opt.Draws {
		d := make([]float64, p.S*p.N*K)
		for i, lp := range p.LogProb[:len(d)] {
			d[i] = math.Exp(lp)
		}
		t.Arrays = []tensorio.Tensor{{Name: "draws_prob", Shape: []int{p.S, p.N, K}, Data: d}}
	}
	return t
}

// labelColumn is the predicted class of each example by name: numbers when
// every class name is one (a file whose labels were 0, 1, 2), else text.
func labelColumn(names []string, best []int) Column {
	nums := make([]float64, len(names))
	numeric := true
	for k, s := range names {
		v, err := strconv.ParseFloat(s, 64)
		nums[k], numeric = v, numeric && err == nil
	}
	c := Column{Name: "label"}
	for _, k := range best {
		if numeric {
			c.Floats = append(c.Floats, nums[k])
		} else {
			c.Strings = append(c.Strings, names[k])
		}
	}
	if c.Floats == nil && c.Strings == nil { // no rows: keep the column's kind
		if numeric {
			c.Floats = []float64{}
		} else {
			c.Strings = []string{}
		}
	}
	return c
}

// regressionDraws returns each draw's predictive mean and sd, S x N.
func regressionDraws(p *predictive.Predictive) []tensorio.Tensor {
	obs := p.Obs
	if obs == nil {
		obs = predictive.Normal{}
	}
	m, s := make([]float64, p.S*p.N), make([]float64, p.S*p.N)
	for i := range m {
		m[i] = obs.Mean(p.Loc[i], p.Scale[i])
		s[i] = math.Sqrt(obs.Var(p.Loc[i], p.Scale[i]))
	}
	return []tensorio.Tensor{
		{Name: "draws_mean", Shape: []int{p.S, p.N}, Data: m},
		{Name: "draws_sd", Shape: []int{p.S, p.N}, Data: s},
	}
}

// level writes a probability level for a column name: 0.05, 0.5, 0.975.
func level(q float64) string {
	if !(q > 0 && q < 1) {
		panic(fmt.Sprintf("tabular: Predictions: level %v is not in (0, 1)", q))
	}
	return strconv.FormatFloat(q, 'g', -1, 64)
}
