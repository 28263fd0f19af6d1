package lang_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser/source"
	"gonum.org/v1/gonum/mat"
)

// A session runs a script and hands every result to Emit.
func ExampleSession_Run() {
	script := `
data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
model lin(x: 1) {
  y ~ normal(dense(x, 1)[0], 0.5)
}
posterior p = fit lin on d using map(epochs: 200, lr: 0.05, batch: 1000)
predict p at [[60], [80]]
`
	s := lang.NewSession(&lang.Config{
		Seed: 1,
		Dir:  "testdata",
		Emit: func(r lang.Result) {
			if r.Kind == "predict" {
				for _, row := range r.Table.Rows {
					fmt.Printf("waiting %.0f min: eruption %.2f min\n", row.Values[0], row.Values[1])
				}
			}
		},
	})
	if err := s.Run(context.Background(), "faithful.bl", []byte(script)); err != nil {
		source.Print(os.Stdout, err)
	}
	// Output:
	// waiting 60 min: eruption 2.66 min
	// waiting 80 min: eruption 4.18 min
}

// Errors carry positions; source.Print draws the caret.
func ExampleSession_Run_error() {
	script := `model m(x: 1) {
  h = dense(x, 8) |> rleu
  y ~ normal(h[0], 1)
}`
	err := lang.NewSession(nil).Run(context.Background(), "m.bl", []byte(script))
	source.Print(os.Stdout, err)
	// Output:
	// m.bl:2:22: name error: unknown layer or activation "rleu"; did you mean "relu"? (known: dense, exp, gelu, identity, periodic, rational, relu, sigmoid, sin, softplus, tanh)
	//     2 |   h = dense(x, 8) |> rleu
	//       |                      ^~~~
}

// Compile a script once, hand it Go data, and read predictions with their
// uncertainty split back as Go values.
func ExampleCompile() {
	prog, err := lang.Compile("embed.bl", []byte(`
model lin(x: 1) {
  y ~ normal(dense(x, 1)[0], 0.1)
}
posterior p = fit lin on train using map(epochs: 300, lr: 0.05)
`), "train")
	if err != nil {
		source.Print(os.Stdout, err)
		return
	}
	x := mat.NewDense(5, 1, []float64{0, 1, 2, 3, 4})
	y := []float64{1, 3, 5, 7, 9} // y = 2x + 1
	s := lang.NewSession(&lang.Config{Seed: 1})
	if err := s.SetData("train", x, y, nil); err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Exec(context.Background(), prog); err != nil {
		source.Print(os.Stdout, err)
		return
	}
	v, _ := s.Value("p")
	pred, err := v.(*lang.Posterior).Predict(context.Background(), mat.NewDense(1, 1, []float64{10}), 100, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("at x=10: mean %.1f, sd %.2f (aleatoric var %.3f, epistemic var %.0f)\n",
		pred.Mean[0], pred.SD[0], pred.Aleatoric[0], pred.Epistemic[0])
	// Output:
	// at x=10: mean 21.0, sd 0.10 (aleatoric var 0.010, epistemic var 0)
}
