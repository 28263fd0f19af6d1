//go:build !noasm

package vec

import "golang.org/x/sys/cpu"

// useAVX reports whether the AVX2 + FMA loops of vec_amd64.s can run.
var useAVX = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func expAVX(dst, src *float64, n int) int

//go:noescape
func tanhAVX(dst, src *float64, n int)

//go:noescape
func softplusSigmoidAVX(sp, sg, rho *float64, n int) int

//go:noescape
func adamAVX(x, grad, m, v *float64, n int, p *[7]float64) float64

//go:noescape
func reluAVX(dst, src *float64, n int)

//go:noescape
func reluBackAVX(gx, grad, y *float64, n int)
