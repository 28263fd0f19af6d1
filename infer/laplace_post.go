package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// An Evidencer is a posterior that knows the (approximate) log marginal
// likelihood log p(D) of its model: a Laplace approximation's. Front ends
// report it with the fit's summary.
type Evidencer interface {
	LogMarginalLikelihood() float64
}

// LaplacePosterior is the Gaussian N(Mean, H⁻¹) of a Laplace
// approximation. The coordinates that vary are all of θ, or Index (subset
// last_layer); the others stay at Mean. H is block diagonal over them, in
// up to three parts:
//
//   - Factor: the upper Cholesky factor U of a full block, H = UᵀU, its
//     rows in the order of Index (or of θ when Index is nil);
//   - Kron: Kronecker-factored blocks (hessian kron);
//   - Std: a diagonal part, the standard deviation of each coordinate
//     (length Dim; 0 where another part covers it or it stays fixed).
type LaplacePosterior struct {
	Mean   []float64     // θ_MAP
	Std    []float64     // diagonal part, or nil
	Index  []int         // subset last_layer: the θ coordinates that vary; nil for all
	Factor *mat.TriDense // full part, or nil
	Kron   []KronBlock   // Kronecker part

	Predictive string // "glm" (linearised, drawn in output space) or "nn" (parameter draws)
	LinkApprox string // classification with glm: "mc" or "probit"

	PriorPrecision float64   // τ, the multiple of the model's prior precision used; 0 per layer
	LayerPrecision []float64 // optimize_layers: τ per Problem.Tensors entry (then the rest); not saved
	LogEvidence    float64   // the Laplace approximation of log p(D) at τ
	By             string    // the backend that learned it, "laplace"; Method returns it

	uinvOnce sync.Once // the full part's inverse factor, for the GLM predictive
	uinv     blas64.General
	uinvErr  error
}

var (
	_ Saver           = (*LaplacePosterior)(nil)
	_ StoredNumberer  = (*LaplacePosterior)(nil)
	_ Evidencer       = (*LaplacePosterior)(nil)
	_ OutputPredictor = (*LaplacePosterior)(nil)
)

// Method returns the backend that learned the posterior.
func (q *LaplacePosterior) Method() string { return q.By }

// Dim returns len(q.Mean).
func (q *LaplacePosterior) Dim() int { return len(q.Mean) }

// LogMarginalLikelihood returns the Laplace approximation of log p(D),
// log p(D|θ) + log p(θ) + (d/2) log 2π − ½ log det H at the mode.
func (q *LaplacePosterior) LogMarginalLikelihood() float64 { return q.LogEvidence }

// Hessian returns the structure: "full", "kron" or "diag".
func (q *LaplacePosterior) Hessian() string {
	switch {
	case q.Factor != nil:
		return hessFull
	case len(q.Kron) > 0:
		return hessKron
	}
	return hessDiag
}

// Subset returns "all" or "last_layer".
func (q *LaplacePosterior) Subset() string {
	if q.Index != nil {
		return subsetLastLayer
	}
	return subsetAll
}

// varying returns the coordinates that vary.
func (q *LaplacePosterior) varying() []int {
	if q.Index != nil {
		return q.Index
	}
	idx := make([]int, len(q.Mean))
	for j := range idx {
		idx[j] = j
	}
	return idx
}

// Covariance returns the posterior covariance of the coordinates that
// vary (all of θ, or Index in its order), as a dense matrix.
func (q *LaplacePosterior) Covariance() *mat.SymDense {
	idx := q.varying()
	k := len(idx)
	pos := make(map[int]int, k)
	for a, j := range idx {
		pos[j] = a
	}
	c := mat.NewSymDense(k, nil)
	if q.Factor != nil {
		var ch mat.Cholesky
		ch.SetFromU(q.Factor)
		if err := ch.InverseTo(c); err != nil {
			panic(fmt.Sprintf("infer: laplace covariance: %v", err))
		}
	}
	if q.Std != nil {
		for _, j := range idx {
			if s := q.Std[j]; s != 0 {
				c.SetSym(pos[j], pos[j], c.At(pos[j], pos[j])+s*s)
			}
		}
	}
	for bi := range q.Kron {
		b := &q.Kron[bi]
		n := b.In * b.Out
		e, tmp, w := make([]float64, n), make([]float64, n), make([][]float64, n)
		for i := range n {
			clear(e)
			e[i] = 1
			w[i] = make([]float64, n)
			b.whiten(w[i], e, tmp)
		}
		for i := range n {
			for j := i; j < n; j++ {
				s := 0.0
				for t := range n {
					s += w[i][t] * w[j][t]
				}
				c.SetSym(pos[b.Off+i], pos[b.Off+j], s)
			}
		}
	}
	return c
}

// StoredNumbers returns how many numbers define the posterior.
func (q *LaplacePosterior) StoredNumbers() int {
	n := len(q.Mean) + len(q.Index)
	if q.Std != nil {
		n += len(q.Std)
	}
	if q.Factor != nil {
		k, _ := q.Factor.Triangle()
		n += k * (k + 1) / 2
	}
	for _, b := range q.Kron {
		n += b.In*b.In + b.Out*b.Out + b.In*b.Out
	}
	return n
}

