package lang

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Result is one thing a statement produced, for people (Format) and for
// machines (it marshals to JSON).
type Result struct {
	Kind  string      `json:"kind"` // "fit", "evaluate", "predict", "save", "show"
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

// Table is a titled table of numbers with a text first column.
type Table struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    []TableRow `json:"rows"`
}

// TableRow is one labelled row.
type TableRow struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}

// MarshalJSON writes a row with NaN and infinite values as null, which
// JSON cannot otherwise hold (a metric of an empty set, an infinite NLL).
func (r TableRow) MarshalJSON() ([]byte, error) {
	vals := make([]*float64, len(r.Values))
	for i := range r.Values {
		if v := r.Values[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			vals[i] = &r.Values[i]
		}
	}
	return json.Marshal(struct {
		Label  string     `json:"label"`
		Values []*float64 `json:"values"`
	}{r.Label, vals})
}

// Format writes r for a person.
func (r Result) Format(w io.Writer) {
	switch r.Kind {
	case "fit":
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
	case "distill":
		r.Distill.format(w, r.Name)
	case "save":
		fmt.Fprintf(w, "saved %s to %s\n", r.Name, r.Path)
	case "match":
		r.Table.Format(w)
		if r.Text != "" {
			fmt.Fprintln(w, r.Text)
		}
	case "write":
		fmt.Fprintln(w, r.Text)
	case "evaluate", "predict", "ood":
		r.Table.Format(w)
		if r.Path != "" {
			fmt.Fprintf(w, "wrote %s\n", r.Path)
		}
	default:
		fmt.Fprintln(w, r.Text)
	}
}

// Format writes an aligned table.
func (t *Table) Format(w io.Writer) {
	if t.Title != "" {
		fmt.Fprintln(w, t.Title)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(t.Columns, "\t"))
	for _, r := range t.Rows {
		cells := []string{r.Label}
		for _, v := range r.Values {
			cells = append(cells, formatNumber(v))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	tw.Flush()
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
