package lang

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/tabular"
	"github.com/bayesl/bayesl/stdlib/tensorio"
	"gonum.org/v1/gonum/mat"
)

// Every file of predictions is written here, in the format its extension
// names (stdlib/tabular's table, which ir.PredictionFormats mirrors for
// the checker), and every exported posterior (ir.ExportFormats).

func (x *executor) predict(st *ir.Predict) error {
	p, err := x.posteriorValue(st.Post)
	if err != nil {
		return err
	}
	var in *mat.Dense
	var names []string
	if st.Data != nil {
		d, err := x.data(st.Data)
		if err != nil {
			return err
		}
		in, names = d.X, d.XNames
	} else {
		in = mat.NewDense(len(st.Inputs), len(st.Inputs[0]), nil)
		for i, r := range st.Inputs {
			in.SetRow(i, r)
		}
		names = p.XNames
	}
	if _, c := in.Dims(); c != p.model.InputWidth {
		return x.errorf(st.Span, source.Shape, "posterior %s takes %d input features, got %d per row", st.Post.Name, p.model.InputWidth, c)
	}
	var pred *predictive.Predictive
	if st.Samples > 0 {
		pred, err = p.predictAt(x.ctx, in, st.Samples, x.rng("predict:predict:"+st.Post.Name))
	} else {
		pred, err = x.predictive(p, in, "predict:"+st.Post.Name)
	}
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	if pred.Kind != predictive.Regression && len(st.Quantiles)+len(st.Intervals) > 0 {
		return x.errorf(st.Span, source.Type, "quantiles and intervals are of a regression's predictive; %s is a classifier (its table has per-class probabilities)", st.Post.Name)
	}
	opt := &tabular.PredictionOptions{Quantiles: st.Quantiles, Intervals: st.Intervals, Draws: st.Draws}
	tab := p.predictionTable(in, names, pred, opt)
	if st.Path == "" {
		t := displayTable(tab)
		t.Title = fmt.Sprintf("predict %s (%d posterior draws)", st.Post.Name, pred.S)
		if len(pred.Alpha) > 0 {
			t.Title = fmt.Sprintf("predict %s (a Dirichlet, in closed form from one forward pass)", st.Post.Name)
		}
		x.emit(Result{Kind: KindPredict, Name: st.Post.Name, Table: t})
		return nil
	}
	path := x.path(st.Path, true)
	if err := WritePredictions(path, tab); err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	x.emit(Result{Kind: KindWrite, Name: st.Post.Name, Path: path, Text: fmt.Sprintf("wrote %d predictions of %s to %s", tab.Rows(), st.Post.Name, path)})
	return nil
}

// PredictionTable returns one row per row of x (raw inputs, as given to
// the predictive pred of p): the inputs under the names p was fitted
// with, then tabular.Predictions' columns, the class columns named by p's class
// labels. `bayesl predict` and Go callers write it with WritePredictions.
func (p *Posterior) PredictionTable(x *mat.Dense, pred *predictive.Predictive, opt *tabular.PredictionOptions) *tabular.Table {
	return p.predictionTable(x, p.XNames, pred, opt)
}

func (p *Posterior) predictionTable(in *mat.Dense, names []string, pred *predictive.Predictive, opt *tabular.PredictionOptions) *tabular.Table {
	o := tabular.PredictionOptions{}
	if opt != nil {
		o = *opt
	}
	o.Classes = p.Classes
	out := tabular.Predictions(pred, &o)
	_, cols := in.Dims()
	inputs := make([]tabular.Column, cols)
	for j := range inputs {
		name := fmt.Sprintf("x%d", j)
		if len(names) == cols {
			name = names[j]
		}
		if _, clash := out.Column(name); clash {
			name = "x." + name // an input called "mean" keeps its column
		}
		inputs[j] = tabular.Column{Name: name, Floats: mat.Col(nil, j, in)}
	}
	out.Columns = append(inputs, out.Columns...)
	return out
}

// WritePredictions writes a prediction table to path, atomically, in the
// format of its extension: .csv, .json, .npy, .npz or .parquet
// (tabular.Formats). Another extension is an error listing those.
// Missing directories are created.
func WritePredictions(path string, t *tabular.Table) error {
	if _, err := tabular.ForPath(path); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return tabular.WriteFile(path, t)
}

