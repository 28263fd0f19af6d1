package lang

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
)

// entry is one statement the session executed successfully, kept so the
// session can be written back out as a script.
type entry struct {
	text string
	stmt ir.Stmt
	post *Posterior // the posterior a fit statement produced
}

func stmtText(f []byte, st ir.Stmt) string {
	sp := ir.Span(st)
	a, b := sp.Start.Offset, sp.End.Offset
	if a < 0 || b > len(f) || a >= b {
		return ""
	}
	return string(f[a:b])
}

// SaveScript writes the statements the session has executed as a script
// that re-creates it. Every fitted posterior is saved beside the script and
// loaded back by it instead of being refitted. Files are written atomically.
func (s *Session) SaveScript(path string) error {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	dir := filepath.Dir(path)
	used := map[string]int{}
	var b strings.Builder
	fmt.Fprintf(&b, "# bayesl session, saved by :save\n")
	for _, e := range s.history {
		bp, isFit := e.stmt.(*ir.BindPosterior)
		if e.post == nil || !isFit {
			b.WriteString(e.text)
			b.WriteString("\n")
			continue
		}
		used[bp.Name]++
		file := fmt.Sprintf("%s_%s.post", stem, bp.Name)
		if n := used[bp.Name]; n > 1 {
			file = fmt.Sprintf("%s_%s_%d.post", stem, bp.Name, n)
		}
		blob, err := e.post.metaBlob()
		if err != nil {
			return err
		}
		if err := infer.WriteFile(filepath.Join(dir, file), e.post.Posterior, blob); err != nil {
			return err
		}
		fmt.Fprintf(&b, "posterior %s = load(%s)   # was: %s\n", bp.Name, strconv.Quote(file), oneLine(e.text))
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// TypeOf returns the type of a bound name ("data", "model", "posterior",
// "number", "string").
func (s *Session) TypeOf(name string) (string, bool) {
	t, ok := s.scope.Lookup(name)
	if !ok {
		return "", false
	}
	return t.String(), true
}

// Builtins lists the words the language knows besides the session's names:
// keywords, functions, layers, activations, distributions, methods and
// metrics. The REPL completes them.
func (s *Session) Builtins() []string {
	out := parser.Keywords()
	out = append(out, "csv", "split", "where", "load", "dense", "normal", "laplace",
		"student_t", "categorical", "bernoulli", "poisson", "weights", "biases", "fan_in",
		"nll", "rmse", "mae", "coverage", "accuracy", "ece", "brier", "brier_per_class", "agreement", "tv",
		"total", "epistemic", "aleatoric", "auroc", "w1", "true", "false",
		"dirichlet", "softmax", "lora", "lora_xs", "point", "frozen", "trainable", "stored", "evidence",
		"of", "over", "gp", "rbf", "matern12", "matern32", "matern52", "periodic", "linear",
		"uniform", "w2", "rational", "simulate", "gmm_prior", "prior_samples", "dataset")
	for a := range ir.Acts() {
		out = append(out, a)
	}
	out = append(out, s.methods.Names()...)
	return out
}
