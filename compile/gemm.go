package compile

import (
	"fmt"
	"sync"
)

// The register-blocked product behind gemm on CPUs with AVX2 and FMA: an
// assembly kernel (gemm_amd64.s) computes 6 x 8 tiles of C with twelve
// vector accumulators, reading A in place (as stored or transposed) and B
// in place or from packed panels. The driver below is the usual three-level blocking
// (Goto & van de Geijn): the inner dimension is cut into blocks of kcBlock,
// and for each block and each ncBlock columns, B is copied (transposed if
// need be) into k x 8 panels that lie contiguously in memory, so a panel
// stays in L1 while mcBlock rows of A (in L2) stream past it. Packing costs
// k·n copies against 2·m·n·k flops, and it matters for a wide B: read in
// place, a Predict group's packed weights (rows 40 KB apart) put every row
// of a panel on its own page and the kernel waited on memory at 29 GFLOP/s.
// A small B (a training step's weights or gradients) is read in place: its
// packing cost 4% of the digits MAP epoch and bought nothing. The
// last rows of A are copied into a zero-padded panel and ragged tiles are
// written through a 6 x 8 buffer.
//
// Measured on the 2-core AMD EPYC (Zen 4) of the README's speed table, one core,
// batch-128 MLP shapes: 40-50 GFLOP/s against 5-10 for gonum's Dgemm (peak
// 58). Scratch space comes from a sync.Pool, so a steady-state call
// allocates nothing and concurrent calls (Predict's goroutines, parallel
// Machines) do not share buffers. Build with -tags noasm to use gonum
// everywhere.

const (
	kernRows = 6   // rows of the kernel's tile
	kernCols = 8   // columns of the kernel's tile
	kcBlock  = 256 // inner-dimension block
	mcBlock  = 96  // rows of A per pass over a block of B's panels
	ncBlock  = 512 // columns of B packed at a time
)

// inPlaceBytes is the largest block of B (kcBlock rows, ldb apart) read
// without packing: it stays in L2 and its rows on few pages. Tests set it
// to 0 to exercise packing.
var inPlaceBytes = 1 << 20

type gemmScratch struct {
	bpack []float64                   // kcBlock x ncBlock of B as k x 8 panels
	apack [kernRows * kcBlock]float64 // the last rows of A, zero-padded to 6, p-major
	ctile [kernRows * kernCols]float64
}

var gemmPool = sync.Pool{New: func() any {
	return &gemmScratch{bpack: make([]float64, kcBlock*ncBlock)}
}}

// fastGemm is gemm through the assembly kernel: C = alpha·op(A)·op(B) +
// beta·C, row-major, C m x n, inner dimension k. It checks every slice is
// long enough before the kernel reads it, and allocates only when the pool
// is empty.
func fastGemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	s := gemmPool.Get().(*gemmScratch)
	s.blocked(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gemmPool.Put(s)
}

// blocked computes the product on this goroutine.
func (s *gemmScratch) blocked(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	// A[i, p] is a[i*rs + p*ps].
	ps, rs := 1, lda
	if tA {
		ps, rs = lda, 1
	}
	mFull := m - m%kernRows
	for p0 := 0; p0 < k; p0 += kcBlock {
		kb := min(kcBlock, k-p0)
		bet := beta
		if p0 > 0 {
			bet = 1
		}
		ao := p0 * ps
		if mFull < m {
			s.packRows(a, ao+mFull*rs, ps, rs, m-mFull, kb)
		}
		// A B block that is not transposed and spans at most inPlaceBytes
		// is read where it lies (rows ldb apart); only a ragged last panel
		// is copied. Anything else is packed.
		inPlace := !tB && kb*ldb*8 <= inPlaceBytes
		for n0 := 0; n0 < n; n0 += ncBlock {
			nb := min(ncBlock, n-n0)
			panels := (nb + kernCols - 1) / kernCols
			if !inPlace {
				s.packB(tB, b, ldb, p0, kb, n0, nb)
			} else if nb%kernCols != 0 {
				s.packB(false, b, ldb, p0, kb, n0+nb-nb%kernCols, nb%kernCols)
			}
			for m0 := 0; m0 < m; m0 += mcBlock {
				m1 := min(m0+mcBlock, m)
				for q := range panels {
					j0 := n0 + q*kernCols
					w := min(kernCols, n-j0)
					var bp *float64
					bs := kernCols
					switch {
					case !inPlace:
						bp = &s.bpack[q*kb*kernCols]
					case w < kernCols:
						bp = &s.bpack[0]
					default:
						bp, bs = &b[p0*ldb+j0], ldb
					}
					for i0 := m0; i0 < m1; i0 += kernRows {
						rows := min(kernRows, m-i0)
						switch {
						case rows == kernRows && w == kernCols:
							kern6x8(kb, &a[ao+i0*rs], ps, rs, bp, bs, &c[i0*ldc+j0], ldc, alpha, bet)
						case rows == kernRows:
							kern6x8(kb, &a[ao+i0*rs], ps, rs, bp, bs, &s.ctile[0], kernCols, alpha, 0)
							s.storeTile(c[i0*ldc+j0:], ldc, rows, w, bet)
						default:
							kern6x8(kb, &s.apack[0], kernRows, 1, bp, bs, &s.ctile[0], kernCols, alpha, 0)
							s.storeTile(c[i0*ldc+j0:], ldc, rows, w, bet)
						}
					}
				}
			}
		}
	}
}

