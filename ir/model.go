package ir

import "github.com/bayesl/bayesl/parser/source"

// Model is a checked network: one input of fixed width, a list of parameters
// with their priors, a topologically ordered list of nodes, and a likelihood
// for the observed target. Every value a node computes is a matrix whose rows
// are either the minibatch (Batch) or a single row broadcast to every example.
type Model struct {
	Name       string
	InputName  string
	InputWidth int
	Params     []*Param
	Consts     []*Const // frozen tensors: numbers of the model that are not parameters
	Layers     []*Layer // the dense layers as written, in order
	Nodes      []*Node  // Nodes[i].ID == i; arguments always precede their users
	Lik        *Likelihood
	Span       source.Span
	// Activations are the learnable activations (rational, periodic), in
	// order; each owns one parameter block (see activation.go).
	Activations []*Activation
}

// Role says what a parameter is for; it selects the default prior and the
// initialisation.
type Role int

// Parameter roles.
const (
	Weight  Role = iota // a dense layer's weight matrix, In x Out
	Bias                // a dense layer's bias row, 1 x Out
	Scalar              // a free parameter declared with `param`, 1 x Cols
	LoRAA               // a LoRA adapter's A, In x r: Kaiming-uniform start, as PEFT
	LoRAB               // a LoRA adapter's B, r x Out: zero start
	LoRAXSR             // a LoRA-XS adapter's core R, r x r: N(0, 1e-5²) start
)

func (r Role) String() string {
	return [...]string{"weight", "bias", "param", "lora.a", "lora.b", "lora_xs.r"}[r]
}

// Adapter reports whether the role belongs to an adapter's parameters.
func (r Role) Adapter() bool { return r == LoRAA || r == LoRAB || r == LoRAXSR }

// Param is a block of trainable numbers. Params are laid out one after the
// other, row-major, in the flat parameter vector the inference backends see:
// Param k occupies theta[Offset : Offset+Rows*Cols].
type Param struct {
	Name       string // e.g. "dense0.w", "dense0.b", "log_noise"
	Role       Role
	Rows, Cols int
	Offset     int
	Prior      Prior
	FanIn      int    // inputs feeding one output unit (Rows for a weight); 1 otherwise
	Init       *Const // the tensor θ starts from (a layer written with from: and not frozen), or nil
	Span       source.Span
}

// Size is the number of scalars in the parameter.
func (p *Param) Size() int { return p.Rows * p.Cols }

// PriorFamily names a prior distribution over each scalar of a parameter.
type PriorFamily int

// Prior families.
const (
	PriorNormal   PriorFamily = iota // Loc, Scale
	PriorLaplace                     // Loc, Scale
	PriorStudentT                    // DF, Loc, Scale
)

func (f PriorFamily) String() string {
	return [...]string{"normal", "laplace", "student_t"}[f]
}

// Prior is an independent prior on every scalar of a parameter. Scale is the
// final scale: fan-in scaling has already been applied.
type Prior struct {
	Family         PriorFamily
	Loc, Scale, DF float64
	Span           source.Span
}

// Op is a node's operation.
type Op int

// Operations. Arguments are node IDs in Node.Args.
const (
	OpInput  Op = iota // the model input, Batch x InputWidth
	OpConst            // a scalar constant Value, 1 x 1
	OpParam            // the value of Param as a row, 1 x Cols (a `param` declared scalar/vector)
	OpDense            // Args[0] (Batch x In) times Param W (In x Out) plus Param B (1 x Out)
	OpAct              // Act applied elementwise to Args[0]
	OpAdd              // Args[0] + Args[1], broadcasting rows and columns of size 1
	OpSub              // Args[0] - Args[1], broadcasting
	OpMul              // Args[0] * Args[1] elementwise, broadcasting
	OpDiv              // Args[0] / Args[1] elementwise, broadcasting
	OpNeg              // -Args[0]
	OpIndex            // column Col of Args[0], Batch x 1
	OpFrozen           // Args[0] (Batch x In) times Const W (In x Out) plus Const B (1 x Out; B may be -1): a dense layer with frozen weights
)

var opNames = [...]string{"input", "const", "param", "dense", "act", "add", "sub", "mul", "div", "neg", "index", "frozen"}

func (o Op) String() string { return opNames[o] }

// Act is an elementwise activation.
type Act int

// Activations.
const (
	Identity Act = iota
	ReLU
	Tanh
	Sigmoid
	Softplus
	GELU // tanh approximation
	Sin
	Exp
)

var actNames = [...]string{"identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "sin", "exp"}

func (a Act) String() string { return actNames[a] }

// Acts lists every activation by its name in the language.
func Acts() map[string]Act {
	m := map[string]Act{}
	for i, n := range actNames {
		m[n] = Act(i)
	}
	return m
}

// Node is one operation of the model graph.
type Node struct {
	ID    int
	Op    Op
	Args  []int
	W, B  int     // OpDense: indices into Model.Params (B may be -1: no bias); OpParam: W; OpFrozen: indices into Model.Consts
	Act   Act     // OpAct
	Value float64 // OpConst
	Col   int     // OpIndex
	Batch bool    // rows are the minibatch (true) or one broadcast row (false)
	Width int     // number of columns
	Span  source.Span
}

// Likelihood is the observation model. For classification Classes is the
// number of classes (2 for bernoulli); for regression it is 0.
type Likelihood struct {
	Family  LikFamily
	Args    []int
	DF      float64
	Classes int
	Target  string
	Span    source.Span
}

// Dim is the length of the flat parameter vector.
func (m *Model) Dim() int {
	n := 0
	for _, p := range m.Params {
		n += p.Size()
	}
	return n
}
