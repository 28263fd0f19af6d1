package lang

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/data"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"github.com/bayesl/bayesl/stdlib/synth"
	"github.com/bayesl/bayesl/stdlib/tensorio"
	"gonum.org/v1/gonum/mat"
)

// Data from priors (docs/algorithms.md §9).
//
// simulate(MODEL, inputs: ..., datasets: D, seed: s) runs a model in
// prior-predictive mode: for each of the D data sets it draws θ from the
// model's prior (every tensor from its own prior, learnable activations
// included) and one target per input row from the likelihood at θ. The
// data sets are stacked into one table, data set after data set, whose
// column "dataset" (0 .. D−1) says which data set a row belongs to; that
// column is not a feature, so `fit`, `evaluate` and the rest take the table
// as it is, and where(synth, dataset == k) picks data set k. The inputs are
// fed to the network as given (no standardisation), and the table is not
// standardised. A classifier's targets are class indices with classes
// "0" .. "K−1".
//
// gmm_prior(seed: s) draws one data set from the ZEUS Gaussian-mixture
// prior over clustering problems (stdlib/synth): continuous features c0,
// c1, ... in [−1, 1], one-hot columns cat0_0, cat0_1, ... for categorical
// features, and the cluster as a class label (target "cluster").
//
// With seed: the draws depend on that seed alone; without, on the session
// seed and the statement.

// seededRNG returns the random source of a data expression: from its own
// seed and its kind when it has a seed (so the same call gives the same
// data anywhere), else from the session's seed and the statement's place.
func (x *executor) seededRNG(seed uint64, has bool, kind string, sp source.Span) *rand.Rand {
	if has {
		h := fnv.New64a()
		io.WriteString(h, kind)
		return rand.New(rand.NewPCG(seed, h.Sum64()))
	}
	return x.rng(fmt.Sprintf("%s:%d", kind, sp.Start.Offset))
}

func (x *executor) simulate(e *ir.Simulate) (*data.Dataset, error) {
	def := x.s.resolveDef(e.Model)
	m := def.Model
	prog, err := x.s.program(m)
	if err != nil {
		return nil, x.compileError(e.Span, err)
	}
	rng := x.seededRNG(e.Seed, e.HasSeed, "simulate", e.Span)

	// The input rows.
	var in *mat.Dense
	var names []string
	if e.Data != nil {
		d, err := x.data(e.Data)
		if err != nil {
			return nil, err
		}
		if d.Width() != m.InputWidth {
			return nil, x.errorf(e.Span, source.Shape, "model %s takes %d input features but the data has %d (%s)", m.Name, m.InputWidth, d.Width(), abbreviate(d.XNames, 6))
		}
		if d.Rows() == 0 {
			return nil, x.errorf(e.Span, source.Data, "the input data set has no rows")
		}
		in, names = d.X, d.XNames
	} else {
		in = mat.NewDense(e.N, m.InputWidth, nil)
		for i := range e.N {
			for j := range m.InputWidth {
				v := e.From + (e.To-e.From)*rng.Float64()
				if m.InputWidth == 1 { // an even grid
					v = e.From + (e.To-e.From)*float64(i)/float64(max(e.N-1, 1))
				}
				in.Set(i, j, v)
			}
		}
		names = inputNames(m)
	}
	n, _ := in.Dims()

	thetas := make([][]float64, e.Datasets)
	for s := range thetas {
		thetas[s] = make([]float64, prog.Dim())
		drawPrior(thetas[s], m, rng)
	}
	var pred predictive.Predictive
	prog.NewMachine().Predict(&pred, thetas, in)

	out := &data.Dataset{
		X: mat.NewDense(e.Datasets*n, m.InputWidth, nil), Y: make([]float64, e.Datasets*n),
		XNames: append([]string(nil), names...), YName: m.Lik.Target, Group: make([]float64, e.Datasets*n), GroupName: ir.DatasetColumn,
		Source: fmt.Sprintf("simulate(%s)", m.Name),
	}
	if pred.Kind == predictive.Classification {
		for k := range pred.K {
			out.Classes = append(out.Classes, strconv.Itoa(k))
		}
	}
	for s := range e.Datasets {
		for i := range n {
			r := s*n + i
			out.X.SetRow(r, in.RawRowView(i))
			out.Group[r] = float64(s)
			out.Y[r] = sampleTarget(&pred, s, i, rng)
		}
	}
	for _, y := range out.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, x.errorf(e.Span, source.Numeric, "a simulated target of %s is %v: the prior puts mass on outputs the likelihood cannot take (a scale of 0, an overflowing rate)", m.Name, y)
		}
	}
	return out, nil
}

