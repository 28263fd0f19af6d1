package compile

import (
	"math"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/stdlib/dist"
	"github.com/bayesl/bayesl/stdlib/vec"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/floats"
)

// This file holds the loops: matrix products through blas64 and the
// elementwise forward and backward kernels. Every matrix is a row-major
// []float64 whose row stride equals its width; a matrix with one row (or one
// column) broadcasts over the rows (columns) of the other operand.

// Tile sizes for gonum's native Dgemm. It starts goroutines (and allocates)
// once a product spans 4 or more 64 x 64 blocks of C; tiles of at most 64 x 192
// keep every call on its serial, allocation-free path. Tiling costs nothing
// measurable: the serial kernel walks C row block by row block anyway.
const (
	tileRows = 64
	tileCols = 192
)

// smallGemm is the largest product (m·n·k multiply-adds) the OpenBLAS build
// keeps on the assembly kernel: a 128 x 64 · 64 x 128 product, about 20 µs.
const smallGemm = 1 << 20

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major A, B and C, where
// C is m x n and the inner dimension is k, without starting goroutines and
// without allocating. With gonum's BLAS on a CPU with AVX2 and FMA it runs
// the assembly kernel of gemm.go (4-8x gonum's Dgemm); without them, gonum's
// Dgemm in tiles. With a non-gonum BLAS (OpenBLAS through netlib) it hands
// products larger than smallGemm to the library, whose own threads then
// apply, and keeps smaller ones on the kernel, where a cgo call and waking
// OpenBLAS's threads cost as much as the product.
func gemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemmOn(false, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmOn is gemm; with serial set every product stays on the caller's
// goroutine (the assembly kernel, or gonum's Dgemm in tiles), never on
// OpenBLAS's threads. Machines that run beside each other (Machine.SetSerial)
// use it: two concurrent fits handing their products to a two-thread
// OpenBLAS put four busy threads on two cores, and ran 2x slower than the
// pure-Go build.
func gemmOn(serial, tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	impl := blas64.Implementation()
	native := isNative(impl)
	if serial && !native {
		impl, native = gonum.Implementation{}, true
	}
	if haveFMA && (native || m*n*k <= smallGemm) {
		fastGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if !native || (m <= tileRows && n <= tileCols) {
		impl.Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	for i0 := 0; i0 < m; i0 += tileRows {
		mi := min(tileRows, m-i0)
		var ai []float64
		if tA {
			ai = a[i0:]
		} else {
			ai = a[i0*lda:]
		}
		for j0 := 0; j0 < n; j0 += tileCols {
			nj := min(tileCols, n-j0)
			var bj []float64
			if tB {
				bj = b[j0*ldb:]
			} else {
				bj = b[j0:]
			}
			impl.Dgemm(trans(tA), trans(tB), mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// addRows adds the row r (length cols) to each of the rows of x.
func addRows(x []float64, rows, cols int, r []float64) {
	r = r[:cols]
	for i := 0; i < rows; i++ {
		floats.Add(x[i*cols:(i+1)*cols], r)
	}
}

// colSumAdd adds the column sums of g (rows x cols) to dst (length cols).
func colSumAdd(dst, g []float64, rows, cols int) {
	dst = dst[:cols]
	for i := 0; i < rows; i++ {
		floats.Add(dst, g[i*cols:(i+1)*cols])
	}
}

// GELU tanh-approximation constants.
const (
	geluC = 0.7978845608028654 // sqrt(2/π)
	geluA = 0.044715
)

// actForward writes act(x) into y.
func actForward(act ir.Act, y, x []float64) {
	y = y[:len(x)]
	switch act {
	case ir.Identity:
		copy(y, x)
	case ir.ReLU:
		vec.Relu(y, x)
	case ir.Tanh:
		vec.Tanh(y, x) // four at a time with AVX2, 10x math.Tanh
	case ir.Sigmoid:
		for i, v := range x {
			y[i] = dist.Sigmoid(v)
		}
	case ir.Softplus:
		for i, v := range x {
			y[i] = max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
		}
	case ir.GELU:
		for i, v := range x {
			y[i] = 0.5 * v * (1 + math.Tanh(geluC*(v+geluA*v*v*v)))
		}
	case ir.Sin:
		for i, v := range x {
			y[i] = math.Sin(v)
		}
	case ir.Exp:
		vec.Exp(y, x)
	default:
		panic("compile: unknown activation")
	}
}

// actBackward adds g ⊙ act'(x) to gx, given the forward input x and output y.
func actBackward(act ir.Act, gx, g, x, y []float64) {
	gx, x, y = gx[:len(g)], x[:len(g)], y[:len(g)]
	switch act {
	case ir.Identity:
		floats.Add(gx, g)
	case ir.ReLU:
		vec.ReluBackward(gx, g, y)
	case ir.Tanh:
		for i, v := range y {
			gx[i] += g[i] * (1 - v*v)
		}
	case ir.Sigmoid:
		for i, v := range y {
			gx[i] += g[i] * v * (1 - v)
		}
	case ir.Softplus:
		// σ(x) = 1 - e^{-softplus(x)}, accurate through expm1 for small y.
		for i, v := range y {
			gx[i] -= g[i] * math.Expm1(-v)
		}
	case ir.GELU:
		for i, v := range x {
			t := math.Tanh(geluC * (v + geluA*v*v*v))
			d := 0.5*(1+t) + 0.5*v*(1-t*t)*geluC*(1+3*geluA*v*v)
			gx[i] += g[i] * d
		}
	case ir.Sin:
		for i, v := range x {
			gx[i] += g[i] * math.Cos(v)
		}
	case ir.Exp:
		for i, v := range y {
			gx[i] += g[i] * v
		}
	default:
		panic("compile: unknown activation")
	}
}

// bcast describes how an operand of shape rows x cols is indexed inside a
// result of shape ro x co: row r reads row r*rs and column c reads column c*cs.
func bcast(rows, cols int) (rs, cs int) {
	if rows > 1 {
		rs = cols
	}
	if cols > 1 {
		cs = 1
	}
	return
}

// binForward computes out = a op b (out is ro x co) with broadcasting of
// operands that have one row or one column.
func binForward(op ir.Op, out []float64, ro, co int, a []float64, ra, ca int, b []float64, rb, cb int) {
	n := ro * co
	if ra*ca == n && rb*cb == n {
		binFlat(op, out[:n], a[:n], b[:n])
		return
	}
	ars, acs := bcast(ra, ca)
	brs, bcs := bcast(rb, cb)
	for r := 0; r < ro; r++ {
		o := out[r*co : (r+1)*co]
		ar := a[r*ars:]
		br := b[r*brs:]
		switch {
		case acs == 1 && bcs == 1:
			binFlat(op, o, ar[:co], br[:co])
		case acs == 0:
			binScalarA(op, o, ar[0], br, bcs)
		default:
			binScalarB(op, o, ar[:co], br[0])
		}
	}
}

func binFlat(op ir.Op, o, a, b []float64) {
	a, b = a[:len(o)], b[:len(o)]
	switch op {
	case ir.OpAdd:
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case ir.OpSub:
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case ir.OpMul:
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case ir.OpDiv:
		for i := range o {
			o[i] = a[i] / b[i]
		}
	}
}

// binScalarA is o = a op b[c*bcs] with a scalar a.
func binScalarA(op ir.Op, o []float64, a float64, b []float64, bcs int) {
	if bcs == 0 {
		v := b[0]
		switch op {
		case ir.OpAdd:
			v = a + v
		case ir.OpSub:
			v = a - v
		case ir.OpMul:
			v = a * v
		case ir.OpDiv:
			v = a / v
		}
		for i := range o {
			o[i] = v
		}
		return
	}
	b = b[:len(o)]
	switch op {
	case ir.OpAdd:
		for i := range o {
			o[i] = a + b[i]
		}
	case ir.OpSub:
		for i := range o {
			o[i] = a - b[i]
		}
	case ir.OpMul:
		for i := range o {
			o[i] = a * b[i]
		}
	case ir.OpDiv:
		for i := range o {
			o[i] = a / b[i]
		}
	}
}

// binScalarB is o = a op b with a scalar b.
func binScalarB(op ir.Op, o, a []float64, b float64) {
	a = a[:len(o)]
	switch op {
	case ir.OpAdd:
		for i := range o {
			o[i] = a[i] + b
		}
	case ir.OpSub:
		for i := range o {
			o[i] = a[i] - b
		}
	case ir.OpMul:
		for i := range o {
			o[i] = a[i] * b
		}
	case ir.OpDiv:
		for i := range o {
			o[i] = a[i] / b
		}
	}
}

// binBackward accumulates the gradients of out = a op b into ga and gb (either
// may be nil), given the output gradient g (ro x co). Broadcast operands
// receive the sum over the rows and columns they were repeated along.
func binBackward(op ir.Op, g []float64, ro, co int, ga, a []float64, ra, ca int, gb, b []float64, rb, cb int) {
	n := ro * co
	if ra*ca == n && rb*cb == n {
		binBackFlat(op, g[:n], ga, a[:n], gb, b[:n])
		return
	}
	ars, acs := bcast(ra, ca)
	brs, bcs := bcast(rb, cb)
	for r := 0; r < ro; r++ {
		gr := g[r*co : (r+1)*co]
		ar, br := a[r*ars:], b[r*brs:]
		var gar, gbr []float64
		if ga != nil {
			gar = ga[r*ars:]
		}
		if gb != nil {
			gbr = gb[r*brs:]
		}
		switch op {
		case ir.OpAdd, ir.OpSub:
			if gar != nil {
				for c, v := range gr {
					gar[c*acs] += v
				}
			}
			if gbr != nil {
				if op == ir.OpAdd {
					for c, v := range gr {
						gbr[c*bcs] += v
					}
				} else {
					for c, v := range gr {
						gbr[c*bcs] -= v
					}
				}
			}
		case ir.OpMul:
			if gar != nil {
				for c, v := range gr {
					gar[c*acs] += v * br[c*bcs]
				}
			}
			if gbr != nil {
				for c, v := range gr {
					gbr[c*bcs] += v * ar[c*acs]
				}
			}
		case ir.OpDiv:
			if gar != nil {
				for c, v := range gr {
					gar[c*acs] += v / br[c*bcs]
				}
			}
			if gbr != nil {
				for c, v := range gr {
					bv := br[c*bcs]
					gbr[c*bcs] -= v * ar[c*acs] / (bv * bv)
				}
			}
		}
	}
}

func binBackFlat(op ir.Op, g, ga, a, gb, b []float64) {
	switch op {
	case ir.OpAdd, ir.OpSub:
		if ga != nil {
			floats.Add(ga[:len(g)], g)
		}
		if gb != nil {
			if op == ir.OpAdd {
				floats.Add(gb[:len(g)], g)
			} else {
				floats.AddScaled(gb[:len(g)], -1, g)
			}
		}
	case ir.OpMul:
		if ga != nil {
			ga = ga[:len(g)]
			for i, v := range g {
				ga[i] += v * b[i]
			}
		}
		if gb != nil {
			gb = gb[:len(g)]
			for i, v := range g {
				gb[i] += v * a[i]
			}
		}
	case ir.OpDiv:
		if ga != nil {
			ga = ga[:len(g)]
			for i, v := range g {
				ga[i] += v / b[i]
			}
		}
		if gb != nil {
			gb = gb[:len(g)]
			for i, v := range g {
				gb[i] -= v * a[i] / (b[i] * b[i])
			}
		}
	}
}
