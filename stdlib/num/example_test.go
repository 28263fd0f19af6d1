package num_test

import (
	"fmt"
	"math"

	"github.com/bayesl/bayesl/stdlib/num"
)

func ExampleLogSumExp() {
	// exp(1000) overflows, the stable form does not.
	x := []float64{1000, 1000}
	fmt.Printf("%.6f\n", num.LogSumExp(x)-1000)
	fmt.Printf("%.6f\n", math.Ln2)
	// Output:
	// 0.693147
	// 0.693147
}

func ExampleLogMeanExp() {
	// Two Monte-Carlo samples give densities 0.2 and 0.4 for one observation;
	// the predictive density is their mean, 0.3.
	l := []float64{math.Log(0.2), math.Log(0.4)}
	fmt.Printf("%.4f\n", math.Exp(num.LogMeanExp(l)))
	// Output: 0.3000
}

func ExampleSoftplusInv() {
	// Initialise ρ so that σ = Softplus(ρ) = 0.01.
	rho := num.SoftplusInv(0.01)
	fmt.Printf("ρ = %.4f, σ = %.4f\n", rho, num.Softplus(rho))
	// Output: ρ = -4.6002, σ = 0.0100
}
