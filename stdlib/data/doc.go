// Package data loads, splits, filters and standardises the tabular data sets
// that bayesl models are fitted on. It is part of the standard library stage:
// pure Go and gonum, with no knowledge of the language syntax. The lang
// package turns a statement such as
//
//	data mc = csv("examples/data/mcycle.csv", x: [times], y: accel, standardize: true)
//
// into a [CSVSpec] and calls [ReadCSV]; split(...) and where(...) map onto
// [Split], [Where] and [Filter].
//
// # Datasets
//
// A [Dataset] holds an N x D feature matrix in raw units, a target vector,
// the column names and, for classification, the class label names. Class
// labels are stored in Y as indices 0..K-1 (as float64); len(Classes) is
// always K, so subsets that happen to miss a class keep the same K.
//
// # Reading CSV
//
// [ReadCSV] and [ParseCSV] read a CSV file with a header row. Features are
// chosen by name or by inclusive header ranges ("p0 .. p63"); only the chosen
// columns are parsed, so unused text columns are fine. Every problem is
// reported as an [*Error] carrying the file, the 1-based line, the column and
// a one-line message, for example
//
//	mcycle.csv:17: column "accel": cannot parse "abc" as a number
//
// Missing values, NaN and infinities are rejected rather than propagated.
//
// # Standardisation
//
// A [Scaler] holds per-column means and (population) standard deviations.
// The statistics must be fitted on the TRAINING set only, with [FitScaler],
// and then reused unchanged: [Scaler.TransformX] and [Scaler.TransformY] map
// training and test data (and prediction inputs) into model units, and
// [Scaler.UnscaleLoc] and [Scaler.UnscaleScale] map predicted locations and
// scales back into the units of the data for reporting. Fitting a scaler on
// test data would leak it into the model. [Identity] is the scaler used when
// the user did not ask for standardisation; [ScalerFor] chooses between the
// two from [Dataset.Standardize].
//
// # Determinism
//
// [Split] shuffles with a PCG generator seeded from its seed argument only;
// the package never uses the global random source.
package data
