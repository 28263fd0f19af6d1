// Package metric holds the evaluation metrics of docs/algorithms.md §2:
// regression error (RMSE, MAE), predictive log-likelihood (NLL), interval
// coverage, and for classifiers accuracy, calibration (ECE), Brier score,
// out-of-distribution AUROC and the 1-D Wasserstein distance between two
// sets of uncertainty scores.
//
// Every function takes plain slices and knows nothing of the language or of
// how the predictions were made: class probabilities are the row-major N×K
// averaged predictive probabilities (predictive.Predictive.Classification),
// labels are class indices stored as float64, and log-likelihoods and CDF
// values come from predictive.Predictive.LogLik and CDF. Keeping metrics on
// plain slices lets them be tested against hand-computed values and
// reference implementations without building a model.
//
// Conventions:
//   - An empty input returns NaN (a mean over nothing), never a panic.
//   - Mismatched slice lengths, and labels that are not integers in [0, K),
//     are programming errors and panic with a message prefixed "metric:",
//     as gonum's floats package does.
//   - Argmax ties go to the lowest class index.
package metric
