package ir

import (
	"math"
	"strconv"
	"testing"

	"github.com/bayesl/bayesl/parser"
)

func checkWith(t *testing.T, src string, weights ...string) *Program {
	t.Helper()
	f, err := parser.Parse("m.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	scope := NewScope()
	for _, w := range weights {
		scope.Bind(w, WeightsT)
	}
	prog, err := Check(f, scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// The lowering of named, frozen and adapted layers: names, constants,
// parameters with their roles and priors, and the chain of thin nodes.
func TestLowerAdapters(t *testing.T) {
	prog := checkWith(t, `model ft(x: 6) {
  prior weights ~ normal(0, 2) scaled fan_in
  h = dense(x, 5, from: base.h1, frozen, adapter: lora_xs(rank: 2, alpha: 4)) |> relu
  h = dense(h, 4, from: base.h2, frozen, bias: false, adapter: lora(rank: 3, prior: laplace(0, 0.5)))
  h = dense(h, 4, from: base.h3)
  y ~ categorical(logits: dense(h, 3, name: "head"))
}`, "base")
	m := prog.Stmts[0].(*DefineModel).Model
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name)
	}
	if got := names; len(got) != 4 || got[0] != "h1" || got[1] != "h2" || got[2] != "h3" || got[3] != "head" {
		t.Fatalf("layer names %v", got)
	}
	wantConsts := []struct {
		name   string
		kind   ConstKind
		r, c   int
		tensor string
	}{
		{"h1.w", ConstTensor, 6, 5, "h1.w"}, {"h1.b", ConstTensor, 1, 5, "h1.b"},
		{"h1.lora_xs.a", ConstSVDLeft, 6, 2, ""}, {"h1.lora_xs.b", ConstSVDRight, 2, 5, ""},
		{"h2.w", ConstTensor, 5, 4, "h2.w"},
		{"h3.w", ConstTensor, 4, 4, "h3.w"}, {"h3.b", ConstTensor, 1, 4, "h3.b"},
	}
	if len(m.Consts) != len(wantConsts) {
		t.Fatalf("%d constants, want %d", len(m.Consts), len(wantConsts))
	}
	for i, w := range wantConsts {
		c := m.Consts[i]
		if c.Name != w.name || c.Kind != w.kind || c.Rows != w.r || c.Cols != w.c || c.Tensor != w.tensor {
			t.Errorf("constant %d: %+v, want %+v", i, c, w)
		}
		if c.Kind != ConstTensor && (c.Of != 0 || c.Rank != 2) {
			t.Errorf("constant %s factors %d at rank %d, want 0 at rank 2", c.Name, c.Of, c.Rank)
		}
	}
	wantParams := []struct {
		name  string
		role  Role
		r, c  int
		prior Prior
	}{
		{"h1.lora_xs.r", LoRAXSR, 2, 2, Prior{Family: PriorNormal, Scale: 2 / math.Sqrt(2)}},
		{"h2.lora.a", LoRAA, 5, 3, Prior{Family: PriorLaplace, Scale: 0.5}},
		{"h2.lora.b", LoRAB, 3, 4, Prior{Family: PriorLaplace, Scale: 0.5}},
		{"h3.w", Weight, 4, 4, Prior{Family: PriorNormal, Scale: 1}},
		{"h3.b", Bias, 1, 4, Prior{Family: PriorNormal, Scale: 1}},
		{"head.w", Weight, 4, 3, Prior{Family: PriorNormal, Scale: 1}},
		{"head.b", Bias, 1, 3, Prior{Family: PriorNormal, Scale: 1}},
	}
	if len(m.Params) != len(wantParams) {
		t.Fatalf("%d parameters, want %d", len(m.Params), len(wantParams))
	}
	for i, w := range wantParams {
		p := m.Params[i]
		if p.Name != w.name || p.Role != w.role || p.Rows != w.r || p.Cols != w.c || p.Prior.Family != w.prior.Family || math.Abs(p.Prior.Scale-w.prior.Scale) > 1e-15 {
			t.Errorf("parameter %d: %s %v %dx%d %v(%g), want %+v", i, p.Name, p.Role, p.Rows, p.Cols, p.Prior.Family, p.Prior.Scale, w)
		}
	}
	if m.Params[3].Init != m.Consts[5] || m.Params[4].Init != m.Consts[6] || m.Params[0].Init != nil {
		t.Error("h3 should start from base's h3.w and h3.b, and only h3")
	}
	l := m.Layers[0]
	if !l.Frozen || l.Adapter == nil || l.Adapter.Kind != LoRAXS || l.Adapter.Scale() != 2 || l.Adapter.R != 0 {
		t.Errorf("layer h1: %+v, adapter %+v", l, l.Adapter)
	}
	// h1's output: frozen product plus x·A → ·R → ·s → ·B.
	out := m.Nodes[l.Node]
	if out.Op != OpAdd {
		t.Fatalf("h1's output is %v, want add", out.Op)
	}
	chain := []Op{}
	for id := out.Args[1]; m.Nodes[id].Op != OpInput; id = m.Nodes[id].Args[0] {
		chain = append(chain, m.Nodes[id].Op)
	}
	if want := []Op{OpFrozen, OpMul, OpDense, OpFrozen}; len(chain) != 4 || chain[0] != want[0] || chain[1] != want[1] || chain[2] != want[2] || chain[3] != want[3] {
		t.Errorf("h1's update is %v (output first), want %v", chain, want)
	}
	if m.Nodes[out.Args[0]].Op != OpFrozen || m.Nodes[out.Args[0]].B != 1 {
		t.Errorf("h1's frozen product: %+v", m.Nodes[out.Args[0]])
	}
	c := m.Counts()
	if c.Trainable != 4+15+12+20+15 || c.Adapters != 4+15+12 || c.Frozen != 30+5+20 || c.Derived != 12+10 {
		t.Errorf("counts %+v", c)
	}
	if LoRAA.String() != "lora.a" || !LoRAXSR.Adapter() || Weight.Adapter() || OpFrozen.String() != "frozen" {
		t.Error("role or op names")
	}
}

// Weights statements check to their IR, and save picks weights or a
// posterior by the name's type.
func TestWeightsStatements(t *testing.T) {
	prog := checkWith(t, `weights a = load("w.safetensors")
weights b = a
save b to "b.npz"
weights c = load("one.npy")`)
	if _, ok := prog.Stmts[0].(*BindWeights).Expr.(*LoadWeights); !ok {
		t.Errorf("statement 0: %#v", prog.Stmts[0])
	}
	if r, ok := prog.Stmts[1].(*BindWeights).Expr.(*WeightsRef); !ok || r.Name != "a" {
		t.Errorf("statement 1: %#v", prog.Stmts[1])
	}
	if s, ok := prog.Stmts[2].(*SaveWeights); !ok || s.Path != "b.npz" || s.Weights.Name != "b" {
		t.Errorf("statement 2: %#v", prog.Stmts[2])
	}
	scope := NewScope()
	for _, st := range prog.Stmts {
		scope.Apply(st)
	}
	if ty, _ := scope.Lookup("c"); ty != WeightsT || ty.String() != "weights" {
		t.Errorf("c has type %v", ty)
	}
}

// docs/algorithms.md §4's worked check, RoBERTa-large's shapes: n = 48 adapted
// 1024 x 1024 matrices (24 layers x {query, value}). The checker counts
// the trainable numbers without any weights; SWAG stores (K + 2) times as
// many (the lang tests check the posterior's own count).
func TestWorkedCheckCounts(t *testing.T) {
	model := func(adapter string) *Model {
		src := "model roberta(x: 1024) {\n  h = x\n"
		for i := range 48 {
			src += "  h = dense(h, 1024, from: base.m" + strconv.Itoa(i) + ", frozen, adapter: " + adapter + ")\n"
		}
		src += "  y ~ categorical(logits: dense(h, 2, from: base.head, frozen))\n}\n"
		return checkWith(t, src, "base").Stmts[0].(*DefineModel).Model
	}
	const kSwag = 10
	for _, c := range []struct {
		adapter      string
		params, swag int
		name         string
	}{
		{"lora(rank: 8)", 786432, 9437184, "LoRA r=8 / LoRA-SWAG"},
		{"lora_xs(rank: 8)", 3072, 3072 * (kSwag + 2), "LoRA-XS r=8"},
		{"lora_xs(rank: 25)", 30000, 360000, "LoRA-XS r=25 / B-LoRA-XS"},
	} {
		got := model(c.adapter).Counts()
		if got.Trainable != c.params || got.Adapters != c.params || got.Trainable*(kSwag+2) != c.swag {
			t.Errorf("%s: %d trainable (%d in adapters), want %d; x(K+2) = %d, want %d", c.name, got.Trainable, got.Adapters, c.params, got.Trainable*(kSwag+2), c.swag)
		}
	}
}
