package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Samples is a posterior held as the stored states of one or more Markov
// chains, as SGLD, PSGLD and CSGMCMC produce: a finite posterior whose
// predictive is the average over its states (docs/algorithms.md §1). It keeps
// the chains apart, because convergence diagnostics (Diagnose) compare
// them.
type Samples struct {
	By     string // the backend that produced it, e.g. "sgld"; Method returns it
	dim    int
	flat   [][]float64   // chain → its samples one after another
	chains [][][]float64 // chain → sample → θ, views of flat
	undone int           // steps the chains undid after a non-finite objective (chainRun)
}

// Warning reports the steps the chains undid, each halving that chain's
// step size; "" when there were none.
func (q *Samples) Warning() string {
	if q.undone == 0 {
		return ""
	}
	return fmt.Sprintf("%d steps reached a non-finite objective and were undone, each halving its chain's step size (a smaller lr avoids them)", q.undone)
}

var (
	_ Saver   = (*Samples)(nil)
	_ Chainer = (*Samples)(nil)
)

// NewSamples returns a Samples holding a copy of chains (chain → sample →
// parameter vector). Every chain needs at least one sample, every vector
// the same length ≥ 1 and finite values.
func NewSamples(method string, chains [][][]float64) (*Samples, error) {
	if len(chains) == 0 {
		return nil, fmt.Errorf("infer: samples posterior without chains")
	}
	dim := 0
	for c, ch := range chains {
		if len(ch) == 0 {
			return nil, fmt.Errorf("infer: chain %d of the samples posterior is empty", c)
		}
		if c == 0 {
			dim = len(ch[0])
		}
	}
	if dim == 0 {
		return nil, fmt.Errorf("infer: samples posterior over 0 parameters")
	}
	s := &Samples{By: method, dim: dim, flat: make([][]float64, len(chains)), chains: make([][][]float64, len(chains))}
	for c, ch := range chains {
		flat := make([]float64, 0, len(ch)*dim)
		for i, v := range ch {
			if len(v) != dim {
				return nil, fmt.Errorf("infer: sample %d of chain %d has %d parameters, want %d", i, c, len(v), dim)
			}
			flat = append(flat, v...)
		}
		var err error
		if s.chains[c], err = splitChain(flat, len(ch), dim); err != nil {
			return nil, fmt.Errorf("infer: chain %d: %v", c, err)
		}
		s.flat[c] = flat
	}
	return s, nil
}

// splitChain cuts flat (n vectors of dim values) into views, checking that
// every value is finite.
func splitChain(flat []float64, n, dim int) ([][]float64, error) {
	for i, x := range flat {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("sample %d has %g at parameter %d", i/dim, x, i%dim)
		}
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, nil
}

// Chainer is a posterior made of the states of Markov chains. Chains
// returns them as chain → sample → parameter vector; the vectors are
// shared and must not be modified.
type Chainer interface {
	Chains() [][][]float64
}

// Method returns the backend that produced the samples.
func (s *Samples) Method() string { return s.By }

// Dim returns the length of every stored vector.
func (s *Samples) Dim() int { return s.dim }

// Chains returns the stored vectors, chain by chain, in the order the
// chains visited them. They are shared with s; callers must not modify
// them.
func (s *Samples) Chains() [][][]float64 { return s.chains }

// Len returns the number of stored vectors over all chains.
func (s *Samples) Len() int {
	n := 0
	for _, ch := range s.chains {
		n += len(ch)
	}
	return n
}

// StoredNumbers returns the number of float64 values s holds, Len·Dim:
// its memory is eight bytes each.
func (s *Samples) StoredNumbers() int { return s.Len() * s.dim }

// Draw returns stored vectors for a predictive, without randomness: all of
// them (chain by chain) when n < 1 or n ≥ Len, otherwise n of them evenly
// spaced through the chains, counted back from the last state of the last
// chain, so every chain contributes about equally. Thinning to n keeps the
// cost of a predictive under the caller's control however many states
// were stored. The vectors are shared with s; callers must not modify them.
func (s *Samples) Draw(n int, rng *rand.Rand) [][]float64 {
	total := s.Len()
	all := make([][]float64, 0, total)
	for _, ch := range s.chains {
		all = append(all, ch...)
	}
	if n < 1 || n >= total {
		return all
	}
	out := make([][]float64, n)
	for j := range n {
		out[n-1-j] = all[total-1-j*total/n]
	}
	return out
}

// Kind returns "samples", the key of its decoder.
func (s *Samples) Kind() string { return "samples" }

// Vectors returns the payload saved to a file: a header [Dim, n_1, ...,
// n_C] with the number of samples of each chain, then one vector per chain
// holding its samples one after another. The chains' own arrays are
// returned, not copies.
func (s *Samples) Vectors() [][]float64 {
	head := make([]float64, 1, 1+len(s.chains))
	head[0] = float64(s.dim)
	for _, ch := range s.chains {
		head = append(head, float64(len(ch)))
	}
	return append([][]float64{head}, s.flat...)
}

func decodeSamples(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) < 2 {
		return nil, fmt.Errorf("samples posterior has %d vectors, want a header and at least one chain", len(vecs))
	}
	head := vecs[0]
	if len(head) != len(vecs) {
		return nil, fmt.Errorf("samples posterior header has %d entries for %d chains", len(head), len(vecs)-1)
	}
	whole := func(x float64) bool { return x >= 1 && x <= 1<<40 && x == math.Trunc(x) }
	if !whole(head[0]) {
		return nil, fmt.Errorf("samples posterior has dimension %g", head[0])
	}
	dim := int(head[0])
	s := &Samples{By: method, dim: dim, flat: vecs[1:], chains: make([][][]float64, len(vecs)-1)}
	for c, flat := range vecs[1:] {
		n := head[c+1]
		if !whole(n) || float64(len(flat)) != n*float64(dim) {
			return nil, fmt.Errorf("chain %d has %d values, not %g samples of %d", c, len(flat), n, dim)
		}
		var err error
		if s.chains[c], err = splitChain(flat, int(n), dim); err != nil {
			return nil, fmt.Errorf("chain %d: %v", c, err)
		}
	}
	return s, nil
}
