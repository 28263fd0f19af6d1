package infer_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

// linearGaussians returns the three Gaussian posteriors over d = 3
// parameters, with their dense covariances: vi's mean-field and low-rank
// ones and a SWAG (built through its decoder).
func linearGaussians(t *testing.T, pred string) ([]infer.Posterior, []*mat.Dense) {
	t.Helper()
	mean := []float64{0.4, -0.2, 0.7}
	std := []float64{0.3, 0.1, 0.2}
	u := []float64{0.2, -0.1, 0.05, 0.3, -0.15, 0.1} // 3 x 2
	mf := &infer.Gaussian{Mean: mean, Std: std, By: "vi", Predictive: pred}
	lr := &infer.LowRankGaussian{Mean: mean, Std: std, U: u, Rank: 2, By: "vi", Predictive: pred}
	head := []float64{0.5, 0, 10, 3}
	if pred == "glm" {
		head = append(head, 1)
	}
	variance := []float64{0.04, 0.09, 0.01}
	cols := [][]float64{{0.1, -0.2, 0.3}, {-0.3, 0.1, 0.2}, {0.2, 0.2, -0.1}}
	sw, err := infer.BuiltinDecoders()["swag"]("swag", append([][]float64{head, mean, variance}, cols...))
	if err != nil {
		t.Fatal(err)
	}
	dense := func(f func(i, j int) float64) *mat.Dense {
		m := mat.NewDense(3, 3, nil)
		for i := range 3 {
			for j := range 3 {
				m.Set(i, j, f(i, j))
			}
		}
		return m
	}
	covs := []*mat.Dense{
		dense(func(i, j int) float64 { return boolf(i == j) * std[i] * std[i] }),
		dense(func(i, j int) float64 { return lr.Cov(i, j) }),
		dense(func(i, j int) float64 {
			v := boolf(i == j) * 0.5 * variance[i]
			for _, c := range cols {
				v += 0.5 / 2 * c[i] * c[j]
			}
			return v
		}),
	}
	return []infer.Posterior{mf, lr, sw}, covs
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// For a linear model the linearisation is the model, so the glm and nn
// predictives are the same distribution: glm's draws have exactly the
// location xᵀμ and variance xᵀΣx, and nn's parameter draws agree with
// them within Monte-Carlo error.
func TestGLMEqualsNNOnLinearModel(t *testing.T) {
	x, y := infertest.RandomData(20, 3, 0.25, 7)
	p, _, _ := infertest.LinearRegression(x, y, 0.25, 1)
	xt := mat.NewDense(4, 3, []float64{1, 0, 0, 0.5, -1, 2, -2, 0.3, 1, 0.1, 0.1, -0.4})
	glm, covs := linearGaussians(t, "glm")
	nn, _ := linearGaussians(t, "nn")
	for i, q := range glm {
		op := q.(infer.OutputPredictor)
		if !op.Linearised() || nn[i].(infer.OutputPredictor).Linearised() {
			t.Fatalf("%T: Linearised() wrong", q)
		}
		const S, SN = 500, 40000
		pg, err := infer.Predict(context.Background(), q, p, xt, S, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		pn, err := infer.Predict(context.Background(), nn[i], p, xt, SN, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Fatal(err)
		}
		for r := range 4 {
			row := mat.NewVecDense(3, mat.Row(nil, r, xt))
			var sx mat.VecDense
			sx.MulVec(covs[i], row)
			wantVar := mat.Dot(row, &sx)
			wantMean := mat.Dot(row, mat.NewVecDense(3, []float64{0.4, -0.2, 0.7}))
			gm, gv := rowMoments(pg.Loc, S, 4, r)
			if math.Abs(gm-wantMean) > 1e-12 || math.Abs(gv-wantVar) > 1e-12 {
				t.Errorf("%T glm row %d: mean %.12g var %.12g, want %.12g %.12g", q, r, gm, gv, wantMean, wantVar)
			}
			nm, nv := rowMoments(pn.Loc, SN, 4, r)
			if se := math.Sqrt(wantVar / SN); math.Abs(nm-wantMean) > 4*se || math.Abs(nv/wantVar-1) > 0.04 {
				t.Errorf("%T nn row %d: mean %.5g var %.5g, want %.5g %.5g", q, r, nm, nv, wantMean, wantVar)
			}
			if pg.Scale[r] != pn.Scale[r] {
				t.Errorf("%T row %d: noise scale %g (glm) and %g (nn)", q, r, pg.Scale[r], pn.Scale[r])
			}
		}
	}
}

func rowMoments(loc []float64, s, n, r int) (mean, variance float64) {
	for k := range s {
		mean += loc[k*n+r]
	}
	mean /= float64(s)
	for k := range s {
		d := loc[k*n+r] - mean
		variance += d * d
	}
	return mean, variance / float64(s)
}

// The setting survives save and load, and a file written before it
// (without the glm mark) loads as nn, the predictive it had.
func TestGaussianPredictiveSaved(t *testing.T) {
	for _, pred := range []string{"glm", "nn"} {
		posts, _ := linearGaussians(t, pred)
		for _, q := range posts {
			var buf bytes.Buffer
			if err := infer.Encode(&buf, q, nil); err != nil {
				t.Fatal(err)
			}
			back, _, err := infer.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.(infer.OutputPredictor).Linearised(); got != (pred == "glm") {
				t.Errorf("%T saved with %s: loaded Linearised() = %v", q, pred, got)
			}
		}
	}
	old := map[string][][]float64{
		"gaussian":         {{0.1, 0.2}, {1, 1}},
		"lowrank_gaussian": {{0.1, 0.2}, {1, 1}, {0.5, 0.5}},
		"swag":             {{0.5, 0, 4, 2}, {0.1, 0.2}, {1, 1}, {0.1, 0.2}, {0.3, 0.1}},
		"multiswag":        {{1, 5}, {0.5, 0, 4, 2}, {0.1, 0.2}, {1, 1}, {0.1, 0.2}, {0.3, 0.1}},
	}
	for kind, vecs := range old {
		q, err := infer.BuiltinDecoders()[kind]("m", vecs)
		if err != nil {
			t.Fatalf("%s file of before the setting: %v", kind, err)
		}
		if q.(infer.OutputPredictor).Linearised() {
			t.Errorf("%s file of before the setting loads as glm, want nn", kind)
		}
	}
	for kind, vecs := range map[string][][]float64{
		"gaussian": {{0.1}, {1}, {2}},
		"swag":     {{0.5, 0, 4, 0, 0}, {0.1}, {1}},
	} {
		if _, err := infer.BuiltinDecoders()[kind]("m", vecs); err == nil || !strings.Contains(err.Error(), "predictive code") {
			t.Errorf("%s with a bad predictive code: err = %v", kind, err)
		}
	}
}

// predictive takes glm or nn, is rejected elsewhere with the valid values,
// and glm is refused at fit time on a model without an output Jacobian.
func TestPredictiveSetting(t *testing.T) {
	for _, name := range []string{"vi", "swag", "multiswag"} {
		for _, v := range []string{"glm", "nn"} {
			if _, err := infer.Builtins().New(name, []infer.Arg{{Name: "predictive", Str: v, IsStr: true}}); err != nil {
				t.Errorf("%s(predictive: %s): %v", name, v, err)
			}
		}
		_, err := infer.Builtins().New(name, []infer.Arg{{Name: "predictive", Str: "mc", IsStr: true}})
		var se *infer.SettingError
		if !errors.As(err, &se) || se.Msg != `predictive must be one of "glm", "nn", got "mc"` {
			t.Errorf("%s(predictive: mc): err = %v", name, err)
		}
	}
	x, y := infertest.RandomData(20, 2, 0.25, 7)
	p, _, _ := infertest.LinearRegression(x, y, 0.25, 1)
	p.Jacobian = nil
	for _, m := range []infer.Method{
		infer.VI{Epochs: 1, Predictive: "glm"},
		infer.SWAG{Epochs: 2, Predictive: "glm"},
		infer.MultiSWAG{Members: 2, Epochs: 2, Predictive: "glm"},
	} {
		if _, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 1)), nil); err == nil || !strings.Contains(err.Error(), "predictive glm needs the Jacobian") {
			t.Errorf("%s(predictive: glm) without a Jacobian: err = %v", m.Name(), err)
		}
	}
	// The default falls back to nn where glm cannot run.
	q, err := infer.VI{Epochs: 1}.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.(infer.OutputPredictor).Linearised() {
		t.Errorf("vi's default without a Jacobian is glm, want nn")
	}
}
