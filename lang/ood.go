package lang

import (
	"fmt"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/metric"
	"github.com/bayesl/bayesl/stdlib/predictive"
)

// ood scores how well each uncertainty score of each posterior separates
// in-distribution inputs (label 0) from out-of-distribution ones (label 1):
// AUROC (Mann-Whitney, ties counted half) and the 1-D Wasserstein-1 distance
// between the two sets of scores.
func (x *executor) ood(st *ir.OOD) error {
	in, err := x.data(st.In)
	if err != nil {
		return err
	}
	out, err := x.data(st.Out)
	if err != nil {
		return err
	}
	t := newTable("", "posterior")
	for _, m := range st.Metrics {
		t.addColumn(m.Name)
	}
	for _, r := range st.Posts {
		p, err := x.posteriorValue(r)
		if err != nil {
			return err
		}
		for _, d := range []*data.Dataset{in, out} {
			if d.Width() != p.model.InputWidth {
				return x.errorf(r.Span, source.Shape, "posterior %s takes %d input features but the data has %d", r.Name, p.model.InputWidth, d.Width())
			}
		}
		pin, err := x.predictive(p, in.X, "ood-in:"+r.Name)
		if err != nil {
			return x.wrap(st.Span, source.Runtime, err)
		}
		pout, err := x.predictive(p, out.X, "ood-out:"+r.Name)
		if err != nil {
			return x.wrap(st.Span, source.Runtime, err)
		}
		sin, sout := uncertainty(pin), uncertainty(pout)
		for _, score := range st.Scores {
			a, b := sin[score], sout[score]
			var row []float64
			for _, m := range st.Metrics {
				var v float64
				switch m.Name {
				case "auroc":
					v = metric.AUROC(a, b)
				case "w1":
					v = metric.W1(a, b)
				case "mean_in":
					v = mean(a)
				case "mean_out":
					v = mean(b)
				}
				row = append(row, v)
			}
			t.addRow(fmt.Sprintf("%s (%s)", r.Name, score), row...)
		}
	}
	t.Title = fmt.Sprintf("out-of-distribution detection: %d in vs %d out", in.Rows(), out.Rows())
	x.emit(Result{Kind: KindOOD, Table: t})
	return nil
}

// uncertainty returns the per-example uncertainty scores of a predictive:
// entropies (nats) for a classifier, variances for a regression model.
func uncertainty(p *predictive.Predictive) map[string][]float64 {
	if p.Kind == predictive.Classification {
		_, total, ale, epi := p.Classification()
		return map[string][]float64{"total": total, "aleatoric": ale, "epistemic": epi}
	}
	_, ale, epi := p.Regression()
	total := make([]float64, len(ale))
	for i := range total {
		total[i] = ale[i] + epi[i]
	}
	return map[string][]float64{"total": total, "aleatoric": ale, "epistemic": epi}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
