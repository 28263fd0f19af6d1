package lang

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bayesl/bayesl/compile"
	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/tensorio"
)

// Weights is a weights value: named tensors, loaded from a file or taken
// from a posterior, that layers read with from:. A dense layer's tensors
// are NAME.w (In x Out: the row-vector convention h = x·W, the transpose
// of PyTorch's Linear.weight) and NAME.b (Out).
type Weights struct {
	Tensors []tensorio.Tensor // sorted by name
	From    string            // where they came from, e.g. "point of p (the SWA mean)"
}

// SetWeights binds tensors handed over from Go as a weights value named
// name, as `weights name = load(...)` would. Each tensor's Data must match
// its Shape and names must be distinct; the tensors are copied.
func (s *Session) SetWeights(name string, ts []tensorio.Tensor) error {
	w := &Weights{From: "(Go)"}
	seen := map[string]bool{}
	for _, t := range ts {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("weights %s: %w", name, err)
		}
		if t.Name == "" || seen[t.Name] {
			return fmt.Errorf("weights %s: tensor name %q is empty or used twice", name, t.Name)
		}
		seen[t.Name] = true
		w.Tensors = append(w.Tensors, tensorio.Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)})
	}
	slices.SortFunc(w.Tensors, func(a, b tensorio.Tensor) int { return strings.Compare(a.Name, b.Name) })
	s.values[name] = w
	s.scope.Bind(name, ir.WeightsT)
	return nil
}

// describe is the REPL's :show of a weights value.
func (w *Weights) describe(name string) string {
	var b strings.Builder
	n := 0
	for _, t := range w.Tensors {
		n += len(t.Data)
	}
	fmt.Fprintf(&b, "weights %s: %d tensors, %d numbers, %s", name, len(w.Tensors), n, w.From)
	for _, t := range w.Tensors {
		fmt.Fprintf(&b, "\n  %-20s %v", t.Name, t.Shape)
	}
	return b.String()
}

func (x *executor) bindWeights(st *ir.BindWeights) error {
	w, err := x.weights(st.Name, st.Expr)
	if err != nil {
		return err
	}
	x.s.values[st.Name] = w
	return nil
}

func (x *executor) weights(name string, e ir.WeightsExpr) (*Weights, error) {
	switch e := e.(type) {
	case *ir.WeightsRef:
		w, ok := x.s.values[e.Name].(*Weights)
		if !ok {
			return nil, x.errorf(e.Span, source.Runtime, "%q holds no weights", e.Name)
		}
		return w, nil
	case *ir.LoadWeights:
		path := x.path(e.Path, false)
		var ts []tensorio.Tensor
		var err error
		switch strings.ToLower(filepath.Ext(path)) {
		case ".safetensors":
			ts, err = tensorio.ReadSafetensors(path)
		case ".npz":
			ts, err = tensorio.ReadNPZ(path)
		case ".npy":
			var t tensorio.Tensor
			t, err = tensorio.ReadNPY(path)
			ts = []tensorio.Tensor{t}
		}
		if err != nil {
			return nil, x.wrap(e.Span, source.Data, err)
		}
		slices.SortFunc(ts, func(a, b tensorio.Tensor) int { return strings.Compare(a.Name, b.Name) })
		return &Weights{Tensors: ts, From: "read from " + e.Path}, nil
	case *ir.PointWeights:
		p, err := x.posterior(name, e.Post)
		if err != nil {
			return nil, err
		}
		theta, what, err := infer.PointOf(p.post)
		if err != nil {
			return nil, x.wrap(e.Span, source.Type, err)
		}
		label := "a fit"
		if r, ok := e.Post.(*ir.PosteriorRef); ok {
			label = r.Name
		}
		// The scaler goes with the weights, so that saved to a file they
		// are a forward pass on raw inputs, and point(MODEL) over them
		// sees the data as the posterior did.
		ts := append(pointTensors(p.prog, theta), p.scalerTensors()...)
		slices.SortFunc(ts, func(a, b tensorio.Tensor) int { return strings.Compare(a.Name, b.Name) })
		return &Weights{Tensors: ts, From: fmt.Sprintf("the point of %s (%s)", label, what)}, nil
	}
	return nil, fmt.Errorf("unknown weights expression %T", e)
}

// pointTensors names the numbers of one network of prog at theta after the
// model's layers: per dense layer NAME.w (In x Out) and NAME.b (Out) as the
// layer computes with them (a frozen layer's constants with its adapter's
// update merged in), the adapters' own parameters (NAME.lora.a,
// NAME.lora.b, NAME.lora_xs.r) and every `param` block under its name.
func pointTensors(prog *compile.Program, theta []float64) []tensorio.Tensor {
	m := prog.Model()
	var ts []tensorio.Tensor
	for _, l := range m.Layers {
		w, b := prog.LayerWeights(l, theta)
		ts = append(ts, tensorio.Tensor{Name: l.Name + ".w", Shape: []int{l.In, l.Out}, Data: w})
		if b != nil {
			ts = append(ts, tensorio.Tensor{Name: l.Name + ".b", Shape: []int{l.Out}, Data: b})
		}
	}
	for _, q := range m.Params {
		v := slices.Clone(theta[q.Offset : q.Offset+q.Size()])
		switch {
		case q.Role.Adapter():
			ts = append(ts, tensorio.Tensor{Name: q.Name, Shape: []int{q.Rows, q.Cols}, Data: v})
		case q.Role == ir.Scalar:
			ts = append(ts, tensorio.Tensor{Name: q.Name, Shape: []int{q.Cols}, Data: v})
		}
	}
	slices.SortFunc(ts, func(a, b tensorio.Tensor) int { return strings.Compare(a.Name, b.Name) })
	return ts
}