// Draw returns s fresh draws from N(Mean, H⁻¹) in newly allocated vectors
// (one backing array): Mean plus Std⊙z, plus U⁻¹z at the full block's
// coordinates (the covariance of U⁻¹z is (UᵀU)⁻¹), plus each Kronecker
// block's Q_A (Z ⊙ E^{-½}) Q_Gᵀ. It returns nil when s < 1.
func (q *LaplacePosterior) Draw(s int, rng *rand.Rand) [][]float64 {
	if s < 1 {
		return nil
	}
	d := len(q.Mean)
	buf := make([]float64, s*d)
	out := make([][]float64, s)
	var z []float64
	var u blas64.Triangular
	var fullIdx []int
	if q.Factor != nil {
		u = q.Factor.RawTriangular()
		z = make([]float64, u.N)
		fullIdx = q.varying()
	}
	kz, ktmp := make([]float64, 0), make([]float64, 0)
	for _, b := range q.Kron {
		kz = make([]float64, max(len(kz), b.In*b.Out))
		ktmp = make([]float64, max(len(ktmp), b.In*b.Out))
	}
	for i := range out {
		v := buf[i*d : (i+1)*d : (i+1)*d]
		out[i] = v
		copy(v, q.Mean)
		if q.Std != nil {
			for j, sd := range q.Std {
				if sd != 0 {
					v[j] += sd * rng.NormFloat64()
				}
			}
		}
		if q.Factor != nil {
			for j := range z {
				z[j] = rng.NormFloat64()
			}
			blas64.Trsv(blas.NoTrans, u, blas64.Vector{N: len(z), Inc: 1, Data: z})
			for j, c := range fullIdx {
				v[c] += z[j]
			}
		}
		for bi := range q.Kron {
			b := &q.Kron[bi]
			n := b.In * b.Out
			for j := range n {
				kz[j] = rng.NormFloat64()
			}
			b.sample(v, kz[:n], ktmp[:n])
		}
	}
	return out
}

// Kind returns "laplace", the key of its decoder.
func (q *LaplacePosterior) Kind() string { return "laplace" }

