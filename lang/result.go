package lang

import (
	"fmt"
	"io"
	"math"
)

// ResultKind says what a Result is and which of its fields are set. It is a
// string so that `bayesl run --json` writes the kind's name.
type ResultKind string

// Result kinds.
const (
	KindFit      ResultKind = "fit"      // a fitted posterior: Name, Fit
	KindDistill  ResultKind = "distill"  // a distilled student: Name, Distill
	KindMatch    ResultKind = "match"    // a matched prior: Name, Match, Table, Text
	KindEvaluate ResultKind = "evaluate" // metrics: Table, one row per posterior
	KindPredict  ResultKind = "predict"  // predictions: Name, Table, Path when written to a file
	KindOOD      ResultKind = "ood"      // out-of-distribution scores: Table
	KindSave     ResultKind = "save"     // a posterior saved: Name, Path
	KindWrite    ResultKind = "write"    // a file written (data, weights, a plot): Name, Path, Text
	KindShow     ResultKind = "show"     // a value shown: Name, Text
)

// Result is one thing a statement produced, for people (Format) and for
// machines (it marshals to JSON).
type Result struct {
	Kind  ResultKind  `json:"kind"`
	Name  string      `json:"name,omitempty"`
	Text  string      `json:"text,omitempty"`
	Path  string      `json:"path,omitempty"`
	Fit   *FitSummary `json:"fit,omitempty"`
	Table *Table      `json:"table,omitempty"`

	// Distill describes a student trained by `student NAME = distill ...`.
	Distill *DistillSummary `json:"distill,omitempty"`

	// Match describes a prior matched by `model NAME = match prior of ...`.
	Match *MatchSummary `json:"match,omitempty"`
}

// FitSummary describes a finished fit.
type FitSummary struct {
	Method   string  `json:"method"`
	Model    string  `json:"model"`
	Params   int     `json:"params"`             // trainable: the length of θ
	Adapters int     `json:"adapters,omitempty"` // of Params, the adapters' numbers
	Frozen   int     `json:"frozen,omitempty"`   // frozen weights the model computes with
	Stored   int     `json:"stored"`             // numbers the posterior keeps
	Rows     int     `json:"rows"`
	Seconds  float64 `json:"seconds"`
	// Chains only: the largest split-R̂ and the smallest bulk ESS over the
	// predictions at up to 256 training inputs, and a warning when the
	// chains disagree (R̂ > 1.05).
	Rhat    float64 `json:"rhat,omitempty"`
	ESS     float64 `json:"ess,omitempty"`
	Warning string  `json:"warning,omitempty"`
	// Laplace only: the Laplace approximation of the log marginal
	// likelihood log p(D) (an infer.Evidencer's).
	LogEvidence *float64 `json:"log_evidence,omitempty"`
}

// Format writes r for a person.
func (r Result) Format(w io.Writer) {
	switch r.Kind {
	case KindFit:
		f := r.Fit
		params := fmt.Sprintf("%d parameters", f.Params)
		if f.Frozen > 0 || f.Adapters > 0 {
			params = fmt.Sprintf("%d trainable parameters (%d in adapters, %d frozen)", f.Params, f.Adapters, f.Frozen)
		}
		fmt.Fprintf(w, "fitted %s: %s on %d rows, %s, %d stored numbers, %.2fs\n", r.Name, f.Method, f.Rows, params, f.Stored, f.Seconds)
		if f.Rhat > 0 {
			fmt.Fprintf(w, "  chains: max split-R̂ %.3f, min bulk ESS %.0f (predictions at up to %d training inputs)\n", f.Rhat, f.ESS, diagnoseRows)
		}
		if f.LogEvidence != nil {
			fmt.Fprintf(w, "  log marginal likelihood (Laplace): %.6g\n", *f.LogEvidence)
		}
		if f.Warning != "" {
			fmt.Fprintf(w, "  warning: %s\n", f.Warning)
		}
	case KindDistill:
		r.Distill.format(w, r.Name)
	case KindSave:
		fmt.Fprintf(w, "saved %s to %s\n", r.Name, r.Path)
	case KindMatch:
		r.Table.Format(w)
		if r.Text != "" {
			fmt.Fprintln(w, r.Text)
		}
	case KindWrite:
		fmt.Fprintln(w, r.Text)
	case KindEvaluate, KindPredict, KindOOD:
		r.Table.Format(w)
		if r.Path != "" {
			fmt.Fprintf(w, "wrote %s\n", r.Path)
		}
	default:
		fmt.Fprintln(w, r.Text)
	}
}

func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1e5 || math.Abs(v) < 1e-3:
		return fmt.Sprintf("%.3e", v)
	}
	return fmt.Sprintf("%.4f", v)
}
