package lang

import (
	"fmt"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/metric"
	"github.com/bayesl/bayesl/stdlib/plot"
	"gonum.org/v1/gonum/mat"
)

func (x *executor) plot(st *ir.Plot) error {
	var posts []*Posterior
	for _, r := range st.Posts {
		p, err := x.posteriorValue(r)
		if err != nil {
			return err
		}
		posts = append(posts, p)
	}
	path := x.path(st.Path, true)
	var err error
	switch st.Kind {
	case ir.PlotBand, ir.PlotSamples:
		err = x.plotFunctions(st, posts[0], path)
	case ir.PlotReliability:
		err = x.plotReliability(st, posts[0], path)
	case ir.PlotHistogram:
		err = x.plotHistogram(st, posts[0], path)
	case ir.PlotTraining:
		var curves []plot.Curve
		for i, p := range posts {
			if len(p.Trace) == 0 {
				return x.errorf(st.Posts[i].Span, source.Type, "posterior %s has no training curve (it was loaded, not fitted)", st.Posts[i].Name)
			}
			curves = append(curves, plot.Curve{Name: st.Posts[i].Name, Loss: p.Trace})
		}
		err = plot.Curves(path, plot.CurvesData{Curves: curves}, plot.Labels{Title: "training objective per example"})
	}
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	x.emit(Result{Kind: "write", Path: path, Text: fmt.Sprintf("wrote %s", path)})
	return nil
}

// oneInput reports a posterior whose model does not take one input feature.
func (x *executor) oneInput(st *ir.Plot, p *Posterior) error {
	if p.model.InputWidth != 1 {
		return x.errorf(st.Posts[0].Span, source.Shape, "%s pictures need a model with one input; %s takes %d", st.Kind, st.Posts[0].Name, p.model.InputWidth)
	}
	if p.model.Lik.Family.Classification() {
		return x.errorf(st.Posts[0].Span, source.Type, "%s pictures need a regression model; %s is a classifier", st.Kind, st.Posts[0].Name)
	}
	return nil
}

func (x *executor) plotFunctions(st *ir.Plot, p *Posterior, path string) error {
	if err := x.oneInput(st, p); err != nil {
		return err
	}
	grid := make([]float64, st.Points)
	for i := range grid {
		grid[i] = st.From + (st.To-st.From)*float64(i)/float64(max(st.Points-1, 1))
	}
	in := mat.NewDense(len(grid), 1, append([]float64(nil), grid...))
	var dx, dy []float64
	if st.Data != nil {
		d, err := x.data(st.Data)
		if err != nil {
			return err
		}
		dx, dy = mat.Col(nil, 0, d.X), d.Y
	}
	name := dataName(st.Data)
	labels := plot.Labels{X: p.XNames[0], Y: p.YName}
	if st.Kind == ir.PlotSamples {
		pred, err := p.predictAt(x.ctx, in, st.N, x.rng("plot:"+st.Posts[0].Name))
		if err != nil {
			return err
		}
		f := make([]float64, len(pred.Loc))
		for i, loc := range pred.Loc {
			f[i] = pred.Obs.Mean(loc, pred.Scale[i])
		}
		labels.Title = fmt.Sprintf("%s: %d functions drawn from the posterior", st.Posts[0].Name, pred.S)
		return plot.Functions(path, plot.FunctionsData{X: grid, F: f, DataX: dx, DataY: dy, DataName: name}, labels)
	}
	pred, err := x.predictive(p, in, "plot:"+st.Posts[0].Name)
	if err != nil {
		return err
	}
	mean, ale, epi := pred.Regression()
	labels.Title = fmt.Sprintf("%s: predictive mean, epistemic and total ±2 sd", st.Posts[0].Name)
	return plot.Band(path, plot.BandData{X: grid, Mean: mean, Aleatoric: ale, Epistemic: epi, TrainX: dx, TrainY: dy, TrainName: name}, labels)
}

// dataName is what a picture calls the data it shows: the data set's name
// (`data: test` shows "test"), or "data" for an expression.
func dataName(e ir.DataExpr) string {
	if r, ok := e.(*ir.DataRef); ok {
		return r.Name
	}
	return "data"
}

func (x *executor) classifierData(st *ir.Plot, p *Posterior, e ir.DataExpr) (*data.Dataset, error) {
	if !p.model.Lik.Family.Classification() && st.Kind == ir.PlotReliability {
		return nil, x.errorf(st.Posts[0].Span, source.Type, "a reliability diagram needs a classifier; %s is a regression model", st.Posts[0].Name)
	}
	d, err := x.data(e)
	if err != nil {
		return nil, err
	}
	if d.Width() != p.model.InputWidth {
		return nil, x.errorf(st.Span, source.Shape, "posterior %s takes %d input features but the data has %d", st.Posts[0].Name, p.model.InputWidth, d.Width())
	}
	return d, nil
}

func (x *executor) plotReliability(st *ir.Plot, p *Posterior, path string) error {
	d, err := x.classifierData(st, p, st.Data)
	if err != nil {
		return err
	}
	// evaluate's draws: the ECE in the title is the one an evaluate of
	// the same posterior on the same data prints.
	pred, err := x.predictive(p, d.X, "evaluate:"+st.Posts[0].Name)
	if err != nil {
		return err
	}
	prob, _, _, _ := pred.Classification()
	bins := st.Bins
	if bins == 0 {
		bins = metric.DefaultECEBins
	}
	return plot.Reliability(path, plot.ReliabilityData{Prob: prob, K: pred.K, Y: d.Y, Bins: bins}, plot.Labels{Title: st.Posts[0].Name})
}

func (x *executor) plotHistogram(st *ir.Plot, p *Posterior, path string) error {
	var scores [2][]float64
	for i, e := range []ir.DataExpr{st.In, st.Out} {
		d, err := x.classifierData(st, p, e)
		if err != nil {
			return err
		}
		// ood's draws, so the AUROC in the title is the one ood prints.
		pred, err := x.predictive(p, d.X, []string{"ood-in:", "ood-out:"}[i]+st.Posts[0].Name)
		if err != nil {
			return err
		}
		scores[i] = uncertainty(pred)[st.Score]
	}
	unit := "variance"
	if p.model.Lik.Family.Classification() {
		unit = "nats"
	}
	return plot.OODHistogram(path, plot.OODData{In: scores[0], Out: scores[1], Bins: st.Bins, AUROC: true},
		plot.Labels{Title: fmt.Sprintf("%s: %s uncertainty", st.Posts[0].Name, st.Score), X: fmt.Sprintf("%s uncertainty (%s)", st.Score, unit)})
}
