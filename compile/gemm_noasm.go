//go:build noasm || !amd64

package compile

// haveFMA is false without the assembly kernel: products go to gonum.
var haveFMA = false

func kern6x8(k int, a *float64, ps, rs int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64) {
	panic("compile: no assembly kernel in this build")
}
