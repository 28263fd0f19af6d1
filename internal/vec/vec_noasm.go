//go:build noasm || !amd64

package vec

var useAVX = false

func expAVX(dst, src *float64, n int) int                          { panic("vec: no assembly") }
func tanhAVX(dst, src *float64, n int)                             { panic("vec: no assembly") }
func softplusSigmoidAVX(sp, sg, rho *float64, n int) int           { panic("vec: no assembly") }
func adamAVX(x, grad, m, v *float64, n int, p *[7]float64) float64 { panic("vec: no assembly") }

func reluAVX(dst, src *float64, n int)        { panic("vec: no assembly") }
func reluBackAVX(gx, grad, y *float64, n int) { panic("vec: no assembly") }
