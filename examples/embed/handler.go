package main

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/bayesl/bayesl/lang"
	"gonum.org/v1/gonum/mat"
)

type request struct {
	X         [][]float64 `json:"x"`
	Seed      uint64      `json:"seed"`
	Quantiles []float64   `json:"quantiles"` // regression: levels in (0, 1)
}

type response struct {
	Mean      []float64   `json:"mean,omitempty"`
	SD        []float64   `json:"sd,omitempty"`
	Quantiles [][]float64 `json:"quantiles,omitempty"` // per row, one per requested level
	Class     []int       `json:"class,omitempty"`
	Label     []string    `json:"label,omitempty"` // the class labels the data named
	Prob      [][]float64 `json:"prob,omitempty"`
	Total     []float64   `json:"total,omitempty"`
	Aleatoric []float64   `json:"aleatoric"`
	Epistemic []float64   `json:"epistemic"`
}

// newHandler answers POST /predict {"x": [[...], ...]} with the predictive
// of post at those rows.
func newHandler(post *lang.Posterior, samples int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		var req request
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		width := post.Model().Inputs
		if len(req.X) == 0 {
			http.Error(w, "bad request: no rows in x", http.StatusBadRequest)
			return
		}
		x := mat.NewDense(len(req.X), width, nil)
		for i, row := range req.X {
			if len(row) != width {
				http.Error(w, fmt.Sprintf("bad request: row %d has %d values, the model takes %d", i, len(row), width), http.StatusBadRequest)
				return
			}
			x.SetRow(i, row)
		}
		pred, err := post.Predict(r.Context(), x, &lang.PredictOptions{Samples: samples, Seed: req.Seed, Quantiles: req.Quantiles})
		if err != nil {
			// What Predict refuses is the request's: a level outside
			// (0, 1), quantiles of a classifier.
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		out := response{Aleatoric: pred.Aleatoric, Epistemic: pred.Epistemic}
		if pred.Classification {
			out.Class, out.Label, out.Total = pred.Class, pred.Label, pred.Total
			for i := range pred.Class {
				out.Prob = append(out.Prob, mat.Row(nil, i, pred.Prob))
			}
		} else {
			out.Mean, out.SD = pred.Mean, pred.SD
			for i := range pred.Mean {
				if pred.Quantiles != nil {
					out.Quantiles = append(out.Quantiles, mat.Row(nil, i, pred.Quantiles))
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	return mux
}
