package ir

import (
	"fmt"
	"math"
	"regexp"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// This file lowers dense layers, with what fine-tuning adds to them: a
// stable name, values taken from a weights value (from:), frozen weights,
// and low-rank adapters (docs/algorithms.md §4):
//
//	dense(x, 128, name: "h1")                       trainable, named h1
//	dense(x, 128, from: base.h1)                    trainable, starts at base's h1.w, h1.b
//	dense(x, 128, from: base.h1, frozen)            constant: base's h1.w, h1.b
//	dense(x, 128, from: base.h1, frozen, adapter: lora(rank: 8, alpha: 16))
//	dense(x, 128, from: base.h1, frozen, adapter: lora_xs(rank: 4))
//
// A frozen layer is an OpFrozen node over two constants; its numbers are
// not parameters, so no backend sees them. An adapter adds a low-rank update
// computed as a chain of thin products, never as an In x Out matrix:
//
//	lora:     x·A (In x r, trainable) → ·s → ·B (r x Out, trainable)
//	lora_xs:  x·A (In x r, constant U_r S_r) → ·R (r x r, trainable) → ·s → ·B (r x Out, constant V_rᵀ)
//
// with s = alpha/rank, and the layer's output is the frozen product plus the
// update. Each factor is an ordinary node (OpDense for a trainable factor,
// OpFrozen for a constant one, OpMul by a constant for s), so every pass of
// compile — the gradient, the local reparameterisation, batched prediction
// and the GGN curvature — handles adapters with no special case.

// ConstKind says where a constant's values come from.
type ConstKind int

// Constant kinds.
const (
	ConstTensor   ConstKind = iota // a tensor of a weights value: Weights, Tensor
	ConstSVDLeft                   // A = U_r S_r of the rank-Rank truncated SVD of Consts[Of]
	ConstSVDRight                  // B = V_rᵀ of the same SVD
)

func (k ConstKind) String() string {
	return [...]string{"tensor", "svd.a", "svd.b"}[k]
}

// Const is a frozen tensor of a model: numbers the network computes with
// that are not parameters, so no inference backend sees or changes them.
// Their values are not known when a script is checked: they are bound when
// the model is compiled at run time (lang reads ConstTensor values from the
// weights value, compile derives the SVD factors).
type Const struct {
	Name       string // unique in the model: "h1.w", "h1.b", "h1.lora_xs.a", "h1.lora_xs.b"
	Kind       ConstKind
	Rows, Cols int
	Weights    string // ConstTensor: the weights value, e.g. "base"
	Tensor     string // ConstTensor: the tensor's name in it, e.g. "h1.w"
	Of, Rank   int    // SVD kinds: the index of the constant factored and the rank kept
	Span       source.Span
}

// Size is the number of scalars in the constant.
func (c *Const) Size() int { return c.Rows * c.Cols }

// AdapterKind names a low-rank adapter.
type AdapterKind int

// Adapter kinds.
const (
	LoRA   AdapterKind = iota // ΔW = s·A·B, A and B trainable (Hu et al. 2021)
	LoRAXS                    // ΔW = s·A·R·B, A and B from the SVD of W and frozen, R trainable (Bałazy et al. 2024)
)

func (k AdapterKind) String() string { return [...]string{"lora", "lora_xs"}[k] }

// Adapter is a low-rank update of a frozen dense layer: the layer computes
// x·W + b + s·x·A·R·B (R = I for LoRA) with s = Alpha/Rank.
type Adapter struct {
	Kind  AdapterKind
	Rank  int
	Alpha float64
	A, B  int // LoRA: indices into Model.Params; LoRA-XS: indices into Model.Consts
	R     int // LoRA-XS: index into Model.Params; -1 for LoRA
	Span  source.Span
}

// Scale is the adapter's scaling s = Alpha/Rank (PEFT's convention).
func (a *Adapter) Scale() float64 { return a.Alpha / float64(a.Rank) }

// Layer is a dense layer as written: its name (the prefix of its tensor
// names, name.w and name.b), its weight and bias, and its adapter.
type Layer struct {
	Name    string
	In, Out int
	Frozen  bool // W and B index Model.Consts; otherwise Model.Params
	W, B    int  // B is -1 for a layer without bias
	Adapter *Adapter
	Node    int // the node whose value is the layer's output (before any activation)
	Span    source.Span
}

// Counts splits the numbers of a model.
type Counts struct {
	Trainable int // the parameter vector's length, Dim
	Adapters  int // of Trainable, the numbers of adapters
	Frozen    int // the frozen layers' weights and biases (constants read from weights)
	Derived   int // constants computed from them (LoRA-XS's A and B)
}

// Counts returns the model's parameter accounting.
func (m *Model) Counts() Counts {
	c := Counts{Trainable: m.Dim()}
	for _, p := range m.Params {
		if p.Role.Adapter() {
			c.Adapters += p.Size()
		}
	}
	for _, l := range m.Layers {
		if l.Frozen {
			c.Frozen += m.Consts[l.W].Size()
			if l.B >= 0 {
				c.Frozen += m.Consts[l.B].Size()
			}
		}
		if a := l.Adapter; a != nil && a.Kind == LoRAXS {
			c.Derived += m.Consts[a.A].Size() + m.Consts[a.B].Size()
		}
	}
	return c
}

// DefaultAlpha is an adapter's alpha when the script does not give one
// (the b-lora-xs configuration's lora_alpha).
const DefaultAlpha = 16

var layerName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// denseArgs are dense's named arguments besides input and units.
var denseArgs = []string{"prior", "bias_prior", "bias", "name", "from", "frozen", "adapter"}

// stripFrozen returns call without its bare `frozen` arguments (written
// positionally, as a flag) and the span of the first one.
func stripFrozen(call *parser.Call) (*parser.Call, source.Span, bool) {
	var sp source.Span
	found := false
	out := *call
	out.Args = nil
	for _, a := range call.Args {
		if id, ok := a.Value.(*parser.Ident); ok && a.Name == nil && id.Name == "frozen" {
			if !found {
				sp, found = a.Sp, true
			}
			continue
		}
		out.Args = append(out.Args, a)
	}
	return &out, sp, found
}

func (b *modelBuilder) denseLayer(e *parser.Call) (int, bool) {
	call, bareSp, bare := stripFrozen(e)
	a := b.c.args(call, []string{"input", "units"}, denseArgs)
	if a == nil {
		return 0, false
	}
	x, okX := b.expr(a["input"])
	units, okU := b.c.integer(a["units"], "dense units")
	if okU && units < 1 {
		b.c.errorf(a["units"].Span(), source.Shape, "dense needs at least one unit")
		okU = false
	}
	ok := okX && okU

	// The name: given; else the name of the layer it takes its values from
	// (from: base.h1 names it h1), so fine-tuned weights keep the names of
	// the pretrained ones; else the next in the dense0, dense1, ...
	// numbering (which counts every dense layer, named or not, so naming
	// one layer never renames another).
	name := fmt.Sprintf("dense%d", b.dense)
	b.dense++
	if f, isField := a["from"].(*parser.Field); isField {
		name = f.Name.Name
	}
	if v, has := a["name"]; has {
		s, okS := b.c.stringLit(v, "layer name")
		switch {
		case !okS:
			ok = false
		case !layerName.MatchString(s):
			b.c.errorf(v.Span(), source.Name, "layer name %q must be an identifier (letters, digits, _), so that WEIGHTS.%s can name it", s, s)
			ok = false
		default:
			name = s
		}
	}
	if b.layers == nil {
		b.layers = map[string]bool{}
	}
	if b.layers[name] {
		sp := e.Fun.Sp
		if v, has := a["name"]; has {
			sp = v.Span()
		}
		b.c.errorf(sp, source.Name, "layer name %q is used twice in model %s; give one of them another: name: \"...\"", name, b.m.Name)
		ok = false
	}
	b.layers[name] = true

	frozen, frozenSp := bare, bareSp
	if v, has := a["frozen"]; has {
		if bare {
			b.c.errorf(v.Span(), source.Type, "argument \"frozen\" given twice")
			ok = false
		}
		f, okF := b.c.boolLit(v, "frozen")
		frozen, frozenSp, ok = f, v.Span(), ok && okF
	}

	var from *parser.Field
	var weights string
	if v, has := a["from"]; has {
		f, isField := v.(*parser.Field)
		id, isID := (*parser.Ident)(nil), false
		if isField {
			id, isID = f.X.(*parser.Ident)
		}
		if !isField || !isID {
			b.c.errorf(v.Span(), source.Type, "from: names a layer of a weights value, e.g. from: base.h1")
			ok = false
		} else if r, okR := b.c.ref(id, WeightsT); okR {
			from, weights = f, r.Name
		} else {
			ok = false
		}
	}
	if frozen && from == nil && ok {
		b.c.errorf(frozenSp, source.Type, "a frozen layer needs its values: add from: WEIGHTS.LAYER")
		ok = false
	}

	wPrior, wScaled := b.wPrior, b.wScaled
	bPrior := b.bPrior
	for _, arg := range []string{"prior", "bias_prior"} {
		v, has := a[arg]
		if !has {
			continue
		}
		pr, okP := b.prior(v)
		ok = ok && okP
		if frozen {
			b.c.errorf(v.Span(), source.Type, "a frozen layer has no %s: its weights are constants (put a prior on its adapter instead)", arg)
			ok = false
		}
		if arg == "prior" {
			wPrior, wScaled = pr, false
		} else {
			bPrior = pr
		}
	}
	useBias := true
	if v, has := a["bias"]; has {
		bb, okB := b.c.boolLit(v, "bias")
		useBias, ok = bb, ok && okB
	}
	adapterCall, hasAdapter := a["adapter"]
	if hasAdapter && !frozen && ok {
		b.c.errorf(adapterCall.Span(), source.Type, "an adapter adapts frozen weights: write dense(..., from: WEIGHTS.LAYER, frozen, adapter: ...)")
		ok = false
	}
	if !ok {
		if hasAdapter {
			b.checkAdapterCall(adapterCall) // report its own errors too
		}
		return 0, false
	}
	in := b.m.Nodes[x]
	if !in.Batch {
		b.c.errorf(a["input"].Span(), source.Shape, "dense needs a per-example input (derived from %q)", b.m.InputName)
		return 0, false
	}

	layer := &Layer{Name: name, In: in.Width, Out: units, Frozen: frozen, B: -1, Span: e.Sp}
	var fromSp source.Span
	var tensor func(suffix string, rows, cols int) *Const
	if from != nil {
		fromSp = a["from"].Span()
		tensor = func(suffix string, rows, cols int) *Const {
			return &Const{Name: name + suffix, Kind: ConstTensor, Rows: rows, Cols: cols,
				Weights: weights, Tensor: from.Name.Name + suffix, Span: fromSp}
		}
	}
	var out int
	if frozen {
		layer.W = b.addConst(tensor(".w", in.Width, units))
		if useBias {
			layer.B = b.addConst(tensor(".b", 1, units))
		}
		out = b.add(&Node{Op: OpFrozen, Args: []int{x}, W: layer.W, B: layer.B, Batch: true, Width: units, Span: e.Sp})
	} else {
		if wScaled {
			wPrior.Scale /= math.Sqrt(float64(in.Width))
		}
		wp := &Param{Name: name + ".w", Role: Weight, Rows: in.Width, Cols: units, Prior: wPrior, FanIn: in.Width, Span: e.Sp}
		var bp *Param
		if useBias {
			bp = &Param{Name: name + ".b", Role: Bias, Rows: 1, Cols: units, Prior: bPrior, FanIn: 1, Span: e.Sp}
		}
		if tensor != nil {
			wp.Init = b.m.Consts[b.addConst(tensor(".w", in.Width, units))]
			if bp != nil {
				bp.Init = b.m.Consts[b.addConst(tensor(".b", 1, units))]
			}
		}
		layer.W = b.addParam(wp)
		if bp != nil {
			layer.B = b.addParam(bp)
		}
		out = b.add(&Node{Op: OpDense, Args: []int{x}, W: layer.W, B: layer.B, Batch: true, Width: units, Span: e.Sp})
	}
	if hasAdapter {
		upd, okA := b.adapter(adapterCall, layer, x)
		if !okA {
			return 0, false
		}
		out = b.add(&Node{Op: OpAdd, Args: []int{out, upd}, Batch: true, Width: units, Span: e.Sp})
	}
	layer.Node = out
	b.m.Layers = append(b.m.Layers, layer)
	return out, true
}

func (b *modelBuilder) addConst(c *Const) int {
	b.m.Consts = append(b.m.Consts, c)
	return len(b.m.Consts) - 1
}

var adapterKinds = []string{"lora", "lora_xs"}

// adapterSpec is a checked adapter call.
type adapterSpec struct {
	kind     AdapterKind
	rank     int
	alpha    float64
	prior    Prior
	hasPrior bool
	span     source.Span
	rankSp   source.Span
}

// checkAdapterCall checks lora(rank: r, alpha: a, prior: p) or
// lora_xs(...) on its own.
func (b *modelBuilder) checkAdapterCall(e parser.Expr) (adapterSpec, bool) {
	call, isCall := e.(*parser.Call)
	if !isCall {
		b.c.errorf(e.Span(), source.Type, "an adapter is lora(rank: R) or lora_xs(rank: R)")
		return adapterSpec{}, false
	}
	s := adapterSpec{span: call.Sp, alpha: DefaultAlpha}
	switch call.Fun.Name {
	case "lora":
		s.kind = LoRA
	case "lora_xs":
		s.kind = LoRAXS
	default:
		b.c.unknown(call.Fun, "adapter", adapterKinds)
		return s, false
	}
	a := b.c.args(call, []string{"rank"}, []string{"alpha", "prior"})
	if a == nil {
		return s, false
	}
	ok := true
	r, okR := b.c.integer(a["rank"], call.Fun.Name+" rank")
	if okR && r < 1 {
		b.c.errorf(a["rank"].Span(), source.Shape, "%s rank must be at least 1", call.Fun.Name)
		okR = false
	}
	s.rank, s.rankSp, ok = r, a["rank"].Span(), okR
	if v, has := a["alpha"]; has {
		al, okA := b.c.number(v, call.Fun.Name+" alpha")
		if okA && !(al > 0) {
			b.c.errorf(v.Span(), source.Type, "%s alpha must be positive, got %v", call.Fun.Name, al)
			okA = false
		}
		s.alpha, ok = al, ok && okA
	}
	if v, has := a["prior"]; has {
		pr, okP := b.prior(v)
		s.prior, s.hasPrior, ok = pr, true, ok && okP
	}
	return s, ok
}

// adapter lowers the adapter of layer (whose input is node x) and returns
// the node of its update s·x·A·R·B.
func (b *modelBuilder) adapter(e parser.Expr, layer *Layer, x int) (int, bool) {
	s, ok := b.checkAdapterCall(e)
	if !ok {
		return 0, false
	}
	in, out, r := layer.In, layer.Out, s.rank
	if k := min(in, out); r > k {
		b.c.errorf(s.rankSp, source.Shape, "%s rank %d exceeds the layer's smaller side: it is %d x %d, so the rank is at most %d", s.kind, r, in, out, k)
		return 0, false
	}
	prior := func(fanIn int) Prior {
		if s.hasPrior {
			return s.prior
		}
		p := b.wPrior
		if b.wScaled {
			p.Scale /= math.Sqrt(float64(fanIn))
		}
		return p
	}
	prefix := layer.Name + "." + s.kind.String()
	ad := &Adapter{Kind: s.kind, Rank: r, Alpha: s.alpha, R: -1, Span: s.span}
	scale := b.add(&Node{Op: OpConst, Value: ad.Scale(), Width: 1, Span: s.span})
	var upd int
	switch s.kind {
	case LoRA:
		ad.A = b.addParam(&Param{Name: prefix + ".a", Role: LoRAA, Rows: in, Cols: r, Prior: prior(in), FanIn: in, Span: s.span})
		ad.B = b.addParam(&Param{Name: prefix + ".b", Role: LoRAB, Rows: r, Cols: out, Prior: prior(r), FanIn: r, Span: s.span})
		h := b.add(&Node{Op: OpDense, Args: []int{x}, W: ad.A, B: -1, Batch: true, Width: r, Span: s.span})
		h = b.add(&Node{Op: OpMul, Args: []int{h, scale}, Batch: true, Width: r, Span: s.span})
		upd = b.add(&Node{Op: OpDense, Args: []int{h}, W: ad.B, B: -1, Batch: true, Width: out, Span: s.span})
	case LoRAXS:
		ad.A = b.addConst(&Const{Name: prefix + ".a", Kind: ConstSVDLeft, Rows: in, Cols: r, Of: layer.W, Rank: r, Span: s.span})
		ad.B = b.addConst(&Const{Name: prefix + ".b", Kind: ConstSVDRight, Rows: r, Cols: out, Of: layer.W, Rank: r, Span: s.span})
		ad.R = b.addParam(&Param{Name: prefix + ".r", Role: LoRAXSR, Rows: r, Cols: r, Prior: prior(r), FanIn: r, Span: s.span})
		h := b.add(&Node{Op: OpFrozen, Args: []int{x}, W: ad.A, B: -1, Batch: true, Width: r, Span: s.span})
		h = b.add(&Node{Op: OpDense, Args: []int{h}, W: ad.R, B: -1, Batch: true, Width: r, Span: s.span})
		h = b.add(&Node{Op: OpMul, Args: []int{h, scale}, Batch: true, Width: r, Span: s.span})
		upd = b.add(&Node{Op: OpFrozen, Args: []int{h}, W: ad.B, B: -1, Batch: true, Width: out, Span: s.span})
	}
	layer.Adapter = ad
	return upd, true
}
