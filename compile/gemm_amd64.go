//go:build !noasm

package compile

import "golang.org/x/sys/cpu"

// haveFMA reports whether the AVX2 + FMA kernel of gemm_amd64.s can run.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kern6x8 is the 6 x 8 tile C = alpha·A·B + beta·C (see gemm_amd64.s).
//
//go:noescape
func kern6x8(k int, a *float64, ps, rs int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)
