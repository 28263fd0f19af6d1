package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Laplace is the Laplace approximation around a MAP fit, in the sense of
// laplace-torch (Daxberger et al. 2021; docs/algorithms.md §12): the posterior
// is the Gaussian N(θ_MAP, H⁻¹) whose precision H is the curvature of the
// negative log joint at the mode. It returns a *LaplacePosterior. Training
// is a point fit, and the uncertainty comes afterwards from one pass of
// curvature over the data. The zero value is ready to use.
//
// The curvature is the generalized Gauss–Newton matrix (GGN) of the
// likelihood, G = Σ_n J_nᵀ Λ_n J_n with J_n the Jacobian of the network
// outputs and Λ_n the Fisher information of the likelihood in them, plus
// the prior's precision: H = G + P. Subset chooses the parameters that
// vary: "all" (default) or "last_layer" (the last dense layer's weights
// and bias, every other parameter fixed at the MAP). Hessian chooses the
// structure of G over them:
//
//   - "full": the dense GGN (Problem.GGN, or Problem.LastLayerGGN for the
//     last layer); over every parameter only for small networks (at most
//     maxFullLaplace parameters).
//   - "kron": K-FAC per dense layer (Martens & Grosse 2015), the exact-GGN
//     factors of laplace-torch's KronLaplace, eigendecomposed: the weight
//     block is (A/N) ⊗ G with A = Σ a aᵀ of the layer's inputs and
//     G = Σ J_sᵀ Λ J_s of its outputs, the bias block G; parameters
//     outside dense layers get the diagonal.
//   - "diag": the diagonal of the GGN (Problem.GGNDiag), mean-field.
//
// The default is "full" for small networks (fullDefaultLaplace,
// fullDefaultWork) and "kron" above; "last_layer" as a hessian, the
// spelling of earlier versions, is subset: last_layer with hessian: full.
//
// The prior precision is P = τ·P₀ with P₀ the model's own per-coordinate
// prior precision 1/scale² (Problem.PriorScale). With normal priors the
// default is τ = 1: the Laplace approximation of the posterior of the
// model as written (PriorTuning "model"). PriorTuning "optimize" tunes one
// τ by the Laplace marginal likelihood (the model's layers keep their
// relative scales; without normal priors P₀ = I and this is the default),
// "optimize_layers" one τ per parameter tensor (MacKay's fixed point), and
// PriorPrecision > 0 fixes τ. The mean stays at θ_MAP, as in
// laplace-torch: changing τ does not refit.
//
// Predictive "glm" (default for subset all) is the linearised predictive
// f(x, θ) ≈ f(x, θ_MAP) + J(x)(θ − θ_MAP): Gaussian outputs with mean the
// MAP network's and covariance J Σ Jᵀ, drawn in output space (see
// LaplacePosterior.PredictOutputs). "nn" runs the network at parameter
// draws, which over every weight underfits (Immer et al. 2021); over the
// last layer the two coincide, and "nn" is the default there because it
// needs no Jacobian.
type Laplace struct {
	Subset     string `bl:"subset,oneof=all|last_layer"`
	Hessian    string `bl:"hessian,oneof=full|kron|diag|last_layer"`
	Predictive string `bl:"predictive,oneof=glm|nn"`
	// LinkApprox is how a classifier's GLM predictive turns the Gaussian
	// logits into probabilities: "mc" (default; draws of the logits, as
	// laplace-torch's link_approx='mc') or "probit" (MacKay's closed form,
	// one draw holding the probabilities; no epistemic split).
	LinkApprox string `bl:"link_approx,oneof=mc|probit"`

	// PriorTuning is "model", "optimize" or "optimize_layers"; "" is model
	// with normal priors and optimize without. PriorPrecision > 0 fixes τ
	// instead; τ = 1 is the prior the MAP fit used.
	PriorTuning    string  `bl:"prior_tuning,oneof=model|optimize|optimize_layers"`
	PriorPrecision float64 `bl:"prior_precision,pos"`

	// The settings of the inner MAP fit when Method is nil; see MAP.
	// Epochs 0 is MAP's 200, or enough for laplaceMinSteps steps on
	// small data; Batch 0 is the whole training set up to
	// laplaceFullBatch rows, MAP's 128 above.
	Epochs int     `bl:"epochs,pos"`
	LR     float64 `bl:"lr,pos"`
	Batch  int     `bl:"batch,pos"`

	// Method finds the mode; nil means MAP{Epochs, LR, Batch}. A script
	// sets it with method: map(...), and then not Epochs, LR or Batch.
	Method PointMethod
}

