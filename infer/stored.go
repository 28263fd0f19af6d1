package infer

// StoredNumberer is implemented by posteriors that can say how many numbers
// they keep: the cost of the posterior, as opposed to the model's size.
type StoredNumberer interface {
	StoredNumbers() int
}

// StoredNumbers of a point is its one vector.
func (p *Point) StoredNumbers() int { return len(p.Theta) }

// StoredNumbers of a mean-field Gaussian is a mean and a standard deviation
// per parameter.
func (g *Gaussian) StoredNumbers() int { return len(g.Mean) + len(g.Std) }
