package infer

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Problem is a model together with its training data, as a backend sees it.
// Func fields that are nil are capabilities the model does not offer.
type Problem struct {
	Dim     int             // length of the parameter vector θ
	N       int             // number of training examples
	Kind    predictive.Kind // regression or classification
	Classes int             // number of classes (classification)

	// Init writes a starting point for θ drawn with rng.
	Init func(theta []float64, rng *rand.Rand)

	// NegLogLik returns -Σ_{n ∈ idx} log p(y_n | x_n, θ) over the training rows
	// idx. When grad is non-nil it is overwritten with the gradient in θ.
	NegLogLik func(grad, theta []float64, idx []int) float64

	// NegLogPrior returns -log p(θ). When grad is non-nil the gradient is
	// ADDED to grad (so a caller can accumulate likelihood and prior).
	NegLogPrior func(grad, theta []float64) float64

	// PriorLoc and PriorScale are set when every prior is normal: coordinate j
	// of θ has prior N(PriorLoc[j], PriorScale[j]^2). Backends use them for a
	// closed-form KL; nil means "use a Monte-Carlo estimate".
	PriorLoc, PriorScale []float64

	// TargetNoise and ShiftTargets are the target-perturbation capability
	// of anchored ensembles. TargetNoise is the likelihood's noise scale
	// when the likelihood is normal with a scale the model fixes (not
	// learned, not a function of the inputs), in the units of the targets
	// NegLogLik sees; 0 otherwise. ShiftTargets returns an independent
	// Problem, as Fork's, over the same model and inputs whose training
	// target n is y_n + shift[n]. Nil when TargetNoise is 0.
	TargetNoise  float64
	ShiftTargets func(shift []float64) *Problem
	// NoiseScale writes into dst the scale of a normal likelihood at θ for
	// the training rows idx, when that scale is learned or a function of
	// the inputs (anchored ensembles perturb the location by it). Nil
	// otherwise.
	NoiseScale func(dst, theta []float64, idx []int)

	// VarNegLogLik is the local-reparameterisation capability (Kingma et al.
	// 2015). For a factorised Gaussian q(θ) = N(mu, diag(sigma^2)) it draws one
	// sample of the pre-activations of every dense layer per example (and one
	// sample of any other parameter), and returns -Σ_{n ∈ idx} log p(y_n | ...)
	// for that draw. gradMu and gradSigma are overwritten with the gradients in
	// mu and sigma. Nil when the model cannot offer it.
	VarNegLogLik func(gradMu, gradSigma, mu, sigma []float64, idx []int, rng *rand.Rand) float64

	// Predict fills out with the outputs of the model at inputs x for each of
	// the parameter vectors thetas (out.S == len(thetas), out.N == x rows).
	Predict func(out *predictive.Predictive, thetas [][]float64, x *mat.Dense)

	// Inputs are the training inputs as Predict takes them, row n the x_n
	// of NegLogLik's row n; nil when unknown. The samplers predict at them
	// to decide when their chains have mixed.
	Inputs *mat.Dense

	// GGNDiag is the curvature capability of the Laplace approximation. It
	// ADDS to dst (length Dim) the diagonal of the generalized Gauss–Newton
	// matrix Σ_{n ∈ idx} J_nᵀ Λ_n J_n at θ, where J_n is the Jacobian in θ
	// of the network outputs the likelihood reads (location and scale,
	// logits, log rate) and Λ_n the Fisher information of the likelihood in
	// those outputs (for a normal location, logits or a log rate, the
	// Hessian of -log p(y_n | outputs)). It does not include the prior.
	GGNDiag func(dst, theta []float64, idx []int)

	// LastLayer and LastLayerGGN are the last-layer curvature capability.
	// LastLayer lists the θ indices of the last dense layer's weights and
	// bias; LastLayerGGN ADDS to dst (len(LastLayer)², row-major, rows in
	// the order of LastLayer) the full GGN over those coordinates, with
	// every other coordinate of θ held fixed. Both are nil when the model
	// has no such layer.
	LastLayer    []int
	LastLayerGGN func(dst, theta []float64, idx []int)

	// GGN, KronLayers and KronFactors are the curvature capabilities of a
	// Laplace approximation over every parameter (hessian: full, kron).
	// GGN ADDS to the upper triangle (row ≤ column) of dst (Dim x Dim,
	// row-major) the GGN of the training rows idx at θ (as GGNDiag, every
	// entry); the lower triangle is not read or written. KronLayers lists the dense
	// layers; KronFactors ADDS, per layer l, Σ_n a_n a_nᵀ (In x In, a_n
	// the layer's input) to a[l] and Σ_n J_{s,n}ᵀ Λ_n J_{s,n} (Out x Out,
	// s_n the layer's output) to g[l]; a nil factor is skipped. Nil when
	// the model cannot offer them.
	GGN         func(dst, theta []float64, idx []int)
	KronLayers  []KronLayer
	KronFactors func(a, g [][]float64, theta []float64, idx []int)

	// Jacobian writes the Jacobian in θ of the network outputs (those of
	// Outputs) at the rows of x into dst: rows x OutputWidth x Dim,
	// row-major, dst[(r·OutputWidth + k)·Dim + j] = ∂f_rk/∂θ_j. The
	// linearised (GLM) predictive of a Laplace posterior needs it. Nil
	// when the model cannot offer it.
	Jacobian    func(dst, theta []float64, x *mat.Dense)
	OutputWidth int // columns of Outputs: classes, 1 for bernoulli and regression

	// LayerJacobians is the Jacobian of Jacobian in parts, for posteriors
	// whose covariance is per layer (kron, diag): per layer l of
	// KronLayers it writes the layer's input at each row of x into a[l]
	// (rows x In) and the Jacobian of the outputs in the layer's output
	// into js[l] (rows x OutputWidth x Out); the Jacobian in a weight
	// W[i, c] is a_i·js[k, c], in a bias js[k, c]. The Jacobian in the
	// coordinates RestParams lists (those outside dense layers) goes into
	// rest (rows x OutputWidth x len(RestParams)). Nil when the model
	// cannot offer it.
	LayerJacobians func(a, js [][]float64, rest []float64, theta []float64, x *mat.Dense)
	RestParams     []int

	// Tensors lists the parameter tensors (a layer's weight, its bias, a
	// param) as ranges of θ; per-layer prior precisions are tuned per
	// tensor. Nil means one group.
	Tensors []Tensor

	// Outputs and OutputGrad are the student capability of distillation
	// (Distill, Student). Outputs writes the network's raw outputs (a
	// classifier's logits) at the rows of x into dst (rows x Classes).
	// OutputGrad evaluates them at the training rows idx and calls loss
	// once with them (out, len(idx) x Classes, read only) and a zeroed dOut
	// of the same shape, into which loss writes the gradient of what it
	// returns; when grad is non-nil it is overwritten with that gradient in
	// θ. Both are nil when the model cannot offer them.
	Outputs    func(dst *mat.Dense, theta []float64, x *mat.Dense)
	OutputGrad func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64

	// DenseLayers and DropoutNegLogLik are the dropout capability of MC
	// dropout. DenseLayers lists the dense layers that act on the inputs
	// row by row, in evaluation order. DropoutNegLogLik is NegLogLik with
	// inverted dropout at rate on the inputs of the layers listed (indices
	// into DenseLayers): each row's input unit is kept with probability
	// 1-rate and scaled by 1/(1-rate), or zeroed, with masks drawn fresh per
	// row from rng. Both are nil when the model cannot offer them.
	DenseLayers      []DenseLayer
	DropoutNegLogLik func(grad, theta []float64, idx []int, rate float64, layers []int, rng *rand.Rand) float64

	// Fork returns an independent Problem over the same model and data with
	// its own workspaces, so chains and ensemble members can run concurrently.
	// Nil means the Problem must not be used from two goroutines.
	Fork func() *Problem
}