var (
	_ Method      = (*Laplace)(nil)
	_ EpochCapper = (*Laplace)(nil)
)

// Name returns "laplace".
func (Laplace) Name() string { return "laplace" }

// Subsets, Hessian structures, predictives, link approximations and
// prior-precision modes.
const (
	subsetAll       = "all"
	subsetLastLayer = "last_layer"
	hessFull        = "full"
	hessKron        = "kron"
	hessDiag        = "diag"
	hessLastLayer   = "last_layer" // earlier spelling of subset last_layer, hessian full
	predGLM         = "glm"
	predNN          = "nn"
	linkMC          = "mc"
	linkProbit      = "probit"
	priorModel      = "model"
	priorOptimize   = "optimize"
	priorLayers     = "optimize_layers"
)

// laplaceChunk is the number of rows per curvature call.
const laplaceChunk = 128

// laplaceLastChunk is the number of rows per last-layer curvature call:
// each call adds its blocks into the whole k x k matrix, so larger calls
// scatter into it less often (128 rows made the scatter 60% of the
// curvature on digits); its workspace is a few MB at most.
const laplaceLastChunk = 2048

// maxLastLayer bounds the parameters of a last-layer approximation: its
// k x k precision takes 8k² bytes (128 MiB at the bound) and tuning τ needs
// its eigenvalues, about (4/3)k³ flops.
const maxLastLayer = 4096

// maxFullLaplace bounds hessian: full over every parameter, for the same
// reason; the GGN itself costs N·Dim² per column of Λ's factor.
const maxFullLaplace = 4096

// The default structure over every parameter is full while the network
// has at most fullDefaultLaplace parameters and the GGN costs at most
// fullDefaultWork multiply-adds (N·outputs·Dim²: 1.4e6 on the fidelity
// suite's iris, 6e10 and 11 s on digits with 30 hidden units, where kron
// takes 0.2 s); kron above. On the suite full is the faithful one (every
// case in the pass bands) and kron is up to 2.3x too wide on the
// two-hidden-layer regression.
const (
	fullDefaultLaplace = 2000
	fullDefaultWork    = 1e10
)

// Bounds of the tuned prior-precision multiplier τ.
const (
	minPriorPrecision = 1e-8
	maxPriorPrecision = 1e8
)

func (l Laplace) withDefaults() Laplace {
	if l.Method == nil {
		l.Method = &MAP{Epochs: l.Epochs, LR: l.LR, Batch: l.Batch}
		l.Epochs, l.LR, l.Batch = 0, 0, 0
	}
	return l
}

// CapEpochs returns a copy whose MAP fit runs at most n epochs.
func (l Laplace) CapEpochs(n int) Method {
	l = l.withDefaults()
	if c, ok := CapEpochs(l.Method, n).(PointMethod); ok {
		l.Method = c
	}
	return &l
}

// laplaceMinSteps is the fewest optimiser steps of the default inner MAP
// fit. A Laplace approximation is only as good as its mode: MAP's default
// 200 epochs are 200 steps on 105 rows, which left the fidelity suite's
// small nets short of it (mcycle's test NLL 3.2% above the exact
// posterior's; 0.7% after 2000 steps, and no better after 5000).
const laplaceMinSteps = 2000

// laplaceFullBatch is the largest training set on which the default inner
// fit takes full-batch steps. Minibatch Adam at a constant rate jitters
// around the mode instead of reaching it, and the Laplace approximation
// is of the mode: on breast_cancer (398 rows) batches of 128 left the
// agreement with the exact posterior at 0.994 and the TV at 0.014, full
// batches 1 and 0.011.
const laplaceFullBatch = 1024

