package lang_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser/source"
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
	// m.bl:2:22: name error: unknown layer or activation "rleu"; did you mean "relu"?
	//     2 |   h = dense(x, 8) |> rleu
	//       |                      ^~~~
}
