//go:build noasm || !amd64

package vec

var useAVX = false

func expAVX(dst, src *float64, n int) int                          { panic("vec: no assembly") }
func tanhAVX(dst, src *float64, n int)                             { panic("vec: no assembly") }
func softplusSigmoidAVX(sp, sg, rho *float64, n int) int           { panic("vec: no assembly") }
func adamAVX(x, grad, m, v *float64, n int, p *[7]float64) float64 { panic("vec: no assembly") }

func reluAVX(dst, src *float64, n int)        { panic("vec: no assembly") }
func reluBackAVX(gx, grad, y *float64, n int) { panic("vec: no assembly") }

func adamPriorAVX(x, grad, m, v, loc, prec *float64, n int, p *[8][4]float64) (sumsq, z float64) {
	panic("vec: no assembly")
}

func mulAVX(dst, a, b *float64, n int)                        { panic("vec: no assembly") }
func sqrtNoiseAVX(sd, z, out *float64, n int, jitter float64) { panic("vec: no assembly") }
func halfMulDivAVX(t, grad, z, sd *float64, n int)            { panic("vec: no assembly") }
func addMul2AVX(dst, a, b *float64, n int)                    { panic("vec: no assembly") }

func dotAxpyAVX(y, a, x *float64, n int, s float64) float64 { panic("vec: no assembly") }
