package tabular

import (
	"math"
	"slices"
	"testing"

	"github.com/bayesl/bayesl/stdlib/predictive"
)

// classif builds a classifier's predictive from per-draw probability rows
// probs[s][n] (each of length K).
func classif(probs [][][]float64) *predictive.Predictive {
	S, N, K := len(probs), len(probs[0]), len(probs[0][0])
	p := new(predictive.Predictive)
	p.Resize(predictive.Classification, S, N, K)
	for s := range S {
		for n := range N {
			for k := range K {
				p.LogProb[(s*N+n)*K+k] = math.Log(probs[s][n][k])
			}
		}
	}
	return p
}

// regress builds a Normal regression predictive from S x N locations and
// scales.
func regress(loc, scale [][]float64) *predictive.Predictive {
	S, N := len(loc), len(loc[0])
	p := new(predictive.Predictive)
	p.Resize(predictive.Regression, S, N, 0)
	for s := range S {
		copy(p.Loc[s*N:], loc[s])
		copy(p.Scale[s*N:], scale[s])
	}
	return p
}

func columnNames(t *Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

func TestPredictionsClassification(t *testing.T) {
	p := classif([][][]float64{
		{{0.7, 0.2, 0.1}, {0.1, 0.1, 0.8}},
		{{0.5, 0.4, 0.1}, {0.2, 0.2, 0.6}},
	})
	tb := Predictions(p, &PredictionOptions{Classes: []string{"setosa", "versicolor", "virginica"}, Draws: true})
	want := []string{"prob_setosa", "prob_versicolor", "prob_virginica", "label", "prob", "total", "aleatoric", "epistemic"}
	if !slices.Equal(columnNames(tb), want) {
		t.Fatalf("columns %v", columnNames(tb))
	}
	label, _ := tb.Column("label")
	if !slices.Equal(label.Strings, []string{"setosa", "virginica"}) {
		t.Errorf("labels %v", label.Strings)
	}
	if c, _ := tb.Column("prob_versicolor"); math.Abs(c.Floats[0]-0.3) > 1e-12 {
		t.Errorf("prob_versicolor %v", c.Floats)
	}
	if c, _ := tb.Column("prob"); math.Abs(c.Floats[1]-0.7) > 1e-12 {
		t.Errorf("prob %v", c.Floats)
	}
	d := tb.Arrays[0]
	if d.Name != "draws_prob" || !slices.Equal(d.Shape, []int{2, 2, 3}) || math.Abs(d.Data[(1*2+1)*3+2]-0.6) > 1e-12 {
		t.Errorf("draws %v %v %v", d.Name, d.Shape, d.Data)
	}
	// Labels read as numbers stay numbers.
	tb = Predictions(p, &PredictionOptions{Classes: []string{"0", "1", "2"}})
	if label, _ := tb.Column("label"); label.Strings != nil || !slices.Equal(label.Floats, []float64{0, 2}) {
		t.Errorf("numeric labels %+v", label)
	}
	if err := tb.Validate(); err != nil {
		t.Error(err)
	}
}

func TestPredictionsRegression(t *testing.T) {
	p := regress([][]float64{{-2, 0}, {2, 0}}, [][]float64{{1, 1}, {1, 1}})
	tb := Predictions(p, &PredictionOptions{Quantiles: []float64{0.05, 0.5}, Intervals: []float64{0.9}, Draws: true})
	want := []string{"mean", "sd", "aleatoric_var", "epistemic_var", "q0.05", "q0.5", "lo0.9", "hi0.9"}
	if !slices.Equal(columnNames(tb), want) {
		t.Fatalf("columns %v", columnNames(tb))
	}
	sd, _ := tb.Column("sd")
	epi, _ := tb.Column("epistemic_var")
	if math.Abs(sd.Floats[0]-math.Sqrt(5)) > 1e-12 || epi.Floats[0] != 4 || epi.Floats[1] != 0 {
		t.Errorf("sd %v epistemic %v", sd.Floats, epi.Floats)
	}
	q05, _ := tb.Column("q0.05")
	lo, _ := tb.Column("lo0.9")
	if math.Abs(q05.Floats[0]-lo.Floats[0]) > 1e-9 || math.Abs(q05.Floats[1]+1.6448536269514729) > 1e-9 {
		t.Errorf("q0.05 %v lo0.9 %v", q05.Floats, lo.Floats)
	}
	if len(tb.Arrays) != 2 || tb.Arrays[0].Name != "draws_mean" || !slices.Equal(tb.Arrays[1].Shape, []int{2, 2}) || tb.Arrays[0].Data[2] != 2 {
		t.Errorf("draws %+v", tb.Arrays)
	}
}