// laplaceEpochs is the default inner fit's length: MAP's 200 epochs, or
// more on small data so that it takes at least laplaceMinSteps steps.
func laplaceEpochs(n, batch int) int {
	if batch <= 0 {
		batch = MAP{}.withDefaults().Batch
	}
	steps := max(1, (n+batch-1)/batch)
	return max(MAP{}.withDefaults().Epochs, (laplaceMinSteps+steps-1)/steps)
}

// laplaceSpec is a Laplace's settings resolved against a Problem.
type laplaceSpec struct {
	subset, hessian, predictive, link, prior string
	tau                                      float64 // fixed τ; 0 with prior optimize or optimize_layers
}

// resolve fills the defaults that depend on the problem and checks that
// the problem offers what the settings need.
func (l Laplace) resolve(p *Problem) (laplaceSpec, error) {
	s := laplaceSpec{subset: l.Subset, hessian: l.Hessian, predictive: l.Predictive, link: l.LinkApprox, prior: l.PriorTuning, tau: l.PriorPrecision}
	if s.hessian == hessLastLayer {
		if s.subset == subsetAll {
			return s, &SettingError{-1, "hessian: last_layer is subset: last_layer with hessian: full; it cannot go with subset: all"}
		}
		s.subset, s.hessian = subsetLastLayer, hessFull
	}
	if s.subset == "" {
		s.subset = subsetAll
	}
	hasKron := p.KronFactors != nil && len(p.KronLayers) > 0
	if s.hessian == "" {
		switch {
		case s.subset == subsetLastLayer:
			s.hessian = hessFull
		case p.GGN != nil && p.Dim <= fullDefaultLaplace && float64(p.N)*float64(max(1, p.OutputWidth))*float64(p.Dim)*float64(p.Dim) <= fullDefaultWork:
			s.hessian = hessFull
		case hasKron:
			s.hessian = hessKron
		default:
			s.hessian = hessDiag
		}
	}
	glmOK := p.Jacobian != nil && p.Outputs != nil && p.OutputWidth > 0
	if s.predictive == "" {
		s.predictive = predNN
		if s.subset == subsetAll && glmOK {
			s.predictive = predGLM
		}
	}
	if s.predictive == predGLM && !glmOK {
		return s, fmt.Errorf("laplace: predictive glm needs the Jacobian of the model's outputs (Problem.Jacobian), which this model does not offer: use predictive: nn")
	}
	if s.link == "" {
		s.link = linkMC
	}
	if s.tau > 0 {
		if s.prior != "" {
			return s, &SettingError{-1, "prior_precision is either a number or one of model, optimize, optimize_layers, not both"}
		}
		s.prior = ""
	} else {
		if s.prior == "" {
			s.prior = priorOptimize
			if p.PriorScale != nil {
				s.prior = priorModel
			}
		}
		if s.prior == priorModel {
			if p.PriorScale == nil {
				return s, fmt.Errorf("laplace: prior_precision: model needs normal priors on every parameter; use prior_precision: optimize or a number")
			}
			s.tau = 1
		}
	}
	switch {
	case s.subset == subsetLastLayer:
		if p.LastLayerGGN == nil || len(p.LastLayer) == 0 {
			return s, fmt.Errorf("laplace: subset last_layer needs a model whose output comes from a dense layer over its inputs (Problem.LastLayer)")
		}
		if k := len(p.LastLayer); s.hessian == hessFull && k > maxLastLayer {
			return s, fmt.Errorf("laplace: the last layer has %d parameters; its %d x %d precision matrix would need %d MiB (at most %d parameters): use hessian: kron or diag",
				k, k, k, k*k*8>>20, maxLastLayer)
		}
		seen := make(map[int]bool, len(p.LastLayer))
		for _, j := range p.LastLayer {
			if j < 0 || j >= p.Dim || seen[j] {
				return s, fmt.Errorf("laplace: last-layer index %d is out of range or repeated", j)
			}
			seen[j] = true
		}
		if s.hessian == hessKron && lastKronLayer(p) < 0 {
			return s, fmt.Errorf("laplace: hessian kron over the last layer needs its Kronecker factors (Problem.KronLayers)")
		}
	case s.hessian == hessFull:
		if p.GGN == nil {
			return s, fmt.Errorf("laplace: hessian full over every parameter needs the model's full Gauss-Newton matrix (Problem.GGN): use subset: last_layer or hessian: diag")
		}
		if p.Dim > maxFullLaplace {
			return s, fmt.Errorf("laplace: hessian full over all %d parameters would need a %d x %d matrix (%d MiB; at most %d parameters): use hessian: kron, or subset: last_layer",
				p.Dim, p.Dim, p.Dim, p.Dim*p.Dim*8>>20, maxFullLaplace)
		}
	case s.hessian == hessKron:
		if !hasKron {
			return s, fmt.Errorf("laplace: hessian kron needs dense layers and their Kronecker factors (Problem.KronFactors): use hessian: diag")
		}
	}
	if s.hessian == hessDiag && p.GGNDiag == nil {
		return s, fmt.Errorf("laplace: the model offers no Gauss-Newton curvature (Problem.GGNDiag)")
	}
	if s.hessian == hessKron && p.GGNDiag == nil && s.subset == subsetAll {
		return s, fmt.Errorf("laplace: hessian kron needs the GGN diagonal for the parameters outside dense layers (Problem.GGNDiag)")
	}
	return s, nil
}

