package infer

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Predict returns the Monte-Carlo posterior predictive of p at the rows of
// x: it draws the parameter vectors once (samples of them from a continuous
// posterior; a finite posterior such as a Point gives its own vectors and
// ignores samples) and runs p.Predict over all of them. Chunking over rows,
// if a model needs it, is p.Predict's business.
//
// A DirectPredictor (a distilled Student) is asked for its predictive
// directly: one forward pass, no draws, samples and rng unused. A
// linearised OutputPredictor (a GLM Laplace) draws its outputs itself.
func Predict(ctx context.Context, post Posterior, p *Problem, x *mat.Dense, samples int, rng *rand.Rand) (*predictive.Predictive, error) {
	if dp, ok := post.(DirectPredictor); ok && p != nil && x != nil {
		return dp.PredictDirect(ctx, p, x)
	}
	switch {
	case post == nil:
		return nil, fmt.Errorf("infer: predict: nil posterior")
	case p == nil || p.Predict == nil:
		return nil, fmt.Errorf("infer: predict: the problem cannot predict")
	case x == nil:
		return nil, fmt.Errorf("infer: predict: no inputs")
	case samples < 1:
		return nil, fmt.Errorf("infer: predict: samples must be positive, got %d", samples)
	case rng == nil:
		return nil, fmt.Errorf("infer: predict: %w", errNilRNG)
	case post.Dim() != p.Dim:
		return nil, fmt.Errorf("infer: predict: posterior over %d parameters, model has %d", post.Dim(), p.Dim)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if op, ok := post.(OutputPredictor); ok && op.Linearised() {
		return op.PredictOutputs(ctx, p, x, samples, rng)
	}
	thetas := post.Draw(samples, rng)
	if len(thetas) == 0 {
		return nil, fmt.Errorf("infer: predict: %s posterior drew no parameter vectors", post.Method())
	}
	for i, th := range thetas {
		if len(th) != p.Dim {
			return nil, fmt.Errorf("infer: predict: draw %d has %d parameters, want %d", i, len(th), p.Dim)
		}
	}
	out := new(predictive.Predictive)
	p.Predict(out, thetas, x)
	if rows, _ := x.Dims(); out.S != len(thetas) || out.N != rows {
		return nil, fmt.Errorf("infer: predict: model returned %d x %d outputs for %d draws at %d inputs", out.S, out.N, len(thetas), rows)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
