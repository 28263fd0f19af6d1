// Package predictive holds the Monte-Carlo posterior predictive: the
// per-sample outputs of S parameter draws, from which every uncertainty
// summary is derived (docs/algorithms.md §1).
//
// An inference backend fills a Predictive with the outputs of S draws at N
// inputs; everything downstream (the decomposition into aleatoric and
// epistemic uncertainty, the log predictive density, the mixture CDF used
// for interval coverage) is computed here from that one tensor, so every
// backend is summarised the same way. The package also owns the regression
// observation models (Normal, StudentT, Poisson) that turn a network's
// location and scale outputs into densities, moments and CDFs.
//
// Classification summaries average probabilities across samples, never
// logits. A network that predicts a Dirichlet over the class probabilities
// (a distilled student) needs no draws: SetDirichlet stores its
// concentrations and the summaries come in closed form from one forward
// pass. Regression summaries use the 1/S normaliser so that the total
// predictive variance is exactly aleatoric + epistemic.
//
// Calling a regression summary on a classification Predictive (or the
// reverse), or passing slices whose lengths do not match S, N and K, is a
// programming error and panics with a message prefixed "predictive:", as
// gonum does for mismatched dimensions. With S = 0 every per-example value
// is NaN; with N = 0 the results are empty.
package predictive
