package ir

import (
	"strings"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// This file checks data drawn from priors (docs/algorithms.md §9) and the
// statements that show or write them:
//
//	data synth = simulate(net, inputs: -3 .. 3, n: 50, datasets: 100, seed: 1)
//	data synth = simulate(net, inputs: train, datasets: 10)
//	data g = gmm_prior(seed: 1)
//	save synth to "out/synth.csv"                      # or .npy
//	plot prior_samples(gp(rbf(lengthscale: 0.5)), net, net_gp, over: -3 .. 3, n: 10) to "out/priors.png"

// DatasetColumn is the name of the column that numbers the data sets
// simulate stacks into one table.
const DatasetColumn = "dataset"

// Simulate draws data sets from a model's prior predictive: for each data
// set, θ from the prior, then one target per input row from the
// likelihood at θ. The D data sets are stacked into one table whose rows
// carry their data set's number 0 .. D−1 in the column "dataset", which is
// not a feature: every verb takes the table, and where(synth, dataset == k)
// picks one data set.
type Simulate struct {
	Model *DefineModel
	// Inputs are the input rows: a data set's features (Data), or, when
	// Data is nil, N points in [From, To] for every input (evenly spaced
	// for a model with one input, uniform at random otherwise).
	Data     DataExpr
	From, To float64
	N        int
	Datasets int
	Seed     uint64
	HasSeed  bool // otherwise the seed derives from the session's
	Span     source.Span
}

// GMMPriorData is one data set drawn from the ZEUS Gaussian-mixture prior
// over clustering problems (stdlib/synth): continuous features c0, c1, ...
// scaled to [−1, 1], one-hot categorical columns, and the cluster as a
// class label.
type GMMPriorData struct {
	Seed    uint64
	HasSeed bool
	// ZEUS selects the prior ZEUS pre-trains on (tighter clusters), instead
	// of docs/algorithms.md §9's.
	ZEUS    bool
	Shuffle bool
	Span    source.Span
}

func (d *Simulate) dataSpan() source.Span     { return d.Span }
func (d *GMMPriorData) dataSpan() source.Span { return d.Span }

// SaveData writes a data set to a CSV file (a header, the features, the
// target and, for simulated data, the data set column) or a NPY file (the
// same columns as one rows x columns float64 array).
type SaveData struct {
	Data DataExpr
	Path string
	Span source.Span
}

func (s *SaveData) stmtSpan() source.Span { return s.Span }

// PriorPanel is one panel of a prior_samples picture: a GP or a model.
type PriorPanel struct {
	Kernel *Kernel      // a GP, or nil
	Model  *DefineModel // a model, or nil
	Name   string       // the model's name as written
	Span   source.Span
}

// PlotPriors draws function samples from priors side by side: GPs and
// models (the output a model's likelihood reads, with θ drawn from the
// prior), N functions each on a grid of Points inputs in [From, To].
type PlotPriors struct {
	Panels   []PriorPanel
	From, To float64
	Points   int
	N        int
	Path     string
	Span     source.Span
}

func (s *PlotPriors) stmtSpan() source.Span { return s.Span }

// simulate checks simulate(MODEL, inputs: ..., n:, datasets:, seed:).
func (c *checker) simulate(call *parser.Call) DataExpr {
	a := c.args(call, []string{"model", "inputs"}, []string{"n", "datasets", "seed"})
	if a == nil {
		return nil
	}
	out := &Simulate{N: 100, Datasets: 1, Span: call.Sp}
	ok := true
	id, isID := a["model"].(*parser.Ident)
	if !isID {
		c.errorf(a["model"].Span(), source.Type, "simulate's first argument is a model name")
		ok = false
	} else if out.Model = c.sourceModel(id); out.Model == nil {
		ok = false
	}
	if r, isRange := a["inputs"].(*parser.Range); isRange {
		from, okF := numberLit(r, true)
		to, okT := numberLit(r, false)
		if !okF || !okT || !(from < to) {
			c.errorf(r.Sp, source.Type, "inputs takes a data set or a range low .. high, e.g. -3 .. 3")
			ok = false
		}
		out.From, out.To = from, to
	} else if out.Data = c.dataExpr(a["inputs"]); out.Data == nil {
		ok = false
	}
	if v, has := a["n"]; has {
		if out.Data != nil {
			c.errorf(v.Span(), source.Type, "n counts the points of an input range; a data set brings its own rows")
			ok = false
		}
		n, okN := c.integer(v, "n")
		if okN && n < 1 {
			c.errorf(v.Span(), source.Type, "n must be at least 1")
			okN = false
		}
		out.N, ok = n, ok && okN
	}
	if v, has := a["datasets"]; has {
		n, okN := c.integer(v, "datasets")
		if okN && n < 1 {
			c.errorf(v.Span(), source.Type, "datasets must be at least 1")
			okN = false
		}
		out.Datasets, ok = n, ok && okN
	}
	if v, has := a["seed"]; has {
		n, okN := c.integer(v, "seed")
		out.Seed, out.HasSeed, ok = uint64(n), true, ok && okN
	}
	if !ok {
		return nil
	}
	return out
}

// gmmPrior checks gmm_prior(seed:, zeus:, shuffle:).
func (c *checker) gmmPrior(call *parser.Call) DataExpr {
	a := c.args(call, nil, []string{"seed", "zeus", "shuffle"})
	if a == nil {
		return nil
	}
	out := &GMMPriorData{Shuffle: true, Span: call.Sp}
	ok := true
	if v, has := a["seed"]; has {
		n, okN := c.integer(v, "seed")
		out.Seed, out.HasSeed, ok = uint64(n), true, ok && okN
	}
	if v, has := a["zeus"]; has {
		b, okB := c.boolLit(v, "zeus")
		out.ZEUS, ok = b, ok && okB
	}
	if v, has := a["shuffle"]; has {
		b, okB := c.boolLit(v, "shuffle")
		out.Shuffle, ok = b, ok && okB
	}
	if !ok {
		return nil
	}
	return out
}

// saveData checks `save DATA to "file.csv"` (or .npy).
func (c *checker) saveData(s *parser.SaveStmt) Stmt {
	d := c.dataExpr(s.Value)
	path, ok := c.stringLit(s.Path, "file name")
	if ok && !strings.HasSuffix(path, ".csv") && !strings.HasSuffix(path, ".npy") {
		c.errorf(s.Path.Span(), source.Type, "a data set is saved to a .csv or .npy file, got %q", path)
		ok = false
	}
	if d == nil || !ok {
		return nil
	}
	return &SaveData{Data: d, Path: path, Span: s.Sp}
}

// plotPriors checks prior_samples(GP_OR_MODEL, ..., over: lo .. hi, n:, points:).
func (c *checker) plotPriors(s *parser.PlotStmt, call *parser.Call, path string, okP bool) Stmt {
	st := &PlotPriors{Path: path, Points: 200, N: 10, Span: s.Sp}
	ok := okP
	for _, a := range call.Args {
		if a.Name != nil {
			continue
		}
		switch v := a.Value.(type) {
		case *parser.Ident:
			def := c.sourceModel(v)
			if def == nil {
				ok = false
				continue
			}
			m := def.Model
			okM := c.singleOutput(v, m, "a prior_samples panel")
			if okM && m.InputWidth != 1 {
				c.errorf(v.Sp, source.Shape, "prior_samples pictures models with one input; %s takes %d", v.Name, m.InputWidth)
				okM = false
			}
			ok = ok && okM
			st.Panels = append(st.Panels, PriorPanel{Model: def, Name: v.Name, Span: v.Sp})
		default:
			k, okK := c.gp(v)
			ok = ok && okK
			st.Panels = append(st.Panels, PriorPanel{Kernel: k, Span: v.Span()})
		}
	}
	if len(st.Panels) == 0 {
		c.errorf(call.Sp, source.Type, "prior_samples needs at least one GP or model: prior_samples(gp(rbf(lengthscale: 0.5)), net, over: -3 .. 3)")
		ok = false
	}
	for _, a := range call.Args {
		if a.Name == nil {
			continue
		}
		switch a.Name.Name {
		case "over":
			r, isRange := a.Value.(*parser.Range)
			from, okF := numberLit(r, true)
			to, okT := numberLit(r, false)
			if !isRange || !okF || !okT || !(from < to) {
				c.errorf(a.Value.Span(), source.Type, "over takes an input range low .. high, e.g. -2 .. 2")
				ok = false
			}
			st.From, st.To = from, to
		case "n", "points":
			v, okI := c.integer(a.Value, a.Name.Name)
			if okI && v < 1 {
				c.errorf(a.Value.Span(), source.Type, "%s must be at least 1", a.Name.Name)
				okI = false
			}
			if a.Name.Name == "n" {
				st.N = v
			} else {
				st.Points = v
			}
			ok = ok && okI
		default:
			c.unknown(a.Name, "prior_samples argument", mustPlot(PlotPriorSamples).Optional)
			ok = false
		}
	}
	if !(st.From < st.To) && ok {
		c.errorf(call.Sp, source.Type, "prior_samples needs the input range: over: low .. high")
		ok = false
	}
	if !ok {
		return nil
	}
	return st
}

// savesData reports whether a save statement writes a data set: a data
// value to a .csv or .npy file (anything else goes to the posterior and
// weights checks, which explain what they accept).
func (c *checker) savesData(s *parser.SaveStmt) bool {
	str, isStr := s.Path.(*parser.String)
	if !isStr || !(strings.HasSuffix(str.Value, ".csv") || strings.HasSuffix(str.Value, ".npy")) {
		return false
	}
	switch v := s.Value.(type) {
	case *parser.Ident:
		t, ok := c.scope.types[v.Name]
		return ok && t == DataT
	case *parser.Call:
		return true
	}
	return false
}
