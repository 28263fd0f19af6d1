package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/lang"
)

// TestPredictEndpoint fits and saves a posterior with a script, loads it the
// way the server does, and queries the JSON endpoint on a loopback server.
func TestPredictEndpoint(t *testing.T) {
	dir := t.TempDir()
	csv, err := os.ReadFile(filepath.Join("..", "data", "mcycle.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "mcycle.csv"), csv, 0o644)
	script := `data mc = csv("mcycle.csv", x: [times], y: accel, standardize: true)
model net(x: 1) {
  h = dense(x, 16) |> tanh
  o = dense(h, 2)
  y ~ normal(o[0], softplus(o[1]) + 0.01)
}
posterior p = fit net on mc using vi(epochs: 300, lr: 0.01)
save p to "p.post"
`
	if err := lang.NewSession(&lang.Config{Seed: 1, Dir: dir}).Run(context.Background(), "fit.bl", []byte(script)); err != nil {
		t.Fatal(err)
	}
	post, err := lang.LoadPosterior(filepath.Join(dir, "p.post"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(post, 100))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(`{"x": [[10], [20], [30]]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	var got response
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Mean) != 3 || len(got.Epistemic) != 3 {
		t.Fatalf("response %+v", got)
	}
	for i := range got.Mean {
		total := got.Aleatoric[i] + got.Epistemic[i]
		if math.Abs(got.SD[i]*got.SD[i]-total) > 1e-6*total || got.Epistemic[i] <= 0 {
			t.Errorf("row %d: sd² %.4g != aleatoric+epistemic %.4g, or no epistemic part", i, got.SD[i]*got.SD[i], total)
		}
	}
	// The same request with the same seed answers the same numbers.
	resp2, _ := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(`{"x": [[10], [20], [30]]}`))
	var again response
	json.NewDecoder(resp2.Body).Decode(&again)
	resp2.Body.Close()
	if again.Mean[1] != got.Mean[1] {
		t.Errorf("not deterministic: %v vs %v", again.Mean, got.Mean)
	}

	// Quantiles of the predictive mixture bracket the median and the mean.
	resp3, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(`{"x": [[10], [20], [30]], "quantiles": [0.05, 0.5, 0.95]}`))
	if err != nil {
		t.Fatal(err)
	}
	var q response
	json.NewDecoder(resp3.Body).Decode(&q)
	resp3.Body.Close()
	if len(q.Quantiles) != 3 {
		t.Fatalf("quantiles %v", q.Quantiles)
	}
	for i, row := range q.Quantiles {
		if len(row) != 3 || !(row[0] < row[1] && row[1] < row[2]) || !(row[0] < q.Mean[i] && q.Mean[i] < row[2]) {
			t.Errorf("row %d: quantiles %v, mean %v", i, row, q.Mean[i])
		}
	}

	for body, want := range map[string]string{
		`{"x": [[1]], "quantiles": [1.5]}`: "quantile level 1.5 is not in (0, 1)",
		`{"x": [[1, 2]]}`:                  "row 0 has 2 values, the model takes 1",
		`{"x": []}`:                        "no rows",
		`{"x": [[1]`:                       "bad request",
		`{"z": 1}`:                         "unknown field",
	} {
		r, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var msg strings.Builder
		buf := make([]byte, 512)
		n, _ := r.Body.Read(buf)
		msg.Write(buf[:n])
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(msg.String(), want) {
			t.Errorf("%s: got %d %q, want 400 containing %q", body, r.StatusCode, msg.String(), want)
		}
	}
}

// TestPredictClassLabels: a classifier fitted on iris answers with the
// class labels its CSV file named, and refuses quantiles.
func TestPredictClassLabels(t *testing.T) {
	dir := t.TempDir()
	csv, err := os.ReadFile(filepath.Join("..", "data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "iris.csv"), csv, 0o644)
	s := lang.NewSession(&lang.Config{Seed: 1, Dir: dir})
	err = s.Run(context.Background(), "fit.bl", []byte(`data iris = csv("iris.csv", y: species, classes: 3, standardize: true)
model cls(x: 4) {
  y ~ categorical(logits: dense(x, 3))
}
posterior p = fit cls on iris using laplace(epochs: 200, lr: 0.05)
`))
	if err != nil {
		t.Fatal(err)
	}
	post, err := s.Posterior("p")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(post, 50))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(`{"x": [[5.1, 3.5, 1.4, 0.2], [6.3, 2.9, 5.6, 1.8]]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got response
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if strings.Join(got.Label, ",") != "setosa,virginica" || len(got.Prob) != 2 || len(got.Prob[0]) != 3 {
		t.Errorf("labels %v, prob %v", got.Label, got.Prob)
	}
	r, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader(`{"x": [[5.1, 3.5, 1.4, 0.2]], "quantiles": [0.5]}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("quantiles of a classifier: status %s", r.Status)
	}
}
