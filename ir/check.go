package ir

import (
	"math"
	"sort"
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/spell"
)

// Config tells the checker what the runtime offers. The runtime lives above
// ir, so it comes in through interfaces, as go/types takes an Importer:
// with both set, check refuses everything run would refuse before any
// statement runs.
type Config struct {
	// Methods is the registry of inference backends; nil accepts any
	// method and leaves its settings to run.
	Methods Methods
	// Files reads the header of a data file at check time; nil (or a file
	// not readable yet) leaves the columns to run.
	Files Files
}

// Methods is the registry of inference backends and their typed settings.
type Methods interface {
	// Names lists the backends `fit ... using NAME(...)` may name.
	Names() []string
	// CheckSettings validates a method's settings as fitting would build
	// it. It returns "" when they are valid, else a message and the index
	// of the offending setting in args (-1 when no one setting is at fault).
	CheckSettings(method string, args []Arg) (index int, msg string)
	// CheckStudent validates the settings of a distillation into a
	// student of form ("dirichlet", "softmax") in the same way.
	CheckStudent(form string, args []Arg) (index int, msg string)
}

// Files gives the checker a look at data files.
type Files interface {
	// Columns returns the column names of the CSV file at path, as a
	// statement reading it would resolve the path.
	Columns(path string) ([]string, error)
}

// MethodNames is a Methods that knows backends' names but not their
// settings, for tests and tools that check without a runtime.
type MethodNames []string

// Names returns the names.
func (m MethodNames) Names() []string { return m }

// CheckSettings accepts every setting.
func (MethodNames) CheckSettings(string, []Arg) (int, string) { return -1, "" }

// CheckStudent accepts every setting.
func (MethodNames) CheckStudent(string, []Arg) (int, string) { return -1, "" }

// Scope holds the names a session has bound, so a REPL can check one entry
// at a time against everything defined before it.
type Scope struct {
	types  map[string]Type
	models map[string]*DefineModel
	posts  map[string]*Model  // the model of a posterior, when known before it runs
	nums   map[string]float64 // numbers bound by let, folded where a constant is needed
	// unlabeled holds the data sets without a target (targets.go).
	unlabeled map[string]bool
}

// NewScope returns an empty scope.
func NewScope() *Scope {
	return &Scope{types: map[string]Type{}, models: map[string]*DefineModel{}, posts: map[string]*Model{}, nums: map[string]float64{}, unlabeled: map[string]bool{}}
}

// Lookup returns the type bound to name.
func (s *Scope) Lookup(name string) (Type, bool) {
	t, ok := s.types[name]
	return t, ok
}

// Model returns the model declared as name.
func (s *Scope) Model(name string) (*DefineModel, bool) {
	m, ok := s.models[name]
	return m, ok
}

