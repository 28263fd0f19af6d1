// Package vec holds the elementwise loops of a training step that cost as
// much as the matrix products once those are fast: exp (softmax), tanh, the
// softplus/sigmoid pair behind VI's σ = softplus(ρ), and Adam's update. On
// amd64 with AVX2 and FMA they run four float64s at a time (vec_amd64.s),
// 5-20x faster than the math package's scalar functions; elsewhere, or
// built with -tags noasm, they are plain Go loops over the math package.
//
// The vector exp is a degree-12 polynomial after the usual reduction
// x = n·ln 2 + r; tanh is built on the matching expm1 and log1p on fdlibm's
// log kernel. Each agrees with the math package to a few units in the last
// place (the tests bound the error), but not bit for bit, so the two builds
// give slightly different numbers; each is deterministic. Arguments where
// exp overflows or goes subnormal, and NaNs, are handed to the math package,
// so the results there are its own. Every slice of a call has the length of the
// first; the functions panic otherwise, and allocate nothing.
package vec

import "math"

// Exp sets dst[i] = exp(src[i]). Arguments outside [-708, 709] (where exp
// overflows or goes subnormal) and NaNs are handed to math.Exp, so the
// results there are the math package's.
func Exp(dst, src []float64) {
	dst = dst[:len(src)]
	if !useAVX {
		for i, v := range src {
			dst[i] = math.Exp(v)
		}
		return
	}
	out := 0
	k := len(src) &^ 3
	if k > 0 {
		out = expAVX(&dst[0], &src[0], k)
	}
	if r := len(src) - k; r > 0 {
		var in, o [4]float64
		copy(in[:], src[k:])
		out |= expAVX(&o[0], &in[0], 4)
		copy(dst[k:], o[:r])
	}
	if out != 0 {
		for i, v := range src {
			if !(v >= -708 && v <= 709) {
				dst[i] = math.Exp(v)
			}
		}
	}
}

// Tanh sets dst[i] = tanh(src[i]).
func Tanh(dst, src []float64) {
	dst = dst[:len(src)]
	if !useAVX {
		for i, v := range src {
			dst[i] = math.Tanh(v)
		}
		return
	}
	k := len(src) &^ 3
	if k > 0 {
		tanhAVX(&dst[0], &src[0], k)
	}
	if r := len(src) - k; r > 0 {
		var in, out [4]float64
		copy(in[:], src[k:])
		tanhAVX(&out[0], &in[0], 4)
		copy(dst[k:], out[:r])
	}
}

// SoftplusSigmoid sets sp[i] = softplus(ρ_i) = log(1 + e^ρ_i) and
// sg[i] = sigmoid(ρ_i) = 1/(1 + e^-ρ_i), its derivative, from one exp per
// coordinate.
func SoftplusSigmoid(sp, sg, rho []float64) {
	sp, sg = sp[:len(rho)], sg[:len(rho)]
	if !useAVX {
		softplusSigmoidGo(sp, sg, rho)
		return
	}
	out := 0
	k := len(rho) &^ 3
	if k > 0 {
		out = softplusSigmoidAVX(&sp[0], &sg[0], &rho[0], k)
	}
	if r := len(rho) - k; r > 0 {
		var in, o1, o2 [4]float64
		copy(in[:], rho[k:])
		out |= softplusSigmoidAVX(&o1[0], &o2[0], &in[0], 4)
		copy(sp[k:], o1[:r])
		copy(sg[k:], o2[:r])
	}
	if out != 0 {
		for i, v := range rho {
			if !(math.Abs(v) <= 708) {
				softplusSigmoidGo(sp[i:i+1], sg[i:i+1], rho[i:i+1])
			}
		}
	}
}

// softplusSigmoidGo is SoftplusSigmoid through the math package. With
// e = exp(−|ρ|): softplus(ρ) = max(ρ, 0) + log1p(e), and sigmoid(ρ) =
// 1/(1+e) for ρ ≥ 0, e/(1+e) otherwise. The exps go first, in a loop of
// their own: the CPU overlaps independent exps better than exp→log1p
// chains.
func softplusSigmoidGo(sp, sg, rho []float64) {
	for j, r := range rho {
		sg[j] = math.Exp(-math.Abs(r))
	}
	for j, r := range rho {
		e := sg[j]
		s := math.Log1p(e)
		q := 1 / (1 + e)
		if r >= 0 {
			sp[j], sg[j] = r+s, q
		} else {
			sp[j], sg[j] = s, e*q
		}
	}
}

