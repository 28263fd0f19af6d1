package ir

import "github.com/bayesl/bayesl/parser/source"

// Program is a checked script: its statements as typed values, in order.
type Program struct {
	File  *source.File
	Stmts []Stmt
}

// Type is the type of a top-level value.
type Type int

// Value types.
const (
	Invalid Type = iota // the type of an expression that already failed to check
	NumberT
	StringT
	DataT
	ModelT
	PosteriorT
	WeightsT // named tensors: `weights NAME = load(...)` or point(...)
)

var typeNames = [...]string{"invalid", "number", "string", "data", "model", "posterior", "weights"}

func (t Type) String() string { return typeNames[t] }

// Stmt is a checked top-level statement.
type Stmt interface{ stmtSpan() source.Span }

// Span returns the source span of a checked statement.
func Span(s Stmt) source.Span { return s.stmtSpan() }

// Ref names a value bound earlier in the session.
type Ref struct {
	Name string
	Type Type
	Span source.Span
}

// Arg is a named setting of a backend or metric call, as written. Call is
// set when the value is itself a method, as in method: map(epochs: 50).
type Arg struct {
	Name  string
	Num   float64
	Str   string
	IsStr bool
	Call  *MethodCall
	Span  source.Span
}

// MethodCall is an inference method with its settings.
type MethodCall struct {
	Name string
	Args []Arg
	Span source.Span
}

// ColumnRef selects a CSV column, or a range of columns From .. To in header order.
type ColumnRef struct {
	From, To string // To is "" for a single column
	Span     source.Span
}

// DataExpr is an expression that yields one data set.
type DataExpr interface{ dataSpan() source.Span }

// CSV reads a data set from a file. Y is "" for inputs without a target,
// which can be predicted at but not fitted or evaluated on.
type CSV struct {
	Path        string
	X           []ColumnRef
	Y           string
	Classes     int
	Standardize bool
	DropMissing bool // leave out rows with a missing value, instead of an error
	Span        source.Span
}

// Where keeps the rows whose Column compares true against Value.
type Where struct {
	Src    DataExpr
	Column string
	Op     string
	Value  float64
	Span   source.Span
	ColPos source.Span
}

// DataRef is a data set bound by an earlier statement.
type DataRef struct{ Ref }

func (d *CSV) dataSpan() source.Span     { return d.Span }
func (d *Where) dataSpan() source.Span   { return d.Span }
func (d *DataRef) dataSpan() source.Span { return d.Span }

// BindData is `data name = expr` or `let name = expr` for one data set.
type BindData struct {
	Name string
	Expr DataExpr
	Span source.Span
}

// BindSplit is `let train, test = split(src, frac, seed: s)`.
type BindSplit struct {
	Train, Test string
	Src         DataExpr
	Frac        float64
	Seed        uint64
	Span        source.Span
}

// BindValue binds a number or string with let.
type BindValue struct {
	Name string
	Type Type
	Num  float64
	Str  string
	Span source.Span
}

// DefineModel declares a model.
type DefineModel struct {
	Model *Model
	Text  string // the model's source text, stored with saved posteriors
	Span  source.Span
}

// PosteriorExpr yields a posterior.
type PosteriorExpr interface{ postSpan() source.Span }

// Fit learns a posterior of Model on Data with a backend.
type Fit struct {
	Model      *Model
	ModelText  string
	Data       DataExpr
	Method     string
	MethodSpan source.Span
	Args       []Arg
	Span       source.Span
}

// Load reads a saved posterior.
type Load struct {
	Path string
	Span source.Span
}

// PosteriorRef is a posterior bound earlier.
type PosteriorRef struct{ Ref }

func (p *Fit) postSpan() source.Span          { return p.Span }
func (p *Load) postSpan() source.Span         { return p.Span }
func (p *PosteriorRef) postSpan() source.Span { return p.Span }

// BindPosterior is `posterior name = expr`.
type BindPosterior struct {
	Name string
	Expr PosteriorExpr
	Span source.Span
}

// Metric is one column of an evaluate table.
type Metric struct {
	Name  string        // nll, rmse, mae, coverage, accuracy, ece, brier, brier_per_class, agreement, tv, w2, epistemic
	Level float64       // coverage level
	Bins  int           // ece bins
	Ref   *PosteriorRef // agreement, tv, w2, epistemic: the reference posterior
	Span  source.Span
}

// Evaluate prints a table of metrics, one row per posterior.
type Evaluate struct {
	Posts   []*PosteriorRef
	Data    DataExpr
	Metrics []Metric
	Span    source.Span
}

// Predict prints the predictive at given inputs.
type Predict struct {
	Post   *PosteriorRef
	Inputs [][]float64 // explicit rows, or nil when Data is set
	Data   DataExpr
	Path   string // write the predictions to this file when set (PredictionFormats)
	// Settings, from predict p(quantiles: ..., intervals: ..., draws: ..., samples: ...).
	Quantiles []float64
	Intervals []float64
	Draws     bool
	Samples   int // 0: the session's
	Span      source.Span
}

// OOD scores out-of-distribution detection: for each posterior and each
// uncertainty score, how well the score separates In (label 0) from Out
// (label 1).
type OOD struct {
	Posts   []*PosteriorRef
	In, Out DataExpr
	Scores  []string // total, epistemic, aleatoric
	Metrics []Metric // auroc, w1, mean_in, mean_out
	Span    source.Span
}

// PlotKind names a picture.
type PlotKind string

// Pictures.
const (
	PlotBand        PlotKind = "band"        // 1-D regression predictive with its two bands
	PlotSamples     PlotKind = "samples"     // posterior function samples over a 1-D grid
	PlotReliability PlotKind = "reliability" // a classifier's reliability diagram
	PlotHistogram   PlotKind = "histogram"   // an uncertainty score, in vs out of distribution
	PlotTraining    PlotKind = "training"    // loss per epoch of fits
)

// Plot draws a picture into an SVG or PNG file.
type Plot struct {
	Kind     PlotKind
	Posts    []*PosteriorRef
	Data     DataExpr // band, samples: points to show; reliability: the data
	In, Out  DataExpr // histogram
	Score    string   // histogram: total, epistemic or aleatoric
	From, To float64  // band, samples: the input range
	Points   int      // band, samples: grid size
	N        int      // samples: how many functions
	Bins     int
	Path     string
	Span     source.Span
}

// Save writes a posterior to a file.
type Save struct {
	Post *PosteriorRef
	Path string
	Span source.Span
}

// Show prints a value (an expression statement at the REPL).
type Show struct {
	Ref  Ref
	Num  float64
	Str  string
	Span source.Span
}

func (s *BindData) stmtSpan() source.Span      { return s.Span }
func (s *BindSplit) stmtSpan() source.Span     { return s.Span }
func (s *BindValue) stmtSpan() source.Span     { return s.Span }
func (s *DefineModel) stmtSpan() source.Span   { return s.Span }
func (s *BindPosterior) stmtSpan() source.Span { return s.Span }
func (s *Evaluate) stmtSpan() source.Span      { return s.Span }
func (s *Predict) stmtSpan() source.Span       { return s.Span }
func (s *Save) stmtSpan() source.Span          { return s.Span }
func (s *OOD) stmtSpan() source.Span           { return s.Span }
func (s *Plot) stmtSpan() source.Span          { return s.Span }
func (s *Show) stmtSpan() source.Span          { return s.Span }
