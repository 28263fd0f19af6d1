// Package plot draws the pictures of a Bayesian neural network study from
// plain slices: a regression predictive band that separates aleatoric from
// epistemic uncertainty (Band), a classifier's reliability diagram with its
// ECE (Reliability), the histograms of an uncertainty score on
// in-distribution and out-of-distribution inputs (OODHistogram), training
// curves (Curves), and function samples on a 1-D grid, alone (Functions)
// or side by side in titled panels (FunctionPanels), as used to compare
// priors.
//
// Like the rest of stdlib it knows nothing of the language: the inputs are
// the slices that predictive.Predictive's Regression and Classification
// return and that package metric takes (probabilities N×K row-major,
// labels as float64 class indices, variances rather than standard
// deviations), and the ECE and AUROC it prints come from package metric.
// It draws with gonum.org/v1/plot.
//
// Conventions:
//   - Each function takes the output path, a struct of inputs and Labels
//     (title and axis labels, with defaults for empty axis labels), and
//     returns an error. It never panics: empty, mismatched or non-finite
//     inputs give an error wrapping ErrInput, and a path that does not end
//     in .svg or .png (in any letter case) one wrapping ErrFormat.
//   - The picture is rendered completely in memory, then written through
//     a temporary file in the destination directory (created if missing)
//     and renamed into place, so that a failed call leaves no file and
//     never damages an existing one.
//   - Output is deterministic: the same inputs give a byte-identical SVG.
//     Text is set in Liberation Sans, which gonum/plot embeds, so nothing
//     depends on the fonts installed; SVG files name the font (with
//     Arial, which has the same metrics, as fallback) rather than embed
//     it. PNGs are rendered at DPI dots per inch; each function documents
//     its size in inches.
//   - Legends sit in a column right of the plot, where they cannot hide
//     data, except in the reliability diagram, whose fixed [0, 1] axes
//     leave the top-left corner free.
package plot
