// Package dirichlet holds the Dirichlet numerics of evidential knowledge
// distillation (docs/algorithms.md §6): the log-density, the weighted negative
// log-likelihood of teacher samples with its gradient, the chain rule
// through the student's α = softplus(z) + 1, and the closed-form
// uncertainty decomposition of a Dirichlet prediction.
//
// # Loss
//
// A teacher gives, for one input, M probability vectors π^(m) ∈ Δ^{K−1}
// with weights w_m. The student predicts concentrations α ∈ R^K_{>0}, and
// the distillation loss is the weighted Dirichlet negative log-likelihood
//
//	L(α) = −Σ_m w_m log Dir(π^(m) | α)
//	     = −W·[log Γ(α0) − Σ_k log Γ(α_k)] − Σ_k (α_k − 1)·T_k,
//
// with α0 = Σ_k α_k, W = Σ_m w_m and T_k = Σ_m w_m log(π_k^(m) + Eps). It
// depends on the samples only through W and the K numbers T_k, so a
// trainer can summarise each input's teacher samples once (MeanLog, or
// AddLog for samples that arrive in chunks), keep N×K numbers, and
// evaluate the loss with NLLStats; NLL does the same from the samples in
// one call. The gradient is
//
//	∂L/∂α_k = −W·[ψ(α0) − ψ(α_k)] − T_k = −W·[ψ(α0) − ψ(α_k) + T_k/W],
//
// which is §6's −[ψ(α0) − ψ(α_k) + Σ_m w_m log π_k^(m)] when the weights
// sum to one. Alpha maps logits to α = softplus(z) + 1 and GradLogits
// applies ∂α_k/∂z_k = sigmoid(z_k). The guard Eps = 1e-8 inside the log is
// the reference code's; it is applied wherever samples are read (MeanLog,
// AddLog, NLL) and nowhere else: LogProb is the exact density.
//
// # Uncertainty
//
// For a prediction Dir(α) with mean p̂ = α/α0 (Malinin & Gales 2018):
//
//	total     = H[p̂]                         = −Σ_k p̂_k log p̂_k
//	aleatoric = E_{π~Dir(α)}[H(π)]           = Σ_k p̂_k [ψ(α0+1) − ψ(α_k+1)]
//	epistemic = I(y; π) = total − aleatoric  ≈ (K−1)/(2α0) for large α0.
//
// The epistemic part is computed as Σ_k p̂_k g(α_k) − g(α0) with
// g(x) = ψ(x+1) − log x, which is algebraically the difference above but
// keeps full relative precision when it is tiny (α0 in the millions), where
// total − aleatoric would cancel; aleatoric is then total − epistemic, so the
// three add up exactly. Uncertainty handles one α, UncertaintyBatch an
// N×K block without allocating, and Entropy is the differential entropy of
// Dir(α).
//
// Conventions: vectors are []float64 of length K; blocks of rows are flat
// row-major slices (S×K samples, N×K concentrations); outputs are
// dst-first. Mismatched lengths are programming errors and panic with a
// message prefixed "dirichlet:", as in gonum; a concentration that is not
// finite and positive gives NaN results rather than a panic. The package
// knows nothing of the language and imports only package num and the
// standard library.
package dirichlet