// inputNames names a model's input columns: its input name, or name0,
// name1, ... for several.
func inputNames(m *ir.Model) []string {
	if m.InputWidth == 1 {
		return []string{m.InputName}
	}
	out := make([]string, m.InputWidth)
	for j := range out {
		out[j] = m.InputName + strconv.Itoa(j)
	}
	return out
}

// sampleTarget draws y for draw s at row i of a predictive.
func sampleTarget(p *predictive.Predictive, s, i int, rng *rand.Rand) float64 {
	if p.Kind == predictive.Classification {
		lp := p.LogProb[(s*p.N+i)*p.K : (s*p.N+i+1)*p.K]
		u := rng.Float64()
		c := 0.0
		for k, l := range lp {
			c += math.Exp(l)
			if u < c {
				return float64(k)
			}
		}
		return float64(p.K - 1)
	}
	loc, scale := p.Loc[s*p.N+i], p.Scale[s*p.N+i]
	if o, ok := p.Obs.(predictive.Sampler); ok {
		return o.Rand(loc, scale, rng)
	}
	return loc + scale*rng.NormFloat64()
}

func (x *executor) gmmPrior(e *ir.GMMPriorData) (*data.Dataset, error) {
	var p synth.GMMPrior
	if e.ZEUS {
		p = synth.ZEUSPretraining()
	}
	p.Shuffle = e.Shuffle
	rng := x.seededRNG(e.Seed, e.HasSeed, "gmm_prior", e.Span)
	ds, err := p.Sample(rng)
	if err != nil {
		return nil, x.wrap(e.Span, source.Runtime, err)
	}
	out := &data.Dataset{X: ds.X, YName: "cluster", Source: "gmm_prior"}
	for j := range ds.Dim {
		out.XNames = append(out.XNames, "c"+strconv.Itoa(j))
	}
	for i, k := range ds.Categories {
		for c := range k {
			out.XNames = append(out.XNames, fmt.Sprintf("cat%d_%d", i, c))
		}
	}
	for _, l := range ds.Labels {
		out.Y = append(out.Y, float64(l))
	}
	for k := range ds.K {
		out.Classes = append(out.Classes, strconv.Itoa(k))
	}
	return out, nil
}

// tableOf returns a data set's columns and rows as written to a file:
// the features, the target, then the data set column.
func tableOf(d *data.Dataset) ([]string, [][]float64) {
	header := append([]string(nil), d.XNames...)
	if d.Y != nil {
		header = append(header, d.YName)
	}
	if d.Group != nil {
		header = append(header, d.GroupName)
	}
	rows := make([][]float64, d.Rows())
	for i := range rows {
		row := make([]float64, 0, len(header))
		if d.Width() > 0 {
			row = append(row, d.X.RawRowView(i)...)
		}
		if d.Y != nil {
			row = append(row, d.Y[i])
		}
		if d.Group != nil {
			row = append(row, d.Group[i])
		}
		rows[i] = row
	}
	return header, rows
}

func (x *executor) saveData(st *ir.SaveData) error {
	d, err := x.data(st.Data)
	if err != nil {
		return err
	}
	if d.Rows() == 0 {
		return x.errorf(st.Span, source.Data, "the data set has no rows to save")
	}
	header, rows := tableOf(d)
	path := x.path(st.Path, true)
	if strings.HasSuffix(st.Path, ".npy") {
		flat := make([]float64, 0, len(rows)*len(header))
		for _, r := range rows {
			flat = append(flat, r...)
		}
		err = tensorio.WriteNPY(path, tensorio.Tensor{Shape: []int{len(rows), len(header)}, Data: flat}, nil)
	} else {
		err = writeFileAtomic(path, func(w io.Writer) error { return data.WriteCSV(w, header, rows) })
	}
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	sets := ""
	if d.Group != nil {
		sets = fmt.Sprintf(" (%d data sets)", int(d.Group[len(d.Group)-1])+1)
	}
	x.emit(Result{Kind: "write", Path: path, Text: fmt.Sprintf("wrote %d rows%s, columns %s, to %s", len(rows), sets, strings.Join(header, ", "), path)})
	return nil
}
