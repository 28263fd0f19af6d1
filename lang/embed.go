package lang

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// Program is a parsed and checked script. It is immutable and safe for
// concurrent use: many sessions may execute the same Program.
type Program struct {
	prog *ir.Program
	data []string
}

// Compile parses and checks a script once. data names the data sets the
// embedding program will bind with Session.SetData before executing it;
// the script may use them like data it reads itself. Errors are a
// source.List with positions.
func Compile(filename string, src []byte, data ...string) (*Program, error) {
	f, err := parser.Parse(filename, src)
	if err != nil {
		return nil, err
	}
	scope := ir.NewScope()
	for _, d := range data {
		scope.Bind(d, ir.DataT)
	}
	prog, err := ir.Check(f, scope, checkConfig(infer.Builtins()))
	if err != nil {
		return nil, err
	}
	return &Program{prog: prog, data: data}, nil
}

// Exec runs a compiled program in the session. Every data set the program
// was compiled to expect must have been bound with SetData.
func (s *Session) Exec(ctx context.Context, p *Program) error {
	for _, d := range p.data {
		if _, ok := s.values[d].(*data.Dataset); !ok {
			return fmt.Errorf("program %s expects data %q: bind it with SetData first", p.prog.File.Name, d)
		}
	}
	return s.exec(ctx, p.prog)
}

// DataOptions describe a data set handed over from Go.
type DataOptions struct {
	XNames      []string // feature names (default x0, x1, ...)
	YName       string   // target name (default "y")
	Classes     []string // class names for a classification target (y holds indices 0..K-1)
	Standardize bool     // as csv(..., standardize: true)
}

// SetData binds Go data as a data set named name: x holds one example per
// row, y the targets (class indices as float64 for a classifier). NaN or Inf
// values are an error, as in a CSV file.
func (s *Session) SetData(name string, x *mat.Dense, y []float64, opts *DataOptions) error {
	if opts == nil {
		opts = &DataOptions{}
	}
	r, c := x.Dims()
	if len(y) != r {
		return fmt.Errorf("data %s: %d rows of x but %d targets", name, r, len(y))
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := x.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("data %s: x[%d, %d] is %v", name, i, j, v)
			}
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("data %s: y[%d] is %v", name, i, y[i])
		}
		if k := len(opts.Classes); k > 0 && (y[i] < 0 || y[i] >= float64(k) || y[i] != math.Trunc(y[i])) {
			return fmt.Errorf("data %s: y[%d] = %v is not a class index in 0..%d", name, i, y[i], k-1)
		}
	}
	names := opts.XNames
	if names == nil {
		for j := 0; j < c; j++ {
			names = append(names, fmt.Sprintf("x%d", j))
		}
	}
	if len(names) != c {
		return fmt.Errorf("data %s: %d feature names for %d columns", name, len(names), c)
	}
	yName := opts.YName
	if yName == "" {
		yName = "y"
	}
	s.values[name] = &data.Dataset{
		X: mat.DenseCopyOf(x), Y: append([]float64(nil), y...), XNames: names, YName: yName,
		Classes: opts.Classes, Standardize: opts.Standardize, Source: "(Go)",
	}
	s.scope.Bind(name, ir.DataT)
	return nil
}

// LoadPosterior reads a posterior saved by a script's `save` statement. The
// file is self-contained: it carries the model and the standardisation.
func LoadPosterior(path string) (*Posterior, error) {
	s := NewSession(nil)
	f := &source.File{Name: path}
	x := &executor{s: s, f: f, ctx: context.Background()}
	return x.load(&ir.Load{Path: path})
}

// Prediction is a posterior predictive summarised per input row, in the
// target's own units.
type Prediction struct {
	Classification bool
	// Regression: the predictive mean and standard deviation, and the split
	// of the variance into aleatoric E[Var] and epistemic Var[E].
	Mean, SD []float64
	// Classification: averaged class probabilities (one row per input), the
	// most probable class, and total entropy = aleatoric (expected entropy)
	// + epistemic (mutual information), in nats.
	Prob  *mat.Dense
	Class []int
	Total []float64
	// Both.
	Aleatoric, Epistemic []float64
	// Draws keeps the per-draw outputs for any other summary.
	Draws *predictive.Predictive
}

// Predict answers a predictive question from Go: samples posterior draws
// (a finite posterior uses its own) with randomness from seed.
func (p *Posterior) Predict(ctx context.Context, x *mat.Dense, samples int, seed uint64) (*Prediction, error) {
	if samples <= 0 {
		samples = 100
	}
	pred, err := p.Predictive(ctx, x, samples, rand.New(rand.NewPCG(seed, 0x62617965736c)))
	if err != nil {
		return nil, err
	}
	out := &Prediction{Draws: pred}
	if pred.Kind == predictive.Regression {
		mean, ale, epi := pred.Regression()
		out.Mean, out.Aleatoric, out.Epistemic = mean, ale, epi
		out.SD = make([]float64, len(mean))
		for i := range mean {
			out.SD[i] = math.Sqrt(ale[i] + epi[i])
		}
		return out, nil
	}
	prob, total, ale, epi := pred.Classification()
	out.Classification = true
	out.Prob = mat.NewDense(pred.N, pred.K, prob)
	out.Total, out.Aleatoric, out.Epistemic = total, ale, epi
	out.Class = make([]int, pred.N)
	for n := 0; n < pred.N; n++ {
		best := 0
		for k := 1; k < pred.K; k++ {
			if prob[n*pred.K+k] > prob[n*pred.K+best] {
				best = k
			}
		}
		out.Class[n] = best
	}
	return out, nil
}
