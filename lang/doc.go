// Package lang is bayesl's embedding API: it runs model scripts statement by
// statement in a Session, wiring the stages together — parser (text to AST),
// ir (names, types, shapes), compile (gonum kernels) and infer (pluggable
// inference backends) — and holds the values a script binds: data sets,
// models, posteriors and weights (named tensors for fine-tuning, *Weights;
// Session.SetWeights hands them over from Go).
//
// Compile (or Session.Check) gives a *Program; Session.Exec runs it.
// Typed accessors read what a script bound: Session.Posterior, Data, Model,
// Weights, Number and Text. From Go, Session.Fit and Session.Evaluate do
// what the fit and evaluate statements do and return a FitSummary and a
// Table with typed columns; Posterior.Predict answers a predictive with
// PredictOptions (draws, seed, mixture quantiles, per-draw outputs). The API
// shows only lang's own types and plain stdlib values, never a type of the
// packages behind it.
//
// A Session reports what statements produce through Config.Emit (Results,
// whose ResultKind says which fields are set: tables of metrics,
// predictions, files written) and fitting progress through Config.Progress;
// it never prints. Errors are *source.Error values, or a source.List of
// them, carrying file:line:col; source.Print renders them with a caret
// under the offending text.
//
// Same script and same Config.Seed give the same numbers: every random draw
// comes from a source derived from the seed and the statement's label.
package lang