func (x *executor) saveWeights(st *ir.SaveWeights) error {
	w, ok := x.s.values[st.Weights.Name].(*Weights)
	if !ok {
		return x.errorf(st.Weights.Span, source.Runtime, "%q holds no weights", st.Weights.Name)
	}
	path := x.path(st.Path, true)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".safetensors":
		err = tensorio.WriteSafetensors(path, w.Tensors, nil)
	case ".npz":
		err = tensorio.WriteNPZ(path, w.Tensors, nil)
	case ".npy":
		// One array, named by the file it is in: refuse what would not
		// read back as it was.
		stem := strings.TrimSuffix(filepath.Base(st.Path), filepath.Ext(st.Path))
		switch {
		case len(w.Tensors) != 1:
			return x.errorf(st.Span, source.Type, "a .npy file holds one array, and %s has %d tensors: save it to .safetensors or .npz", st.Weights.Name, len(w.Tensors))
		case w.Tensors[0].Name != stem:
			return x.errorf(st.Span, source.Type, "a .npy file's array is named after the file, and %s's tensor is %q: save it to %q", st.Weights.Name, w.Tensors[0].Name, filepath.Join(filepath.Dir(st.Path), w.Tensors[0].Name+".npy"))
		}
		err = tensorio.WriteNPY(path, w.Tensors[0], nil)
	}
	if err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	x.emit(Result{Kind: "save", Name: st.Weights.Name, Path: path})
	return nil
}

// weightsConsts reads the values of m's tensor constants from the
// session's weights values: one per ir.ConstTensor constant, nil for
// derived ones. A missing tensor or one of the wrong shape is an error at
// the from: argument that names it, listing what there is.
func (s *Session) weightsConsts(m *ir.Model) ([][]float64, error) {
	var errs source.List
	vals := make([][]float64, len(m.Consts))
	failed := map[source.Span]bool{} // one error per from: argument
	for k, c := range m.Consts {
		if c.Kind != ir.ConstTensor || failed[c.Span] {
			continue
		}
		w, ok := s.values[c.Weights].(*Weights)
		if !ok {
			errs.Add(source.Errorf(nil, c.Span, source.Runtime, "%q holds no weights", c.Weights))
			continue
		}
		v, err := constValue(c, w.Tensors)
		if err != nil {
			errs.Add(err)
			failed[c.Span] = true
			continue
		}
		vals[k] = v
	}
	return vals, errs.Err()
}

// constValue finds the tensor of constant c in ts and checks its shape: a
// weight must be Rows x Cols; a bias (Rows 1) may also be a vector.
func constValue(c *ir.Const, ts []tensorio.Tensor) ([]float64, *source.Error) {
	t, err := tensorio.Lookup(ts, c.Tensor)
	if err != nil {
		return nil, source.Errorf(nil, c.Span, source.Name, "weights %s: %v", c.Weights, err)
	}
	want := []int{c.Rows, c.Cols}
	ok := slices.Equal(t.Shape, want)
	if c.Rows == 1 && slices.Equal(t.Shape, []int{c.Cols}) {
		ok, want = true, []int{c.Cols}
	}
	if !ok {
		layer := strings.TrimSuffix(strings.TrimSuffix(c.Name, ".w"), ".b")
		what := fmt.Sprintf("layer %s (%d inputs, %d units) needs a weight of shape %v", layer, c.Rows, c.Cols, want)
		if c.Rows == 1 {
			what = fmt.Sprintf("layer %s needs a bias of shape [%d]", layer, c.Cols)
		}
		hint := ""
		if slices.Equal(t.Shape, []int{c.Cols, c.Rows}) && c.Rows != 1 {
			hint = " (it looks transposed: bayesl stores a weight as inputs x units, PyTorch's Linear.weight is units x inputs)"
		}
		return nil, source.Errorf(nil, c.Span, source.Shape, "weights %s: tensor %q has shape %v, but %s%s", c.Weights, c.Tensor, t.Shape, what, hint)
	}
	return t.Data, nil
}

// compileModel compiles a model, binding its constants to the session's
// weights values. A model is compiled once, when it is defined, so it keeps
// the weights it was defined with even if their name is bound again.
func (s *Session) compileModel(m *ir.Model) (*compile.Program, error) {
	if len(m.Consts) == 0 {
		return compile.Compile(m)
	}
	vals, err := s.weightsConsts(m)
	if err != nil {
		return nil, err
	}
	return compile.CompileWith(m, vals)
}

