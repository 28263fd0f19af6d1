package vec

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// Normals is a fast generator of standard normal draws, for noise drawn per
// activation (the local reparameterisation's ζ) or per parameter: about
// 1.6 ns a draw against 5-7 for math/rand/v2's NormFloat64 behind a
// rand.Source interface, which was 18% of a digits VI step.
//
// It is the ziggurat of Marsaglia & Tsang (2000) with 256 layers and float64
// tables, driven by an inlined xoshiro256++ (Blackman & Vigna 2018), and it
// fills whole blocks so the state stays in registers. Each draw takes one
// 64-bit word: 8 bits choose the layer, one the sign and 52 the position in
// the layer, so values lie on a grid of 2⁻⁵² of the layer width; apart from
// that grid the draws are exactly N(0, 1) (a rejection method, with tables
// built from r alone). It is the construction of infer's SG-MCMC noise
// (infer/normal.go), exported here so that compile can use it too.
//
// Seed it from a *rand.Rand: the draws are then a deterministic function of
// that generator's state. The zero value is not seeded.
type Normals struct {
	s0, s1, s2, s3 uint64
}

// Seed sets the state from four words of rng.
func (g *Normals) Seed(rng *rand.Rand) {
	g.s0, g.s1, g.s2, g.s3 = rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()
	if g.s0|g.s1|g.s2|g.s3 == 0 { // the one state xoshiro cannot leave
		g.s0 = 0x9e3779b97f4a7c15
	}
}

// uint64 returns the next xoshiro256++ output.
func (g *Normals) uint64() uint64 {
	r := bits.RotateLeft64(g.s0+g.s3, 23) + g.s0
	t := g.s1 << 17
	g.s2 ^= g.s0
	g.s3 ^= g.s1
	g.s1 ^= g.s2
	g.s0 ^= g.s3
	g.s2 ^= t
	g.s3 = bits.RotateLeft64(g.s3, 45)
	return r
}

// float64 returns a uniform draw in [0, 1) on a grid of 2⁻⁵³.
func (g *Normals) float64() float64 { return float64(g.uint64()>>11) * 0x1p-53 }

// Fill overwrites dst with independent N(0, 1) draws.
func (g *Normals) Fill(dst []float64) {
	for i := 0; ; i++ {
		var r uint64
		i, r = g.fillFast(dst, i)
		if i >= len(dst) {
			return
		}
		dst[i] = g.slow(r)
	}
}

// fillFast fills dst from index i on while draws land inside the
// rectangles (about 99% of them). It stops at the first draw that does not
// and returns its index and bits, or len(dst). It holds the state in locals
// and calls nothing, so the loop stays in registers.
func (g *Normals) fillFast(dst []float64, i int) (int, uint64) {
	s0, s1, s2, s3 := g.s0, g.s1, g.s2, g.s3
	var r uint64
	for ; i < len(dst); i++ {
		r = bits.RotateLeft64(s0+s3, 23) + s0
		t := s1 << 17
		s2 ^= s0
		s3 ^= s1
		s1 ^= s2
		s0 ^= s3
		s2 ^= t
		s3 = bits.RotateLeft64(s3, 45)
		u := r >> 12 // 52 bits of position; bits 0-7 layer, bit 8 sign
		if u >= zig.k[r&0xff] {
			break
		}
		dst[i] = float64(int64(u)) * zig.w[r&0x1ff]
	}
	g.s0, g.s1, g.s2, g.s3 = s0, s1, s2, s3
	return i, r
}

// slow finishes a draw whose bits r fell outside its layer's rectangle: the
// wedge test against the density, or for the base layer a draw from the
// tail beyond r (Marsaglia 1964), then fresh bits until one is accepted.
func (g *Normals) slow(r uint64) float64 {
	for {
		j := r & 0xff
		u := r >> 12
		x := float64(int64(u)) * zig.w[r&0x1ff]
		if u < zig.k[j] {
			return x
		}
		if j == 0 {
			for {
				// 1 − U avoids log(0).
				a := -math.Log1p(-g.float64()) / zigR
				b := -math.Log1p(-g.float64())
				if b+b > a*a {
					if r&0x100 != 0 {
						return -(zigR + a)
					}
					return zigR + a
				}
			}
		}
		if zig.f[j]+g.float64()*(zig.f[j-1]-zig.f[j]) < math.Exp(-0.5*x*x) {
			return x
		}
		r = g.uint64()
	}
}

// zigR is the right edge of the base layer of the 256-layer ziggurat for
// the unnormalised density f(x) = exp(−x²/2) (Marsaglia & Tsang 2000).
const zigR = 3.6541528853610088

// zigTables holds the ziggurat's layers, numbered as Marsaglia & Tsang
// do: layer 0 is the base strip (a rectangle of width r plus the tail),
// layer 255 sits on it with right edge x_255 = r, and the right edges
// x_254 > ... > x_1 shrink towards the top layer 1 (x_0 = 0). Every layer
// has the same area v.
//
//	k[i]  2⁵²·x_{i−1}/x_i: a position below it is inside the rectangle
//	w[i]  x_i/2⁵², the scale of a 52-bit position; w[256+i] = −w[i]
//	f[i]  f(x_i)
//
// For the base strip, x_0 in k and w is q = v/f(r), the width of a
// rectangle of area v; positions beyond r go to the tail.
type zigTables struct {
	k [256]uint64
	w [512]float64
	f [256]float64
}

// zig is computed once and never written again.
var zig = newZigTables()

func newZigTables() *zigTables {
	const m = 1 << 52
	t := new(zigTables)
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	r := zigR
	// The common area of the layers: the base rectangle plus the tail.
	v := r*f(r) + math.Sqrt(math.Pi/2)*math.Erfc(r/math.Sqrt2)
	q := v / f(r) // width of a rectangle of the base strip's area
	t.k[0] = uint64(r / q * m)
	t.w[0] = q / m
	t.w[255] = r / m
	t.f[0] = 1
	t.f[255] = f(r)
	dn, tn := r, r
	for i := 254; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(v/dn+f(dn)))
		t.k[i+1] = uint64(dn / tn * m)
		tn = dn
		t.f[i] = f(dn)
		t.w[i] = dn / m
	}
	t.k[1] = 0
	for i := range 256 {
		t.w[256+i] = -t.w[i]
	}
	return t
}
