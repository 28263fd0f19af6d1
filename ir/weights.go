package ir

import (
	"path/filepath"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// WeightsExts are the file formats of weights, by extension: safetensors
// (many named tensors), NumPy .npy (one array, named after the file) and
// .npz (named arrays).
var WeightsExts = []string{".safetensors", ".npy", ".npz"}

// WeightsExpr yields a weights value: named tensors.
type WeightsExpr interface{ weightsSpan() source.Span }

// LoadWeights reads named tensors from a file, in the format its extension
// names.
type LoadWeights struct {
	Path string
	Span source.Span
}

// PointWeights takes the tensors of one network from a posterior: its
// point estimate, named after the model's layers (lang defines the point of
// each kind of posterior).
type PointWeights struct {
	Post PosteriorExpr // a posterior name, or a fit run for the purpose
	Span source.Span
}

// WeightsRef is a weights value bound earlier.
type WeightsRef struct{ Ref }

func (w *LoadWeights) weightsSpan() source.Span  { return w.Span }
func (w *PointWeights) weightsSpan() source.Span { return w.Span }
func (w *WeightsRef) weightsSpan() source.Span   { return w.Span }

// BindWeights is `weights NAME = EXPR`.
type BindWeights struct {
	Name string
	Expr WeightsExpr
	Span source.Span
}

// SaveWeights is `save NAME to "file"` for a weights value; the file's
// extension picks the format.
type SaveWeights struct {
	Weights *WeightsRef
	Path    string
	Span    source.Span
}

func (s *BindWeights) stmtSpan() source.Span { return s.Span }
func (s *SaveWeights) stmtSpan() source.Span { return s.Span }

// weights checks `weights NAME = load("file") | point(POSTERIOR) | NAME`.
func (c *checker) weights(s *parser.WeightsStmt) Stmt {
	e := c.weightsExpr(s.Value)
	if e == nil {
		c.bind(s.Name, Invalid)
		return nil
	}
	c.bind(s.Name, WeightsT)
	return &BindWeights{Name: s.Name.Name, Expr: e, Span: s.Sp}
}

func (c *checker) weightsExpr(e parser.Expr) WeightsExpr {
	switch e := e.(type) {
	case *parser.Ident:
		r, ok := c.ref(e, WeightsT)
		if !ok {
			return nil
		}
		return &WeightsRef{r}
	case *parser.Call:
		switch e.Fun.Name {
		case "load":
			a := c.args(e, []string{"path"}, nil)
			if a == nil {
				return nil
			}
			p, ok := c.stringLit(a["path"], "weights file")
			if !ok || !c.weightsExt(a["path"].Span(), p) {
				return nil
			}
			return &LoadWeights{Path: p, Span: e.Sp}
		case "point":
			a := c.args(e, []string{"posterior"}, nil)
			if a == nil {
				return nil
			}
			p := c.posteriorExpr(a["posterior"])
			if p == nil {
				return nil
			}
			return &PointWeights{Post: p, Span: e.Sp}
		}
		c.unknown(e.Fun, "weights function", []string{"load", "point"})
		return nil
	}
	c.errorf(e.Span(), source.Type, "expected weights: load(\"file.safetensors\"), point(POSTERIOR), or a weights name")
	return nil
}

// weightsExt reports whether path names a weights format, and reports an
// error when it does not.
func (c *checker) weightsExt(sp source.Span, path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	if contains(WeightsExts, ext) {
		return true
	}
	c.errorf(sp, source.Type, "weights files end in %s; %q does not", strings.Join(WeightsExts, ", "), path)
	return false
}

// save checks `save NAME to "file"`: a posterior (a .post file, nothing
// else) or weights (by extension).
func (c *checker) save(s *parser.SaveStmt) Stmt {
	if id, ok := s.Value.(*parser.Ident); ok {
		if t, bound := c.scope.types[id.Name]; bound && t == WeightsT {
			path, okP := c.stringLit(s.Path, "file name")
			if !okP || !c.weightsExt(s.Path.Span(), path) {
				return nil
			}
			return &SaveWeights{Weights: &WeightsRef{Ref{Name: id.Name, Type: WeightsT, Span: id.Sp}}, Path: path, Span: s.Sp}
		}
	}
	post := c.postRef(s.Value)
	path, ok := c.stringLit(s.Path, "file name")
	if ok && !strings.EqualFold(filepath.Ext(path), PosteriorExt) {
		// Never write bayesl's format under another format's name.
		msg := "a posterior is saved to a " + PosteriorExt + " file, which load reads; " + filepath.Base(path) + " is not one"
		if hasExt(ExportFormats, path) {
			msg += ": to write its weights for Python, export " + c.text(s.Value.Span()) + " to \"" + path + "\""
		} else {
			msg += " (export writes " + strings.Join(Exts(ExportFormats), ", ") + " for other tools)"
		}
		c.errorf(s.Path.Span(), source.Type, "%s", msg)
		ok = false
	}
	if post == nil || !ok {
		return nil
	}
	return &Save{Post: post, Path: path, Span: s.Sp}
}