// Adam applies Adam's update to the coordinates of x with gradient g and
// moments m and v, in PyTorch's form:
//
//	m = β1·m + c1·g,  v = β2·v + c2·g²,  x -= step·m / (sqrt(v)·inv + ε)
//
// where c1 = (1-β1)·c and c2 = (1-β2)·c² fold in a gradient scale c, step is
// lr/(1-β1^t) and inv is 1/sqrt(1-β2^t). It reports false when some g is NaN
// or infinite; x, m and v are then spoilt.
func Adam(x, g, m, v []float64, b1, b2, c1, c2, step, inv, eps float64) bool {
	n := len(x)
	g, m, v = g[:n], m[:n], v[:n]
	if !useAVX {
		z := 0.0 // g[i]*0 is 0 for a finite g[i] and NaN otherwise
		for i, gi := range g {
			z += gi * 0
			mi := b1*m[i] + c1*gi
			vi := b2*v[i] + c2*gi*gi
			m[i], v[i] = mi, vi
			x[i] -= step * mi / (math.Sqrt(vi)*inv + eps)
		}
		return z == 0
	}
	p := [7]float64{b1, b2, c1, c2, step, inv, eps}
	z := 0.0
	k := n &^ 3
	if k > 0 {
		z = adamAVX(&x[0], &g[0], &m[0], &v[0], k, &p)
	}
	if r := n - k; r > 0 {
		var bx, bg, bm, bv [4]float64
		copy(bx[:], x[k:])
		copy(bg[:], g[k:])
		copy(bm[:], m[k:])
		copy(bv[:], v[k:])
		z += adamAVX(&bx[0], &bg[0], &bm[0], &bv[0], 4, &p)
		copy(x[k:], bx[:r])
		copy(m[k:], bm[:r])
		copy(v[k:], bv[:r])
	}
	return z == 0
}

// Relu sets dst[i] = max(src[i], 0); NaN stays NaN.
func Relu(dst, src []float64) {
	dst = dst[:len(src)]
	k := 0
	if useAVX {
		k = len(src) &^ 7
		if k > 0 {
			reluAVX(&dst[0], &src[0], k)
		}
	}
	for i := k; i < len(src); i++ {
		dst[i] = max(src[i], 0)
	}
}

// ReluBackward adds g[i] to gx[i] where y[i] > 0: the gradient through
// y = max(x, 0), taken from the output. The Go loop selects with a bit mask
// (a conditional move), so neither version branches on the data.
func ReluBackward(gx, g, y []float64) {
	gx, y = gx[:len(g)], y[:len(g)]
	k := 0
	if useAVX {
		k = len(g) &^ 7
		if k > 0 {
			reluBackAVX(&gx[0], &g[0], &y[0], k)
		}
	}
	for i := k; i < len(g); i++ {
		gx[i] += math.Float64frombits(math.Float64bits(g[i]) & positiveMask(y[i]))
	}
}

// positiveMask is all ones when v > 0 and zero otherwise.
func positiveMask(v float64) uint64 {
	var m uint64
	if v > 0 {
		m = ^uint64(0)
	}
	return m
}

