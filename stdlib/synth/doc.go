// Package synth draws synthetic data sets from priors over data sets, the
// training data of prior-fitted networks (docs/algorithms.md §9). It holds the
// ZEUS Gaussian-mixture prior: GMMPrior.Sample draws the number of
// clusters, the dimension and the cluster sizes, random SPD covariances,
// means pushed apart until every pair of components is at least a minimum
// squared 2-Wasserstein distance apart (gp.W2Squared, the closed form of
// §5), optional one-hot categorical features, and the points, then scales
// the continuous columns to [−1, 1]. The result is a Dataset: the matrix,
// integer cluster labels and the mixture that generated them.
//
// Dataset is defined here rather than reusing stdlib/data.Dataset, which
// describes a user's CSV (names, float targets, a standardisation flag):
// a synthetic draw has integer labels and generating parameters instead,
// and keeping the package independent of data lets either change freely.
// Converting is a few lines (X as is, Y[i] = float64(Labels[i])).
//
// Conventions: every random draw comes from the *rand.Rand (math/rand/v2)
// passed in, in a fixed order, so a seed reproduces a data set exactly; a
// zero field of a prior is its documented default; invalid settings and a
// failed separation are returned as errors prefixed "synth:", never
// panics. The package knows nothing of the language and imports only
// gonum and stdlib/gp.
package synth
