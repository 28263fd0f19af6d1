package compile

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/lowrank"
)

// This file holds what fine-tuning adds to the compiler: constants (frozen
// tensors, ir.Model.Consts) and the OpFrozen node, a dense layer whose
// weight and bias are constants. Constants are part of the Program, not of
// θ: no backend sees them, the gradient never touches them, and a frozen
// layer over the input does not depend on θ at all, so Predict computes it
// once per row chunk for every sample.
//
// Adapters need nothing more. ir lowers a LoRA-XS adapter to
//
//	x ─OpFrozen(A)→ x·A ─OpDense(R)→ x·A·R ─OpMul(s)→ ─OpFrozen(B)→ s·x·A·R·B
//
// and a LoRA adapter to x ─OpDense(A)→ ─OpMul(s)→ ─OpDense(B)→, so the
// update is a chain of thin products (In x r, r x r, r x Out) and the
// In x Out matrix A·R·B is never formed. Each pass treats the links as it
// treats any node:
//
//   - Gradient. OpFrozen passes g·Wᵀ to its input and nothing to θ; the
//     trainable links are dense layers without bias.
//   - Local reparameterisation. With R ~ N(μ_R, diag σ_R²) and h = x·A
//     fixed by the input, h·R has independent Gaussian columns with mean
//     h·μ_R and variance (h⊙h)·σ_R²: exactly a dense layer's LRT with input
//     h. The later links are deterministic and linear, so s·(h·R)·B is the
//     exact draw of the adapted update given x. For LoRA, sampling x·A by
//     LRT and then (s·x·A)·B by LRT given that draw is exact too, since A
//     and B are independent under q: it is the law of drawing A and B
//     afresh for every example, which is what LRT's estimator targets.
//   - Predict. A trainable link whose input does not depend on θ (x·A for
//     a first layer) joins the wide first-layer products.
//   - Curvature. The GGN's per-example squared gradients of R are
//     ((x·A)⊙(x·A))ᵀ(Δ⊙Δ), as for any dense layer; last-layer Laplace takes
//     the last trainable link (R of the head's adapter, or LoRA's B) with
//     the constant links after it folded into the Jacobian.

