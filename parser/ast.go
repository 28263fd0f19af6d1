package parser

import "github.com/bayesl/bayesl/parser/source"

// Node is any AST node; Span covers its source text.
type Node interface {
	Span() source.Span
}

// Expr is an expression node.
type Expr interface {
	Node
	exprNode()
}

// Stmt is a top-level statement.
type Stmt interface {
	Node
	stmtNode()
}

// ModelStmt is a statement inside a model block.
type ModelStmt interface {
	Node
	modelStmtNode()
}

// File is a parsed script.
type File struct {
	Source *source.File
	Stmts  []Stmt
}

// Expressions.
type (
	// Ident is a name.
	Ident struct {
		Name string
		Sp   source.Span
	}
	// Number is a numeric literal; Text is how it was written.
	Number struct {
		Value float64
		Text  string
		Sp    source.Span
	}
	// String is a string literal, unquoted.
	String struct {
		Value string
		Sp    source.Span
	}
	// List is [a, b, ...].
	List struct {
		Elems []Expr
		Sp    source.Span
	}
	// Range is from .. to (inclusive at both ends where that means anything).
	Range struct {
		From, To Expr
		Sp       source.Span
	}
	// Binary is X Op Y for Op in + - * / < <= > >= == !=.
	Binary struct {
		Op   string
		X, Y Expr
		Sp   source.Span
	}
	// Unary is -X.
	Unary struct {
		Op string
		X  Expr
		Sp source.Span
	}
	// Call is Fun(args). Piped is set when it was written X |> Fun(rest): the
	// piped value is then Args[0].
	Call struct {
		Fun   *Ident
		Args  []*Arg
		Piped bool
		Sp    source.Span
	}
	// Index is X[Index].
	Index struct {
		X     Expr
		Index Expr
		Sp    source.Span
	}
	// Field is X.Name.
	Field struct {
		X    Expr
		Name *Ident
		Sp   source.Span
	}
	// Distill is `distill Teacher into Kind(Model) on Data using Method`:
	// train one network to stand in for a posterior.
	Distill struct {
		Teacher *Ident
		Into    Expr
		Data    Expr
		Method  Expr
		Sp      source.Span
	}
	// Match is `match prior of Model to Target over Points using Method`:
	// the model with its prior scales (and learnable activations) fitted so
	// that its function-space prior matches a Gaussian process.
	Match struct {
		Model  *Ident
		Target Expr // gp(KERNEL)
		Over   Expr // uniform(lo, hi, n)
		Method Expr // w2(settings)
		Sp     source.Span
	}
	// Fit is `fit Model on Data using Method`.
	Fit struct {
		Model  *Ident
		Data   Expr
		Method Expr
		Sp     source.Span
	}
)

// Arg is one argument of a call: positional when Name is nil.
type Arg struct {
	Name  *Ident
	Value Expr
	Sp    source.Span
}

// Top-level statements.
type (
	// DataStmt is `data Name = Value`.
	DataStmt struct {
		Name  *Ident
		Value Expr
		Sp    source.Span
	}
	// LetStmt is `let a, b = Value`.
	LetStmt struct {
		Names []*Ident
		Value Expr
		Sp    source.Span
	}
	// ModelDecl is `model Name(Input: Width) { Body }`.
	ModelDecl struct {
		Name  *Ident
		Input *Ident
		Width *Number
		Body  []ModelStmt
		Sp    source.Span
	}
	// ModelBindStmt is `model Name = Value`: a model made from another, as
	// by match.
	ModelBindStmt struct {
		Name  *Ident
		Value Expr
		Sp    source.Span
	}
	// PosteriorStmt is `posterior Name = Value`.
	PosteriorStmt struct {
		Name  *Ident
		Value Expr
		Sp    source.Span
	}
	// EvaluateStmt is `evaluate Posts on Data: metric, ...`.
	EvaluateStmt struct {
		Posts   Expr
		Data    Expr
		Metrics []Expr
		Sp      source.Span
	}
	// PredictStmt is `predict Post at Inputs [to Path]`.
	PredictStmt struct {
		Post Expr
		At   Expr
		To   Expr // nil unless written
		Sp   source.Span
	}
	// SaveStmt is `save Value to Path`.
	SaveStmt struct {
		Value Expr
		Path  Expr
		Sp    source.Span
	}
	// ExportStmt is `export Value to Path`: a posterior's weights in a
	// format other tools read (.npz, .safetensors).
	ExportStmt struct {
		Value Expr
		Path  Expr
		Sp    source.Span
	}
	// OODStmt is `ood Posts in In vs Out by Scores: metric, ...`: how well
	// each uncertainty score separates in- from out-of-distribution inputs.
	OODStmt struct {
		Posts   Expr
		In, Out Expr
		By      Expr
		Metrics []Expr
		Sp      source.Span
	}
	// WeightsStmt is `weights Name = Value`: named tensors, loaded from a
	// file or taken from a posterior.
	WeightsStmt struct {
		Name  *Ident
		Value Expr
		Sp    source.Span
	}
	// StudentStmt is `student Name = distill ...`.
	StudentStmt struct {
		Name  *Ident
		Value Expr
		Sp    source.Span
	}
	// PlotStmt is `plot kind(args) to Path`.
	PlotStmt struct {
		Plot Expr
		Path Expr
		Sp   source.Span
	}
	// ExprStmt is an expression on its own, as typed at the REPL.
	ExprStmt struct {
		X Expr
	}
)

