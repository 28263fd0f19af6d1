package infer

import (
	"fmt"
	"math/rand/v2"
)

// Point is a posterior concentrated on one parameter vector, as MAP (or a
// loaded set of pretrained weights) produces.
type Point struct {
	Theta []float64
	By    string // the backend that learned it, e.g. "map"; Method returns it
}

var _ Saver = (*Point)(nil)

// Pretrained is the By of the point of a model whose every weight is a
// constant (pretrained weights taken as they are): its vector is empty,
// and nothing was learned.
const Pretrained = "pretrained"

// Method returns the backend that learned the point.
func (p *Point) Method() string { return p.By }

// Dim returns len(p.Theta).
func (p *Point) Dim() int { return len(p.Theta) }

// Draw returns the single vector p.Theta, whatever s is, since every draw
// from a point is the same: a point's predictive needs one forward pass. The
// vector is shared with p; callers must not modify it.
func (p *Point) Draw(s int, rng *rand.Rand) [][]float64 { return [][]float64{p.Theta} }

// Kind returns "point", the key of its decoder.
func (p *Point) Kind() string { return "point" }

// Vectors returns the payload saved to a file: [Theta].
func (p *Point) Vectors() [][]float64 { return [][]float64{p.Theta} }

func decodePoint(method string, vecs [][]float64) (Posterior, error) {
	if len(vecs) != 1 {
		return nil, fmt.Errorf("point posterior has %d vectors, want 1", len(vecs))
	}
	return &Point{Theta: vecs[0], By: method}, nil
}
