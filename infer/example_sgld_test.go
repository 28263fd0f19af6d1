package infer_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

// SGLD on the conjugate problem of docs/algorithms.md §3 samples the exact
// posterior N(50/57, 1/57): four chains, the second half of each kept and
// thinned to at most 2000 states.
func ExampleSGLD() {
	p, exact, cov := infertest.Sanity1D()
	m := infer.SGLD{Epochs: 40000, LR: 1e-3, Decay: -1, MaxSamples: 2000}
	post, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		panic(err)
	}
	s := post.(*infer.Samples)
	mean, variance := infertest.Moments(s.Draw(0, nil))
	fmt.Printf("sgld:  %d chains, %d states, mean %.2f sd %.2f\n", len(s.Chains()), s.Len(), mean[0], math.Sqrt(variance[0]))
	fmt.Printf("exact: mean %.2f sd %.2f\n", exact[0], math.Sqrt(cov.At(0, 0)))
	// Output:
	// sgld:  4 chains, 8000 states, mean 0.88 sd 0.13
	// exact: mean 0.88 sd 0.13
}

// Diagnose compares the chains in function space, on predictions at a few
// inputs. Chains that mix agree; a run far too short to leave the starting
// points does not, and Diagnose says so.
func ExampleDiagnose() {
	p, _, _ := infertest.Sanity1D()
	x := mat.NewDense(2, 1, []float64{1, 3})
	for _, m := range []infer.SGLD{
		{Epochs: 40000, LR: 1e-3, Decay: -1},
		{Epochs: 40, LR: 1e-6, Decay: -1},
	} {
		post, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
		if err != nil {
			panic(err)
		}
		d, err := infer.Diagnose(context.Background(), post, p, x)
		if err != nil {
			panic(err)
		}
		verdict, _, _ := strings.Cut(d.Warning, ":")
		fmt.Printf("%d epochs: %d outputs, R̂ ≤ 1.05: %v, warning: %q\n", m.Epochs, d.Outputs, d.MaxRhat <= 1.05, verdict)
	}
	// Output:
	// 40000 epochs: 2 outputs, R̂ ≤ 1.05: true, warning: ""
	// 40 epochs: 2 outputs, R̂ ≤ 1.05: false, warning: "the chains disagree"
}
