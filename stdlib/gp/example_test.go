package gp_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/bayesl/bayesl/stdlib/gp"
	"gonum.org/v1/gonum/mat"
)

func ExampleMatrix() {
	X := mat.NewDense(3, 1, []float64{0, 1, 2})
	k := gp.Matern52{Lengthscale: 1, Variance: 1}
	var K mat.SymDense
	if err := gp.Matrix(&K, k, X); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f\n", mat.Formatted(&K))
	// Output:
	// ⎡1.0000  0.5240  0.1387⎤
	// ⎢0.5240  1.0000  0.5240⎥
	// ⎣0.1387  0.5240  1.0000⎦
}

func ExampleKernel_validate() {
	k := gp.Sum{gp.Periodic{Lengthscale: 1, Period: 0, Variance: 1}, gp.RBF{Lengthscale: 1, Variance: 1}}
	fmt.Println(k.Validate())
	// Output: sum: term 1: periodic: period must be finite and positive, got 0
}

func ExampleW2Squared() {
	// N(0, 1) against N(1, 4): (0−1)² + (1−2)² = 2.
	v, err := gp.W2Squared([]float64{0}, mat.NewSymDense(1, []float64{1}),
		[]float64{1}, mat.NewSymDense(1, []float64{4}))
	fmt.Println(v, err)
	// Output: 2 <nil>
}

// The §5 loss: draws of a GP at n points, summarised by their sample mean and
// root, against the exact GP through its Cholesky root. More draws bring
// W2²/n towards zero.
func ExampleW2SquaredRoots() {
	const n = 20
	X := mat.NewDense(n, 1, nil)
	for i := range n {
		X.Set(i, 0, -3+6*float64(i)/(n-1))
	}
	k := gp.Matern52{Lengthscale: 1, Variance: 1}
	var exact mat.Dense
	if _, err := gp.Root(&exact, k, X); err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []int{10, 100, 1000} {
		F := mat.NewDense(s, n, nil)
		if err := gp.Sample(F, k, X, rng); err != nil {
			fmt.Println(err)
			return
		}
		var root mat.Dense
		mean := make([]float64, n)
		if err := gp.SampleRoot(&root, mean, F); err != nil {
			fmt.Println(err)
			return
		}
		w2, err := gp.W2SquaredRoots(mean, &root, nil, &exact)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("S=%4d  W2²/n=%.3f\n", s, w2/n)
	}
	// Output:
	// S=  10  W2²/n=0.263
	// S= 100  W2²/n=0.034
	// S=1000  W2²/n=0.004
}

func ExampleSample() {
	X := mat.NewDense(4, 1, []float64{0, 0.5, 1, 1.5})
	k := gp.Product{gp.Periodic{Lengthscale: 1, Period: 1, Variance: 1}, gp.RBF{Lengthscale: 2, Variance: 1}}
	F := mat.NewDense(2, 4, nil) // two functions at four points
	if err := gp.Sample(F, k, X, rand.New(rand.NewPCG(1, 2))); err != nil {
		fmt.Println(err)
		return
	}
	r, c := F.Dims()
	fmt.Println(r, "draws at", c, "points")
	// Output: 2 draws at 4 points
}