// Codes of the saved header.
func boolCode(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Vectors returns the payload saved to a file: a header [τ, log evidence,
// structure (0 full, 1 kron, 2 diag), predictive (0 glm, 1 nn), link
// (0 mc, 1 probit)], Mean, Index (as numbers; empty for subset all), then
// for full the upper triangle of Factor row by row; for diag Std; for kron
// Std and per block [Off, In, Out], Q_A, Q_G and E.
func (q *LaplacePosterior) Vectors() [][]float64 {
	structure := map[string]float64{hessFull: 0, hessKron: 1, hessDiag: 2}[q.Hessian()]
	head := []float64{q.PriorPrecision, q.LogEvidence, structure, boolCode(q.Predictive == predNN), boolCode(q.LinkApprox == linkProbit)}
	idx := make([]float64, len(q.Index))
	for i, j := range q.Index {
		idx[i] = float64(j)
	}
	out := [][]float64{head, q.Mean, idx}
	switch {
	case q.Factor != nil:
		raw := q.Factor.RawTriangular()
		k := raw.N
		tri := make([]float64, 0, k*(k+1)/2)
		for i := range k {
			tri = append(tri, raw.Data[i*raw.Stride+i:i*raw.Stride+k]...)
		}
		out = append(out, tri)
	default:
		out = append(out, q.Std)
		for _, b := range q.Kron {
			out = append(out, []float64{float64(b.Off), float64(b.In), float64(b.Out)}, b.QA, b.QG, b.E)
		}
	}
	return out
}

func decodeLaplace(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) < 3 {
		return nil, fmt.Errorf("laplace posterior has %d vectors, want at least 3", len(vecs))
	}
	head, mean := vecs[0], vecs[1]
	switch len(head) {
	case 2:
		return decodeLaplaceV1(method, vecs)
	case 5:
	default:
		return nil, fmt.Errorf("laplace posterior header has %d numbers, want 5", len(head))
	}
	d := len(mean)
	q := &LaplacePosterior{Mean: mean, PriorPrecision: head[0], LogEvidence: head[1], By: method, Predictive: predGLM, LinkApprox: linkMC}
	if head[3] == 1 {
		q.Predictive = predNN
	}
	if head[4] == 1 {
		q.LinkApprox = linkProbit
	}
	if len(vecs[2]) > 0 {
		seen := make(map[int]bool, len(vecs[2]))
		q.Index = make([]int, len(vecs[2]))
		for i, v := range vecs[2] {
			j := int(v)
			if float64(j) != v || j < 0 || j >= d || seen[j] {
				return nil, fmt.Errorf("laplace posterior has last-layer coordinate %g", v)
			}
			seen[j] = true
			q.Index[i] = j
		}
	}
	k := d
	if q.Index != nil {
		k = len(q.Index)
	}
	switch head[2] {
	case 0:
		if len(vecs) != 4 {
			return nil, fmt.Errorf("laplace posterior (full) has %d vectors, want 4", len(vecs))
		}
		u, err := decodeTri(vecs[3], k)
		if err != nil {
			return nil, err
		}
		q.Factor = u
	case 1, 2:
		if len(vecs) < 4 || len(vecs[3]) != d {
			return nil, fmt.Errorf("laplace posterior has %d means and a diagonal part of %d", d, len(vecs))
		}
		if err := checkScales(vecs[3]); err != nil {
			return nil, err
		}
		q.Std = vecs[3]
		rest := vecs[4:]
		if head[2] == 2 && len(rest) > 0 || head[2] == 1 && (len(rest) == 0 || len(rest)%4 != 0) {
			return nil, fmt.Errorf("laplace posterior has %d Kronecker vectors", len(rest))
		}
		for i := 0; i < len(rest); i += 4 {
			meta := rest[i]
			if len(meta) != 3 {
				return nil, fmt.Errorf("laplace posterior has a Kronecker block header of %d numbers", len(meta))
			}
			off, in, out := int(meta[0]), int(meta[1]), int(meta[2])
			if float64(off) != meta[0] || float64(in) != meta[1] || float64(out) != meta[2] || off < 0 || in < 1 || out < 1 || off+in*out > d {
				return nil, fmt.Errorf("laplace posterior has Kronecker block %v", meta)
			}
			b := KronBlock{Off: off, In: in, Out: out, QA: rest[i+1], QG: rest[i+2], E: rest[i+3]}
			if len(b.QA) != in*in || len(b.QG) != out*out || len(b.E) != in*out {
				return nil, fmt.Errorf("laplace posterior has a Kronecker block of %d, %d and %d numbers for %d x %d", len(b.QA), len(b.QG), len(b.E), in, out)
			}
			for _, v := range append(append([]float64(nil), b.QA...), b.QG...) {
				if !isFinite(v) {
					return nil, fmt.Errorf("laplace posterior has eigenvector entry %g", v)
				}
			}
			for _, e := range b.E {
				if !(e > 0) || math.IsInf(e, 0) {
					return nil, fmt.Errorf("laplace posterior has Kronecker eigenvalue %g", e)
				}
			}
			q.Kron = append(q.Kron, b)
		}
	default:
		return nil, fmt.Errorf("laplace posterior has structure code %g", head[2])
	}
	return q, nil
}

// decodeLaplaceV1 reads the files of earlier versions: [τ, evidence], Mean,
// then Std (diag over every parameter) or Index and the factor (last layer);
// both predicted by parameter draws.
func decodeLaplaceV1(method string, vecs [][]float64) (Posterior, error) {
	head, mean := vecs[0], vecs[1]
	q := &LaplacePosterior{Mean: mean, PriorPrecision: head[0], LogEvidence: head[1], By: method, Predictive: predNN, LinkApprox: linkMC}
	if len(vecs) == 3 {
		if len(vecs[2]) != len(mean) {
			return nil, fmt.Errorf("laplace posterior has %d means and %d scales", len(mean), len(vecs[2]))
		}
		if err := checkScales(vecs[2]); err != nil {
			return nil, err
		}
		q.Std = vecs[2]
		return q, nil
	}
	if len(vecs) != 4 {
		return nil, fmt.Errorf("laplace posterior has %d vectors, want 3 or 4", len(vecs))
	}
	idx, tri := vecs[2], vecs[3]
	k := len(idx)
	if k == 0 {
		return nil, fmt.Errorf("laplace posterior has no last-layer coordinates")
	}
	seen := make(map[int]bool, k)
	q.Index = make([]int, k)
	for i, v := range idx {
		j := int(v)
		if float64(j) != v || j < 0 || j >= len(mean) || seen[j] {
			return nil, fmt.Errorf("laplace posterior has last-layer coordinate %g", v)
		}
		seen[j] = true
		q.Index[i] = j
	}
	u, err := decodeTri(tri, k)
	if err != nil {
		return nil, err
	}
	q.Factor = u
	return q, nil
}

func checkScales(std []float64) error {
	for j, s := range std {
		if !(s >= 0) || math.IsInf(s, 0) {
			return fmt.Errorf("laplace posterior has scale %g at %d", s, j)
		}
	}
	return nil
}

// decodeTri rebuilds a k x k upper factor from its rows' upper parts.
func decodeTri(tri []float64, k int) (*mat.TriDense, error) {
	if k == 0 || len(tri) != k*(k+1)/2 {
		return nil, fmt.Errorf("laplace posterior has %d coordinates and %d factor entries", k, len(tri))
	}
	u := mat.NewTriDense(k, mat.Upper, nil)
	off := 0
	for i := range k {
		for j := i; j < k; j++ {
			v := tri[off]
			off++
			if !isFinite(v) || (i == j && !(v > 0)) {
				return nil, fmt.Errorf("laplace posterior has factor entry %g at (%d, %d)", v, i, j)
			}
			u.SetTri(i, j, v)
		}
	}
	return u, nil
}
