package metric_test

import (
	"fmt"

	"github.com/bayesl/bayesl/stdlib/metric"
)

func ExampleECE() {
	// Four binary predictions: two at confidence 0.9 (one right), two at
	// 0.6 (both right). Rows are (p(class 0), p(class 1)).
	prob := []float64{
		0.9, 0.1,
		0.9, 0.1,
		0.6, 0.4,
		0.6, 0.4,
	}
	y := []float64{0, 1, 0, 0}
	fmt.Printf("ECE = %.4f\n", metric.ECE(prob, 2, y, metric.DefaultECEBins))
	fmt.Printf("accuracy = %.2f\n", metric.Accuracy(prob, 2, y))
	// Output:
	// ECE = 0.4000
	// accuracy = 0.75
}

func ExampleAUROC() {
	// Predictive entropies on in-distribution and OOD inputs: an OOD input
	// should look more uncertain.
	in := []float64{0.1, 0.2, 0.3}
	out := []float64{0.25, 0.4}
	fmt.Printf("AUROC = %.4f\n", metric.AUROC(in, out))
	// Output: AUROC = 0.8333
}

func ExampleW1() {
	// Distance between the uncertainty distributions of two input sets.
	fmt.Println(metric.W1([]float64{0, 1, 3}, []float64{5, 6, 8}))
	fmt.Println(metric.W1([]float64{1, 2, 3}, []float64{1, 2, 4, 8}))
	// Output:
	// 5
	// 1.75
}

func ExampleBrier() {
	prob := []float64{0.7, 0.2, 0.1}
	y := []float64{0}
	fmt.Printf("%.4f %.5f\n", metric.Brier(prob, 3, y), metric.BrierPerClass(prob, 3, y))
	// Output: 0.1400 0.04667
}

func ExampleCoverage() {
	// Predictive CDF values at the observed targets; the central 90%
	// interval is [0.05, 0.95].
	cdf := []float64{0.02, 0.3, 0.5, 0.7, 0.97}
	fmt.Println(metric.Coverage(cdf, 0.9))
	// Output: 0.6
}