// Names returns every bound name, sorted.
func (s *Scope) Names() []string {
	out := make([]string, 0, len(s.types))
	for n := range s.types {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Bind records name with type t (used by embedders that predeclare values).
func (s *Scope) Bind(name string, t Type) { s.types[name] = t }

// Clone returns an independent copy of the scope.
func (s *Scope) Clone() *Scope { return s.clone() }

// Apply binds the names a checked statement binds. A session checks a whole
// entry against a copy of its scope, then applies each statement as it
// executes, so a statement that fails at run time binds nothing.
func (s *Scope) Apply(st Stmt) {
	switch st := st.(type) {
	case *BindData:
		s.set(st.Name, DataT)
		s.noteData(st.Name, st.Expr)
	case *BindSplit:
		s.set(st.Train, DataT)
		s.set(st.Test, DataT)
		s.noteData(st.Train, st.Src)
		s.noteData(st.Test, st.Src)
	case *BindValue:
		s.set(st.Name, st.Type)
		if st.Type == NumberT {
			s.nums[st.Name] = st.Num
		}
	case *BindWeights:
		s.set(st.Name, WeightsT)
	case *BindPosterior:
		s.set(st.Name, PosteriorT)
		s.notePosterior(st)
	case *DefineModel:
		s.set(st.Model.Name, ModelT)
		s.models[st.Model.Name] = st
	case *MatchPrior:
		s.set(st.Name, ModelT)
		s.models[st.Name] = st.Define
	}
}

func (s *Scope) set(name string, t Type) {
	s.types[name] = t
	delete(s.models, name)
	delete(s.posts, name)
	delete(s.nums, name)
	delete(s.unlabeled, name)
}

func (s *Scope) clone() *Scope {
	c := NewScope()
	for k, v := range s.types {
		c.types[k] = v
	}
	for k, v := range s.models {
		c.models[k] = v
	}
	for k, v := range s.posts {
		c.posts[k] = v
	}
	for k, v := range s.nums {
		c.nums[k] = v
	}
	for k, v := range s.unlabeled {
		c.unlabeled[k] = v
	}
	return c
}

// Check resolves names, types and shapes of a parsed file against scope. On
// success the scope is extended with the file's bindings; on failure it is
// left as it was and the error is a source.List of every problem found.
func Check(f *parser.File, scope *Scope, cfg *Config) (*Program, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := &checker{file: f.Source, scope: scope.clone(), cfg: cfg}
	prog := &Program{File: f.Source}
	for _, s := range f.Stmts {
		if st := c.stmt(s); st != nil {
			prog.Stmts = append(prog.Stmts, st)
			if bp, ok := st.(*BindPosterior); ok {
				c.scope.notePosterior(bp)
			}
		}
	}
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	*scope = *c.scope
	return prog, nil
}

type checker struct {
	file  *source.File
	scope *Scope
	cfg   *Config
	errs  source.List
	cols  dataColumns // columns.go
}

const maxErrors = 10

func (c *checker) errorf(sp source.Span, k source.Kind, format string, args ...any) {
	if len(c.errs) >= maxErrors {
		return
	}
	c.errs.Add(source.Errorf(c.file, sp, k, format, args...))
}

func (c *checker) text(sp source.Span) string {
	src := c.file.Src
	a, b := sp.Start.Offset, sp.End.Offset
	if a < 0 || b > len(src) || a > b {
		return ""
	}
	return string(src[a:b])
}

func (c *checker) bind(id *parser.Ident, t Type) {
	c.scope.set(id.Name, t)
	c.cols.forget(id.Name)
}

// unknown reports an unknown name with the valid ones and a "did you mean"
// hint.
func (c *checker) unknown(id *parser.Ident, what string, candidates []string) {
	c.errorf(id.Sp, source.Name, "%s", spell.Unknown(what, id.Name, candidates))
}

// call matches a call's arguments against a table entry's.
func (c *checker) call(call *parser.Call, spec CallSpec) map[string]parser.Expr {
	return c.args(call, spec.Required, spec.Optional)
}

func (c *checker) stmt(s parser.Stmt) Stmt {
	switch s := s.(type) {
	case *parser.DataStmt:
		d := c.dataExpr(s.Value)
		if d == nil {
			c.bind(s.Name, Invalid)
			return nil
		}
		c.bind(s.Name, DataT)
		c.scope.noteData(s.Name.Name, d)
		c.cols.note(s.Name.Name, d)
		return &BindData{Name: s.Name.Name, Expr: d, Span: s.Sp}
	case *parser.LetStmt:
		return c.let(s)
	case *parser.ModelDecl:
		m := c.model(s)
		if m == nil {
			c.bind(s.Name, Invalid)
			return nil
		}
		def := &DefineModel{Model: m, Text: c.text(s.Sp), Span: s.Sp}
		c.bind(s.Name, ModelT)
		c.scope.models[s.Name.Name] = def
		return def
	case *parser.PosteriorStmt:
		p := c.posteriorExpr(s.Value)
		if p == nil {
			c.bind(s.Name, Invalid)
			return nil
		}
		c.bind(s.Name, PosteriorT)
		return &BindPosterior{Name: s.Name.Name, Expr: p, Span: s.Sp}
	case *parser.EvaluateStmt:
		return c.evaluate(s)
	case *parser.PredictStmt:
		return c.predict(s)
	case *parser.SaveStmt:
		if c.savesData(s) {
			return c.saveData(s)
		}
		return c.save(s)
	case *parser.ExportStmt:
		return c.export(s)
	case *parser.OODStmt:
		return c.ood(s)
	case *parser.PlotStmt:
		return c.plot(s)
	case *parser.StudentStmt:
		return c.student(s)
	case *parser.WeightsStmt:
		return c.weights(s)
	case *parser.ModelBindStmt:
		return c.modelBind(s)
	case *parser.ExprStmt:
		return c.show(s)
	}
	return nil
}

func (c *checker) let(s *parser.LetStmt) Stmt {
	if call, ok := s.Value.(*parser.Call); ok && call.Fun.Name == "split" {
		return c.split(s, call)
	}
	if len(s.Names) != 1 {
		c.errorf(s.Sp, source.Type, "only split(...) yields two values; got %d names", len(s.Names))
		return nil
	}
	name := s.Names[0]
	switch v := s.Value.(type) {
	case *parser.Number:
		c.bind(name, NumberT)
		c.scope.nums[name.Name] = v.Value
		return &BindValue{Name: name.Name, Type: NumberT, Num: v.Value, Span: s.Sp}
	case *parser.String:
		c.bind(name, StringT)
		return &BindValue{Name: name.Name, Type: StringT, Str: v.Value, Span: s.Sp}
	}
	switch c.typeOf(s.Value) {
	case PosteriorT:
		p := c.posteriorExpr(s.Value)
		if p == nil {
			c.bind(name, Invalid)
			return nil
		}
		c.bind(name, PosteriorT)
		return &BindPosterior{Name: name.Name, Expr: p, Span: s.Sp}
	case Invalid:
		c.bind(name, Invalid)
		return nil
	}
	d := c.dataExpr(s.Value)
	if d == nil {
		c.bind(name, Invalid)
		return nil
	}
	c.bind(name, DataT)
	c.scope.noteData(name.Name, d)
	c.cols.note(name.Name, d)
	return &BindData{Name: name.Name, Expr: d, Span: s.Sp}
}

// typeOf guesses the type of an expression without reporting errors, to
// route `let` to the right checker.
func (c *checker) typeOf(e parser.Expr) Type {
	switch e := e.(type) {
	case *parser.Fit, *parser.Distill:
		return PosteriorT
	case *parser.Ident:
		t, ok := c.scope.types[e.Name]
		if !ok {
			return DataT // reported by dataExpr
		}
		return t
	case *parser.Call:
		if e.Fun.Name == "load" || e.Fun.Name == "point" {
			return PosteriorT
		}
	}
	return DataT
}

func (c *checker) split(s *parser.LetStmt, call *parser.Call) Stmt {
	if len(s.Names) != 2 {
		c.errorf(s.Sp, source.Type, "split(...) yields two data sets: write `let train, test = split(...)`")
		return nil
	}
	a := c.call(call, mustDataFunc("split"))
	if a == nil {
		return nil
	}
	src := c.dataExpr(a["data"])
	frac, okF := c.number(a["frac"], "split fraction")
	seed := 0.0
	okS := true
	if e, ok := a["seed"]; ok {
		seed, okS = c.number(e, "seed")
		if okS && (seed < 0 || seed != math.Trunc(seed)) {
			c.errorf(e.Span(), source.Type, "seed must be a non-negative integer, got %v", seed)
			okS = false
		}
	}
	if okF && (frac <= 0 || frac >= 1) {
		c.errorf(a["frac"].Span(), source.Type, "split fraction must be between 0 and 1, got %v", frac)
		okF = false
	}
	for _, n := range s.Names {
		c.bind(n, DataT)
		c.scope.noteData(n.Name, src)
		c.cols.note(n.Name, src)
	}
	if src == nil || !okF || !okS {
		return nil
	}
	return &BindSplit{Train: s.Names[0].Name, Test: s.Names[1].Name, Src: src, Frac: frac, Seed: uint64(seed), Span: s.Sp}
}

// args matches a call's arguments against required positional-or-named
// parameters and optional named ones. It reports missing, unknown and
// duplicate arguments and returns nil on error.
func (c *checker) args(call *parser.Call, required, optional []string) map[string]parser.Expr {
	out := map[string]parser.Expr{}
	known := append(append([]string(nil), required...), optional...)
	ok := true
	pos := 0
	for _, a := range call.Args {
		name := ""
		if a.Name == nil {
			if pos >= len(required) {
				switch {
				case len(optional) > 0:
					c.errorf(a.Sp, source.Type, "%s takes %d positional arguments; name the others (%s)", call.Fun.Name, len(required), strings.Join(optional, ", "))
				case len(required) == 1:
					c.errorf(a.Sp, source.Type, "%s takes 1 argument", call.Fun.Name)
				default:
					c.errorf(a.Sp, source.Type, "%s takes %d arguments", call.Fun.Name, len(required))
				}
				ok = false
				continue
			}
			name = required[pos]
			pos++
		} else {
			name = a.Name.Name
			if !contains(known, name) {
				c.unknown(a.Name, call.Fun.Name+" argument", known)
				ok = false
				continue
			}
		}
		if _, dup := out[name]; dup {
			c.errorf(a.Sp, source.Type, "argument %q given twice", name)
			ok = false
			continue
		}
		out[name] = a.Value
	}
	for _, r := range required {
		if _, has := out[r]; !has {
			c.errorf(call.Sp, source.Type, "%s needs argument %q", call.Fun.Name, r)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (c *checker) number(e parser.Expr, what string) (float64, bool) {
	switch e := e.(type) {
	case *parser.Number:
		return e.Value, true
	case *parser.Ident:
		if v, ok := c.scope.nums[e.Name]; ok {
			return v, true
		}
	}
	c.errorf(e.Span(), source.Type, "%s must be a number", what)
	return 0, false
}

func (c *checker) integer(e parser.Expr, what string) (int, bool) {
	v, ok := c.number(e, what)
	if !ok {
		return 0, false
	}
	if v != math.Trunc(v) || v < 0 || v > 1<<30 {
		c.errorf(e.Span(), source.Type, "%s must be a non-negative integer, got %v", what, v)
		return 0, false
	}
	return int(v), true
}

func (c *checker) stringLit(e parser.Expr, what string) (string, bool) {
	if s, ok := e.(*parser.String); ok {
		return s.Value, true
	}
	c.errorf(e.Span(), source.Type, "%s must be a string", what)
	return "", false
}

func (c *checker) boolLit(e parser.Expr, what string) (bool, bool) {
	if id, ok := e.(*parser.Ident); ok && (id.Name == "true" || id.Name == "false") {
		return id.Name == "true", true
	}
	c.errorf(e.Span(), source.Type, "%s must be true or false", what)
	return false, false
}

func (c *checker) ref(id *parser.Ident, want Type) (Ref, bool) {
	t, ok := c.scope.types[id.Name]
	if !ok {
		var cands []string
		for n, tt := range c.scope.types {
			if tt == want {
				cands = append(cands, n)
			}
		}
		c.unknown(id, "name", cands)
		return Ref{}, false
	}
	if t == Invalid {
		return Ref{}, false // already reported
	}
	if t != want {
		c.errorf(id.Sp, source.Type, "%q is a %s, not a %s", id.Name, t, want)
		return Ref{}, false
	}
	return Ref{Name: id.Name, Type: t, Span: id.Sp}, true
}

func (c *checker) dataExpr(e parser.Expr) DataExpr {
	switch e := e.(type) {
	case *parser.Ident:
		r, ok := c.ref(e, DataT)
		if !ok {
			return nil
		}
		return &DataRef{r}
	case *parser.Call:
		switch e.Fun.Name {
		case "csv":
			return c.csv(e)
		case "where":
			return c.where(e)
		case "simulate":
			return c.simulate(e)
		case "gmm_prior":
			return c.gmmPrior(e)
		case "split":
			c.errorf(e.Sp, source.Type, "split(...) yields two data sets: write `let train, test = split(...)`")
			return nil
		}
		c.unknown(e.Fun, "data function", DataFuncNames())
		return nil
	}
	c.errorf(e.Span(), source.Type, "expected a data set (csv(...), where(...), or a data name)")
	return nil
}

func (c *checker) csv(call *parser.Call) DataExpr {
	a := c.call(call, mustDataFunc("csv"))
	if a == nil {
		return nil
	}
	out := &CSV{Span: call.Sp}
	ok := true
	if out.Path, ok = c.stringLit(a["path"], "csv path"); !ok {
		return nil
	}
	if x, has := a["x"]; has {
		list, isList := x.(*parser.List)
		if !isList {
			list = &parser.List{Elems: []parser.Expr{x}, Sp: x.Span()}
		}
		for _, el := range list.Elems {
			switch el := el.(type) {
			case *parser.Ident:
				out.X = append(out.X, ColumnRef{From: el.Name, Span: el.Sp})
			case *parser.String:
				out.X = append(out.X, ColumnRef{From: el.Value, Span: el.Sp})
			case *parser.Range:
				from, ok1 := columnName(el.From)
				to, ok2 := columnName(el.To)
				if !ok1 || !ok2 {
					c.errorf(el.Sp, source.Type, "a column range is written first .. last, with column names")
					ok = false
					continue
				}
				out.X = append(out.X, ColumnRef{From: from, To: to, Span: el.Sp})
			default:
				c.errorf(el.Span(), source.Type, "a column is a name, a quoted name, or a range first .. last")
				ok = false
			}
		}
	}
	if y, has := a["y"]; has {
		name, isName := columnName(y)
		if !isName {
			c.errorf(y.Span(), source.Type, "y must be a column name")
			ok = false
		}
		out.Y = name
	}
	if k, has := a["classes"]; has {
		if out.Y == "" && ok {
			c.errorf(k.Span(), source.Type, "classes needs the target column that holds the labels: y: NAME")
			ok = false
		}
		n, okK := c.integer(k, "classes")
		if okK && n < 2 {
			c.errorf(k.Span(), source.Type, "classes must be at least 2, got %d", n)
			okK = false
		}
		out.Classes = n
		ok = ok && okK
	}
	if s, has := a["standardize"]; has {
		b, okB := c.boolLit(s, "standardize")
		out.Standardize = b
		ok = ok && okB
	}
	if s, has := a["drop_missing"]; has {
		b, okB := c.boolLit(s, "drop_missing")
		out.DropMissing = b
		ok = ok && okB
	}
	if !ok {
		return nil
	}
	c.columns(out, a["y"])
	return out
}

func columnName(e parser.Expr) (string, bool) {
	switch e := e.(type) {
	case *parser.Ident:
		return e.Name, true
	case *parser.String:
		return e.Value, true
	}
	return "", false
}

func (c *checker) where(call *parser.Call) DataExpr {
	a := c.call(call, mustDataFunc("where"))
	if a == nil {
		return nil
	}
	src := c.dataExpr(a["data"])
	cond, ok := a["condition"].(*parser.Binary)
	if !ok || !contains([]string{"<", "<=", ">", ">=", "==", "!="}, cond.Op) {
		c.errorf(a["condition"].Span(), source.Type, "where's condition compares a column with a number, e.g. label < 5")
		return nil
	}
	col, okC := columnName(cond.X)
	val, okV := cond.Y.(*parser.Number)
	if !okC || !okV {
		c.errorf(cond.Sp, source.Type, "where's condition compares a column with a number, e.g. label < 5")
		return nil
	}
	if src == nil {
		return nil
	}
	if known, ok := c.cols.of(src); ok && !contains(known.all(), col) {
		c.errorf(cond.X.Span(), source.Name, "%s", spell.Unknown("column", col, known.all()))
		return nil
	}
	return &Where{Src: src, Column: col, Op: cond.Op, Value: val.Value, Span: call.Sp, ColPos: cond.X.Span()}
}

func (c *checker) posteriorExpr(e parser.Expr) PosteriorExpr {
	switch e := e.(type) {
	case *parser.Fit:
		return c.fit(e)
	case *parser.Ident:
		r, ok := c.ref(e, PosteriorT)
		if !ok {
			return nil
		}
		return &PosteriorRef{r}
	case *parser.Call:
		if e.Fun.Name == "point" {
			return c.pretrained(e)
		}
		if e.Fun.Name == "load" {
			a := c.args(e, []string{"path"}, nil)
			if a == nil {
				return nil
			}
			p, ok := c.stringLit(a["path"], "posterior file")
			if !ok {
				return nil
			}
			return &Load{Path: p, Span: e.Sp}
		}
	}
	if _, ok := e.(*parser.Distill); ok {
		c.errorf(e.Span(), source.Type, "a distilled network is bound with student NAME = distill ...")
		return nil
	}
	c.errorf(e.Span(), source.Type, "expected a posterior: fit MODEL on DATA using METHOD(...), load(\"file\"), point(MODEL) of pretrained weights, or a posterior name")
	return nil
}

func (c *checker) fit(e *parser.Fit) PosteriorExpr {
	ok := true
	var def *DefineModel
	if _, has := c.scope.types[e.Model.Name]; has {
		if _, found := c.ref(e.Model, ModelT); found {
			def = c.scope.models[e.Model.Name]
		}
		ok = def != nil
	} else {
		var cands []string
		for n := range c.scope.models {
			cands = append(cands, n)
		}
		c.unknown(e.Model, "model", cands)
		ok = false
	}
	data := c.dataExpr(e.Data)
	if !c.needTarget(data, e.Data.Span(), "fitted on") {
		data = nil
	}
	if def != nil && data != nil {
		c.inputWidth(def.Model, data, e.Sp)
		c.classes(def.Model, data, e.Sp)
	}
	method, args, okM := c.methodCall(e.Method)
	if okM && c.cfg.Methods != nil {
		okM = c.settingsOK(method.Sp, args, c.cfg.Methods.CheckSettings, method.Name)
	}
	if !ok || data == nil || !okM {
		return nil
	}
	return &Fit{Model: def.Model, ModelText: def.Text, Data: data, Method: method.Name, MethodSpan: method.Sp, Args: args, Span: e.Sp}
}

func (c *checker) methodCall(e parser.Expr) (*parser.Ident, []Arg, bool) {
	var id *parser.Ident
	var call *parser.Call
	switch e := e.(type) {
	case *parser.Ident:
		id = e
	case *parser.Call:
		id, call = e.Fun, e
	default:
		c.errorf(e.Span(), source.Type, "expected an inference method such as map(epochs: 100)")
		return nil, nil, false
	}
	if c.cfg.Methods != nil && !contains(c.cfg.Methods.Names(), id.Name) {
		c.unknown(id, "inference method", c.cfg.Methods.Names())
		return nil, nil, false
	}
	if call == nil {
		return id, nil, true
	}
	out, ok := c.settings(id, call)
	return id, out, ok
}

// settings reads the named settings of a method call.
func (c *checker) settings(id *parser.Ident, call *parser.Call) ([]Arg, bool) {
	var out []Arg
	ok := true
	for _, a := range call.Args {
		if a.Name == nil {
			c.errorf(a.Sp, source.Type, "settings of %s are named, e.g. epochs: 100", id.Name)
			ok = false
			continue
		}
		arg := Arg{Name: a.Name.Name, Span: a.Sp}
		switch v := a.Value.(type) {
		case *parser.Number:
			arg.Num = v.Value
		case *parser.String:
			arg.Str, arg.IsStr = v.Value, true
		case *parser.Ident:
			arg.Str, arg.IsStr = v.Name, true
		case *parser.Call:
			inner, args, okC := c.methodCall(v)
			if !okC {
				ok = false
				continue
			}
			arg.Call = &MethodCall{Name: inner.Name, Args: args, Span: v.Sp}
		default:
			c.errorf(a.Value.Span(), source.Type, "setting %q must be a number, a name or a method", a.Name.Name)
			ok = false
			continue
		}
		out = append(out, arg)
	}
	return out, ok
}

func (c *checker) postRef(e parser.Expr) *PosteriorRef {
	id, ok := e.(*parser.Ident)
	if !ok {
		c.errorf(e.Span(), source.Type, "expected a posterior name")
		return nil
	}
	r, ok := c.ref(id, PosteriorT)
	if !ok {
		return nil
	}
	return &PosteriorRef{r}
}

func (c *checker) evaluate(s *parser.EvaluateStmt) Stmt {
	out := &Evaluate{Span: s.Sp}
	ok := true
	posts := []parser.Expr{s.Posts}
	if l, isList := s.Posts.(*parser.List); isList {
		posts = l.Elems
	}
	for _, p := range posts {
		r := c.postRef(p)
		if r == nil {
			ok = false
			continue
		}
		out.Posts = append(out.Posts, r)
	}
	out.Data = c.dataExpr(s.Data)
	for _, m := range s.Metrics {
		mt, okM := c.metric(m)
		ok = ok && okM
		out.Metrics = append(out.Metrics, mt)
	}
	if ok && !c.metricTargets(out.Data, s.Data.Span(), out.Metrics) {
		out.Data = nil
	}
	if !ok || out.Data == nil || len(out.Posts) == 0 {
		return nil
	}
	c.metricKinds(out)
	return out
}

func (c *checker) posteriorList(e parser.Expr) ([]*PosteriorRef, bool) {
	posts := []parser.Expr{e}
	if l, isList := e.(*parser.List); isList {
		posts = l.Elems
	}
	var out []*PosteriorRef
	ok := len(posts) > 0
	for _, p := range posts {
		r := c.postRef(p)
		if r == nil {
			ok = false
			continue
		}
		out = append(out, r)
	}
	return out, ok
}

// names reads a name or a list of names, each from the allowed set.
func (c *checker) names(e parser.Expr, what string, allowed []string) ([]string, bool) {
	elems := []parser.Expr{e}
	if l, isList := e.(*parser.List); isList {
		elems = l.Elems
	}
	var out []string
	ok := len(elems) > 0
	for _, el := range elems {
		id, isID := el.(*parser.Ident)
		if !isID {
			c.errorf(el.Span(), source.Type, "expected a %s (%s)", what, strings.Join(allowed, ", "))
			ok = false
			continue
		}
		if !contains(allowed, id.Name) {
			c.unknown(id, what, allowed)
			ok = false
			continue
		}
		out = append(out, id.Name)
	}
	return out, ok
}

func (c *checker) ood(s *parser.OODStmt) Stmt {
	posts, okP := c.posteriorList(s.Posts)
	in := c.dataExpr(s.In)
	out := c.dataExpr(s.Out)
	scores, okS := c.names(s.By, "uncertainty score", names(OODScores))
	st := &OOD{Posts: posts, In: in, Out: out, Scores: scores, Span: s.Sp}
	okM := true
	for _, m := range s.Metrics {
		id, isID := m.(*parser.Ident)
		if !isID || !contains(names(OODMetrics), id.Name) {
			if isID {
				c.unknown(id, "ood metric", names(OODMetrics))
			} else {
				c.errorf(m.Span(), source.Type, "expected an ood metric (%s)", strings.Join(names(OODMetrics), ", "))
			}
			okM = false
			continue
		}
		st.Metrics = append(st.Metrics, Metric{Name: id.Name, Span: id.Sp})
	}
	if !okP || !okS || !okM || in == nil || out == nil {
		return nil
	}
	return st
}

func (c *checker) plot(s *parser.PlotStmt) Stmt {
	path, okP := c.stringLit(s.Path, "plot file")
	if okP && !strings.HasSuffix(path, ".svg") && !strings.HasSuffix(path, ".png") {
		c.errorf(s.Path.Span(), source.Type, "plot files end in .svg or .png, got %q", path)
		okP = false
	}
	call, ok := s.Plot.(*parser.Call)
	if !ok {
		c.errorf(s.Plot.Span(), source.Type, "expected a picture: %s", strings.Join(PlotNames(), ", "))
		return nil
	}
	spec, known := PlotNamed(call.Fun.Name)
	if !known {
		c.unknown(call.Fun, "picture", PlotNames())
		return nil
	}
	if spec.Kind == PlotPriorSamples {
		return c.plotPriors(s, call, path, okP)
	}
	st := &Plot{Kind: spec.Kind, Path: path, Points: 200, N: 20, Span: s.Sp}
	a := c.args(call, spec.Required, spec.Optional)
	if a == nil {
		return nil
	}
	posts, okA := c.posteriorList(a["posterior"])
	st.Posts = posts
	if st.Kind != PlotTraining && len(posts) != 1 {
		c.errorf(a["posterior"].Span(), source.Type, "%s pictures one posterior", st.Kind)
		okA = false
	}
	if e, has := a["over"]; has {
		r, isRange := e.(*parser.Range)
		from, okF := numberLit(r, true)
		to, okT := numberLit(r, false)
		if !isRange || !okF || !okT || !(from < to) {
			c.errorf(e.Span(), source.Type, "over takes an input range low .. high, e.g. -2 .. 2")
			okA = false
		}
		st.From, st.To = from, to
	} else if st.Kind == PlotBand || st.Kind == PlotSamples {
		c.errorf(call.Sp, source.Type, "%s needs the input range: over: low .. high", st.Kind)
		okA = false
	}
	for name, dst := range map[string]*DataExpr{"data": &st.Data, "on": &st.Data, "in": &st.In, "out": &st.Out} {
		if e, has := a[name]; has {
			if *dst = c.dataExpr(e); *dst == nil {
				okA = false
			} else if (name == "data" || name == "on") && !c.needTarget(*dst, e.Span(), "plotted (the picture shows its targets)") {
				okA = false
			}
		}
	}
	for name, dst := range map[string]*int{"points": &st.Points, "n": &st.N, "bins": &st.Bins} {
		if e, has := a[name]; has {
			v, okI := c.integer(e, name)
			if okI && v < 1 {
				c.errorf(e.Span(), source.Type, "%s must be at least 1", name)
				okI = false
			}
			*dst, okA = v, okA && okI
		}
	}
	st.Score = "epistemic"
	if e, has := a["by"]; has {
		scores, okS := c.names(e, "uncertainty score", names(OODScores))
		if okS && len(scores) != 1 {
			c.errorf(e.Span(), source.Type, "a histogram shows one score")
			okS = false
		}
		if okS {
			st.Score = scores[0]
		}
		okA = okA && okS
	}
	if !okP || !okA {
		return nil
	}
	c.plotKinds(st)
	return st
}

// numberLit reads one end of a numeric range.
func numberLit(r *parser.Range, from bool) (float64, bool) {
	if r == nil {
		return 0, false
	}
	e := r.To
	if from {
		e = r.From
	}
	n, ok := e.(*parser.Number)
	if !ok {
		return 0, false
	}
	return n.Value, true
}

func (c *checker) metric(e parser.Expr) (Metric, bool) {
	var id *parser.Ident
	var call *parser.Call
	switch e := e.(type) {
	case *parser.Ident:
		id = e
	case *parser.Call:
		id, call = e.Fun, e
	default:
		c.errorf(e.Span(), source.Type, "expected a metric (%s)", strings.Join(MetricNames(), ", "))
		return Metric{}, false
	}
	spec, known := MetricNamed(id.Name)
	if !known {
		c.unknown(id, "metric", MetricNames())
		return Metric{}, false
	}
	m := Metric{Name: id.Name, Level: 0.9, Bins: 15, Span: e.Span()}
	if spec.Ref {
		if call == nil {
			c.errorf(e.Span(), source.Type, "metric %s compares with a reference posterior: write %s(p_ref)", id.Name, id.Name)
			return m, false
		}
		a := c.args(call, spec.Args, nil)
		if a == nil {
			return m, false
		}
		m.Ref = c.postRef(a["reference"])
		return m, m.Ref != nil
	}
	if call == nil {
		return m, true
	}
	if len(spec.Args) == 0 {
		c.errorf(call.Sp, source.Type, "metric %s takes no arguments", id.Name)
		return m, false
	}
	switch id.Name {
	case "coverage":
		a := c.args(call, spec.Args, nil)
		if a == nil {
			return m, false
		}
		if l, has := a["level"]; has {
			v, ok := c.number(l, "coverage level")
			if !ok || v <= 0 || v >= 1 {
				if ok {
					c.errorf(l.Span(), source.Type, "coverage level must be between 0 and 1, got %v", v)
				}
				return m, false
			}
			m.Level = v
		}
	case "ece":
		a := c.args(call, nil, spec.Args)
		if a == nil {
			return m, false
		}
		if b, has := a["bins"]; has {
			n, ok := c.integer(b, "bins")
			if !ok || n < 1 {
				if ok {
					c.errorf(b.Span(), source.Type, "bins must be at least 1")
				}
				return m, false
			}
			m.Bins = n
		}
	}
	return m, true
}

// matrix reads [[a, b], [c, d]] (or [a, b, c] as one-column rows).
func (c *checker) matrix(l *parser.List) ([][]float64, bool) {
	var rows [][]float64
	for _, el := range l.Elems {
		switch el := el.(type) {
		case *parser.Number:
			rows = append(rows, []float64{el.Value})
		case *parser.List:
			var row []float64
			for _, v := range el.Elems {
				n, ok := v.(*parser.Number)
				if !ok {
					c.errorf(v.Span(), source.Type, "inputs must be numbers")
					return nil, false
				}
				row = append(row, n.Value)
			}
			if len(rows) > 0 && len(row) != len(rows[0]) {
				c.errorf(el.Sp, source.Shape, "every input row needs %d values, this one has %d", len(rows[0]), len(row))
				return nil, false
			}
			rows = append(rows, row)
		default:
			c.errorf(el.Span(), source.Type, "inputs are a list of rows, e.g. [[0.5], [1.0]]")
			return nil, false
		}
	}
	if len(rows) == 0 {
		c.errorf(l.Sp, source.Shape, "no inputs to predict at")
		return nil, false
	}
	return rows, true
}

func (c *checker) show(s *parser.ExprStmt) Stmt {
	switch x := s.X.(type) {
	case *parser.Ident:
		t, ok := c.scope.types[x.Name]
		if !ok {
			c.unknown(x, "name", c.scope.Names())
			return nil
		}
		return &Show{Ref: Ref{Name: x.Name, Type: t, Span: x.Sp}, Span: x.Sp}
	case *parser.Number:
		return &Show{Ref: Ref{Type: NumberT}, Num: x.Value, Span: x.Sp}
	case *parser.String:
		return &Show{Ref: Ref{Type: StringT}, Str: x.Value, Span: x.Sp}
	case *parser.Match:
		c.errorf(s.Span(), source.Type, "a matched prior makes a model: bind it with model NAME = match prior of ...")
		return nil
	}
	c.errorf(s.Span(), source.Type, "an expression on its own must be a name or a literal")
	return nil
}