// AdamNormalPrior is Adam (see Adam) on the gradient nb·g + (x - loc)·prec,
// a likelihood gradient scaled by nb plus the gradient of a normal prior
// with location loc and precision prec, formed on the fly: one pass over
// seven arrays where scaling g, adding the prior and stepping take three.
// It returns Σ (x - loc)²·prec, taken before the update, and false when a
// gradient coordinate is NaN or infinite (x, m and v are then spoilt).
func AdamNormalPrior(x, g, m, v, loc, prec []float64, nb, b1, b2, c1, c2, step, inv, eps float64) (sumsq float64, ok bool) {
	n := len(x)
	g, m, v, loc, prec = g[:n], m[:n], v[:n], loc[:n], prec[:n]
	if !useAVX {
		z := 0.0
		for i, gi := range g {
			d := x[i] - loc[i]
			dp := d * prec[i]
			sumsq += d * dp
			gi = nb*gi + dp
			z += gi * 0
			mi := b1*m[i] + c1*gi
			vi := b2*v[i] + c2*gi*gi
			m[i], v[i] = mi, vi
			x[i] -= step * mi / (math.Sqrt(vi)*inv + eps)
		}
		return sumsq, z == 0
	}
	var p [8][4]float64
	for j, c := range []float64{b1, b2, c1, c2, step, inv, eps, nb} {
		p[j] = [4]float64{c, c, c, c}
	}
	z := 0.0
	k := n &^ 3
	if k > 0 {
		sumsq, z = adamPriorAVX(&x[0], &g[0], &m[0], &v[0], &loc[0], &prec[0], k, &p)
	}
	if r := n - k; r > 0 {
		var bx, bg, bm, bv, bl, bp [4]float64
		copy(bx[:], x[k:])
		copy(bg[:], g[k:])
		copy(bm[:], m[k:])
		copy(bv[:], v[k:])
		copy(bl[:], loc[k:])
		copy(bp[:], prec[k:])
		s, zz := adamPriorAVX(&bx[0], &bg[0], &bm[0], &bv[0], &bl[0], &bp[0], 4, &p)
		sumsq += s
		z += zz
		copy(x[k:], bx[:r])
		copy(m[k:], bm[:r])
		copy(v[k:], bv[:r])
	}
	return sumsq, z == 0
}

// The loops of the local reparameterisation (compile/lrt.go), four at a
// time. Each has a plain Go tail; results agree with the Go loops to the
// rounding of one fused multiply-add.

// Mul sets dst[i] = a[i]·b[i].
func Mul(dst, a, b []float64) {
	n := len(dst)
	a, b = a[:n], b[:n]
	k := 0
	if useAVX {
		k = n &^ 3
		if k > 0 {
			mulAVX(&dst[0], &a[0], &b[0], k)
		}
	}
	for i := k; i < n; i++ {
		dst[i] = a[i] * b[i]
	}
}

// SqrtNoise sets sd[i] = sqrt(sd[i] + jitter) and adds sd[i]·z[i] to
// out[i]: the sampled pre-activation γ + sqrt(δ)·ζ.
func SqrtNoise(sd, z, out []float64, jitter float64) {
	n := len(sd)
	z, out = z[:n], out[:n]
	k := 0
	if useAVX {
		k = n &^ 3
		if k > 0 {
			sqrtNoiseAVX(&sd[0], &z[0], &out[0], k, jitter)
		}
	}
	for i := k; i < n; i++ {
		s := math.Sqrt(sd[i] + jitter)
		sd[i] = s
		out[i] += s * z[i]
	}
}

// HalfMulDiv sets t[i] = 0.5·g[i]·z[i]/sd[i].
func HalfMulDiv(t, g, z, sd []float64) {
	n := len(t)
	g, z, sd = g[:n], z[:n], sd[:n]
	k := 0
	if useAVX {
		k = n &^ 3
		if k > 0 {
			halfMulDivAVX(&t[0], &g[0], &z[0], &sd[0], k)
		}
	}
	for i := k; i < n; i++ {
		t[i] = 0.5 * g[i] * z[i] / sd[i]
	}
}

// AddMul2 adds 2·a[i]·b[i] to dst[i].
func AddMul2(dst, a, b []float64) {
	n := len(dst)
	a, b = a[:n], b[:n]
	k := 0
	if useAVX {
		k = n &^ 3
		if k > 0 {
			addMul2AVX(&dst[0], &a[0], &b[0], k)
		}
	}
	for i := k; i < n; i++ {
		dst[i] += 2 * a[i] * b[i]
	}
}

// DotAxpy adds s·a to y and returns Σ a·x, in one pass over a: the inner
// loop of a symmetric matrix-vector product (compile's Dsymv), which reads
// each stored element once for both the row's dot product and its
// column's update. The slices must have the same length.
func DotAxpy(y, a, x []float64, s float64) float64 {
	n := len(a)
	if len(y) != n || len(x) != n {
		panic("vec: DotAxpy: lengths differ")
	}
	dot, i := 0.0, 0
	if useAVX && n >= 4 {
		i = n &^ 3
		dot = dotAxpyAVX(&y[0], &a[0], &x[0], i, s)
	}
	for ; i < n; i++ {
		y[i] += s * a[i]
		dot += a[i] * x[i]
	}
	return dot
}
