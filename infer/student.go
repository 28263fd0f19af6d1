package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
	"github.com/bayesl/bayesl/stdlib/num"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Student forms: what a distilled network's outputs z mean.
const (
	// FormDirichlet: z are the concentrations α = softplus(z) + 1 of a
	// Dirichlet over the class probabilities (docs/algorithms.md §6).
	FormDirichlet = "dirichlet"
	// FormSoftmax: z are logits, softmax(z) the class probabilities.
	FormSoftmax = "softmax"
)

// DistillForms lists the student forms, as a script writes them after
// `into` and `using`.
func DistillForms() []string { return []string{FormDirichlet, FormSoftmax} }

// DirectPredictor is a posterior whose predictive is not a Monte-Carlo
// average over parameter draws but comes in closed form from one forward
// pass, as a distilled Student's does. Predict hands such a posterior the
// problem and the inputs instead of drawing from it.
type DirectPredictor interface {
	Posterior
	// PredictDirect returns the predictive at the rows of x, through
	// p.Outputs.
	PredictDirect(ctx context.Context, p *Problem, x *mat.Dense) (*predictive.Predictive, error)
}

// Student is a classifier distilled from a posterior by Distill: one
// parameter vector of the student model, whose outputs z at an input are
// read in closed form, so its predictive is one forward pass.
//
// Form FormDirichlet: the prediction is Dir(α) over the class
// probabilities, α = softplus(z) + 1 (rescaled to sum to Alpha0 when
// Alpha0 > 0, the fixed α0 guard), with expected probabilities α/α0 and the
// closed-form split of their entropy into aleatoric (expected entropy) and
// epistemic (mutual information) parts. Form FormSoftmax: the prediction
// is softmax(z), a point prediction with no epistemic part.
type Student struct {
	Theta  []float64
	Form   string  // FormDirichlet or FormSoftmax; Method returns it
	Alpha0 float64 // > 0: every α is rescaled to sum to Alpha0 (the fixed guard)

	// Report tells how the distillation went. Fit fills it; it is not saved.
	Report DistillReport
}

// DistillReport describes a finished distillation.
type DistillReport struct {
	Teacher     string        // the teacher's method
	Draws       int           // teacher draws behind the statistics
	Epochs      int           // epochs run (early stopping may end before the setting)
	BestEpoch   int           // the epoch whose parameters were kept
	BestLoss    float64       // training NLL per example at BestEpoch
	TeacherTime time.Duration // the teacher's predictive over the training inputs (its Problem.Predict calls)
}

var (
	_ DirectPredictor = (*Student)(nil)
	_ Saver           = (*Student)(nil)
	_ StoredNumberer  = (*Student)(nil)
)

// Method returns the student's form, "dirichlet" or "softmax".
func (s *Student) Method() string { return s.Form }

// Dim returns len(s.Theta).
func (s *Student) Dim() int { return len(s.Theta) }

// Draw returns the single vector s.Theta (shared; callers must not modify
// it). Predict does not call it: a student's predictive is PredictDirect.
func (s *Student) Draw(int, *rand.Rand) [][]float64 { return [][]float64{s.Theta} }

// Kind returns "student", the key of its decoder.
func (s *Student) Kind() string { return "student" }

// Vectors returns the payload saved to a file: [Theta], followed by
// [Alpha0] when the fixed guard is on. The form is the file's method.
func (s *Student) Vectors() [][]float64 {
	if s.Alpha0 > 0 {
		return [][]float64{s.Theta, {s.Alpha0}}
	}
	return [][]float64{s.Theta}
}

// StoredNumbers is the one parameter vector.
func (s *Student) StoredNumbers() int { return len(s.Theta) }

func decodeStudent(method string, vecs [][]float64) (Posterior, error) {
	if method != FormDirichlet && method != FormSoftmax {
		return nil, fmt.Errorf("student of unknown form %q", method)
	}
	if len(vecs) != 1 && len(vecs) != 2 {
		return nil, fmt.Errorf("student posterior has %d vectors, want 1 or 2", len(vecs))
	}
	s := &Student{Theta: vecs[0], Form: method}
	if len(vecs) == 2 {
		if len(vecs[1]) != 1 || !(vecs[1][0] > 0) || math.IsInf(vecs[1][0], 1) || method != FormDirichlet {
			return nil, fmt.Errorf("student posterior has a bad α0 guard %v", vecs[1])
		}
		s.Alpha0 = vecs[1][0]
	}
	return s, nil
}

// PredictDirect returns the student's predictive at the rows of x from one
// forward pass through p.Outputs: a Dirichlet predictive
// (predictive.Predictive.SetDirichlet) for FormDirichlet, a one-draw
// softmax predictive for FormSoftmax.
func (s *Student) PredictDirect(ctx context.Context, p *Problem, x *mat.Dense) (*predictive.Predictive, error) {
	switch {
	case p == nil || p.Outputs == nil:
		return nil, fmt.Errorf("infer: predict: the problem cannot give a student's outputs")
	case p.Kind != predictive.Classification || p.Classes < 2:
		return nil, fmt.Errorf("infer: predict: a %s student needs a classifier over at least 2 classes", s.Form)
	case x == nil:
		return nil, fmt.Errorf("infer: predict: no inputs")
	case len(s.Theta) != p.Dim:
		return nil, fmt.Errorf("infer: predict: posterior over %d parameters, model has %d", len(s.Theta), p.Dim)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, _ := x.Dims()
	k := p.Classes
	z := make([]float64, n*k)
	if n > 0 {
		p.Outputs(mat.NewDense(n, k, z), s.Theta, x)
	}
	out := new(predictive.Predictive)
	switch s.Form {
	case FormDirichlet:
		for i := 0; i < n; i++ {
			s.alpha(z[i*k:(i+1)*k], z[i*k:(i+1)*k])
		}
		out.SetDirichlet(z, n, k)
	case FormSoftmax:
		out.Resize(predictive.Classification, 1, n, k)
		for i := 0; i < n; i++ {
			num.LogSoftmax(out.LogProb[i*k:(i+1)*k], z[i*k:(i+1)*k])
		}
	default:
		return nil, fmt.Errorf("infer: predict: student of unknown form %q", s.Form)
	}
	return out, nil
}

// alpha writes the concentrations of logits z into dst (which may alias z):
// softplus(z) + 1, rescaled to sum to Alpha0 under the fixed guard.
func (s *Student) alpha(dst, z []float64) {
	dirichlet.Alpha(dst, z)
	if s.Alpha0 > 0 {
		c := s.Alpha0 / floatsSum(dst)
		for j := range dst {
			dst[j] *= c
		}
	}
}

func floatsSum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// isDirichletStudent reports whether post is a Dirichlet student, whose
// predictive is not a set of draws and so cannot teach through
// Problem.Predict.
func isDirichletStudent(post Posterior) bool {
	s, ok := post.(*Student)
	return ok && s.Form == FormDirichlet
}
