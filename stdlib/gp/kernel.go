package gp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Kernel is a positive semi-definite covariance function k(x, y) on points
// of R^d. Eval must be symmetric in its arguments and must not modify them;
// x and y have the same length. Validate reports hyperparameters that do not
// define a kernel (a lengthscale of 0, a negative variance, a NaN) with a
// message naming the kernel and the parameter; every function of this
// package that takes a Kernel calls it first.
type Kernel interface {
	Eval(x, y []float64) float64
	Validate() error
}

// Compile-time checks that every kernel of the package is a Kernel.
var (
	_ Kernel = RBF{}
	_ Kernel = Matern12{}
	_ Kernel = Matern32{}
	_ Kernel = Matern52{}
	_ Kernel = Periodic{}
	_ Kernel = Linear{}
	_ Kernel = Sum{}
	_ Kernel = Product{}
)

// RBF is the squared-exponential kernel
//
//	k(x, y) = Variance · exp(−r²/(2·Lengthscale²)),  r = ‖x − y‖₂,
//
// gpytorch's ScaleKernel(RBFKernel()) with outputscale Variance.
type RBF struct {
	Lengthscale float64 // ℓ > 0
	Variance    float64 // σ² > 0, the prior variance k(x, x)
}

// Eval returns k(x, y).
func (k RBF) Eval(x, y []float64) float64 {
	r2 := sqDist(x, y)
	return k.Variance * math.Exp(-r2/(2*k.Lengthscale*k.Lengthscale))
}

// Validate reports a non-positive or non-finite hyperparameter.
func (k RBF) Validate() error {
	return positive("rbf", "lengthscale", k.Lengthscale, "variance", k.Variance)
}

func (k RBF) String() string {
	return "rbf(lengthscale=" + ftoa(k.Lengthscale) + ", variance=" + ftoa(k.Variance) + ")"
}

// Matern12 is the Matérn kernel with ν = 1/2 (the exponential kernel)
//
//	k(x, y) = Variance · exp(−r/Lengthscale),
//
// gpytorch's ScaleKernel(MaternKernel(nu=0.5)).
type Matern12 struct {
	Lengthscale float64 // ℓ > 0
	Variance    float64 // σ² > 0
}

// Eval returns k(x, y).
func (k Matern12) Eval(x, y []float64) float64 {
	r := math.Sqrt(sqDist(x, y)) / k.Lengthscale
	return k.Variance * math.Exp(-r)
}

// Validate reports a non-positive or non-finite hyperparameter.
func (k Matern12) Validate() error {
	return positive("matern12", "lengthscale", k.Lengthscale, "variance", k.Variance)
}

func (k Matern12) String() string {
	return "matern12(lengthscale=" + ftoa(k.Lengthscale) + ", variance=" + ftoa(k.Variance) + ")"
}

// Matern32 is the Matérn kernel with ν = 3/2
//
//	k(x, y) = Variance · (1 + √3·r/ℓ) · exp(−√3·r/ℓ),
//
// gpytorch's ScaleKernel(MaternKernel(nu=1.5)).
type Matern32 struct {
	Lengthscale float64 // ℓ > 0
	Variance    float64 // σ² > 0
}

// Eval returns k(x, y).
func (k Matern32) Eval(x, y []float64) float64 {
	s := math.Sqrt(3) * math.Sqrt(sqDist(x, y)) / k.Lengthscale
	return k.Variance * (1 + s) * math.Exp(-s)
}

// Validate reports a non-positive or non-finite hyperparameter.
func (k Matern32) Validate() error {
	return positive("matern32", "lengthscale", k.Lengthscale, "variance", k.Variance)
}

func (k Matern32) String() string {
	return "matern32(lengthscale=" + ftoa(k.Lengthscale) + ", variance=" + ftoa(k.Variance) + ")"
}

// Matern52 is the Matérn kernel with ν = 5/2
//
//	k(x, y) = Variance · (1 + √5·r/ℓ + 5r²/(3ℓ²)) · exp(−√5·r/ℓ),
//
// gpytorch's ScaleKernel(MaternKernel(nu=2.5)), the default target of the
// GP-matched priors (docs/algorithms.md §5, ℓ = 1).
type Matern52 struct {
	Lengthscale float64 // ℓ > 0
	Variance    float64 // σ² > 0
}

// Eval returns k(x, y).
func (k Matern52) Eval(x, y []float64) float64 {
	s := math.Sqrt(5) * math.Sqrt(sqDist(x, y)) / k.Lengthscale
	return k.Variance * (1 + s + s*s/3) * math.Exp(-s)
}

// Validate reports a non-positive or non-finite hyperparameter.
func (k Matern52) Validate() error {
	return positive("matern52", "lengthscale", k.Lengthscale, "variance", k.Variance)
}

func (k Matern52) String() string {
	return "matern52(lengthscale=" + ftoa(k.Lengthscale) + ", variance=" + ftoa(k.Variance) + ")"
}

// Periodic is gpytorch's periodic kernel (ScaleKernel(PeriodicKernel()))
//
//	k(x, y) = Variance · exp(−2 Σ_d sin²(π·(x_d − y_d)/Period) / Lengthscale).
//
// This is what gpytorch computes, and it differs from the textbook form
// exp(−2 sin²(π‖x−y‖/p)/ℓ²) quoted in docs/algorithms.md §5 (and in old gpytorch
// docstrings) in two ways: the lengthscale divides unsquared, and the
// sine is taken per input dimension and summed. In one dimension the two
// agree exactly when ℓ = 1; otherwise the textbook ℓ corresponds to
// Lengthscale = ℓ².
type Periodic struct {
	Lengthscale float64 // ℓ > 0 (gpytorch's lengthscale, not squared)
	Period      float64 // p > 0
	Variance    float64 // σ² > 0
}

