// Package infer holds bayesl's inference backends behind one seam. A backend
// sees a model only as a Problem (a flat parameter vector, minibatch
// log-likelihood and log-prior with gradients, and optional capabilities);
// it never imports the compiler or the language. Every backend returns a
// Posterior that draws parameter vectors, and Predict turns draws into a
// predictive.Predictive.
//
// This is the stage after compile: lang builds a Problem from a compiled
// model and its data, picks a Method from a Registry by the name written in
// the script (fit net on train using vi(epochs: 300)), and keeps the
// Posterior for prediction, evaluation and saving.
//
// # Backends
//
//   - MAP ("map"): minibatch gradient descent on NegLogLik/B + NegLogPrior/N;
//     a *Point posterior.
//   - VI ("vi"): mean-field Gaussian Bayes by Backprop with the local
//     reparameterisation trick when the Problem offers VarNegLogLik; a
//     *Gaussian posterior.
//   - SWAG ("swag"): SGD on the MAP objective with the SWA learning-rate
//     schedule, fitting a Gaussian (diagonal plus low rank) to the iterates
//     it collects; a *SWAGPosterior.
//   - MultiSWAG ("multiswag"): independent SWAG members run concurrently;
//     their equal-weight mixture, a *MultiSWAGPosterior.
//   - Ensemble ("ensemble"): independent fits of a point method (map by
//     default, method: map(...)) run concurrently; the set of their
//     vectors, a *Points.
//   - Laplace ("laplace"): a Gaussian around a MAP fit with the
//     Gauss-Newton curvature (diagonal, or full over the last dense layer,
//     from the GGNDiag and LastLayerGGN capabilities) and a prior precision
//     tuned by the marginal likelihood; a *LaplacePosterior.
//   - SG-MCMC ("sgld", "psgld", "csgmcmc"): stochastic gradient Langevin
//     dynamics, its RMSprop-preconditioned form and its cyclical-step form,
//     several chains run concurrently; the states they visit, a *Samples,
//     whose convergence Diagnose checks in function space (R̂, ESS).
//   - NUTS ("nuts"): the No-U-Turn Sampler with full-data gradients and
//     Stan's warmup (dual-averaged step size, diagonal mass matrix), the
//     exact-posterior reference for small models; a *NUTSSamples (a
//     *Samples with the count of divergent transitions).
//
// # Distillation
//
// Distill (NewDistill("dirichlet" | "softmax", args)) trains one network,
// the student, to stand in for a classification posterior, the teacher
// (docs/algorithms.md §6). It is a Method over the student's Problem, which must
// offer the OutputGrad capability; it streams the teacher's draws through
// the teacher's Problem.Predict in bounded row chunks, reduces them to N x K
// statistics, and fits the student by Adam with early stopping on the
// training loss. The result, a *Student, is a DirectPredictor: Predict asks
// it for its predictive, one forward pass through Problem.Outputs, in closed
// form (a Dirichlet over the class probabilities, or softmax
// probabilities) instead of averaging draws. Students are not in the
// Registry: `fit` cannot name them.
//
// Each backend is a settings struct whose zero value means its documented
// defaults, with struct tags naming the settings as a script spells them.
// Builtins returns a fresh Registry; ParseSettings (and Build, which wraps
// it) turns script arguments into a settings struct, reporting a bad one as
// a *SettingError that points at the argument. A new backend is one file
// with one struct and one Registry entry, "name": Build[T].
//
// # Fitting
//
// Gradient backends share one driver: each epoch shuffles the rows with
// the caller's *rand.Rand, steps through minibatches, checks the context
// before every step, and reports the mean per-example objective to the
// Observer after every epoch. A NaN or infinite objective or gradient stops
// the fit with a *DivergenceError naming the epoch and step. Optimisers
// (Adam, heavy-ball SGD) update the parameters in place; a step allocates
// nothing. The same seed gives the same posterior, bit for bit.
//
// # Saving
//
// Encode, Decode, WriteFile and ReadFile store a posterior in a versioned,
// checksummed binary file together with an opaque metadata blob (lang keeps
// the model source and data scalers there). A posterior kind that can be
// saved implements Saver and registers a Decoder under its Kind in
// BuiltinDecoders. WriteFile replaces a file atomically; damaged, truncated,
// foreign or newer files give a *FormatError (errors.Is ErrChecksum,
// ErrTruncated, ErrNotPosterior, ErrVersion, ...).
//
// The package infertest holds conjugate test problems with exact posteriors
// and a conformance check every backend runs.
package infer
