package lang

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/infer"
)

// BenchmarkDistillSpeedup compares a distilled student's prediction with
// its teacher's on the same inputs and the same network, the 64-128-128-10
// MLP over the 1797 digits rows of the other benchmarks: teacher30 is a
// 30-draw Monte-Carlo predictive (a mean-field Gaussian posterior; any
// posterior that needs 30 draws costs the same), student a Dirichlet
// student's single forward pass. The "predict" cases time the predictive
// alone, the "uncertainty" cases add what evaluate and ood then compute
// from it: probabilities and the total / aleatoric / epistemic split (for
// the student in closed form, with digamma). The ratio of the times is the
// speed-up.
func BenchmarkDistillSpeedup(b *testing.B) {
	p, x := benchProblem(b)
	ctx := context.Background()
	teacher, err := (&infer.VI{Epochs: 1, Batch: 128}).Fit(ctx, p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, p.Dim)
	p.Init(theta, rand.New(rand.NewPCG(1, 3)))
	student := &infer.Student{Theta: theta, Form: infer.FormDirichlet}
	for _, c := range []struct {
		name    string
		post    infer.Posterior
		summary bool
	}{
		{"predict/teacher30", teacher, false},
		{"predict/student", student, false},
		{"uncertainty/teacher30", teacher, true},
		{"uncertainty/student", student, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				pred, err := infer.Predict(ctx, c.post, p, x, 30, rand.New(rand.NewPCG(1, uint64(i))))
				if err != nil {
					b.Fatal(err)
				}
				if c.summary {
					pred.Classification()
				}
			}
		})
	}
}
