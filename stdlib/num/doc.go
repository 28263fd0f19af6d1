// Package num holds the scalar and slice numerics every other stdlib package
// builds on (docs/algorithms.md §0): log-sum-exp and its relatives, the
// softplus/sigmoid pair, x·log x, and the gamma-function helpers.
//
// Each function is written in the numerically stable form, not the textbook
// one, because the inputs it sees are log-densities and logits whose
// magnitudes routinely reach the hundreds: exp(1000) overflows, log(1+e^-800)
// underflows to 0, and 1-e^-y cancels for small y. Keeping those forms in one
// place means the densities in dist, the summaries in predictive and the
// metrics all agree to the last bit.
//
// The package knows nothing of the language and imports only the standard
// library and gonum's mathext.
package num