// Progress is one report from a running fit.
type Progress struct {
	Method  string
	Epoch   int // 1-based, the epoch just finished
	Epochs  int
	Loss    float64 // mean training objective over the epoch, per example
	Elapsed time.Duration
}

// Observer receives progress reports. Backends never print; the CLI draws a
// progress bar from these, an embedding program logs them, a test ignores
// them. A nil Observer is allowed.
type Observer func(Progress)

// Method is an inference backend with its settings.
type Method interface {
	// Name is the backend's name in the language, e.g. "map" or "vi".
	Name() string
	// Fit learns a posterior. It stops early with ctx.Err() when ctx is done
	// and returns a *DivergenceError when the objective stops being finite.
	Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error)
}

// Posterior is a learned distribution over the parameter vector.
type Posterior interface {
	// Method names the backend that learned it.
	Method() string
	// Dim is the length of the parameter vectors it draws.
	Dim() int
	// Draw returns parameter vectors for a Monte-Carlo predictive. A continuous
	// posterior returns s fresh draws; a finite one (a point, an ensemble, a
	// set of stored samples) returns its own vectors and may ignore s.
	Draw(s int, rng *rand.Rand) [][]float64
}

// A Warner is a posterior whose fit has something to warn its user about
// (NUTS's divergent transitions); Warning returns "" when all is well.
// Front ends print it with the fit's summary.
type Warner interface {
	Warning() string
}

// EpochCapper is implemented by methods whose length is counted in epochs.
// CapEpochs returns a copy that runs at most n epochs (n > 0); a composite
// method (an ensemble) caps its members. Quick test runs use it.
type EpochCapper interface {
	CapEpochs(n int) Method
}

// CapEpochs caps m's epochs at n when m counts epochs; otherwise it returns m.
func CapEpochs(m Method, n int) Method {
	if c, ok := m.(EpochCapper); ok && n > 0 {
		return c.CapEpochs(n)
	}
	return m
}

// KronLayer is a dense layer of θ: its weight, an In x Out row-major block
// at WOff, and its bias, Out values at BOff (-1 without one).
type KronLayer struct {
	In, Out    int
	WOff, BOff int
}

// Tensor is a named range of θ: one parameter tensor of the model.
type Tensor struct {
	Name      string
	Off, Size int
}
