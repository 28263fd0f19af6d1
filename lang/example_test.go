package lang_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser/source"
	"gonum.org/v1/gonum/mat"
)

// A session runs a script and hands every result to Emit; a result's Kind
// says which of its fields are set.
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
			if r.Kind == lang.KindPredict {
				waiting, mean := r.Table.Column("waiting"), r.Table.Column("mean")
				for i := range r.Table.Rows() {
					fmt.Printf("waiting %.0f min: eruption %.2f min\n", waiting.Floats[i], mean.Floats[i])
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
  h = dense(x, 8) |> relu
  y ~ normal(h[8], 1)
}`
	err := lang.NewSession(nil).Run(context.Background(), "m.bl", []byte(script))
	source.Print(os.Stdout, err)
	// Output:
	// m.bl:3:16: shape error: index 8 out of range for width 8 (valid: 0 .. 7)
	//     3 |   y ~ normal(h[8], 1)
	//       |                ^
}

// Check refuses a script before anything runs, against the names the
// session holds.
func ExampleSession_Check() {
	s := lang.NewSession(nil)
	if err := s.SetData("d", mat.NewDense(2, 1, []float64{0, 1}), []float64{0, 1}, nil); err != nil {
		fmt.Println(err)
		return
	}
	_, err := s.Check("fit.bl", []byte(`posterior p = fit lin on d using map`))
	source.Print(os.Stdout, err)
	// Output:
	// fit.bl:1:19: name error: unknown model "lin"
	//     1 | posterior p = fit lin on d using map
	//       |                   ^~~
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
	p, err := s.Posterior("p")
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := p.Predict(context.Background(), mat.NewDense(1, 1, []float64{10}), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s over %s: at x=10 mean %.1f, sd %.2f (aleatoric var %.3f, epistemic var %.0f)\n",
		p.Method(), p.Model().Name, pred.Mean[0], pred.SD[0], pred.Aleatoric[0], pred.Epistemic[0])
	// Output:
	// map over lin: at x=10 mean 21.0, sd 0.10 (aleatoric var 0.010, epistemic var 0)
}

// fitted returns a session holding Old Faithful's eruptions (d, train,
// test) and the model lin.
func fitted() *lang.Session {
	s := lang.NewSession(&lang.Config{Seed: 1, Dir: "testdata"})
	err := s.Run(context.Background(), "setup.bl", []byte(`
data d = csv("faithful.csv", x: [waiting], y: eruptions, standardize: true)
let train, test = split(d, 0.8, seed: 1)
model lin(x: 1) {
  o = dense(x, 2)
  y ~ normal(o[0], softplus(o[1]) + 0.01)
}
`))
	if err != nil {
		source.Print(os.Stdout, err)
	}
	return s
}

// Fit from Go: the method is written as in a script; the summary and the
// posterior come back as Go values, and the posterior is bound for later
// statements.
func ExampleSession_Fit() {
	s := fitted()
	p, sum, err := s.Fit(context.Background(), "p", "lin", "train", "map(epochs: 100, lr: 0.05)")
	if err != nil {
		source.Print(os.Stdout, err)
		return
	}
	fmt.Printf("%s: %s on %d rows, %d parameters\n", sum.Model, sum.Method, sum.Rows, sum.Params)
	fmt.Println(p.Model().Likelihood, p.XNames, p.YName)
	// Output:
	// lin: map on 218 rows, 4 parameters
	// normal [waiting] eruptions
}

// Evaluate from Go: a table with a text column naming the posteriors and
// a number column per metric.
func ExampleSession_Evaluate() {
	s := fitted()
	ctx := context.Background()
	for _, m := range []string{"map(epochs: 100, lr: 0.05)", "ensemble(members: 3, method: map(epochs: 100, lr: 0.05))"} {
		name := "p_" + m[:3]
		if _, _, err := s.Fit(ctx, name, "lin", "train", m); err != nil {
			source.Print(os.Stdout, err)
			return
		}
	}
	t, err := s.Evaluate(ctx, "test", []string{"p_map", "p_ens"}, "nll", "coverage(0.9)")
	if err != nil {
		source.Print(os.Stdout, err)
		return
	}
	for _, c := range t.Columns {
		fmt.Printf("%s text=%v rows=%d\n", c.Name, c.IsText(), c.Len())
	}
	nll, _ := t.Lookup("p_ens", "nll")
	fmt.Println(nll < 1)
	// Output:
	// posterior text=true rows=2
	// nll text=false rows=2
	// coverage(0.9) text=false rows=2
	// true
}

// Predict with quantiles of the predictive mixture and the per-draw
// outputs: an ensemble's 5 members are its draws.
func ExamplePosterior_Predict() {
	s := fitted()
	ctx := context.Background()
	p, _, err := s.Fit(ctx, "p", "lin", "d", "ensemble(members: 5, method: map(epochs: 100, lr: 0.05))")
	if err != nil {
		source.Print(os.Stdout, err)
		return
	}
	x := mat.NewDense(2, 1, []float64{60, 80})
	pred, err := p.Predict(ctx, x, &lang.PredictOptions{Samples: -1, Seed: 1, Quantiles: []float64{0.05, 0.5, 0.95}, Draws: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 2 {
		lo, mid, hi := pred.Quantiles.At(i, 0), pred.Quantiles.At(i, 1), pred.Quantiles.At(i, 2)
		fmt.Printf("waiting %.0f: median %.1f min, 90%% interval holds the mean: %v\n", x.At(i, 0), mid, lo < pred.Mean[i] && pred.Mean[i] < hi)
	}
	fmt.Println("draws:", pred.Draws.S, "x", pred.Draws.N)
	// Output:
	// waiting 60: median 2.6 min, 90% interval holds the mean: true
	// waiting 80: median 4.1 min, 90% interval holds the mean: true
	// draws: 5 x 2
}

// Read what a script bound with typed accessors; asking for the wrong
// kind of value says what the name holds.
func ExampleSession_Data() {
	s := fitted()
	d, err := s.Data("test")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, c := d.X.Dims()
	fmt.Println(r, c, d.XNames, d.YName)
	m, _ := s.Model("lin")
	fmt.Println(m.Name, m.Inputs, m.Likelihood, m.Params)
	_, err = s.Posterior("test")
	fmt.Println(err)
	_, err = s.Data("tset")
	fmt.Println(err)
	// Output:
	// 54 1 [waiting] eruptions
	// lin 1 normal 4
	// "test" is data, not a posterior
	// no data named "tset"; did you mean "test"?
}
