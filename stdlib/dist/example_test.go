package dist_test

import (
	"fmt"

	"github.com/bayesl/bayesl/stdlib/dist"
)

func ExampleNormalLogProb() {
	lp, dLoc, dScale := dist.NormalLogProb(1, 0, 1)
	fmt.Printf("lp=%.4f dLoc=%.4f dScale=%.4f\n", lp, dLoc, dScale)
	// Output: lp=-1.4189 dLoc=1.0000 dScale=0.0000
}

func ExampleKLNormal() {
	// A mean-field factor N(0.5, 0.1²) against a standard-normal prior.
	kl, dMu, dSigma := dist.KLNormal(0.5, 0.1, 0, 1)
	fmt.Printf("KL=%.4f dMu=%.4f dSigma=%.4f\n", kl, dMu, dSigma)
	// Output: KL=1.9326 dMu=0.5000 dSigma=-9.9000
}

func ExampleStudentTLogProbY() {
	// A Cauchy prior (df = 1) on a weight, evaluated at w = 1.
	lp, dW := dist.StudentTLogProbY(1, 1, 0, 1)
	fmt.Printf("lp=%.4f dW=%.4f\n", lp, dW)
	// Output: lp=-1.8379 dW=-1.0000
}
