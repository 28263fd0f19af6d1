package predictive_test

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/stdlib/predictive"
)

// Two ensemble members disagree confidently about one binary example: the
// average prediction is maximally uncertain, most of it epistemic.
func ExamplePredictive_Classification() {
	var p predictive.Predictive
	p.Resize(predictive.Classification, 2, 1, 2) // S=2 samples, N=1 example, K=2 classes
	copy(p.LogProb, []float64{
		math.Log(0.9), math.Log(0.1), // sample 1
		math.Log(0.1), math.Log(0.9), // sample 2
	})
	prob, total, aleatoric, epistemic := p.Classification()
	fmt.Printf("prob=%.2f total=%.6f aleatoric=%.6f epistemic=%.6f\n", prob, total[0], aleatoric[0], epistemic[0])
	fmt.Printf("log p(y=0) = %.6f\n", p.LogLik([]float64{0})[0])
	// Output:
	// prob=[0.50 0.50] total=0.693147 aleatoric=0.325083 epistemic=0.368064
	// log p(y=0) = -0.693147
}

// Two posterior samples of a heteroscedastic Gaussian regression at one
// input: the predictive variance splits into noise and disagreement.
func ExamplePredictive_Regression() {
	p := predictive.Predictive{Obs: predictive.Normal{}}
	p.Resize(predictive.Regression, 2, 1, 0)
	copy(p.Loc, []float64{1, 3})   // sample means μ_s
	copy(p.Scale, []float64{1, 2}) // sample standard deviations σ_s
	mean, aleatoric, epistemic := p.Regression()
	fmt.Printf("mean=%.2f aleatoric=%.2f epistemic=%.2f total=%.2f\n",
		mean[0], aleatoric[0], epistemic[0], aleatoric[0]+epistemic[0])
	fmt.Printf("CDF at the mean = %.4f\n", p.CDF(0, mean[0]))
	// Output:
	// mean=2.00 aleatoric=2.50 epistemic=1.00 total=3.50
	// CDF at the mean = 0.5749
}
