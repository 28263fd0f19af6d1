package infer

import "fmt"

// PointOf returns the one parameter vector that stands for post, the
// network `weights w = point(p)` exports, and says what it is:
//
//   - a *Point (map, or any point method): its θ, "the MAP point";
//   - a *Gaussian (vi): its mean μ, "the variational mean";
//   - a *SWAGPosterior: its SWA mean θ̄, what Draw gives at scale 0, "the
//     SWA mean";
//   - a *LaplacePosterior: its mean, the MAP fit it was built at, "the
//     Laplace mode";
//   - a *Student: its θ, "the student network".
//
// A posterior made of several networks — an ensemble (*Points), MultiSWAG,
// SG-MCMC samples — has no such vector: its members sit in different modes,
// and averaging the weights of different modes does not give a network
// that predicts like any of them. PointOf returns an error for them. The
// slice is a copy.
func PointOf(post Posterior) (theta []float64, what string, err error) {
	var v []float64
	switch q := post.(type) {
	case *Point:
		v, what = q.Theta, "the MAP point"
		if q.By != "map" {
			what = "the " + q.By + " point"
		}
	case *Gaussian:
		v, what = q.Mean, "the variational mean"
	case *SWAGPosterior:
		v, what = q.Mean(), "the SWA mean"
	case *LaplacePosterior:
		v, what = q.Mean, "the Laplace mode"
	case *Student:
		v, what = q.Theta, "the student network"
	case *Points, *MultiSWAGPosterior, *Samples:
		return nil, "", fmt.Errorf("a %s posterior is several networks in different modes, and averaging their weights gives no network: point() takes a map, vi, swag or laplace posterior", post.Method())
	default:
		return nil, "", fmt.Errorf("a %s posterior (%T) has no point estimate", post.Method(), post)
	}
	return append([]float64(nil), v...), what, nil
}