// lastKronLayer is the index in p.KronLayers of the last layer, or -1.
func lastKronLayer(p *Problem) int {
	if len(p.LastLayer) == 0 {
		return -1
	}
	for i, l := range p.KronLayers {
		if l.WOff == p.LastLayer[0] {
			return i
		}
	}
	return -1
}

// Fit finds the mode with the inner method (its progress is reported under
// the name "laplace"), then computes the curvature over all N training rows
// in chunks, sets or tunes the prior precision and returns the Gaussian.
// It fails when the Problem lacks the capability the settings need, when
// the inner fit fails (a *DivergenceError passes through), or when the
// curvature is not finite.
func (l Laplace) Fit(ctx context.Context, p *Problem, rng *rand.Rand, obs Observer) (Posterior, error) {
	if err := checkSettings(l); err != nil {
		return nil, fmt.Errorf("laplace: %w", err)
	}
	if math.IsInf(l.PriorPrecision, 0) {
		return nil, fmt.Errorf("laplace: %w", &SettingError{-1, "prior_precision must be finite"})
	}
	if l.Method != nil && (l.Epochs != 0 || l.LR != 0 || l.Batch != 0) {
		return nil, fmt.Errorf("laplace: %w", &SettingError{-1, "epochs, lr and batch configure the inner map fit; with Method set, set them there"})
	}
	if err := checkProblem("laplace", p); err != nil {
		return nil, err
	}
	spec, err := l.resolve(p)
	if err != nil {
		var se *SettingError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("laplace: %w", err)
		}
		return nil, err
	}
	if l.Method == nil && l.Batch == 0 && p.N <= laplaceFullBatch {
		l.Batch = max(1, p.N)
	}
	if l.Method == nil && l.Epochs == 0 {
		l.Epochs = laplaceEpochs(p.N, l.Batch)
	}
	l = l.withDefaults()
	if rng == nil {
		return nil, fmt.Errorf("laplace: %w", errNilRNG)
	}
	var inner Observer
	if obs != nil {
		inner = func(pr Progress) {
			pr.Method = "laplace"
			obs(pr)
		}
	}
	pt, err := l.Method.FitPoint(ctx, p, rng, inner)
	if err != nil {
		var div *DivergenceError
		if errors.As(err, &div) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("laplace: %w", err)
	}
	if len(pt.Theta) != p.Dim {
		return nil, fmt.Errorf("laplace: %s returned %d parameters, want %d", l.Method.Name(), len(pt.Theta), p.Dim)
	}
	return laplaceAt(ctx, p, pt.Theta, spec)
}

