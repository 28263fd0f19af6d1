package ir

import (
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// Pretrained is `point(MODEL)` or `point(MODEL, data: D)` where a
// posterior is expected: the posterior concentrated on the weights the
// model already has, for a model whose every layer reads its weights
// from: a weights value. Nothing is fitted; predict, evaluate, save and
// export take it as they take a fitted one. The name mirrors
// `weights w = point(p)`, which goes the other way, from a posterior to
// its weights.
//
// Data, when set, is the data set the weights were trained on: its column
// names, class labels and (with standardize: true) the scaler fitted on
// it, as fit would. Without it, a weights value that carries a scaler
// (scaler.x_mean, as `save w` writes for the point of a posterior) gives
// the scaler, and the model sees raw inputs otherwise.
type Pretrained struct {
	Model     *Model
	ModelText string
	Data      DataExpr // nil when not given
	Span      source.Span
}

func (p *Pretrained) postSpan() source.Span { return p.Span }

// pretrained checks point(MODEL[, data: D]) as a posterior.
func (c *checker) pretrained(call *parser.Call) PosteriorExpr {
	a := c.args(call, []string{"model"}, []string{"data"})
	if a == nil {
		return nil
	}
	id, ok := a["model"].(*parser.Ident)
	if !ok {
		c.errorf(a["model"].Span(), source.Type, "point(...) of a posterior takes a model name: posterior p = point(net)")
		return nil
	}
	def := c.modelDef(id)
	if def == nil {
		return nil
	}
	if n := def.Model.Dim(); n > 0 {
		c.errorf(id.Sp, source.Type, "point(%s) needs a model whose every layer reads its weights from: a weights value, but %s has %d trainable parameters: fit it instead", id.Name, id.Name, n)
		return nil
	}
	out := &Pretrained{Model: def.Model, ModelText: def.Text, Span: call.Sp}
	if e, has := a["data"]; has {
		if out.Data = c.dataExpr(e); out.Data == nil {
			return nil
		}
	}
	return out
}

// modelDef resolves a model name, reporting an unknown one with the
// models in scope, or a name that is not a model; nil when reported.
func (c *checker) modelDef(id *parser.Ident) *DefineModel {
	if _, has := c.scope.types[id.Name]; !has {
		var cands []string
		for n := range c.scope.models {
			cands = append(cands, n)
		}
		c.unknown(id, "model", cands)
		return nil
	}
	if _, found := c.ref(id, ModelT); !found {
		return nil
	}
	return c.scope.models[id.Name]
}