// Eval returns k(x, y).
func (k Periodic) Eval(x, y []float64) float64 {
	var s float64
	for i := range x {
		v := math.Sin(math.Pi * (x[i] - y[i]) / k.Period)
		s += v * v
	}
	return k.Variance * math.Exp(-2*s/k.Lengthscale)
}

// Validate reports a non-positive or non-finite hyperparameter.
func (k Periodic) Validate() error {
	return positive("periodic", "lengthscale", k.Lengthscale, "period", k.Period, "variance", k.Variance)
}

func (k Periodic) String() string {
	return "periodic(lengthscale=" + ftoa(k.Lengthscale) + ", period=" + ftoa(k.Period) +
		", variance=" + ftoa(k.Variance) + ")"
}

// Linear is the dot-product kernel
//
//	k(x, y) = Variance · xᵀy + Offset.
//
// With Offset = 0 it is gpytorch's LinearKernel; Offset adds the prior
// variance of a constant (scikit-learn's DotProduct σ₀²). Its matrices have
// rank at most d+1, so sampling it at more points than that relies on the
// jitter of Root.
type Linear struct {
	Variance float64 // > 0
	Offset   float64 // ≥ 0
}

// Eval returns k(x, y).
func (k Linear) Eval(x, y []float64) float64 {
	var s float64
	for i := range x {
		s += x[i] * y[i]
	}
	return k.Variance*s + k.Offset
}

// Validate reports a non-positive variance or a negative offset.
func (k Linear) Validate() error {
	if err := positive("linear", "variance", k.Variance); err != nil {
		return err
	}
	if !(k.Offset >= 0) || math.IsInf(k.Offset, 1) {
		return fmt.Errorf("linear: offset must be finite and non-negative, got %v", k.Offset)
	}
	return nil
}

func (k Linear) String() string {
	return "linear(variance=" + ftoa(k.Variance) + ", offset=" + ftoa(k.Offset) + ")"
}

// Sum is the kernel k(x, y) = Σ_i Sum[i](x, y), for example a periodic
// kernel plus an RBF (the periodic+RBF targets of §5). It must have at least
// one term.
type Sum []Kernel

// Eval returns the sum of the terms at (x, y).
func (s Sum) Eval(x, y []float64) float64 {
	var v float64
	for _, k := range s {
		v += k.Eval(x, y)
	}
	return v
}

// Validate checks that there is at least one term and that every term is
// valid; a message names the term by its position.
func (s Sum) Validate() error { return validateTerms("sum", s) }

func (s Sum) String() string { return termString("sum", s) }

// Product is the kernel k(x, y) = Π_i Product[i](x, y), for example a
// locally periodic kernel periodic·rbf. It must have at least one term.
type Product []Kernel

// Eval returns the product of the terms at (x, y).
func (p Product) Eval(x, y []float64) float64 {
	v := 1.0
	for _, k := range p {
		v *= k.Eval(x, y)
	}
	return v
}

// Validate checks that there is at least one term and that every term is
// valid; a message names the term by its position.
func (p Product) Validate() error { return validateTerms("product", p) }

func (p Product) String() string { return termString("product", p) }

func validateTerms(kind string, terms []Kernel) error {
	if len(terms) == 0 {
		return fmt.Errorf("%s: needs at least one kernel", kind)
	}
	for i, k := range terms {
		if k == nil {
			return fmt.Errorf("%s: term %d is nil", kind, i+1)
		}
		if err := k.Validate(); err != nil {
			return fmt.Errorf("%s: term %d: %w", kind, i+1, err)
		}
	}
	return nil
}

func termString(kind string, terms []Kernel) string {
	parts := make([]string, len(terms))
	for i, k := range terms {
		parts[i] = fmt.Sprint(k)
	}
	return kind + "(" + strings.Join(parts, ", ") + ")"
}

// positive checks name/value pairs: each value must be finite and > 0.
func positive(kernel string, pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		name, v := pairs[i].(string), pairs[i+1].(float64)
		if !(v > 0) || math.IsInf(v, 1) {
			return fmt.Errorf("%s: %s must be finite and positive, got %v", kernel, name, v)
		}
	}
	return nil
}

func sqDist(x, y []float64) float64 {
	var s float64
	for i := range x {
		d := x[i] - y[i]
		s += d * d
	}
	return s
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// checkKernel validates k, turning a nil kernel into an error too.
func checkKernel(k Kernel) error {
	if k == nil {
		return errors.New("gp: nil kernel")
	}
	if err := k.Validate(); err != nil {
		return fmt.Errorf("gp: %w", err)
	}
	return nil
}

// Matrix sets dst to the n×n kernel matrix K_ij = k(X_i, X_j) of the n rows
// of X (one point per row). An empty dst is resized; otherwise it must be
// n×n. The kernel is validated first, and a non-finite entry (NaN inputs,
// or overflow) is an error.
func Matrix(dst *mat.SymDense, k Kernel, X *mat.Dense) error {
	if err := checkKernel(k); err != nil {
		return err
	}
	if X == nil || X.IsEmpty() {
		return errors.New("gp: no input points")
	}
	n, _ := X.Dims()
	if dst == nil {
		return errors.New("gp: nil kernel matrix destination")
	}
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	} else if m := dst.SymmetricDim(); m != n {
		return fmt.Errorf("gp: kernel matrix destination is %d×%d, want %d×%d for %d points", m, m, n, n, n)
	}
	for i := range n {
		xi := X.RawRowView(i)
		for j := i; j < n; j++ {
			v := k.Eval(xi, X.RawRowView(j))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("gp: kernel matrix entry (%d, %d) is %v", i, j, v)
			}
			dst.SetSym(i, j, v)
		}
	}
	return nil
}
