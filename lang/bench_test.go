package lang

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/stdlib/data"
	"gonum.org/v1/gonum/mat"
)

const benchModel = `model mlp(x: 64) {
  h = dense(x, 128) |> relu
  h = dense(h, 128) |> relu
  y ~ categorical(logits: dense(h, 10))
}`

// benchProblem builds the 64-128-128-10 MLP on the standardised digits data
// (1797 rows), the setting of the benchmarks.
func benchProblem(b testing.TB) (*infer.Problem, *mat.Dense) {
	b.Helper()
	d, err := data.ReadCSV(filepath.Join("..", "examples", "data", "digits.csv"), data.CSVSpec{X: []data.ColumnRef{{From: "p0", To: "p63"}}, Y: "label", Classes: 10})
	if err != nil {
		b.Fatal(err)
	}
	sc := data.FitScaler(d, false)
	x := mat.DenseCopyOf(d.X)
	sc.TransformX(x, x)
	f, err := parser.Parse("bench.bl", []byte(benchModel))
	if err != nil {
		b.Fatal(err)
	}
	prog, err := ir.Check(f, ir.NewScope(), nil)
	if err != nil {
		b.Fatal(err)
	}
	cp, err := compile.Compile(prog.Stmts[0].(*ir.DefineModel).Model)
	if err != nil {
		b.Fatal(err)
	}
	return newProblem(cp, x, d.Y), x
}

func benchFit(b *testing.B, m infer.Method) {
	p, _ := benchProblem(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := m.Fit(ctx, p, rand.New(rand.NewPCG(1, uint64(i))), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpochMAP is one MAP epoch (Adam, batch 128) over 1797 rows.
func BenchmarkEpochMAP(b *testing.B) { benchFit(b, &infer.MAP{Epochs: 1, Batch: 128}) }

// BenchmarkEpochVI is one VI epoch (local reparameterisation, batch 128).
func BenchmarkEpochVI(b *testing.B) { benchFit(b, &infer.VI{Epochs: 1, Batch: 128}) }

// BenchmarkPredictive30 is a 30-draw VI predictive over the 1797 rows.
func BenchmarkPredictive30(b *testing.B) {
	p, x := benchProblem(b)
	post, err := (&infer.VI{Epochs: 1, Batch: 128}).Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := infer.Predict(context.Background(), post, p, x, 30, rand.New(rand.NewPCG(1, uint64(i)))); err != nil {
			b.Fatal(err)
		}
	}
}
