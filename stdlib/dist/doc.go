// Package dist holds the scalar log-densities bayesl needs, with their
// derivatives in closed form, written in numerically stable forms. It knows
// nothing of the language: compile calls these inside its vectorised loops,
// infer calls the prior densities and the closed-form KL (docs/algorithms.md
// §7), predictive calls the observation models.
//
// Conventions: every function is scalar and allocation-free; scales are
// standard deviations, not variances; derivatives are returned next to the
// value so that a caller never differentiates numerically. The stable
// building blocks (softplus, log-sum-exp, ...) live in package num.
package dist
