package ir

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// The files statements write, by extension. The checker rejects any other
// extension of a literal path before the first statement runs; lang's
// writers are tested to handle exactly these.

// Format is a file format a statement writes, named by its extension.
type Format struct{ Ext, Doc string }

// PredictionFormats are what `predict ... to "FILE"` writes (stdlib/tabular).
var PredictionFormats = []Format{
	{".csv", "CSV with a header row"},
	{".json", "JSON array of records, NaN as null"},
	{".npy", "NumPy structured array, one field per column"},
	{".npz", "NumPy archive, one array per column, plus draws"},
	{".parquet", "Apache Parquet, one column per column"},
}

// ExportFormats are what `export POSTERIOR to "FILE"` writes.
var ExportFormats = []Format{
	{".npz", "NumPy archive of named arrays"},
	{".safetensors", "safetensors, float64 tensors with string metadata"},
}

// PosteriorExt is the extension of bayesl's own posterior files, which
// `save` writes and `load` reads.
const PosteriorExt = ".post"

// Exts returns the extensions of fs.
func Exts(fs []Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Ext
	}
	return out
}

// hasExt reports whether path ends in one of fs's extensions
// (case-insensitive).
func hasExt(fs []Format, path string) bool {
	return slices.Contains(Exts(fs), strings.ToLower(filepath.Ext(path)))
}

// extError is the message for a path whose extension no writer of what
// handles.
func extError(what, path string, fs []Format) string {
	ext := filepath.Ext(path)
	got := "no extension"
	if ext != "" {
		got = "extension " + ext
	}
	return what + " are written to " + strings.Join(Exts(fs), ", ") + "; " + filepath.Base(path) + " has " + got
}

// PredictOption is a setting of a predict statement, written as a call on
// the posterior: predict p(quantiles: [0.05, 0.95], draws: true) at d.
var PredictOptions = []Format{
	{"quantiles", "levels in (0, 1): a column q<level> each, from the predictive mixture"},
	{"intervals", "coverage levels in (0, 1): central intervals lo<level>, hi<level>"},
	{"draws", "true: also the S per-draw outputs (.npz only)"},
	{"samples", "how many posterior draws make the predictive (default: --samples)"},
}

// predictOptions checks the settings call of a predict statement.
func (c *checker) predictOptions(call *parser.Call, out *Predict) bool {
	// Messages name the statement, not the posterior: "unknown predict
	// argument".
	named := *call
	named.Fun = &parser.Ident{Name: "predict", Sp: call.Fun.Sp}
	a := c.args(&named, nil, Exts(PredictOptions))
	if a == nil {
		return false
	}
	ok := true
	if e, has := a["quantiles"]; has {
		out.Quantiles, ok = c.levels(e, "quantiles")
	}
	if e, has := a["intervals"]; has {
		var okI bool
		out.Intervals, okI = c.levels(e, "intervals")
		ok = ok && okI
	}
	if e, has := a["draws"]; has {
		var okD bool
		out.Draws, okD = c.boolLit(e, "draws")
		ok = ok && okD
	}
	if e, has := a["samples"]; has {
		n, okS := c.integer(e, "samples")
		if okS && n < 1 {
			c.errorf(e.Span(), source.Type, "samples must be at least 1, got %d", n)
			okS = false
		}
		out.Samples, ok = n, ok && okS
	}
	return ok
}

// levels reads a list of probability levels strictly between 0 and 1.
func (c *checker) levels(e parser.Expr, what string) ([]float64, bool) {
	l, isList := e.(*parser.List)
	if !isList || len(l.Elems) == 0 {
		c.errorf(e.Span(), source.Type, "%s are a list of levels in (0, 1), e.g. [0.05, 0.5, 0.95]", what)
		return nil, false
	}
	var out []float64
	for _, el := range l.Elems {
		v, ok := c.number(el, what)
		if !ok {
			return nil, false
		}
		if !(v > 0 && v < 1) {
			c.errorf(el.Span(), source.Type, "%s are levels strictly between 0 and 1, got %v", what, v)
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// predict checks `predict POST[(settings)] at DATA|ROWS [to "FILE"]`.
func (c *checker) predict(s *parser.PredictStmt) Stmt {
	out := &Predict{Span: s.Sp}
	postExpr, ok := s.Post, true
	if call, isCall := s.Post.(*parser.Call); isCall {
		postExpr = call.Fun
		ok = c.predictOptions(call, out)
	}
	out.Post = c.postRef(postExpr)
	if s.To != nil {
		path, okP := c.stringLit(s.To, "predictions file")
		switch {
		case !okP:
			ok = false
		case !hasExt(PredictionFormats, path):
			c.errorf(s.To.Span(), source.Type, "%s", extError("predictions", path, PredictionFormats))
			ok = false
		case out.Draws && strings.ToLower(filepath.Ext(path)) != ".npz":
			c.errorf(s.To.Span(), source.Type, "draws: true writes S x N arrays, which only an .npz file holds; %s is not one", filepath.Base(path))
			ok = false
		}
		out.Path = path
	} else if out.Draws {
		c.errorf(s.Post.Span(), source.Type, "draws: true needs a file to write them to: predict ... to \"pred.npz\"")
		ok = false
	}
	if l, isList := s.At.(*parser.List); isList {
		rows, okR := c.matrix(l)
		if !okR || out.Post == nil || !ok {
			return nil
		}
		out.Inputs = rows
		return out
	}
	out.Data = c.dataExpr(s.At)
	if out.Data == nil || out.Post == nil || !ok {
		return nil
	}
	return out
}

// Export writes a posterior's weights for other tools: the mean (where
// the posterior has one), draws, and the scaler.
type Export struct {
	Post  *PosteriorRef
	Draws int // posterior draws to write; -1: the session's sample count
	Path  string
	Span  source.Span
}

func (s *Export) stmtSpan() source.Span { return s.Span }

// export checks `export POST[(draws: N)] to "FILE.npz|.safetensors"`.
func (c *checker) export(s *parser.ExportStmt) Stmt {
	out := &Export{Draws: -1, Span: s.Sp}
	postExpr, ok := s.Value, true
	if call, isCall := s.Value.(*parser.Call); isCall {
		postExpr = call.Fun
		named := *call
		named.Fun = &parser.Ident{Name: "export", Sp: call.Fun.Sp}
		if a := c.args(&named, nil, []string{"draws"}); a == nil {
			ok = false
		} else if e, has := a["draws"]; has {
			out.Draws, ok = c.integer(e, "draws")
		}
	}
	if id, isID := postExpr.(*parser.Ident); isID {
		if t, bound := c.scope.types[id.Name]; bound && t == WeightsT {
			c.errorf(s.Sp, source.Type, "%s holds weights, which save writes to %s", id.Name, strings.Join(WeightsExts, ", "))
			return nil
		}
	}
	out.Post = c.postRef(postExpr)
	path, okP := c.stringLit(s.Path, "export file")
	if okP && !hasExt(ExportFormats, path) {
		msg := extError("exported posteriors", path, ExportFormats)
		if strings.EqualFold(filepath.Ext(path), PosteriorExt) {
			msg += " (bayesl's own format: save " + c.text(postExpr.Span()) + " to \"" + path + "\")"
		}
		c.errorf(s.Path.Span(), source.Type, "%s", msg)
		okP = false
	}
	if out.Post == nil || !ok || !okP {
		return nil
	}
	out.Path = path
	return out
}
