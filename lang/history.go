package lang

import (
	"context"
	"fmt"
	"io"
	"os"
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
	// dir is what the statement's relative paths were resolved against
	// ("" for the working directory) and paths are those paths.
	dir   string
	paths []string
}

func stmtText(f []byte, st ir.Stmt) string {
	sp := ir.Span(st)
	a, b := sp.Start.Offset, sp.End.Offset
	if a < 0 || b > len(f) || a >= b {
		return ""
	}
	return string(f[a:b])
}

// RunFile runs the script at path in the session as 'bayesl run' would:
// its relative paths resolve against the script's directory, while path
// itself resolves like any path of the session (against Config.Dir, the
// working directory when that is empty). The REPL's :load runs through it.
func (s *Session) RunFile(ctx context.Context, path string) error {
	file := s.resolve(path)
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	old := s.cfg.Dir
	s.cfg.Dir = filepath.Dir(file)
	defer func() { s.cfg.Dir = old }()
	return s.Run(ctx, path, src)
}

// resolve is the executor's path rule for a path given to the session
// itself (RunFile, SaveScript) rather than written in a statement.
func (s *Session) resolve(p string) string {
	if s.cfg.Resolve == nil && !filepath.IsAbs(p) && s.cfg.Dir != "" {
		return filepath.Join(s.cfg.Dir, p)
	}
	return p
}

// SaveScript writes the statements the session has executed as a script
// that re-creates it. Every fitted posterior is saved beside the script and
// loaded back by it instead of being refitted. Relative paths are
// rewritten to be relative to the script's directory, the rule a script
// is run by, so the script runs from where it is saved. Files are written
// atomically.
func (s *Session) SaveScript(path string) error {
	path = s.resolve(path)
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	dir := filepath.Dir(path)
	used := map[string]int{}
	var b strings.Builder
	fmt.Fprintf(&b, "# bayesl session, saved by :save\n")
	for _, e := range s.history {
		bp, isFit := e.stmt.(*ir.BindPosterior)
		if e.post == nil || !isFit {
			text, err := s.rebase(e, dir)
			if err != nil {
				return err
			}
			b.WriteString(text)
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
		if err := infer.WriteFile(filepath.Join(dir, file), e.post.post, blob); err != nil {
			return err
		}
		fmt.Fprintf(&b, "posterior %s = load(%s)   # was: %s\n", bp.Name, strconv.Quote(file), oneLine(e.text))
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// rebase returns e's text with every relative path it named rewritten
// relative to dir. A session with a Resolve function keeps its paths: what
// they mean is that function's business.
func (s *Session) rebase(e entry, dir string) (string, error) {
	if len(e.paths) == 0 || s.cfg.Resolve != nil {
		return e.text, nil
	}
	to, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	from, err := filepath.Abs(e.dir)
	if err != nil {
		return "", err
	}
	named := map[string]bool{}
	for _, p := range e.paths {
		named[p] = true
	}
	var out strings.Builder
	text := e.text
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '#': // a comment runs to the end of the line
			j := strings.IndexByte(text[i:], '\n')
			if j < 0 {
				j = len(text) - i
			}
			out.WriteString(text[i : i+j])
			i += j - 1
		case '"':
			j := stringEnd(text, i)
			lit := text[i:j]
			if p, err := strconv.Unquote(lit); err == nil && named[p] {
				if rel, err := filepath.Rel(to, filepath.Join(from, p)); err == nil {
					lit = strconv.Quote(filepath.ToSlash(rel))
				}
			}
			out.WriteString(lit)
			i = j - 1
		default:
			out.WriteByte(text[i])
		}
	}
	return out.String(), nil
}

// stringEnd returns the index just past the string literal starting at
// text[i] (the lexer's rule: backslash escapes, no newline inside).
func stringEnd(text string, i int) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case '"', '\n':
			return j + 1
		}
	}
	return len(text)
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
// keywords, the vocabulary tables of ir (functions, layers, activations,
// likelihoods, metrics, pictures, options) and the methods. The REPL
// completes them.
func (s *Session) Builtins() []string {
	out := append(parser.Keywords(), ir.Words()...)
	return append(out, s.methods.Names()...)
}
