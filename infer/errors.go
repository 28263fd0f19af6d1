package infer

import (
	"fmt"
	"strconv"
)

// DivergenceError reports that a fit stopped because its objective, or the
// gradient of it, stopped being finite.
type DivergenceError struct {
	Method string  // backend name, e.g. "map"
	Epoch  int     // 1-based epoch of the failing step
	Step   int     // 1-based minibatch step within the epoch
	Value  float64 // the offending value: NaN, +Inf or -Inf
	Grad   bool    // true when the gradient, not the objective, was not finite
	// Chain is the 1-based chain of a sampler that runs several (sgld,
	// psgld, csgmcmc); 0 for a backend without chains.
	Chain int
	// Param is true when the objective and gradient were finite but the
	// step moved a parameter to a non-finite value (an overflow).
	Param bool
}

func (e *DivergenceError) Error() string {
	what := "loss"
	switch {
	case e.Grad:
		what = "gradient"
	case e.Param:
		what = "a parameter"
	}
	method := e.Method
	if e.Chain > 0 {
		method += ": chain " + strconv.Itoa(e.Chain)
	}
	return fmt.Sprintf("%s: %s became %s at epoch %d, step %d",
		method, what, strconv.FormatFloat(e.Value, 'g', -1, 64), e.Epoch, e.Step)
}
