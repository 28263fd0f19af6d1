package dirichlet_test

import (
	"fmt"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
)

func ExampleLogProb() {
	fmt.Printf("%.6f\n", dirichlet.LogProb([]float64{.2, .3, .5}, []float64{2, 3, 5}))
	// Output: 2.140654
}

func ExampleUncertainty() {
	// A confident but evidence-poor prediction and a confident, well-supported
	// one with the same mean: only the epistemic part differs much.
	for _, alpha := range [][]float64{{5, 1, 1}, {25, 5, 5}} {
		p, total, aleatoric, epistemic := dirichlet.Uncertainty(alpha)
		fmt.Printf("α=%v p̂=%.3f total=%.4f aleatoric=%.4f epistemic=%.4f\n",
			alpha, p, total, aleatoric, epistemic)
	}
	// Output:
	// α=[5 1 1] p̂=[0.714 0.143 0.143] total=0.7963 aleatoric=0.6762 epistemic=0.1201
	// α=[25 5 5] p̂=[0.714 0.143 0.143] total=0.7963 aleatoric=0.7687 epistemic=0.0276
}

// One step of evidential distillation for one input: summarise the
// teacher's weighted samples once, then evaluate the loss and its gradient
// with respect to the student's logits z, where α = softplus(z) + 1.
func Example_distillation() {
	teacher := []float64{ // M = 3 samples of K = 3 class probabilities
		0.7, 0.2, 0.1,
		0.6, 0.3, 0.1,
		0.8, 0.1, 0.1,
	}
	w := []float64{0.5, 0.25, 0.25} // teacher weights, summing to one
	meanLog := dirichlet.MeanLog(make([]float64, 3), teacher, w)

	z := []float64{2, 0.5, 0} // student logits
	alpha := dirichlet.Alpha(nil, z)
	grad := make([]float64, 3)
	loss := dirichlet.NLLStats(grad, alpha, meanLog, 1)
	dirichlet.GradLogits(grad, grad, z)
	fmt.Printf("α = %.4f\nloss = %.4f\n∂loss/∂z = %.4f\n", alpha, loss, grad)
	fmt.Printf("same as from the samples: %.4f\n", dirichlet.NLL(nil, alpha, teacher, w))
	// Output:
	// α = [3.1269 1.9741 1.6931]
	// loss = -1.4882
	// ∂loss/∂z = [-0.4467 0.1535 0.3325]
	// same as from the samples: -1.4882
}

func ExampleUncertaintyBatch() {
	alpha := []float64{ // N = 2 rows of K = 2
		1, 1,
		100, 100,
	}
	total := make([]float64, 2)
	epistemic := make([]float64, 2)
	dirichlet.UncertaintyBatch(nil, total, nil, epistemic, alpha, 2)
	fmt.Printf("total %.6f\nepistemic %.6f\n", total, epistemic)
	// Output:
	// total [0.693147 0.693147]
	// epistemic [0.193147 0.002494]
}

func ExampleEntropy() {
	fmt.Printf("%.6f %.6f\n", dirichlet.Entropy([]float64{1, 1, 1}), dirichlet.Entropy([]float64{10, 10, 10}))
	// Output: -0.693147 -2.269047
}