// Statements inside a model block.
type (
	// PriorStmt is `prior Target ~ Dist [scaled Scaling]`: the default prior
	// for every weight (Target "weights") or bias ("biases") of the model.
	PriorStmt struct {
		Target  *Ident
		Dist    Expr
		Scaling *Ident
		Sp      source.Span
	}
	// ParamStmt is `param Name[Width] ~ Dist`: a free parameter with its prior.
	ParamStmt struct {
		Name  *Ident
		Width *Number // nil for a scalar
		Dist  Expr
		Sp    source.Span
	}
	// AssignStmt is `Name = Value`.
	AssignStmt struct {
		Name  *Ident
		Value Expr
		Sp    source.Span
	}
	// ObserveStmt is `Name ~ Dist`: the likelihood of the target Name.
	ObserveStmt struct {
		Name *Ident
		Dist Expr
		Sp   source.Span
	}
)

func (x *Ident) Span() source.Span   { return x.Sp }
func (x *Number) Span() source.Span  { return x.Sp }
func (x *String) Span() source.Span  { return x.Sp }
func (x *List) Span() source.Span    { return x.Sp }
func (x *Range) Span() source.Span   { return x.Sp }
func (x *Binary) Span() source.Span  { return x.Sp }
func (x *Unary) Span() source.Span   { return x.Sp }
func (x *Call) Span() source.Span    { return x.Sp }
func (x *Index) Span() source.Span   { return x.Sp }
func (x *Field) Span() source.Span   { return x.Sp }
func (x *Fit) Span() source.Span     { return x.Sp }
func (x *Distill) Span() source.Span { return x.Sp }
func (x *Match) Span() source.Span   { return x.Sp }
func (x *Arg) Span() source.Span     { return x.Sp }

func (*Ident) exprNode()   {}
func (*Number) exprNode()  {}
func (*String) exprNode()  {}
func (*List) exprNode()    {}
func (*Range) exprNode()   {}
func (*Binary) exprNode()  {}
func (*Unary) exprNode()   {}
func (*Call) exprNode()    {}
func (*Index) exprNode()   {}
func (*Field) exprNode()   {}
func (*Fit) exprNode()     {}
func (*Distill) exprNode() {}
func (*Match) exprNode()   {}

func (s *DataStmt) Span() source.Span      { return s.Sp }
func (s *LetStmt) Span() source.Span       { return s.Sp }
func (s *ModelDecl) Span() source.Span     { return s.Sp }
func (s *PosteriorStmt) Span() source.Span { return s.Sp }
func (s *EvaluateStmt) Span() source.Span  { return s.Sp }
func (s *PredictStmt) Span() source.Span   { return s.Sp }
func (s *SaveStmt) Span() source.Span      { return s.Sp }
func (s *ExportStmt) Span() source.Span    { return s.Sp }
func (s *OODStmt) Span() source.Span       { return s.Sp }
func (s *PlotStmt) Span() source.Span      { return s.Sp }
func (s *WeightsStmt) Span() source.Span   { return s.Sp }
func (s *StudentStmt) Span() source.Span   { return s.Sp }
func (s *ExprStmt) Span() source.Span      { return s.X.Span() }
func (s *ModelBindStmt) Span() source.Span { return s.Sp }

func (*DataStmt) stmtNode()      {}
func (*LetStmt) stmtNode()       {}
func (*ModelDecl) stmtNode()     {}
func (*PosteriorStmt) stmtNode() {}
func (*EvaluateStmt) stmtNode()  {}
func (*PredictStmt) stmtNode()   {}
func (*SaveStmt) stmtNode()      {}
func (*ExportStmt) stmtNode()    {}
func (*OODStmt) stmtNode()       {}
func (*PlotStmt) stmtNode()      {}
func (*WeightsStmt) stmtNode()   {}
func (*StudentStmt) stmtNode()   {}
func (*ExprStmt) stmtNode()      {}
func (*ModelBindStmt) stmtNode() {}

func (s *PriorStmt) Span() source.Span   { return s.Sp }
func (s *ParamStmt) Span() source.Span   { return s.Sp }
func (s *AssignStmt) Span() source.Span  { return s.Sp }
func (s *ObserveStmt) Span() source.Span { return s.Sp }

func (*PriorStmt) modelStmtNode()   {}
func (*ParamStmt) modelStmtNode()   {}
func (*AssignStmt) modelStmtNode()  {}
func (*ObserveStmt) modelStmtNode() {}
