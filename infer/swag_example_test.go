package infer_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
)

// SWAG on the conjugate problem of docs/algorithms.md §3 with the paper's fixed
// schedule (swa_lr given, collect_every 1): SGD with momentum runs 150
// epochs at a decaying rate, then collects one iterate per epoch for 150
// more. The gradient is linear, so the SWA mean of the iterates is
// the exact posterior mean 50/57. The posterior keeps θ̄, the variances and
// the last 20 deviations: d·(20+2) numbers.
func ExampleSWAG() {
	p, exact, _ := infertest.Sanity1D()
	m := infer.SWAG{Epochs: 300, LR: 1e-3, SWALR: 5e-4, CollectEvery: 1, Batch: 1}
	post, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		panic(err)
	}
	q := post.(*infer.SWAGPosterior)
	fmt.Printf("swa mean: %.2f  exact: %.2f  (|Δ| < 1e-3: %v)\n", q.Mean()[0], exact[0], math.Abs(q.Mean()[0]-exact[0]) < 1e-3)
	fmt.Printf("collected %d iterates, %d deviation columns, %d stored numbers\n",
		q.Collected(), len(q.Deviations()), q.StoredNumbers())
	// Output:
	// swa mean: 0.88  exact: 0.88  (|Δ| < 1e-3: true)
	// collected 150 iterates, 20 deviation columns, 22 stored numbers
}

// MultiSWAG fits independent SWAG members (concurrently when the problem
// can Fork) and mixes them with equal weights; draws alternate between
// the members.
func ExampleMultiSWAG() {
	p, _, _ := infertest.Sanity1D()
	m := infer.MultiSWAG{Members: 4, Epochs: 300, LR: 1e-3, SWALR: 5e-4, CollectEvery: 1, Batch: 1}
	post, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		panic(err)
	}
	q := post.(*infer.MultiSWAGPosterior)
	for i, member := range q.Members() {
		fmt.Printf("member %d: swa mean %.2f\n", i+1, member.Mean()[0])
	}
	fmt.Println(len(q.Draw(10, rand.New(rand.NewPCG(3, 4)))), "draws,", q.StoredNumbers(), "stored numbers")
	// Output:
	// member 1: swa mean 0.88
	// member 2: swa mean 0.88
	// member 3: swa mean 0.88
	// member 4: swa mean 0.88
	// 10 draws, 88 stored numbers
}
