package synth_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/gp"
	"github.com/bayesl/bayesl/stdlib/synth"
)

func ExampleGMMPrior_Sample() {
	// A small prior: 3–4 clusters in 2–4 dimensions, 20–40 points each.
	p := synth.GMMPrior{
		MinClusters: 3, MaxClusters: 4,
		MaxDim:    4,
		MinPoints: 20, MaxPoints: 40,
		CategoricalProb: -1, // no categorical features
	}
	ds, err := p.Sample(rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	n, cols := ds.X.Dims()
	fmt.Printf("k=%d d=%d sizes=%v X=%d×%d\n", ds.K, ds.Dim, ds.Sizes, n, cols)

	// Every pair of components is at least EndDistance apart in W2².
	ok := true
	for i := range ds.K {
		for j := range i {
			w, _ := gp.W2Squared(ds.Means[i], ds.Covs[i], ds.Means[j], ds.Covs[j])
			ok = ok && w > ds.Threshold[i] && w >= synth.DefaultEndDistance
		}
	}
	fmt.Println("separated:", ok)
	// Output:
	// k=3 d=4 sizes=[24 30 36] X=90×4
	// separated: true
}

// The prior ZEUS is pre-trained on has tight clusters and, with probability
// 0.3, one-hot categorical features after the continuous columns.
func ExampleZEUSPretraining() {
	p := synth.ZEUSPretraining()
	p.CategoricalProb = 1 // always, for the example
	p.MaxDim = 10
	p.MaxCategorical = 2
	ds, err := p.Sample(rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, cols := ds.X.Dims()
	fmt.Printf("k=%d continuous=%d categories=%v columns=%d\n", ds.K, ds.Dim, ds.Categories, cols)
	fmt.Printf("one-hot part of the first row: %v\n", ds.X.RawRowView(0)[ds.Dim:])
	// Output:
	// k=9 continuous=5 categories=[3 2] columns=10
	// one-hot part of the first row: [0 1 0 0 1]
}
