package lang

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/metric"
	"github.com/bayesl/bayesl/stdlib/predictive"
)

func (x *executor) posteriorValue(r *ir.PosteriorRef) (*Posterior, error) {
	p, ok := x.s.values[r.Name].(*Posterior)
	if !ok {
		return nil, x.errorf(r.Span, source.Runtime, "%q holds no posterior", r.Name)
	}
	return p, nil
}

func (x *executor) evaluate(st *ir.Evaluate) error {
	d, err := x.data(st.Data)
	if err != nil {
		return err
	}
	t := newTable("", "posterior")
	for _, m := range st.Metrics {
		t.addColumn(metricLabel(m))
	}
	// The reference posteriors' predictives, drawn once with the seed their
	// own row of the table uses.
	refs := map[string]*predictive.Predictive{}
	for _, m := range st.Metrics {
		if m.Ref == nil || refs[m.Ref.Name] != nil {
			continue
		}
		p, err := x.posteriorValue(m.Ref)
		if err != nil {
			return err
		}
		if d.Width() != p.model.InputWidth {
			return x.errorf(m.Ref.Span, source.Shape, "reference posterior %s takes %d input features but the data has %d", m.Ref.Name, p.model.InputWidth, d.Width())
		}
		if refs[m.Ref.Name], err = x.predictive(p, d.X, "evaluate:"+m.Ref.Name); err != nil {
			return x.wrap(st.Span, source.Runtime, err)
		}
	}
	for _, r := range st.Posts {
		p, err := x.posteriorValue(r)
		if err != nil {
			return err
		}
		if d.Width() != p.model.InputWidth {
			return x.errorf(r.Span, source.Shape, "posterior %s takes %d input features but the data has %d", r.Name, p.model.InputWidth, d.Width())
		}
		pred := refs[r.Name] // a reference's predictive is its row's
		if pred == nil {
			if pred, err = x.predictive(p, d.X, "evaluate:"+r.Name); err != nil {
				return x.wrap(st.Span, source.Runtime, err)
			}
		}
		var row []float64
		for _, m := range st.Metrics {
			var v float64
			var err error
			if m.Ref != nil {
				v, err = compareMetric(m, pred, refs[m.Ref.Name])
			} else {
				v, err = computeMetric(m, pred, d)
			}
			if c, ok := countMetric(m, p); ok {
				v, err = c, nil
			}
			if err != nil {
				return x.errorf(m.Span, source.Type, "%s for posterior %s: %v", m.Name, r.Name, err)
			}
			row = append(row, v)
		}
		t.addRow(r.Name, row...)
	}
	t.Title = fmt.Sprintf("evaluate on %d rows", d.Rows())
	x.emit(Result{Kind: KindEvaluate, Table: t})
	return nil
}

func metricLabel(m ir.Metric) string {
	if m.Ref != nil {
		return fmt.Sprintf("%s(%s)", m.Name, m.Ref.Name)
	}
	switch m.Name {
	case "coverage":
		return fmt.Sprintf("coverage(%g)", m.Level)
	case "ece":
		if m.Bins != metric.DefaultECEBins {
			return fmt.Sprintf("ece(%d)", m.Bins)
		}
	}
	return m.Name
}

// computeMetric evaluates one metric of a predictive against the data's targets.
func computeMetric(m ir.Metric, pred *predictive.Predictive, d *data.Dataset) (float64, error) {
	y := d.Y
	if y == nil { // data bound from Go without targets; the checker refuses a script's
		return 0, fmt.Errorf("metric %s needs targets, and the data has none", m.Name)
	}
	switch m.Name {
	case "nll":
		return metric.NLL(pred.LogLik(y)), nil
	}
	if pred.Kind == predictive.Regression {
		mean, _, _ := pred.Regression()
		switch m.Name {
		case "rmse":
			return metric.RMSE(mean, y), nil
		case "mae":
			return metric.MAE(mean, y), nil
		case "coverage":
			cdf := make([]float64, len(y))
			for n := range y {
				cdf[n] = pred.CDF(n, y[n])
			}
			return metric.Coverage(cdf, m.Level), nil
		}
		return math.NaN(), fmt.Errorf("%s needs a classifier", m.Name)
	}
	prob, _, _, _ := pred.Classification()
	switch m.Name {
	case "accuracy":
		return metric.Accuracy(prob, pred.K, y), nil
	case "ece":
		return metric.ECE(prob, pred.K, y, m.Bins), nil
	case "brier":
		return metric.Brier(prob, pred.K, y), nil
	case "brier_per_class":
		return metric.BrierPerClass(prob, pred.K, y), nil
	}
	return math.NaN(), fmt.Errorf("%s needs a regression model", m.Name)
}

// compareMetric evaluates one metric of a predictive against a reference
// posterior's predictive on the same rows: top-label agreement and total
// variation for classifiers, the 2-Wasserstein distance between the
// moment-matched Gaussians for regression, and for both the ratio of the
// summed epistemic uncertainty (variance of the mean, or mutual
// information) to the reference's: 1 when the spread matches.
func compareMetric(m ir.Metric, pred, ref *predictive.Predictive) (float64, error) {
	if pred.Kind != ref.Kind || pred.K != ref.K {
		return math.NaN(), fmt.Errorf("the reference posterior %s predicts a different kind of target", m.Ref.Name)
	}
	ratio := func(a, b []float64) float64 {
		sa, sb := 0.0, 0.0
		for i, v := range a {
			sa += v
			sb += b[i]
		}
		return sa / sb
	}
	if pred.Kind == predictive.Regression {
		mean, ale, epi := pred.Regression()
		rmean, rale, repi := ref.Regression()
		switch m.Name {
		case "w2":
			sd, rsd := make([]float64, len(mean)), make([]float64, len(mean))
			for i := range mean {
				sd[i], rsd[i] = math.Sqrt(ale[i]+epi[i]), math.Sqrt(rale[i]+repi[i])
			}
			return metric.GaussianW2(mean, sd, rmean, rsd), nil
		case "epistemic":
			return ratio(epi, repi), nil
		}
		return math.NaN(), fmt.Errorf("%s needs a classifier (w2 and epistemic compare regressions)", m.Name)
	}
	prob, _, _, epi := pred.Classification()
	rprob, _, _, repi := ref.Classification()
	switch m.Name {
	case "agreement":
		return metric.Agreement(prob, rprob, pred.K), nil
	case "tv":
		return metric.TotalVariation(prob, rprob, pred.K), nil
	case "epistemic":
		return ratio(epi, repi), nil
	}
	return math.NaN(), fmt.Errorf("%s needs a regression model (agreement, tv and epistemic compare classifiers)", m.Name)
}
