package lang

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/tensorio"
)

// pretrained is `posterior p = point(net[, data: d])`: the point posterior
// of a model whose every weight is a constant read from weights values.
// Its parameter vector is empty; prediction is one forward pass through
// the constants, exactly as through the fitted network they came from.
func (x *executor) pretrained(name string, e *ir.Pretrained) (*Posterior, error) {
	m, text := x.s.resolveModel(e.Model, e.ModelText)
	prog, err := x.s.program(m)
	if err != nil {
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	p := &Posterior{
		post: &infer.Point{Theta: []float64{}, By: infer.Pretrained}, model: m, ModelText: text,
		Scaler: data.Identity(m.InputWidth), prog: prog, problem: newProblem(prog, nil, nil),
	}
	from := "none: the model sees raw inputs"
	if sc, w, ok := x.s.weightsScaler(m); ok {
		p.Scaler, from = sc, "the one saved with weights "+w
	}
	if e.Data != nil {
		d, err := x.data(e.Data)
		if err != nil {
			return nil, err
		}
		if d.Y != nil {
			err = checkFitData(x, m, e.Span, d)
		} else if d.Width() != m.InputWidth {
			err = x.errorf(e.Span, source.Shape, "model %s takes %d input features but the data has %d (%s)", m.Name, m.InputWidth, d.Width(), abbreviate(d.XNames, 6))
		}
		if err != nil {
			return nil, err
		}
		p.XNames, p.YName, p.Classes = d.XNames, d.YName, d.Classes
		if d.Standardize {
			p.Scaler = data.FitScaler(d, m.Lik.Family.Spec().Scaled)
			from = "fitted on " + d.Source
		}
	}
	c := m.Counts()
	x.emit(Result{Kind: KindShow, Name: name, Text: fmt.Sprintf("posterior %s: the pretrained weights of %s as they are (%d frozen numbers, nothing fitted); standardisation: %s", name, m.Name, c.Frozen, from)})
	return p, nil
}

// weightsScaler returns the scaler stored with a weights value that m's
// layers read (scalerTensors' layout), when one holds a scaler as wide as
// m's input, and the name of that weights value.
func (s *Session) weightsScaler(m *ir.Model) (data.Scaler, string, bool) {
	for _, c := range m.Consts {
		w, ok := s.values[c.Weights].(*Weights)
		if c.Kind != ir.ConstTensor || !ok {
			continue
		}
		get := func(name string, n int) []float64 {
			t, err := tensorio.Lookup(w.Tensors, name)
			if err != nil || len(t.Data) != n {
				return nil
			}
			return t.Data
		}
		xm, xs := get("scaler.x_mean", m.InputWidth), get("scaler.x_sd", m.InputWidth)
		ym, ysd := get("scaler.y_mean", 1), get("scaler.y_sd", 1)
		if xm == nil || xs == nil || ym == nil || ysd == nil {
			continue
		}
		sc := data.Scaler{XMean: slices.Clone(xm), XStd: slices.Clone(xs), YMean: ym[0], YStd: ysd[0]}
		sc.ScaleY = sc.YMean != 0 || sc.YStd != 1
		return sc, c.Weights, true
	}
	return data.Scaler{}, "", false
}

// scalerTensors lays out p's standardisation for a file another tool
// reads (export, and `save` of the weights of a posterior):
//
//	scaler.x_mean, scaler.x_sd   [D]  network input = (raw x - x_mean) / x_sd
//	scaler.y_mean, scaler.y_sd   []   raw target = y_mean + y_sd * network output
//	                                  (0 and 1 when the target is not scaled:
//	                                  a classifier's, a Poisson's log rate)
//
// so a forward pass on raw inputs needs nothing else.
func (p *Posterior) scalerTensors() []tensorio.Tensor {
	xm, xs := p.Scaler.XMean, p.Scaler.XStd
	if len(xm) != p.model.InputWidth {
		id := data.Identity(p.model.InputWidth)
		xm, xs = id.XMean, id.XStd
	}
	ym, ysd := 0.0, 1.0
	if p.Classes == nil && p.model.Lik.Family.Spec().Scaled {
		ym, ysd = p.Scaler.UnscaleLoc(0), p.Scaler.UnscaleScale(1)
	}
	return []tensorio.Tensor{
		{Name: "scaler.x_mean", Shape: []int{len(xm)}, Data: slices.Clone(xm)},
		{Name: "scaler.x_sd", Shape: []int{len(xs)}, Data: slices.Clone(xs)},
		{Name: "scaler.y_mean", Shape: []int{}, Data: []float64{ym}},
		{Name: "scaler.y_sd", Shape: []int{}, Data: []float64{ysd}},
	}
}

// droppedNote says which rows a csv(..., drop_missing: true) left out.
func droppedNote(d *data.Dataset) Result {
	var rows []string
	for _, r := range d.Dropped[:min(len(d.Dropped), 10)] {
		rows = append(rows, strconv.Itoa(r))
	}
	if len(d.Dropped) > 10 {
		rows = append(rows, "...")
	}
	which := "data row " + rows[0]
	if len(rows) > 1 {
		which = "data rows " + strings.Join(rows, ", ")
	}
	return Result{Kind: KindShow, Name: d.Source, Text: fmt.Sprintf("dropped %d of the %d rows of %s for a missing value (%s); %d left",
		len(d.Dropped), len(d.Dropped)+d.Rows(), d.Source, which, d.Rows())}
}