// tunePriorPrecision returns the τ in [minPriorPrecision, maxPriorPrecision]
// that maximises −½τq − ½ Σ log(1 + λ_i/τ): the root in log τ of the
// decreasing function γ(τ) − τq, γ = Σ λ_i/(λ_i+τ), by bisection to
// rounding. With no curvature the optimum is the lower bound; with θ at the
// prior mean (q = 0), the upper.
func tunePriorPrecision(lam []float64, q float64) float64 {
	f := func(s float64) float64 {
		tau := math.Exp(s)
		g := 0.0
		for _, v := range lam {
			g += v / (v + tau)
		}
		return g - tau*q
	}
	lo, hi := math.Log(minPriorPrecision), math.Log(maxPriorPrecision)
	switch {
	case f(lo) <= 0:
		return minPriorPrecision
	case f(hi) >= 0:
		return maxPriorPrecision
	}
	for range 200 {
		mid := 0.5 * (lo + hi)
		if mid == lo || mid == hi {
			break
		}
		if f(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Exp(0.5 * (lo + hi))
}

// laplaceArgs are the script settings of laplace. prior_precision: model,
// optimize or optimize_layers never reaches ParseSettings.
type laplaceArgs struct {
	Subset         string  `bl:"subset,oneof=all|last_layer"`
	Hessian        string  `bl:"hessian,oneof=full|kron|diag|last_layer"`
	Predictive     string  `bl:"predictive,oneof=glm|nn"`
	LinkApprox     string  `bl:"link_approx,oneof=mc|probit"`
	PriorPrecision float64 `bl:"prior_precision,pos"`
	Epochs         int     `bl:"epochs,pos"`
	LR             float64 `bl:"lr,pos"`
	Batch          int     `bl:"batch,pos"`
	Method         *Call   `bl:"method"`
}

func (laplaceArgs) Name() string { return "laplace" }

// laplacePriorModes are the words prior_precision takes besides a number.
var laplacePriorModes = []string{priorModel, priorOptimize, priorLayers}

// buildLaplace is the registry constructor of "laplace"; a nested method is
// built through r.
func (r Registry) buildLaplace(args []Arg) (Method, error) {
	rest := make([]Arg, 0, len(args))
	orig := make([]int, 0, len(args))
	pp, mode := -1, ""
	for i, a := range args {
		if a.Name == "prior_precision" {
			if pp >= 0 {
				return nil, &SettingError{i, "prior_precision is set twice"}
			}
			pp = i
			if a.Call != nil || (a.IsStr && !slices.Contains(laplacePriorModes, a.Str)) {
				return nil, &SettingError{i, "prior_precision must be a positive number or one of " + quoteAll(laplacePriorModes) + ", got " + a.String()}
			}
			if a.IsStr {
				mode = a.Str
				continue
			}
		}
		rest = append(rest, a)
		orig = append(orig, i)
	}
	var s laplaceArgs
	if err := ParseSettings(&s, rest); err != nil {
		var se *SettingError
		if errors.As(err, &se) && se.Index >= 0 && se.Index < len(orig) {
			se.Index = orig[se.Index]
		}
		return nil, err
	}
	if s.Hessian == hessLastLayer && s.Subset == subsetAll {
		return nil, &SettingError{settingIndex(args, "subset"), "hessian: last_layer is subset: last_layer with hessian: full; it cannot go with subset: all"}
	}
	l := &Laplace{Subset: s.Subset, Hessian: s.Hessian, Predictive: s.Predictive, LinkApprox: s.LinkApprox,
		PriorTuning: mode, PriorPrecision: s.PriorPrecision, Epochs: s.Epochs, LR: s.LR, Batch: s.Batch}
	if s.Method != nil {
		for _, name := range []string{"epochs", "lr", "batch"} {
			if j := settingIndex(args, name); j >= 0 {
				return nil, &SettingError{j, fmt.Sprintf("%s belongs to the inner fit: with method: set, write it there, as in method: %s(%s: ...)", name, s.Method.Name, name)}
			}
		}
		pm, err := r.nestedPoint("laplace", s.Method, settingIndex(args, "method"))
		if err != nil {
			return nil, err
		}
		l.Method = pm
	}
	return l, nil
}