// packRows copies rows of A (A[r, p] = a[off + r*rs + p*ps], r < rows,
// p < kb) into apack as kb groups of 6, the missing rows zero.
func (s *gemmScratch) packRows(a []float64, off, ps, rs, rows, kb int) {
	ap := s.apack[:kb*kernRows]
	clear(ap)
	for r := range rows {
		o := off + r*rs
		if ps == 1 {
			for p, v := range a[o : o+kb] {
				ap[p*kernRows+r] = v
			}
			continue
		}
		for p := range kb {
			ap[p*kernRows+r] = a[o+p*ps]
		}
	}
}

// packB copies rows p0..p0+kb and columns n0..n0+nb of op(B) into bpack as
// consecutive kb x 8 panels (row p of panel q holds op(B)[p0+p, n0+8q :
// n0+8q+8]), zero-padding the last panel.
func (s *gemmScratch) packB(tB bool, b []float64, ldb, p0, kb, n0, nb int) {
	for q := 0; q*kernCols < nb; q++ {
		j0 := n0 + q*kernCols
		w := min(kernCols, nb-q*kernCols)
		dst := s.bpack[q*kb*kernCols : (q+1)*kb*kernCols]
		switch {
		case tB:
			// op(B)[p, j] = b[j*ldb + p]: each source row is a column of the panel.
			if w < kernCols {
				clear(dst)
			}
			for c := range w {
				src := b[(j0+c)*ldb+p0 : (j0+c)*ldb+p0+kb]
				for p, v := range src {
					dst[p*kernCols+c] = v
				}
			}
		case w == kernCols:
			for p := range kb {
				o := (p0+p)*ldb + j0
				d := dst[p*kernCols : p*kernCols+kernCols]
				src := b[o : o+kernCols]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[7]
			}
		default:
			clear(dst)
			for p := range kb {
				o := (p0+p)*ldb + j0
				copy(dst[p*kernCols:p*kernCols+w], b[o:o+w])
			}
		}
	}
}

// storeTile writes the top-left rows x cols of ctile into c (rows ldc
// apart) as c = tile + beta·c.
func (s *gemmScratch) storeTile(c []float64, ldc, rows, cols int, beta float64) {
	for r := range rows {
		t := s.ctile[r*kernCols : r*kernCols+cols]
		cr := c[r*ldc : r*ldc+cols]
		if beta == 0 {
			copy(cr, t)
			continue
		}
		for j, v := range t {
			cr[j] = v + beta*cr[j]
		}
	}
}

// scaleC sets C = beta·C (C = 0 when beta is 0, whatever C held).
func scaleC(m, n int, beta float64, c []float64, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// checkGemm panics, as gonum's Dgemm does, when a slice is too short or a
// leading dimension too small for the product; the kernel relies on it.
func checkGemm(tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	switch {
	case lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n):
		panic(fmt.Sprintf("compile: gemm: bad leading dimension (lda %d, ldb %d, ldc %d for %dx%d·%dx%d)", lda, ldb, ldc, ar, ac, br, bc))
	case ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac:
		panic(fmt.Sprintf("compile: gemm: A has %d elements, needs %d", len(a), (ar-1)*lda+ac))
	case br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc:
		panic(fmt.Sprintf("compile: gemm: B has %d elements, needs %d", len(b), (br-1)*ldb+bc))
	case len(c) < (m-1)*ldc+n:
		panic(fmt.Sprintf("compile: gemm: C has %d elements, needs %d", len(c), (m-1)*ldc+n))
	}
}