// programWith compiles m with the given constant values (a loaded
// posterior's), caching the result like program does.
func (s *Session) programWith(m *ir.Model, consts [][]float64) (*compile.Program, error) {
	if p, ok := s.compiled[m]; ok {
		return p, nil
	}
	p, err := compile.CompileWith(m, consts)
	if err != nil {
		return nil, err
	}
	s.compiled[m] = p
	return p, nil
}

// frozenMeta is what a saved posterior carries for a model with constants:
// the names of the weights values its source refers to (so it checks on
// its own) and every constant's values, derived ones included, as a
// safetensors blob keyed by constant name (so the factors an adapter was
// trained with come back bit for bit, whatever the SVD would give today).
type frozenMeta struct {
	Weights []string `json:"weights,omitempty"`
	Consts  []byte   `json:"consts,omitempty"`
}

func newFrozenMeta(p *Posterior) (frozenMeta, error) {
	m := p.model
	if len(m.Consts) == 0 {
		return frozenMeta{}, nil
	}
	var fm frozenMeta
	vals := p.prog.Consts()
	ts := make([]tensorio.Tensor, len(m.Consts))
	for k, c := range m.Consts {
		ts[k] = tensorio.Tensor{Name: c.Name, Shape: []int{c.Rows, c.Cols}, Data: vals[k]}
		if c.Kind == ir.ConstTensor && !slices.Contains(fm.Weights, c.Weights) {
			fm.Weights = append(fm.Weights, c.Weights)
		}
	}
	blob, err := tensorio.EncodeSafetensors(ts, nil)
	if err != nil {
		return fm, err
	}
	fm.Consts = blob
	return fm, nil
}

// scope returns the scope a stored model is checked in: its weights names
// bound.
func (fm frozenMeta) scope() *ir.Scope {
	sc := ir.NewScope()
	for _, w := range fm.Weights {
		sc.Bind(w, ir.WeightsT)
	}
	return sc
}

// values returns the stored constants of m, by index in m.Consts.
func (fm frozenMeta) values(m *ir.Model) ([][]float64, error) {
	if len(m.Consts) == 0 {
		return nil, nil
	}
	ts, err := tensorio.DecodeSafetensors(fm.Consts)
	if err != nil {
		return nil, fmt.Errorf("stored constants: %w", err)
	}
	vals := make([][]float64, len(m.Consts))
	for k, c := range m.Consts {
		t, err := tensorio.Lookup(ts, c.Name)
		if err != nil {
			return nil, fmt.Errorf("stored constants: %w", err)
		}
		if !slices.Equal(t.Shape, []int{c.Rows, c.Cols}) {
			return nil, fmt.Errorf("stored constant %s has shape %v, the model needs [%d %d]", c.Name, t.Shape, c.Rows, c.Cols)
		}
		vals[k] = t.Data
	}
	return vals, nil
}

// modelCounts is the parameter accounting line of a model: trainable
// numbers (and how many of them belong to adapters) and frozen ones.
func modelCounts(m *ir.Model) string {
	c := m.Counts()
	if c.Frozen == 0 && c.Adapters == 0 {
		return fmt.Sprintf("%d parameters", c.Trainable)
	}
	s := fmt.Sprintf("%d trainable parameters (%d in adapters), %d frozen", c.Trainable, c.Adapters, c.Frozen)
	if c.Derived > 0 {
		s += fmt.Sprintf(" (+%d in LoRA-XS projections)", c.Derived)
	}
	return s
}

// describeLayers lists a model's layers as written: name, shape, whether
// frozen, and adapter.
func describeLayers(m *ir.Model) string {
	var b strings.Builder
	for _, l := range m.Layers {
		kind := "trainable"
		if l.Frozen {
			kind = "frozen"
		}
		fmt.Fprintf(&b, "\n  layer %-8s %4d x %-4d %s", l.Name, l.In, l.Out, kind)
		if a := l.Adapter; a != nil {
			n := a.Rank * a.Rank
			if a.Kind == ir.LoRA {
				n = a.Rank * (l.In + l.Out)
			}
			fmt.Fprintf(&b, " + %s(rank: %d, alpha: %g): %d trainable", a.Kind, a.Rank, a.Alpha, n)
		}
	}
	return b.String()
}

// countMetric gives the evaluate columns that count numbers rather than
// score predictions: trainable (the length of θ), stored (the numbers
// the posterior keeps: d·(K+2) for SWAG, d for a point) and evidence (the
// log marginal likelihood of the training data a Laplace posterior
// estimates; NaN for the others).
func countMetric(m ir.Metric, p *Posterior) (float64, bool) {
	switch m.Name {
	case "trainable":
		return float64(p.model.Dim()), true
	case "stored":
		if sn, ok := p.post.(infer.StoredNumberer); ok {
			return float64(sn.StoredNumbers()), true
		}
		return float64(p.post.Dim()), true
	case "evidence":
		if ev, ok := p.post.(infer.Evidencer); ok {
			return ev.LogMarginalLikelihood(), true
		}
		return math.NaN(), true
	}
	return 0, false
}
