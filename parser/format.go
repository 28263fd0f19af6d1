package parser

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Format prints a parsed file canonically: one statement per line, model
// bodies indented by two spaces, single spaces around binary operators and
// after commas, parentheses only where precedence needs them, and at most
// one blank line between statements (kept where the source had one).
// Comments are kept: each is printed before the statement it preceded, or
// after the statement whose last line it ended.
func Format(f *File) []byte {
	p := &printer{src: f.Source.Src, comments: comments(f.Source.Src)}
	prevEnd := -1
	for _, s := range f.Stmts {
		sp := s.Span()
		p.leading(sp.Start.Offset, prevEnd, "")
		p.stmt(s)
		p.trailing(sp.End.Offset)
		p.b.WriteString("\n")
		prevEnd = sp.End.Offset
	}
	p.rest()
	return []byte(p.b.String())
}

type comment struct {
	offset int
	text   string
}

// comments lexes src for its comments (the grammar elides them).
func comments(src []byte) []*comment {
	lex, err := bayeslLexer.LexString("", string(src))
	if err != nil {
		return nil
	}
	sym := bayeslLexer.Symbols()
	var out []*comment
	for {
		tok, err := lex.Next()
		if err != nil || tok.EOF() {
			break
		}
		if tok.Type == sym["Comment"] {
			out = append(out, &comment{offset: tok.Pos.Offset, text: strings.TrimRight(tok.Value, " \t\r")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].offset < out[j].offset })
	return out
}

var _ lexer.Definition = bayeslLexer

type printer struct {
	b        strings.Builder
	src      []byte
	comments []*comment // in source order
	next     int        // comments[:next] are printed
}

// upTo returns the unprinted comments before offset and marks them
// printed. Comments are always printed in prefixes of the source order,
// so a cursor replaces a scan of them all per statement.
func (p *printer) upTo(offset int) []*comment {
	i := p.next
	for i < len(p.comments) && p.comments[i].offset < offset {
		i++
	}
	out := p.comments[p.next:i]
	p.next = i
	return out
}

// lineEnd returns the offset of the end of the line holding offset.
func (p *printer) lineEnd(offset int) int {
	offset = min(offset, len(p.src))
	if nl := bytes.IndexByte(p.src[offset:], '\n'); nl >= 0 {
		return offset + nl
	}
	return len(p.src)
}

// blankBefore reports whether the source has an empty line between prevEnd
// and offset.
func (p *printer) blankBefore(offset, prevEnd int) bool {
	if prevEnd < 0 || offset > len(p.src) || prevEnd > offset {
		return false
	}
	lines := strings.Split(string(p.src[prevEnd:offset]), "\n")
	for i := 1; i < len(lines)-1; i++ {
		if strings.TrimSpace(lines[i]) == "" {
			return true
		}
	}
	return false
}

// leading prints the comments before offset (and a blank line if the
// source had one).
func (p *printer) leading(offset, prevEnd int, indent string) {
	if p.blankBefore(offset, prevEnd) {
		p.b.WriteString("\n")
	}
	for _, c := range p.upTo(offset) {
		p.b.WriteString(indent + c.text + "\n")
	}
}

// trailing prints a comment that starts on the line where end is.
func (p *printer) trailing(end int) {
	cs := p.upTo(p.lineEnd(end))
	inside := 0
	for inside < len(cs) && cs[inside].offset < end {
		inside++
	}
	// Comments inside the statement move after the one on its last line.
	for _, c := range append(cs[inside:len(cs):len(cs)], cs[:inside]...) {
		p.b.WriteString("  " + c.text)
	}
}

func (p *printer) rest() {
	for _, c := range p.upTo(len(p.src) + 1) {
		p.b.WriteString(c.text + "\n")
	}
}

func (p *printer) stmt(s Stmt) {
	w := &p.b
	switch s := s.(type) {
	case *DataStmt:
		w.WriteString("data " + s.Name.Name + " = " + expr(s.Value, levelFit))
	case *LetStmt:
		names := make([]string, len(s.Names))
		for i, n := range s.Names {
			names[i] = n.Name
		}
		w.WriteString("let " + strings.Join(names, ", ") + " = " + expr(s.Value, levelFit))
	case *ModelDecl:
		w.WriteString("model " + s.Name.Name + "(" + s.Input.Name + ": " + s.Width.Text + ") {\n")
		prevEnd := -1
		for _, m := range s.Body {
			sp := m.Span()
			p.leading(sp.Start.Offset, prevEnd, "  ")
			w.WriteString("  ")
			p.modelStmt(m)
			p.trailingInModel(sp.End.Offset)
			w.WriteString("\n")
			prevEnd = sp.End.Offset
		}
		p.leading(s.Sp.End.Offset-1, prevEnd, "  ")
		w.WriteString("}")
	case *ModelBindStmt:
		w.WriteString("model " + s.Name.Name + " = " + expr(s.Value, levelFit))
	case *PosteriorStmt:
		w.WriteString("posterior " + s.Name.Name + " = " + expr(s.Value, levelFit))
	case *EvaluateStmt:
		w.WriteString("evaluate " + expr(s.Posts, levelFit) + " on " + expr(s.Data, levelFit) + ": " + exprList(s.Metrics))
	case *OODStmt:
		w.WriteString("ood " + expr(s.Posts, levelFit) + " in " + expr(s.In, levelFit) + " vs " + expr(s.Out, levelFit) + " by " + expr(s.By, levelFit) + ": " + exprList(s.Metrics))
	case *PredictStmt:
		w.WriteString("predict " + expr(s.Post, levelFit) + " at " + expr(s.At, levelFit))
		if s.To != nil {
			w.WriteString(" to " + expr(s.To, levelFit))
		}
	case *SaveStmt:
		w.WriteString("save " + expr(s.Value, levelFit) + " to " + expr(s.Path, levelFit))
	case *ExportStmt:
		w.WriteString("export " + expr(s.Value, levelFit) + " to " + expr(s.Path, levelFit))
	case *WeightsStmt:
		w.WriteString("weights " + s.Name.Name + " = " + expr(s.Value, levelFit))
	case *StudentStmt:
		w.WriteString("student " + s.Name.Name + " = " + expr(s.Value, levelFit))
	case *PlotStmt:
		w.WriteString("plot " + expr(s.Plot, levelPostfix) + " to " + expr(s.Path, levelFit))
	case *ExprStmt:
		w.WriteString(expr(s.X, levelFit))
	}
}

// trailingInModel prints a comment on the same line as a model statement.
func (p *printer) trailingInModel(end int) {
	for _, c := range p.upTo(p.lineEnd(end)) {
		p.b.WriteString("  " + c.text)
	}
}

func (p *printer) modelStmt(m ModelStmt) {
	w := &p.b
	switch m := m.(type) {
	case *PriorStmt:
		w.WriteString("prior " + m.Target.Name + " ~ " + expr(m.Dist, levelFit))
		if m.Scaling != nil {
			w.WriteString(" scaled " + m.Scaling.Name)
		}
	case *ParamStmt:
		w.WriteString("param " + m.Name.Name)
		if m.Width != nil {
			w.WriteString("[" + m.Width.Text + "]")
		}
		w.WriteString(" ~ " + expr(m.Dist, levelFit))
	case *AssignStmt:
		w.WriteString(m.Name.Name + " = " + expr(m.Value, levelFit))
	case *ObserveStmt:
		w.WriteString(m.Name.Name + " ~ " + expr(m.Dist, levelFit))
	}
}

// Precedence levels, lowest first; a fit expression sits below them all.
const (
	levelFit  = -1
	levelPipe = iota - 1
	levelRange
	levelCompare
	levelSum
	levelProduct
	levelUnary
	levelPostfix
)

func level(e Expr) int {
	switch e := e.(type) {
	case *Fit, *Distill, *Match:
		return levelFit
	case *Call:
		if e.Piped {
			return levelPipe
		}
		return levelPostfix
	case *Range:
		return levelRange
	case *Binary:
		switch e.Op {
		case "+", "-":
			return levelSum
		case "*", "/":
			return levelProduct
		}
		return levelCompare
	case *Unary:
		return levelUnary
	case *Number:
		if strings.HasPrefix(e.Text, "-") {
			return levelUnary
		}
	}
	return levelPostfix
}

// expr prints e so that it parses back at precedence level min or above.
func expr(e Expr, min int) string {
	s := exprText(e)
	if level(e) < min {
		return "(" + s + ")"
	}
	return s
}

func exprList(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = expr(e, levelFit)
	}
	return strings.Join(parts, ", ")
}