// CompileWith compiles m with the values of its constants: consts[k] holds
// m.Consts[k] row-major (Rows x Cols). A derived constant (a LoRA-XS factor)
// may be nil; it is then computed from the constant it derives from by a
// truncated SVD (stdlib/lowrank). A model without constants may pass nil.
// The values are copied. Errors are a source.List naming the constant.
func CompileWith(m *ir.Model, consts [][]float64) (*Program, error) {
	if m == nil {
		return nil, fmt.Errorf("compile: nil model")
	}
	c := &checker{m: m}
	p := c.program()
	if len(c.errs) == 0 {
		c.bindConsts(p, consts)
	}
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// frozen checks an OpFrozen node; it returns the batch flag the node must
// have, with ok false when its arguments are missing.
func (c *checker) frozen(p *Program, n *ir.Node, out *node) (wantBatch, ok bool) {
	if !c.nargs(n, 1) {
		return false, false
	}
	a := c.arg(p, n, 0)
	if a == nil {
		return false, false
	}
	cw := c.constRef(n, n.W, "its weight")
	if cw == nil {
		return false, false
	}
	if cw.Rows != a.width || cw.Cols != n.Width {
		c.nodeErr(n, source.Shape, "input width %d and width %d need a %d x %d weight, but %s is %d x %d", a.width, n.Width, a.width, n.Width, cw.Name, cw.Rows, cw.Cols)
	}
	out.a, out.w, out.in = n.Args[0], n.W, a.width
	if n.B >= 0 {
		cb := c.constRef(n, n.B, "its bias")
		if cb == nil {
			return false, false
		}
		if cb.Rows != 1 || cb.Cols != n.Width {
			c.nodeErr(n, source.Shape, "the bias %s is %d x %d, want 1 x %d", cb.Name, cb.Rows, cb.Cols, n.Width)
		}
		out.bias = n.B
	}
	return a.batch, true
}

func (c *checker) constRef(n *ir.Node, k int, what string) *ir.Const {
	if k < 0 || k >= len(c.m.Consts) || c.m.Consts[k] == nil {
		c.nodeErr(n, source.Type, "%s refers to constant %d, which does not exist", what, k)
		return nil
	}
	return c.m.Consts[k]
}

// bindConsts checks and stores the values of the model's constants,
// deriving the SVD factors that were not given, and points parameters that
// start from a constant at its values.
func (c *checker) bindConsts(p *Program, values [][]float64) {
	m := c.m
	if values != nil && len(values) != len(m.Consts) {
		c.errorf(m.Span, source.Type, "model %s has %d constants, got %d values", m.Name, len(m.Consts), len(values))
		return
	}
	p.consts = make([][]float64, len(m.Consts))
	factors := map[[2]int]lowrank.Factors{}
	for k, q := range m.Consts {
		if q == nil {
			c.errorf(m.Span, source.Type, "model %s: constant %d is missing", m.Name, k)
			return
		}
		var v []float64
		if values != nil {
			v = values[k]
		}
		if v == nil {
			switch q.Kind {
			case ir.ConstSVDLeft, ir.ConstSVDRight:
				if q.Of < 0 || q.Of >= k || p.consts[q.Of] == nil {
					c.errorf(q.Span, source.Type, "constant %s factors constant %d, which does not precede it", q.Name, q.Of)
					return
				}
				src := m.Consts[q.Of]
				key := [2]int{q.Of, q.Rank}
				f, ok := factors[key]
				if !ok {
					var err error
					f, err = lowrank.Truncate(p.consts[q.Of], src.Rows, src.Cols, q.Rank)
					if err != nil {
						c.errorf(q.Span, source.Numeric, "%s: %v", q.Name, err)
						return
					}
					factors[key] = f
				}
				v = f.A
				if q.Kind == ir.ConstSVDRight {
					v = f.B
				}
			default:
				c.errorf(q.Span, source.Type, "constant %s (tensor %s of %s) has no value: compile the model with its weights", q.Name, q.Tensor, q.Weights)
				continue
			}
		}
		if len(v) != q.Size() {
			c.errorf(q.Span, source.Shape, "constant %s is %d x %d (%d values), got %d values", q.Name, q.Rows, q.Cols, q.Size(), len(v))
			continue
		}
		for j, x := range v {
			if !finite(x) {
				c.errorf(q.Span, source.Numeric, "constant %s holds %v at row %d, column %d", q.Name, x, j/q.Cols, j%q.Cols)
				break
			}
		}
		p.consts[k] = append([]float64(nil), v...)
	}
	if len(c.errs) > 0 {
		return
	}
	for k, q := range m.Params {
		if q.Init == nil {
			continue
		}
		idx := -1
		for j, cq := range m.Consts {
			if cq == q.Init {
				idx = j
			}
		}
		switch {
		case idx < 0:
			c.errorf(q.Span, source.Type, "parameter %s starts from a constant that is not the model's", q.Name)
		case q.Init.Rows != q.Rows || q.Init.Cols != q.Cols:
			c.errorf(q.Init.Span, source.Shape, "parameter %s is %d x %d but starts from %s, %d x %d", q.Name, q.Rows, q.Cols, q.Init.Name, q.Init.Rows, q.Init.Cols)
		default:
			p.params[k].init = p.consts[idx]
		}
	}
}

// Consts returns the values of the model's constants, by index in
// Model().Consts, derived ones included. Callers must not modify them.
func (p *Program) Consts() [][]float64 { return p.consts }

// initParam writes the start of a parameter that does not start the
// ordinary way: one given by a tensor (from: without frozen) or an
// adapter's. It reports whether it did.
func (q *param) initParam(t []float64, rng *rand.Rand) bool {
	switch {
	case q.init != nil:
		copy(t, q.init)
	case q.role == ir.LoRAA:
		// PEFT: kaiming_uniform_(a=√5), i.e. U(-1/√fan_in, 1/√fan_in).
		bound := 1 / math.Sqrt(float64(q.fanIn))
		for j := range t {
			t[j] = bound * (2*rng.Float64() - 1)
		}
	case q.role == ir.LoRAB:
		clear(t)
	case q.role == ir.LoRAXSR:
		for j := range t { // b-lora-xs: init_module_weights(sigma=1e-5)
			t[j] = 1e-5 * rng.NormFloat64()
		}
	default:
		return false
	}
	return true
}

// frozenForward computes X·W + b with a constant W and b.
func (m *Machine) frozenForward(i int) {
	n := &m.p.nodes[i]
	rows, out := m.rows[i], m.val[i]
	mm := gemm
	if m.predicting {
		mm = gemmSplit
	}
	mm(false, false, rows, n.width, n.in, 1, m.val[n.a], n.in, m.p.consts[n.w], n.width, 0, out, n.width)
	if n.bias >= 0 {
		addRows(out, rows, n.width, m.p.consts[n.bias])
	}
}

// frozenBackward adds g·Wᵀ to the input's gradient ga: a frozen layer has
// no parameters to differentiate.
func (m *Machine) frozenBackward(n *node, rows int, g, ga []float64) {
	m.gemm(false, true, rows, n.in, n.width, 1, g, n.width, m.p.consts[n.w], n.width, 1, ga, n.in)
}

// LayerWeights returns the weight (In x Out) and bias (Out, nil without
// bias) that layer l of the model computes with at theta: its parameters,
// or its constants when frozen, with an adapter's update A·(s·R)·B merged
// in. It forms the In x Out update once, for export; training never does.
func (p *Program) LayerWeights(l *ir.Layer, theta []float64) (w, b []float64) {
	p.checkTheta(theta, "LayerWeights")
	m := p.model
	get := func(k int, frozen bool) []float64 {
		if frozen {
			return append([]float64(nil), p.consts[k]...)
		}
		q := m.Params[k]
		return append([]float64(nil), theta[q.Offset:q.Offset+q.Size()]...)
	}
	w = get(l.W, l.Frozen)
	if l.B >= 0 {
		b = get(l.B, l.Frozen)
	}
	a := l.Adapter
	if a == nil {
		return w, b
	}
	r, in, out := a.Rank, l.In, l.Out
	var left, right []float64 // In x r and r x Out with ΔW = left·right
	switch a.Kind {
	case ir.LoRA:
		left, right = get(a.A, false), get(a.B, false)
	case ir.LoRAXS:
		left = make([]float64, in*r) // A·R
		gemm(false, false, in, r, r, 1, p.consts[a.A], r, get(a.R, false), r, 0, left, r)
		right = p.consts[a.B]
	}
	gemm(false, false, in, out, r, a.Scale(), left, r, right, out, 1, w, out)
	return w, b
}
