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
}

func (e *DivergenceError) Error() string {
	what := "loss"
	if e.Grad {
		what = "gradient"
	}
	return fmt.Sprintf("%s: %s became %s at epoch %d, step %d",
		e.Method, what, strconv.FormatFloat(e.Value, 'g', -1, 64), e.Epoch, e.Step)
}