// displayTable is a prediction table for the terminal and --json: a "row"
// column numbering the inputs, or, for a classifier with named classes,
// the predicted label in its place.
func displayTable(tab *tabular.Table) *Table {
	t := &Table{}
	first := Column{Name: "row", Strings: make([]string, tab.Rows())}
	for i := range first.Strings {
		first.Strings[i] = strconv.Itoa(i)
	}
	var rest []Column
	for _, c := range tab.Columns {
		if c.Strings != nil && c.Name == "label" {
			first = Column{Name: c.Name, Strings: c.Strings}
			continue
		}
		rest = append(rest, Column{Name: c.Name, Strings: c.Strings, Floats: c.Floats})
	}
	t.Columns = append([]Column{first}, rest...)
	return t
}

// ExportFormat is the layout version written in an export's metadata.
const ExportFormat = "bayesl-export/1"

// export writes a posterior for other tools (ir.ExportFormats). The layout,
// documented in the README:
//
//	mean.NAME      the posterior's one network (infer.PointOf), when it
//	               has one: NAME.w (in x out) and NAME.b per dense layer,
//	               adapters' factors and param blocks, as `weights` names them
//	draws.NAME     S posterior draws of each, stacked: S x shape
//	scaler.x_mean, scaler.x_sd   (D) raw input = x_mean + x_sd * network input
//	scaler.y_mean, scaler.y_sd   () raw target = y_mean + y_sd * network output
//	                             (0 and 1 when the target is not scaled)
//	meta           (npz: a one-element string array) JSON: format, method,
//	               point, likelihood, model, x_names, y_name, classes, draws;
//	               safetensors: the same keys in __metadata__
func (x *executor) export(st *ir.Export) error {
	p, err := x.posteriorValue(st.Post)
	if err != nil {
		return err
	}
	n := st.Draws
	if n < 0 {
		n = x.s.cfg.Samples
	}
	ts, meta, err := p.exportTensors(n, x.rng("export:"+st.Post.Name))
	if err != nil {
		return x.wrap(st.Span, source.Type, err)
	}
	path := x.path(st.Path, true)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		err = tensorio.WriteSafetensors(path, ts, &tensorio.WriteOptions{Metadata: meta})
	default: // .npz: the checker admits nothing else
		blob, _ := json.Marshal(meta)
		err = tensorio.WriteAtomic(path, func(w io.Writer) error {
			return tabular.WriteArchive(w, []tabular.Column{{Name: "meta", Strings: []string{string(blob)}}}, ts)
		})
	}
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	x.emit(Result{Kind: KindWrite, Name: st.Post.Name, Path: path,
		Text: fmt.Sprintf("exported %s to %s: %s draws, %d tensors", st.Post.Name, path, meta["draws"], len(ts))})
	return nil
}

// exportTensors returns what export writes: tensors and metadata, with
// up to draws posterior draws (a finite posterior gives its own).
func (p *Posterior) exportTensors(draws int, rng *rand.Rand) ([]tensorio.Tensor, map[string]string, error) {
	meta := map[string]string{
		"format": ExportFormat, "method": p.post.Method(), "likelihood": p.model.Lik.Family.String(),
		"model": p.ModelText, "x_names": jsonString(p.XNames), "y_name": p.YName, "draws": "0",
	}
	if p.Classes != nil {
		meta["classes"] = jsonString(p.Classes)
	}
	var ts []tensorio.Tensor
	if theta, what, err := infer.PointOf(p.post); err == nil {
		meta["point"] = what
		for _, t := range pointTensors(p.prog, theta) {
			t.Name = "mean." + t.Name
			ts = append(ts, t)
		}
	} else if draws <= 0 {
		return nil, nil, fmt.Errorf("%v; export its draws instead (draws: 100, or leave draws out)", err)
	}
	if draws > 0 {
		// Each draw laid out as `weights` lays out one network, stacked.
		thetas := p.post.Draw(draws, rng)
		var stacked []tensorio.Tensor
		for s, th := range thetas {
			for i, t := range pointTensors(p.prog, th) {
				if s == 0 {
					stacked = append(stacked, tensorio.Tensor{Name: "draws." + t.Name, Shape: append([]int{len(thetas)}, t.Shape...),
						Data: make([]float64, 0, len(thetas)*len(t.Data))})
				}
				stacked[i].Data = append(stacked[i].Data, t.Data...)
			}
		}
		ts = append(ts, stacked...)
		meta["draws"] = strconv.Itoa(len(thetas))
	}
	// The scaler, so that a forward pass on raw inputs needs nothing else.
	return append(ts, p.scalerTensors()...), meta, nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
