package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar structs below are participle's view of the language. They are
// private: Parse lowers them at once into the AST of ast.go, so no later stage
// depends on the shape of the grammar.

var keywords = []string{
	"data", "let", "model", "prior", "param", "posterior", "fit", "on",
	"using", "evaluate", "predict", "at", "save", "to", "scaled",
	"ood", "in", "vs", "by", "plot", "weights", "student", "distill", "into",
	"match", "export",
}

var bayeslLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Float", Pattern: `\d+\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+`},
	{Name: "Int", Pattern: `\d+`},
	{Name: "String", Pattern: `"(?:\\.|[^"\\\n])*"`},
	{Name: "Keyword", Pattern: `\b(?:data|let|model|prior|param|posterior|fit|on|using|evaluate|predict|at|save|to|scaled|ood|in|vs|by|plot|weights|student|distill|into|match|export)\b`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `\|>|\.\.|<=|>=|==|!=|[-+*/(){}\[\],:=~<>.]`},
})

var grammarOptions = []participle.Option{
	participle.Lexer(bayeslLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(3),
}

// grammar is the whole file, for the EBNF; Parse reads one statement at a
// time with stmtGrammar, so the grammar structs of a large file never
// live all at once.
var (
	grammar     = participle.MustBuild[gFile](grammarOptions...)
	stmtGrammar = participle.MustBuild[gStmt](grammarOptions...)
)

type gFile struct {
	Stmts []*gStmt `parser:"@@*"`
}

type gStmt struct {
	Data      *gDataStmt      `parser:"  @@"`
	Let       *gLetStmt       `parser:"| @@"`
	Model     *gModel         `parser:"| @@"`
	Posterior *gPosteriorStmt `parser:"| @@"`
	Evaluate  *gEvaluateStmt  `parser:"| @@"`
	Predict   *gPredictStmt   `parser:"| @@"`
	Save      *gSaveStmt      `parser:"| @@"`
	Export    *gExportStmt    `parser:"| @@"`
	OOD       *gOODStmt       `parser:"| @@"`
	Plot      *gPlotStmt      `parser:"| @@"`
	Weights   *gWeightsStmt   `parser:"| @@"`
	Student   *gStudentStmt   `parser:"| @@"`
	Expr      *gExpr          `parser:"| @@"`
}

type gIdent struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   string `parser:"@Ident"`
}

type gDataStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"\"data\" @@ \"=\""`
	Value  *gExpr  `parser:"@@"`
}

type gLetStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Names  []*gIdent `parser:"\"let\" @@ (\",\" @@)* \"=\""`
	Value  *gExpr    `parser:"@@"`
}

// gModel is a model block, or `model NAME = EXPR` binding a model made
// from another (a prior matched to a GP).
type gModel struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent       `parser:"\"model\" @@"`
	Value  *gExpr        `parser:"( \"=\" @@"`
	Input  *gIdent       `parser:"| \"(\" @@ \":\""`
	Width  *gNumber      `parser:"@@ \")\""`
	Body   []*gModelStmt `parser:"\"{\" @@* \"}\" )"`
}

type gModelStmt struct {
	Prior   *gPriorStmt   `parser:"  @@"`
	Param   *gParamStmt   `parser:"| @@"`
	Assign  *gAssignStmt  `parser:"| @@"`
	Observe *gObserveStmt `parser:"| @@"`
}

type gPriorStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Target *gArgName `parser:"\"prior\" @@ \"~\""`
	Dist   *gExpr    `parser:"@@"`
	Scaled *gIdent   `parser:"(\"scaled\" @@)?"`
}

type gParamStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent  `parser:"\"param\" @@"`
	Width  *gNumber `parser:"(\"[\" @@ \"]\")? \"~\""`
	Dist   *gExpr   `parser:"@@"`
}

type gAssignStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"@@ \"=\""`
	Value  *gExpr  `parser:"@@"`
}

type gObserveStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"@@ \"~\""`
	Dist   *gExpr  `parser:"@@"`
}

type gPosteriorStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"\"posterior\" @@ \"=\""`
	Value  *gExpr  `parser:"@@"`
}

type gEvaluateStmt struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Posts   *gExpr   `parser:"\"evaluate\" @@"`
	Data    *gExpr   `parser:"\"on\" @@ \":\""`
	Metrics []*gExpr `parser:"@@ (\",\" @@)*"`
}

type gPredictStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Post   *gExpr `parser:"\"predict\" @@"`
	At     *gExpr `parser:"\"at\" @@"`
	To     *gExpr `parser:"(\"to\" @@)?"`
}

type gSaveStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Value  *gExpr `parser:"\"save\" @@"`
	Path   *gExpr `parser:"\"to\" @@"`
}

type gExportStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Value  *gExpr `parser:"\"export\" @@"`
	Path   *gExpr `parser:"\"to\" @@"`
}

type gWeightsStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"\"weights\" @@ \"=\""`
	Value  *gExpr  `parser:"@@"`
}

type gStudentStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"\"student\" @@ \"=\""`
	Value  *gExpr  `parser:"@@"`
}

type gPlotStmt struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Plot   *gPostfix `parser:"\"plot\" @@"`
	Path   *gExpr    `parser:"\"to\" @@"`
}

type gOODStmt struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Posts   *gExpr   `parser:"\"ood\" @@"`
	In      *gExpr   `parser:"\"in\" @@"`
	Out     *gExpr   `parser:"\"vs\" @@"`
	By      *gExpr   `parser:"\"by\" @@ \":\""`
	Metrics []*gExpr `parser:"@@ (\",\" @@)*"`
}

// gExpr is the lowest precedence: a fit expression or a pipeline.
type gExpr struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Fit     *gFit      `parser:"  @@"`
	Distill *gDistill  `parser:"| @@"`
	Match   *gMatch    `parser:"| @@"`
	Pipe    *gPipeline `parser:"| @@"`
}

// gMatch is `match prior of MODEL to gp(KERNEL) over POINTS using METHOD`;
// "of" and "over" are plain identifiers matched by value, not keywords.
type gMatch struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Model  *gIdent   `parser:"\"match\" \"prior\" \"of\" @@"`
	Target *gPostfix `parser:"\"to\" @@"`
	Over   *gPostfix `parser:"\"over\" @@"`
	Method *gPostfix `parser:"\"using\" @@"`
}

type gDistill struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Teacher *gIdent    `parser:"\"distill\" @@"`
	Into    *gPostfix  `parser:"\"into\" @@"`
	Data    *gPipeline `parser:"\"on\" @@"`
	Method  *gPostfix  `parser:"\"using\" @@"`
}

type gFit struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Model  *gIdent    `parser:"\"fit\" @@"`
	Data   *gPipeline `parser:"\"on\" @@"`
	Method *gPostfix  `parser:"\"using\" @@"`
}

type gPipeline struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Head   *gRange       `parser:"@@"`
	Stages []*gPipeStage `parser:"(\"|>\" @@)*"`
}

type gPipeStage struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Fun    *gIdent `parser:"@@"`
	Call   *gCall  `parser:"@@?"`
}

type gRange struct {
	Pos    lexer.Position
	EndPos lexer.Position
	From   *gCompare `parser:"@@"`
	To     *gCompare `parser:"(\"..\" @@)?"`
}

type gCompare struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Left   *gSum  `parser:"@@"`
	Op     string `parser:"( @(\"<=\" | \">=\" | \"==\" | \"!=\" | \"<\" | \">\")"`
	Right  *gSum  `parser:"  @@ )?"`
}

type gSum struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Left   *gProduct `parser:"@@"`
	Rest   []*gSumOp `parser:"@@*"`
}

type gSumOp struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Op     string    `parser:"@(\"+\" | \"-\")"`
	Right  *gProduct `parser:"@@"`
}

type gProduct struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Left   *gUnary       `parser:"@@"`
	Rest   []*gProductOp `parser:"@@*"`
}

type gProductOp struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Op     string  `parser:"@(\"*\" | \"/\")"`
	Right  *gUnary `parser:"@@"`
}

type gUnary struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Neg     *gUnary   `parser:"  \"-\" @@"`
	Postfix *gPostfix `parser:"| @@"`
}

type gPostfix struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Primary *gPrimary  `parser:"@@"`
	Suffix  []*gSuffix `parser:"@@*"`
}

type gSuffix struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Call   *gCall   `parser:"  @@"`
	Index  []*gExpr `parser:"| \"[\" @@ (\",\" @@)* \",\"? \"]\""`
	Field  *gIdent  `parser:"| \".\" @@"`
}

type gCall struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Args   []*gArg `parser:"\"(\" (@@ (\",\" @@)* \",\"?)? \")\""`
}

type gArg struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gArgName `parser:"(@@ \":\")?"`
	Value  *gExpr    `parser:"@@"`
}

// gArgName lets keywords name arguments, as in dense(h, 10, prior: ...).
type gArgName struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   string `parser:"@(Ident | Keyword)"`
}

type gPrimary struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Number *gNumber `parser:"  @@"`
	String *string  `parser:"| @String"`
	Ident  *gIdent  `parser:"| @@"`
	List   *gList   `parser:"| @@"`
	Paren  *gExpr   `parser:"| \"(\" @@ \")\""`
}

type gNumber struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Text   string `parser:"@(Float | Int)"`
}

type gList struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Elems  []*gExpr `parser:"\"[\" (@@ (\",\" @@)* \",\"?)? \"]\""`
}
