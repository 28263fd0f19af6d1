// Package gp holds the Gaussian-process side of the GP-matched BNN priors
// of docs/algorithms.md §5: covariance kernels, GP function draws, and the
// 2-Wasserstein distance between Gaussian moment fits that the prior
// fitting minimises, with its gradient.
//
// Kernels follow gpytorch's conventions (r = ‖x − y‖₂, with Variance
// playing the role of a ScaleKernel outputscale): RBF, Matern12, Matern32,
// Matern52, Periodic (as gpytorch computes it; see its doc for how that
// differs from the textbook formula) and Linear, composed with Sum and
// Product. Kernels are plain structs; Validate reports hyperparameters that
// do not define a kernel, naming the parameter, and every function here
// validates before it computes. Matrix builds a kernel matrix, Root its
// jittered Cholesky factor (1e-6·I, growing tenfold on failure up to 1e-2),
// and Sample draws functions at given inputs.
//
// W2 between N(μ1, Σ1) and N(μ2, Σ2) comes in two forms. W2Squared is the
// closed form through symmetric eigendecompositions, the reference for
// tests and small problems. W2SquaredRoots works from covariance roots
// Σ = C·Cᵀ: the trace term is the nuclear norm ‖C1ᵀC2‖_* of an S1×S2
// matrix, so S function draws at n points never need an n×n square root;
// SampleRoot turns draws into such roots and Root gives one for an exact
// GP. W2SquaredRootsGrad adds the gradient with respect to C1 and μ1, which
// is what an optimiser of the prior scales needs (via the chain rule
// through the BNN draws). The §5 loss is W2²/n; the division by the number
// of points is left to the caller.
//
// Conventions: points are rows (X is n×d, draws are S×n, roots are n×S);
// a nil mean is the zero vector; every random draw takes an explicit
// *rand.Rand (math/rand/v2); shape mismatches, non-finite inputs and
// failed factorisations are returned as errors prefixed "gp:", never
// panics. The package knows nothing of the language and imports only
// gonum.
package gp
