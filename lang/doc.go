// Package lang is bayesl's embedding API: it runs model scripts statement by
// statement in a Session, wiring the stages together — parser (text to AST),
// ir (names, types, shapes), compile (gonum kernels) and infer (pluggable
// inference backends) — and holds the values a script binds: data sets,
// models, posteriors and weights (named tensors for fine-tuning, *Weights;
// Session.SetWeights hands them over from Go).
//
// A Session reports what statements produce through Config.Emit (tables of
// metrics, predictions, files written) and fitting progress through
// Config.Progress; it never prints. Errors are *source.Error values, or a
// source.List of them, carrying file:line:col; source.Print renders them
// with a caret under the offending text.
//
// Same script and same Config.Seed give the same numbers: every random draw
// comes from a source derived from the seed and the statement's label.
package lang
