package parser

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/bayesl/bayesl/parser/source"
)

// ErrIncomplete marks a syntax error caused by input that ended too early
// (an open bracket or block, a statement cut short). The REPL asks for more
// input when errors.Is(err, ErrIncomplete).
var ErrIncomplete = errors.New("incomplete input")

// Parse parses a whole script. On failure the error is a source.List whose
// errors carry positions inside src; a list whose error wraps ErrIncomplete
// means the text ended before a statement was complete.
func Parse(filename string, src []byte) (*File, error) {
	f := &source.File{Name: filename, Src: src}
	if err := checkDepth(f); err != nil {
		return nil, source.List{err}
	}
	lex, err := bayeslLexer.LexString(filename, string(src))
	if err == nil {
		var toks *lexer.PeekingLexer
		if toks, err = lexer.Upgrade(lex, elided...); err == nil {
			return parseStmts(f, toks)
		}
	}
	return nil, source.List{syntaxError(f, err)}
}

// elided are the token types the grammar skips.
var elided = []lexer.TokenType{bayeslLexer.Symbols()["Comment"], bayeslLexer.Symbols()["Whitespace"]}

// parseStmts parses and lowers one statement at a time, so that memory
// holds the AST of the file but the (much larger) grammar structs of only
// one statement.
func parseStmts(f *source.File, toks *lexer.PeekingLexer) (*File, error) {
	l := lowerer{file: f}
	out := &File{Source: f}
	prev := toks.MakeCheckpoint()
	for !toks.Peek().EOF() {
		here := toks.MakeCheckpoint()
		s, err := stmtGrammar.ParseFromLexer(toks, participle.AllowTrailing(true))
		if err != nil {
			// The statement before may have stopped short of what this
			// one choked on (`let a = 1 +` then EOF): the whole-file
			// grammar from there reports the deepest error, as before.
			toks.LoadCheckpoint(prev)
			if _, ferr := grammar.ParseFromLexer(toks); ferr != nil {
				err = ferr
			}
			return nil, source.List{syntaxError(f, err)}
		}
		prev = here
		l.deep = false
		st := l.stmt(s)
		// Whitespace, newlines included, separates nothing in the grammar,
		// so `x[0, 1]` would otherwise read as `x` then the list `[0, 1]`.
		if n := len(out.Stmts); n > 0 && out.Stmts[n-1].Span().End.Line == st.Span().Start.Line {
			l.errs.Add(source.Errorf(f, st.Span(), source.Syntax, "a statement must start on a new line"))
		}
		out.Stmts = append(out.Stmts, st)
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return out, nil
}

// Keywords returns the reserved words of the language, for completion and docs.
func Keywords() []string { return append([]string(nil), keywords...) }

// Grammar returns the EBNF of the grammar, as participle prints it, with
// the private "g" prefix of the grammar's Go types taken off.
func Grammar() string { return grammarPrefix.ReplaceAllString(grammar.String(), "$1") }

var grammarPrefix = regexp.MustCompile(`\bG([A-Z]\w*)`)

func syntaxError(f *source.File, err error) *source.Error {
	e := &source.Error{File: f, Kind: source.Syntax, Msg: err.Error(), Err: err}
	var perr participle.Error
	if errors.As(err, &perr) {
		e.Msg = perr.Message()
		pos := perr.Position()
		e.Span = spanAt(f, pos, 1)
	}
	var ut *participle.UnexpectedTokenError
	if errors.As(err, &ut) {
		tok := ut.Unexpected
		if tok.EOF() {
			e.Msg = "unexpected end of input"
			if ut.Expect != "" {
				e.Msg += " (expected " + ut.Expect + ")"
			}
			e.Err = ErrIncomplete
		} else {
			e.Msg = "unexpected " + strconv.Quote(tok.Value)
			if ut.Expect != "" {
				e.Msg += " (expected " + ut.Expect + ")"
			}
		}
		e.Span = spanAt(f, tok.Pos, max(1, len([]rune(tok.Value))))
	}
	var lerr *lexer.Error
	if errors.As(err, &lerr) {
		rest := f.Src[clamp(lerr.Pos.Offset, len(f.Src)):]
		switch {
		case len(rest) > 0 && rest[0] == '"':
			e.Msg = "unterminated string literal"
			e.Err = ErrIncomplete
		case len(rest) > 0:
			r, _ := utf8.DecodeRune(rest)
			e.Msg = fmt.Sprintf("unexpected character %q", r)
		}
	}
	if strings.Contains(e.Msg, "unexpected token \"<EOF>\"") {
		e.Err = ErrIncomplete
	}
	if e.Span.Start.Line == 0 {
		e.Span = spanAt(f, lexer.Position{Offset: len(f.Src)}, 1)
	}
	return e
}

// spanAt converts a participle position into a span of n runes. Offsets are
// the ground truth: line and column are recomputed from them.
func spanAt(f *source.File, p lexer.Position, n int) source.Span {
	start := f.Pos(p.Offset)
	end := start
	end.Col += n
	end.Offset += n
	return source.Span{Start: start, End: end}
}

func clamp(v, hi int) int {
	if v < 0 {
		return 0
	}
	if v > hi {
		return hi
	}
	return v
}

// lowerer turns grammar structs into the AST. Participle keeps a chain of
// operators, pipeline stages or suffixes as a flat list, but the AST nests
// them one level per operator, so the lowerer tracks the depth of the node
// it builds (top-down: a chain of k operators puts its first operand k
// levels down) and refuses more than MaxDepth, which bounds the recursion
// of every later pass.
type lowerer struct {
	file  *source.File
	errs  source.List
	depth int  // of the node being built
	deep  bool // the statement already has its too-deep error
}

// down moves the depth n levels down for a node's children and returns
// the way back up.
func (l *lowerer) down(n int) func() {
	l.depth += n
	return func() { l.depth -= n }
}

func (l *lowerer) span(start, end lexer.Position) source.Span {
	return source.Span{Start: l.file.Pos(start.Offset), End: l.file.Pos(end.Offset)}
}

func (l *lowerer) ident(g *gIdent) *Ident {
	if g == nil {
		return nil
	}
	return &Ident{Name: g.Name, Sp: l.span(g.Pos, g.EndPos)}
}

func (l *lowerer) number(g *gNumber) *Number {
	if g == nil {
		return nil
	}
	sp := l.span(g.Pos, g.EndPos)
	v, err := strconv.ParseFloat(g.Text, 64)
	if err != nil {
		l.errs.Add(source.Errorf(l.file, sp, source.Syntax, "bad number %q", g.Text))
	}
	return &Number{Value: v, Text: g.Text, Sp: sp}
}

func (l *lowerer) stmt(g *gStmt) Stmt {
	switch {
	case g.Data != nil:
		s := g.Data
		return &DataStmt{Name: l.ident(s.Name), Value: l.expr(s.Value), Sp: l.span(s.Pos, s.EndPos)}
	case g.Let != nil:
		s := g.Let
		out := &LetStmt{Value: l.expr(s.Value), Sp: l.span(s.Pos, s.EndPos)}
		for _, n := range s.Names {
			out.Names = append(out.Names, l.ident(n))
		}
		return out
	case g.Model != nil && g.Model.Value != nil:
		s := g.Model
		return &ModelBindStmt{Name: l.ident(s.Name), Value: l.expr(s.Value), Sp: l.span(s.Pos, s.EndPos)}
	case g.Model != nil:
		return l.model(g.Model)
	case g.Posterior != nil:
		s := g.Posterior
		return &PosteriorStmt{Name: l.ident(s.Name), Value: l.expr(s.Value), Sp: l.span(s.Pos, s.EndPos)}
	case g.Evaluate != nil:
		s := g.Evaluate
		out := &EvaluateStmt{Posts: l.expr(s.Posts), Data: l.expr(s.Data), Sp: l.span(s.Pos, s.EndPos)}
		for _, m := range s.Metrics {
			out.Metrics = append(out.Metrics, l.expr(m))
		}
		return out
	case g.Predict != nil:
		s := g.Predict
		out := &PredictStmt{Post: l.expr(s.Post), At: l.expr(s.At), Sp: l.span(s.Pos, s.EndPos)}
		if s.To != nil {
			out.To = l.expr(s.To)
		}
		return out
	case g.Save != nil:
		s := g.Save
		return &SaveStmt{Value: l.expr(s.Value), Path: l.expr(s.Path), Sp: l.span(s.Pos, s.EndPos)}
	case g.Export != nil:
		s := g.Export
		return &ExportStmt{Value: l.expr(s.Value), Path: l.expr(s.Path), Sp: l.span(s.Pos, s.EndPos)}
	case g.Weights != nil:
		s := g.Weights
		return &WeightsStmt{Name: l.ident(s.Name), Value: l.expr(s.Value), Sp: l.span(s.Pos, s.EndPos)}
	case g.Student != nil:
		s := g.Student
		return &StudentStmt{Name: l.ident(s.Name), Value: l.expr(s.Value), Sp: l.span(s.Pos, s.EndPos)}
	case g.Plot != nil:
		s := g.Plot
		return &PlotStmt{Plot: l.postfix(s.Plot), Path: l.expr(s.Path), Sp: l.span(s.Pos, s.EndPos)}
	case g.OOD != nil:
		s := g.OOD
		out := &OODStmt{Posts: l.expr(s.Posts), In: l.expr(s.In), Out: l.expr(s.Out), By: l.expr(s.By), Sp: l.span(s.Pos, s.EndPos)}
		for _, m := range s.Metrics {
			out.Metrics = append(out.Metrics, l.expr(m))
		}
		return out
	default:
		return &ExprStmt{X: l.expr(g.Expr)}
	}
}

func (l *lowerer) model(g *gModel) *ModelDecl {
	out := &ModelDecl{Name: l.ident(g.Name), Input: l.ident(g.Input), Width: l.number(g.Width), Sp: l.span(g.Pos, g.EndPos)}
	for _, s := range g.Body {
		switch {
		case s.Prior != nil:
			p := s.Prior
			target := &Ident{Name: p.Target.Name, Sp: l.span(p.Target.Pos, p.Target.EndPos)}
			out.Body = append(out.Body, &PriorStmt{Target: target, Dist: l.expr(p.Dist), Scaling: l.ident(p.Scaled), Sp: l.span(p.Pos, p.EndPos)})
		case s.Param != nil:
			p := s.Param
			out.Body = append(out.Body, &ParamStmt{Name: l.ident(p.Name), Width: l.number(p.Width), Dist: l.expr(p.Dist), Sp: l.span(p.Pos, p.EndPos)})
		case s.Assign != nil:
			a := s.Assign
			out.Body = append(out.Body, &AssignStmt{Name: l.ident(a.Name), Value: l.expr(a.Value), Sp: l.span(a.Pos, a.EndPos)})
		case s.Observe != nil:
			o := s.Observe
			out.Body = append(out.Body, &ObserveStmt{Name: l.ident(o.Name), Dist: l.expr(o.Dist), Sp: l.span(o.Pos, o.EndPos)})
		}
	}
	return out
}

func (l *lowerer) expr(g *gExpr) Expr {
	if g.Pipe != nil {
		return l.pipeline(g.Pipe)
	}
	defer l.down(1)()
	if d := g.Distill; d != nil {
		return &Distill{Teacher: l.ident(d.Teacher), Into: l.postfix(d.Into), Data: l.pipeline(d.Data), Method: l.postfix(d.Method), Sp: l.span(d.Pos, d.EndPos)}
	}
	if m := g.Match; m != nil {
		return &Match{Model: l.ident(m.Model), Target: l.postfix(m.Target), Over: l.postfix(m.Over), Method: l.postfix(m.Method), Sp: l.span(m.Pos, m.EndPos)}
	}
	f := g.Fit
	return &Fit{Model: l.ident(f.Model), Data: l.pipeline(f.Data), Method: l.postfix(f.Method), Sp: l.span(f.Pos, f.EndPos)}
}

func (l *lowerer) pipeline(g *gPipeline) Expr {
	base, k := l.depth, len(g.Stages)
	defer func() { l.depth = base }()
	l.depth = base + k
	x := l.rangeExpr(g.Head)
	for i, st := range g.Stages {
		l.depth = base + k - i // the arguments of stage i
		c := &Call{Fun: l.ident(st.Fun), Piped: true, Sp: l.span(g.Pos, st.EndPos)}
		c.Args = append(c.Args, &Arg{Value: x, Sp: x.Span()})
		if st.Call != nil {
			c.Args = append(c.Args, l.args(st.Call)...)
		}
		x = c
	}
	return x
}

func (l *lowerer) rangeExpr(g *gRange) Expr {
	if g.To == nil {
		return l.compare(g.From)
	}
	defer l.down(1)()
	from := l.compare(g.From)
	return &Range{From: from, To: l.compare(g.To), Sp: l.span(g.Pos, g.EndPos)}
}

func (l *lowerer) compare(g *gCompare) Expr {
	if g.Right == nil {
		return l.sum(g.Left)
	}
	defer l.down(1)()
	x := l.sum(g.Left)
	return &Binary{Op: g.Op, X: x, Y: l.sum(g.Right), Sp: l.span(g.Pos, g.EndPos)}
}

func (l *lowerer) sum(g *gSum) Expr {
	base, k := l.depth, len(g.Rest)
	defer func() { l.depth = base }()
	l.depth = base + k
	x := l.product(g.Left)
	for i, r := range g.Rest {
		l.depth = base + k - i
		x = &Binary{Op: r.Op, X: x, Y: l.product(r.Right), Sp: l.span(g.Pos, r.EndPos)}
	}
	return x
}

func (l *lowerer) product(g *gProduct) Expr {
	base, k := l.depth, len(g.Rest)
	defer func() { l.depth = base }()
	l.depth = base + k
	x := l.unary(g.Left)
	for i, r := range g.Rest {
		l.depth = base + k - i
		x = &Binary{Op: r.Op, X: x, Y: l.unary(r.Right), Sp: l.span(g.Pos, r.EndPos)}
	}
	return x
}

func (l *lowerer) unary(g *gUnary) Expr {
	if g.Neg != nil {
		defer l.down(1)()
		x := l.unary(g.Neg)
		// Fold -number into a literal so "-2.5" is a constant.
		if n, ok := x.(*Number); ok {
			return &Number{Value: -n.Value, Text: "-" + n.Text, Sp: l.span(g.Pos, g.EndPos)}
		}
		return &Unary{Op: "-", X: x, Sp: l.span(g.Pos, g.EndPos)}
	}
	return l.postfix(g.Postfix)
}

func (l *lowerer) postfix(g *gPostfix) Expr {
	base, k := l.depth, len(g.Suffix)
	defer func() { l.depth = base }()
	l.depth = base + k
	x := l.primary(g.Primary)
	for i, s := range g.Suffix {
		l.depth = base + k - i // the arguments, index or name of suffix i
		sp := l.span(g.Pos, s.EndPos)
		switch {
		case s.Call != nil:
			id, ok := x.(*Ident)
			if !ok {
				l.errs.Add(source.Errorf(l.file, x.Span(), source.Syntax, "only a named function can be called"))
				id = &Ident{Name: "_", Sp: x.Span()}
			}
			x = &Call{Fun: id, Args: l.args(s.Call), Sp: sp}
		case s.Index != nil:
			if len(s.Index) > 1 {
				l.errs.Add(source.Errorf(l.file, l.expr(s.Index[1]).Span(), source.Syntax, "an index takes one value"))
			}
			x = &Index{X: x, Index: l.expr(s.Index[0]), Sp: sp}
		case s.Field != nil:
			x = &Field{X: x, Name: l.ident(s.Field), Sp: sp}
		}
	}
	return x
}

func (l *lowerer) args(g *gCall) []*Arg {
	var out []*Arg
	for _, a := range g.Args {
		var name *Ident
		if a.Name != nil {
			name = &Ident{Name: a.Name.Name, Sp: l.span(a.Name.Pos, a.Name.EndPos)}
		}
		out = append(out, &Arg{Name: name, Value: l.expr(a.Value), Sp: l.span(a.Pos, a.EndPos)})
	}
	return out
}

func (l *lowerer) primary(g *gPrimary) Expr {
	sp := l.span(g.Pos, g.EndPos)
	if l.depth > MaxDepth && !l.deep {
		l.deep = true
		l.errs.Add(source.Errorf(l.file, sp, source.Syntax, "expression nested more than %d deep (each operator, call, index and list is a level)", MaxDepth))
	}
	switch {
	case g.Number != nil:
		return l.number(g.Number)
	case g.String != nil:
		s, err := strconv.Unquote(*g.String)
		if err != nil {
			l.errs.Add(source.Errorf(l.file, sp, source.Syntax, "bad string literal %s", *g.String))
		}
		return &String{Value: s, Sp: sp}
	case g.Ident != nil:
		return l.ident(g.Ident)
	case g.List != nil:
		defer l.down(1)()
		out := &List{Sp: sp}
		for _, e := range g.List.Elems {
			out.Elems = append(out.Elems, l.expr(e))
		}
		return out
	default:
		return l.expr(g.Paren)
	}
}
