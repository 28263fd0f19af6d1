// Package compile turns a checked model graph (ir.Model) into an executable
// plan over gonum's BLAS: the forward pass, its reverse-mode gradient, the
// local reparameterisation of dense layers for variational inference, and a
// Monte-Carlo predictive that batches samples through matrix products. It is
// the stage between ir and infer; lang wires a Program into an infer.Problem.
//
// # Pieces
//
// Compile validates a model and returns an immutable *Program (shapes,
// evaluation order, parameter offsets, prior constants). A Program is safe
// for concurrent use but holds no workspaces: each goroutine calls
// Program.NewMachine and runs NegLogLik, VarNegLogLik and Predict on its own
// Machine. Init and NegLogPrior live on the Program (they need no
// workspaces).
//
// # Kernel conventions
//
// Parameter vector. All trainable numbers live in one flat []float64 θ of
// length Dim. ir.Param k occupies θ[Offset : Offset+Rows*Cols] row-major, so a
// dense weight (In x Out) is used in place as a row-major In x Out matrix with
// stride Out and its gradient is accumulated in place in the same slot of the
// gradient vector; nothing is copied in or out. Constants are graph nodes
// (ir.OpConst), not part of θ. Init draws weights from N(0, 1/fan_in)
// (LeCun-normal), zeroes biases and sets `param` blocks to their prior
// location.
//
// Values. Every node value is a row-major []float64 with row stride equal to
// its width: B x Width when the node carries the minibatch (ir.Node.Batch),
// otherwise one row, 1 x Width. The input aliases the caller's x when x's
// rows are contiguous (it is copied otherwise); a `param` node aliases θ.
// Inputs are never written.
//
// Broadcasting. A binary op (add, sub, mul, div) broadcasts an operand that
// has one row over the batch rows and an operand that has one column over
// the columns; the backward pass sums the gradient over the repeated rows and
// columns. The likelihood broadcasts one-row arguments over the batch the
// same way. Dense layers compute X·W + b with b added to every row.
//
// Products. Matrix products go through one function, gemm, on raw slices.
// In the default build on a CPU with AVX2 and FMA it runs this package's
// own register-blocked kernel (gemm.go, gemm_amd64.s: 6 x 8 tiles, B packed
// into panels when it is large), 40-50 GFLOP/s on one core against 5-10 for
// gonum's Dgemm; it starts no goroutines and allocates nothing. Without
// AVX2 and FMA, or built with -tags noasm, products go to gonum's Dgemm in
// tiles of at most 64 x 192, which keeps it on its serial, allocation-free
// path. Built with -tags openblas (compile/compile/internal/openblas), products larger than
// smallGemm go to OpenBLAS through gonum/netlib whole, and its own threads
// apply; smaller ones stay on the kernel. Training calls run on the
// caller's goroutine: parallel work belongs to independent Machines
// (chains, ensemble members). Predict splits its large products over
// GOMAXPROCS goroutines when the BLAS is gonum's.
//
// Elementwise loops run over whole matrices with no per-element calls
// through interfaces or closures. ReLU, tanh and exp, and the softmax of
// the categorical likelihood, run four float64s at a time through
// stdlib/vec (AVX2; plain Go elsewhere), so neither ReLU direction
// branches on the data. Softplus is max(x,0)+log1p(exp(-|x|)) and its
// derivative is taken from the output, -expm1(-y).
//
// Allocation. Workspaces belong to the Machine: they are created on first
// use, grown when a larger batch arrives, and reused afterwards. A
// steady-state NegLogLik or VarNegLogLik allocates nothing (the tests check
// this with testing.AllocsPerRun). Predict allocates its wide-product
// buffers on first use and a little for its goroutines on every call. The
// caller allocates θ, gradients, x, y and the predictive.Predictive; this
// package only writes into them.
//
// Gradients. NegLogLik overwrites its grad argument, NegLogPrior adds to
// its grad argument, VarNegLogLik overwrites gMu and gSigma. Nodes that do
// not depend on θ get no gradient buffers, so the product that would give the
// input's gradient is never computed.
//
// Variational calls. VarNegLogLik samples every dense layer's
// pre-activations by local reparameterisation (docs/algorithms.md §7): one ζ per
// example and unit, σ² of the weights computed once per call into a
// workspace, and the A⊙A, sqrt(δ) and ζ of each layer kept for the backward
// pass. Parameters read as rows are sampled once per call.
//
// Prediction. Predict evaluates the nodes that do not depend on θ once per
// row chunk, computes every dense layer whose input does not depend on θ
// (the first layer) for a group of samples as one product
// X·[W_1 | ... | W_G] with the weights packed side by side, and runs the
// remaining nodes sample by sample over the chunk. Chunks and groups are
// sized so the packed weights and the wide product stay under 32 MiB each
// and a chunk has at most 4096 rows.
//
// Curvature. GGNDiag and LastLayerGGN (ggn.go) give the generalized
// Gauss–Newton matrix a Laplace approximation needs: one backward pass per
// column of a factor of the likelihood's Fisher information, seeded for the
// whole batch, with nodes that have no batch rows repeated on every row so
// that per-example gradients exist; a dense layer's per-example squared
// weight gradients are one product, (A⊙A)ᵀ(Δ⊙Δ).
//
// Outputs. Outputs and OutputGrad (output.go) expose the network's raw
// outputs, the likelihood's first argument (a classifier's logits), and the
// reverse pass from any loss on them, for training a distilled student whose
// loss the likelihood does not know. They reuse the forward and backward
// passes above; a steady-state OutputGrad allocates nothing.
//
// Constants. Frozen weights (ir.Model.Consts) are numbers of the Program,
// not of θ: CompileWith takes their values (deriving LoRA-XS's SVD factors
// itself), an OpFrozen node is a dense layer over them, and no backend sees
// them. Adapters are chains of thin products of ordinary nodes, so every
// pass above handles them; frozen.go derives their local
// reparameterisation.
//
// Randomness. Every draw comes from the *rand.Rand the caller passes, in a
// fixed order, so equal seeds give equal numbers.
//
// Failure. Shape mismatches between a call and the Program (wrong θ length,
// wrong input width, len(y) != rows) and targets outside the likelihood's
// support panic with a message; lang recovers them. A non-positive scale
// gives a +Inf or NaN loss, which the backends report as divergence.
package compile
