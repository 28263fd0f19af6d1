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

//go:noescape
func adamPriorAVX(x, grad, m, v, loc, prec *float64, n int, p *[8][4]float64) (sumsq, z float64)

//go:noescape
func mulAVX(dst, a, b *float64, n int)

//go:noescape
func sqrtNoiseAVX(sd, z, out *float64, n int, jitter float64)

//go:noescape
func halfMulDivAVX(t, grad, z, sd *float64, n int)

//go:noescape
func addMul2AVX(dst, a, b *float64, n int)

//go:noescape
func dotAxpyAVX(y, a, x *float64, n int, s float64) float64
