package infer_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

// withDropout gives the bias-free linear regression of infertest the
// dropout capability, the whole model being one dense layer over the
// inputs: each row's loss is NegLogLik at θ with that row's dropped inputs'
// weights zeroed and the others scaled by 1/(1-rate), and its gradient the
// chain rule through that scaling.
func withDropout(p *infer.Problem) *infer.Problem {
	d := p.Dim
	th, g, f := make([]float64, d), make([]float64, d), make([]float64, d)
	row := make([]int, 1)
	p.DenseLayers = []infer.DenseLayer{{WOff: 0, In: d, Out: 1, OnInput: true}}
	p.DropoutNegLogLik = func(grad, theta []float64, idx []int, rate float64, layers []int, rng *rand.Rand) float64 {
		if grad != nil {
			clear(grad)
		}
		loss := 0.0
		for _, r := range idx {
			for j := range f {
				f[j] = 1
				if len(layers) > 0 {
					f[j] = 1 / (1 - rate)
					if rng.Float64() < rate {
						f[j] = 0
					}
				}
				th[j] = theta[j] * f[j]
			}
			row[0] = r
			if grad == nil {
				loss += p.NegLogLik(nil, th, row)
				continue
			}
			loss += p.NegLogLik(g, th, row)
			for j := range grad {
				grad[j] += g[j] * f[j]
			}
		}
		return loss
	}
	return p
}

// Input dropout on a linear model has a closed-form objective: the
// expected squared error is ‖y − Xw‖² + (p/(1-p)) Σ_j w_j² Σ_n x_nj², and
// Gal's KL term makes the prior precision 1/(σ²(1-p)); the fit must land
// on the minimiser of that sum,
//
//	[XᵀX + (p/(1-p))·diag(XᵀX) + s²/(σ²(1-p))·I] w = Xᵀy,
//
// and measurably away from the minimisers that omit either term.
func TestMCDropoutLinearClosedForm(t *testing.T) {
	const n, d, noise, prior, rate = 30, 3, 0.25, 0.05, 0.2
	x, y := infertest.RandomData(n, d, noise, 4)
	p, _, _ := infertest.LinearRegression(x, y, noise, prior)
	p = withDropout(p)
	solve := func(dropTerm, priorTerm float64) []float64 {
		a := mat.NewSymDense(d, nil)
		a.SymOuterK(1, x.T())
		for j := range d {
			xx := a.At(j, j)
			a.SetSym(j, j, xx+dropTerm*xx+priorTerm)
		}
		var xty, w mat.VecDense
		xty.MulVec(x.T(), mat.NewVecDense(n, y))
		if err := w.SolveVec(a, &xty); err != nil {
			t.Fatal(err)
		}
		return mat.Col(nil, 0, &w)
	}
	want := solve(rate/(1-rate), noise/(prior*(1-rate)))
	m := &infer.MCDropout{Rate: rate, Layers: "all", Epochs: 20000, LR: 3e-4, Batch: n}
	post, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := post.(*infer.DropoutPosterior).Theta
	const tol = 0.006
	for j := range d {
		if diff := math.Abs(got[j] - want[j]); diff > tol {
			t.Errorf("w[%d] = %.4f, closed form %.4f", j, got[j], want[j])
		}
	}
	for _, alt := range [][]float64{solve(0, noise/(prior*(1-rate))), solve(rate/(1-rate), noise/prior)} {
		far := 0.0
		for j := range d {
			far = max(far, math.Abs(alt[j]-want[j]))
		}
		if far < 3*tol {
			t.Fatalf("test too weak: a wrong objective's optimum is only %.4f away", far)
		}
	}
}