func exprText(e Expr) string {
	switch e := e.(type) {
	case *Ident:
		return e.Name
	case *Number:
		return e.Text
	case *String:
		return strconv.Quote(e.Value)
	case *List:
		return "[" + exprList(e.Elems) + "]"
	case *Range:
		return expr(e.From, levelCompare) + " .. " + expr(e.To, levelCompare)
	case *Binary:
		switch level(e) {
		case levelCompare:
			return expr(e.X, levelSum) + " " + e.Op + " " + expr(e.Y, levelSum)
		case levelSum:
			return expr(e.X, levelSum) + " " + e.Op + " " + expr(e.Y, levelProduct)
		default:
			return expr(e.X, levelProduct) + " " + e.Op + " " + expr(e.Y, levelUnary)
		}
	case *Unary:
		return e.Op + expr(e.X, levelUnary)
	case *Call:
		if e.Piped && len(e.Args) > 0 {
			s := expr(e.Args[0].Value, levelRange)
			if prev, ok := e.Args[0].Value.(*Call); ok && prev.Piped {
				s = exprText(prev)
			}
			s += " |> " + e.Fun.Name
			if len(e.Args) > 1 {
				s += "(" + args(e.Args[1:]) + ")"
			}
			return s
		}
		return e.Fun.Name + "(" + args(e.Args) + ")"
	case *Index:
		return expr(e.X, levelPostfix) + "[" + expr(e.Index, levelFit) + "]"
	case *Field:
		return expr(e.X, levelPostfix) + "." + e.Name.Name
	case *Distill:
		return "distill " + e.Teacher.Name + " into " + expr(e.Into, levelPostfix) + " on " + expr(e.Data, levelPipe) + " using " + expr(e.Method, levelPostfix)
	case *Match:
		return "match prior of " + e.Model.Name + " to " + expr(e.Target, levelPostfix) + " over " + expr(e.Over, levelPostfix) + " using " + expr(e.Method, levelPostfix)
	case *Fit:
		return "fit " + e.Model.Name + " on " + expr(e.Data, levelPipe) + " using " + expr(e.Method, levelPostfix)
	}
	return ""
}

func args(as []*Arg) string {
	parts := make([]string, len(as))
	for i, a := range as {
		if a.Name != nil {
			parts[i] = a.Name.Name + ": " + expr(a.Value, levelFit)
		} else {
			parts[i] = expr(a.Value, levelFit)
		}
	}
	return strings.Join(parts, ", ")
}