// With p = 0 nothing is dropped: the fit is MAP's, bit for bit, and the
// posterior is that point.
func TestMCDropoutRateZeroIsMAP(t *testing.T) {
	x, y := infertest.RandomData(60, 2, 0.5, 3)
	p, _, _ := infertest.LinearRegression(x, y, 0.5, 1)
	p = withDropout(p)
	d, err := (&infer.MCDropout{Rate: -1, Epochs: 50}).Fit(context.Background(), p, rand.New(rand.NewPCG(3, 3)), nil)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := (&infer.MAP{Epochs: 50}).Fit(context.Background(), p, rand.New(rand.NewPCG(3, 3)), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := mp.(*infer.Point).Theta
	draws := d.Draw(10, rand.New(rand.NewPCG(1, 1)))
	if len(draws) != 1 || !slices.Equal(draws[0], want) {
		t.Errorf("p = 0: draws %v, MAP %v", draws, want)
	}
}

// A draw keeps each input unit's weights with probability 1-p, scaled by
// 1/(1-p), or zeroes them; over draws the linear prediction xᵀw has the
// mean of the undropped model and variance (p/(1-p))Σ w_i²x_i²
// (docs/algorithms.md §16: 0.222222 for w = (1, −2), x = (1, 0.5), p = 0.1).
func TestDropoutPosteriorDraws(t *testing.T) {
	const rate, s = 0.1, 200000
	w := []float64{1, -2, 0.7} // the last coordinate is a bias, never dropped
	post := &infer.DropoutPosterior{Theta: w, Rate: rate, Layers: []infer.DenseLayer{{WOff: 0, In: 2, Out: 1, OnInput: true}}}
	draws := post.Draw(s, rand.New(rand.NewPCG(8, 8)))
	if len(draws) != s {
		t.Fatalf("%d draws, want %d", len(draws), s)
	}
	x := []float64{1, 0.5}
	sum, sum2, zeros := 0.0, 0.0, 0
	for _, th := range draws {
		for i := range 2 {
			switch th[i] {
			case 0:
				zeros++
			case w[i] / (1 - rate):
			default:
				t.Fatalf("draw has w[%d] = %v, want 0 or %v", i, th[i], w[i]/(1-rate))
			}
		}
		if th[2] != w[2] {
			t.Fatalf("the bias moved: %v", th[2])
		}
		f := th[0]*x[0] + th[1]*x[1]
		sum += f
		sum2 += f * f
	}
	if sd := math.Sqrt(2 * s * rate * (1 - rate)); math.Abs(float64(zeros)-2*s*rate) > 4*sd {
		t.Errorf("%d of %d units dropped, want about %v", zeros, 2*s, 2*s*rate)
	}
	mean := sum / s
	v := sum2/s - mean*mean
	wantV := rate / (1 - rate) * (1*1*1 + 4*0.25)
	if math.Abs(wantV-0.222222) > 1e-6 {
		t.Fatalf("closed form %v", wantV)
	}
	if se := math.Sqrt(wantV / s); math.Abs(mean-0) > 5*se {
		t.Errorf("mean %.5f, want 0 (the undropped prediction 1·1 − 2·0.5)", mean)
	}
	if math.Abs(v-wantV) > 0.01*wantV {
		t.Errorf("variance %.5f, want %.5f", v, wantV)
	}
}

func TestMCDropoutSettings(t *testing.T) {
	r := infer.Builtins()
	for _, tc := range []struct {
		args []infer.Arg
		bad  string
	}{
		{[]infer.Arg{{Name: "p", Num: 1}}, "in [0, 1)"},
		{[]infer.Arg{{Name: "p", Num: -0.1}}, "in [0, 1)"},
		{[]infer.Arg{{Name: "layers", Str: "first", IsStr: true}}, `"hidden", "all"`},
		{[]infer.Arg{{Name: "epochs", Num: 0}}, "positive"},
		{[]infer.Arg{{Name: "rate", Num: 0.1}}, "known: batch, epochs, layers, lr, p"},
	} {
		_, err := r.New("mc_dropout", tc.args)
		var se *infer.SettingError
		if !errors.As(err, &se) || !bytes.Contains([]byte(err.Error()), []byte(tc.bad)) {
			t.Errorf("%v: error %v, want a SettingError saying %q", tc.args, err, tc.bad)
		}
	}
	m, err := r.New("mc_dropout", []infer.Arg{{Name: "p", Num: 0}, {Name: "layers", Str: "all", IsStr: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*infer.MCDropout); got.Rate != -1 || got.Layers != "all" {
		t.Errorf("parsed %+v", got)
	}
	// Go-side settings are checked by Fit, and a model without dense
	// layers is refused.
	p, _, _ := infertest.Sanity1D()
	if _, err := (&infer.MCDropout{Rate: 1.5}).Fit(context.Background(), withDropout(p), rand.New(rand.NewPCG(1, 1)), nil); err == nil {
		t.Error("rate 1.5 accepted")
	}
	p, _, _ = infertest.Sanity1D()
	if _, err := (&infer.MCDropout{}).Fit(context.Background(), p, rand.New(rand.NewPCG(1, 1)), nil); err == nil {
		t.Error("a problem without the dropout capability accepted")
	}
}

func TestMCDropoutDeterministicAndSaved(t *testing.T) {
	x, y := infertest.RandomData(80, 3, 0.5, 6)
	fit := func() infer.Posterior {
		p, _, _ := infertest.LinearRegression(x, y, 0.5, 1)
		post, err := (&infer.MCDropout{Layers: "all", Epochs: 30, Batch: 16}).Fit(context.Background(), withDropout(p), rand.New(rand.NewPCG(5, 6)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return post
	}
	a, b := fit(), fit()
	if !slices.Equal(a.(*infer.DropoutPosterior).Theta, b.(*infer.DropoutPosterior).Theta) {
		t.Fatal("two fits with one seed differ")
	}
	var buf bytes.Buffer
	if err := infer.Encode(&buf, a, []byte("meta")); err != nil {
		t.Fatal(err)
	}
	back, meta, err := infer.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if string(meta) != "meta" || back.Method() != "mc_dropout" || back.Dim() != 3 {
		t.Fatalf("loaded %s over %d parameters, meta %q", back.Method(), back.Dim(), meta)
	}
	da, db := a.Draw(20, rand.New(rand.NewPCG(2, 2))), back.Draw(20, rand.New(rand.NewPCG(2, 2)))
	for k := range da {
		if !slices.Equal(da[k], db[k]) {
			t.Fatalf("draw %d: %v before saving, %v after", k, da[k], db[k])
		}
	}
	// A payload that does not describe layers inside θ is refused.
	for _, bad := range []*infer.DropoutPosterior{
		{Theta: []float64{1, 2}, Rate: 0.1, Layers: []infer.DenseLayer{{WOff: 1, In: 2, Out: 1}}},
	} {
		buf.Reset()
		if err := infer.Encode(&buf, bad, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := infer.Decode(bytes.NewReader(buf.Bytes())); err == nil {
			t.Errorf("decoded a layer %+v over %d parameters", bad.Layers[0], len(bad.Theta))
		}
	}
}
