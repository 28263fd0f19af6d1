package infer_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"gonum.org/v1/gonum/mat"
)

// docs/algorithms.md §3 sanity test 3: on the 1-D linear-Gaussian problem the
// gradient is linear, so the stationary mean of constant-rate SGD is the
// optimum and the SWA mean lands on the posterior mean 50/57. Each
// collected iterate is taken after a whole reshuffled epoch (3 rows, batch
// 1), so the iterates scatter far less than the posterior: only the mean
// is asserted.
func TestSWAGSanity1D(t *testing.T) {
	p, exact, _ := infertest.Sanity1D()
	for _, m := range []infer.Method{
		infer.SWAG{Epochs: 300, LR: 1e-2, SWALR: 5e-3, CollectEvery: 1, Batch: 1},
		infer.SWAG{Epochs: 300, LR: 1e-2, SWALR: 5e-3, CollectEvery: 1, Batch: 1, Diagonal: 1},
		infer.SWAG{Epochs: 300, LR: 1e-2, SWALR: 5e-3, CollectEvery: 1, Batch: 1, Optimizer: "adam"},
		infer.MultiSWAG{Members: 2, Epochs: 300, LR: 1e-2, SWALR: 5e-3, CollectEvery: 1, Batch: 1},
	} {
		post, err := m.Fit(context.Background(), p, rng(1), nil)
		if err != nil {
			t.Fatal(err)
		}
		var members []*infer.SWAGPosterior
		switch q := post.(type) {
		case *infer.SWAGPosterior:
			members = []*infer.SWAGPosterior{q}
		case *infer.MultiSWAGPosterior:
			members = q.Members()
		}
		for _, q := range members {
			if got := q.Mean()[0]; math.Abs(got-50.0/57) > 1e-2 {
				t.Errorf("%+v: SWA mean %.5f, want 50/57 = %.5f ± 0.01", m, got, exact[0])
			}
			if q.Collected() != 150 {
				t.Errorf("%+v: %d iterates collected, want 150", m, q.Collected())
			}
		}
	}
}

// The conformance check with SWAG's own tolerances. The mean is asserted
// as for every backend (1e-2). The variance is not the posterior's: the
// spread of SGD iterates is set by the learning rate, the batch and the
// reshuffling, not by the model alone (Mandt et al. 2017; with reshuffled
// epochs the spread of epoch-end iterates grows about as lr², and its shape
// across coordinates depends on the design). One setting cannot match two
// problems, so Run asserts only what holds for any small rate: SWAG is not
// overdispersed, var ≤ 2× the posterior's (VarTol 1; Run's bound is
// symmetric). Batch 5 keeps the iterates' noise, and so the Monte-Carlo
// error of the SWA mean, well inside 1e-2. TestSWAGTunedVariance checks
// the variance where the rate is tuned.
func TestSWAGConformance(t *testing.T) {
	want := infertest.Want{MeanTol: 1e-2, VarTol: 1}
	t.Run("swag", func(t *testing.T) {
		infertest.Run(t, &infer.SWAG{Epochs: 300, LR: 1e-3, SWALR: 5e-4, CollectEvery: 1, Batch: 5}, want)
	})
	t.Run("multiswag", func(t *testing.T) {
		infertest.Run(t, &infer.MultiSWAG{Members: 2, Epochs: 300, LR: 1e-3, SWALR: 5e-4, CollectEvery: 1, Batch: 5}, want)
	})
}

// With the rate tuned for it (lr = swa_lr = 1e-3, batch 1, found by trying
// 1e-3, 2e-3 and 3e-3), SWAG's marginal variances on infertest.Run's
// correlated 3-feature problem come out at 0.4-1.05 of the exact
// posterior's over seeds; this asserts [1/3, 2]. At 2e-3 they are 2-4×,
// and on another design the same rate gives ratios 10× apart between
// coordinates: the covariance is only as good as the tuning. The SWA mean
// of 200 correlated iterates carries a Monte-Carlo error of about a tenth
// of a posterior sd, so it is held to 0.03 here.
func TestSWAGTunedVariance(t *testing.T) {
	x, y := infertest.RandomData(50, 3, 0.25, 1)
	for i := range 50 { // as infertest.Run does
		x.Set(i, 1, x.At(i, 1)+0.8*x.At(i, 0))
		x.Set(i, 2, x.At(i, 2)-0.5*x.At(i, 1))
	}
	p, mean, cov := infertest.LinearRegression(x, y, 0.25, 1)
	m := infer.SWAG{Epochs: 400, LR: 1e-3, SWALR: 1e-3, Batch: 1}
	post, err := m.Fit(context.Background(), p, rng(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	gotMean, gotVar := infertest.Moments(post.Draw(20000, rng(3)))
	for j := range mean {
		if math.Abs(gotMean[j]-mean[j]) > 0.03 {
			t.Errorf("mean[%d] = %.4f, exact %.4f", j, gotMean[j], mean[j])
		}
		if ratio := gotVar[j] / cov.At(j, j); ratio < 1.0/3 || ratio > 2 {
			t.Errorf("var[%d] = %.3g, exact %.3g (ratio %.2f, want within [1/3, 2])", j, gotVar[j], cov.At(j, j), ratio)
		}
	}
}

func fitSWAG(t *testing.T, m infer.Method, p *infer.Problem, seed uint64) infer.Posterior {
	t.Helper()
	post, err := m.Fit(context.Background(), p, rng(seed), nil)
	if err != nil {
		t.Fatalf("%+v: %v", m, err)
	}
	return post
}

func TestSWAGSaveLoad(t *testing.T) {
	p, _, _ := linreg3(40, 1)
	cases := map[string]infer.Posterior{
		"full":      fitSWAG(t, infer.SWAG{Epochs: 60, Batch: 8, Rank: 5, Covariance: "iterates"}, p, 1),
		"curvature": fitSWAG(t, infer.SWAG{Epochs: 60, Batch: 8, Rank: 5}, p, 1),                       // 3 orthogonal columns span d = 3
		"few":       fitSWAG(t, infer.SWAG{Epochs: 60, Batch: 8, SWAStart: 57, CollectEvery: 1}, p, 1), // 3 columns of 20
		"one":       fitSWAG(t, infer.SWAG{Epochs: 60, Batch: 8, SWAStart: 59, CollectEvery: 1}, p, 1), // diagonal term only
		"diagonal":  fitSWAG(t, infer.SWAG{Epochs: 60, Batch: 8, Diagonal: 1, Scale: 1}, p, 1),
		"mean":      fitSWAG(t, infer.SWAG{Epochs: 60, Batch: 8, Scale: -1}, p, 1),
		"multiswag": fitSWAG(t, infer.MultiSWAG{Members: 3, Epochs: 60, Batch: 8, Rank: 4, Covariance: "iterates"}, p, 1),
		"multidiag": fitSWAG(t, infer.MultiSWAG{Members: 2, Epochs: 60, Batch: 8, Diagonal: 1, Scale: -1}, p, 1),
	}
	dir := t.TempDir()
	for name, post := range cases {
		b := encode(t, post, []byte(name))
		got, meta, err := infer.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(dir, name+".post")
		if err := infer.WriteFile(path, post, nil); err != nil {
			t.Fatal(err)
		}
		fromFile, _, err := infer.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(meta) != name || reflect.TypeOf(got) != reflect.TypeOf(post) || got.Method() != post.Method() {
			t.Errorf("%s: got %T %q %q", name, got, got.Method(), meta)
		}
		for _, back := range []infer.Posterior{got, fromFile} {
			want, have := post.(infer.Saver).Vectors(), back.(infer.Saver).Vectors()
			if len(want) != len(have) {
				t.Fatalf("%s: %d vectors back, want %d", name, len(have), len(want))
			}
			for i := range want {
				sameBits(t, name, want[i], have[i])
			}
			a, b := post.Draw(7, rng(9)), back.Draw(7, rng(9))
			if len(a) != len(b) {
				t.Fatalf("%s: %d draws back, want %d", name, len(b), len(a))
			}
			for i := range a {
				sameBits(t, name+" draws", a[i], b[i])
			}
			if post.(infer.StoredNumberer).StoredNumbers() != back.(infer.StoredNumberer).StoredNumbers() {
				t.Errorf("%s: stored numbers differ", name)
			}
		}
	}
	full := cases["full"].(*infer.SWAGPosterior)
	if n, want := full.StoredNumbers(), 3*(5+2); n != want || len(full.Deviations()) != 5 {
		t.Errorf("full: %d stored numbers, %d columns; want %d, 5", n, len(full.Deviations()), want)
	}
	if c := cases["curvature"].(*infer.SWAGPosterior); c.StoredNumbers() != 3*(3+2) || !c.Linearised() {
		t.Errorf("curvature: %d stored numbers, linearised %v", c.StoredNumbers(), c.Linearised())
	}
	if n := cases["few"].(*infer.SWAGPosterior).StoredNumbers(); n != 3*(3+2) {
		t.Errorf("3 columns: %d stored numbers", n)
	}
	if d := cases["diagonal"].(*infer.SWAGPosterior); d.StoredNumbers() != 6 || !d.Diagonal() || d.Scale() != 1 {
		t.Errorf("diagonal: %d stored numbers, diagonal %v, scale %v", d.StoredNumbers(), d.Diagonal(), d.Scale())
	}
	if n := cases["multiswag"].(*infer.MultiSWAGPosterior).StoredNumbers(); n != 3*3*(4+2) {
		t.Errorf("multiswag: %d stored numbers", n)
	}
	// Scale 0 draws the SWA mean: one vector, or one per member.
	mean := cases["mean"].(*infer.SWAGPosterior)
	if d := mean.Draw(10, rng(1)); len(d) != 1 || &d[0][0] != &mean.Mean()[0] {
		t.Errorf("scale 0: %d draws", len(d))
	}
	if d := cases["multidiag"].Draw(10, rng(1)); len(d) != 2 {
		t.Errorf("multiswag scale 0: %d draws, want the 2 means", len(d))
	}
}

// rawSaver writes arbitrary vectors under a kind, to feed decoders bad
// payloads behind valid checksums.
type rawSaver struct {
	infer.Point
	kind string
	vecs [][]float64
}

func (r *rawSaver) Kind() string         { return r.kind }
func (r *rawSaver) Vectors() [][]float64 { return r.vecs }

func TestSWAGDecodeRejects(t *testing.T) {
	h := func(scale, diag, n, k float64) []float64 { return []float64{scale, diag, n, k} }
	m, v, c := []float64{1, 2}, []float64{0.5, 0.5}, []float64{0.1, -0.1}
	good := [][]float64{h(0.5, 0, 5, 2), m, v, c, c}
	for _, tc := range []struct {
		name string
		kind string
		vecs [][]float64
	}{
		{"no vectors", "swag", nil},
		{"short header", "swag", [][]float64{{0.5, 0, 5}, m, v}},
		{"negative scale", "swag", [][]float64{h(-1, 0, 5, 0), m, v}},
		{"NaN scale", "swag", [][]float64{h(math.NaN(), 0, 5, 0), m, v}},
		{"flag 2", "swag", [][]float64{h(0.5, 2, 5, 0), m, v}},
		{"flag -0", "swag", [][]float64{h(0.5, math.Copysign(0, -1), 5, 0), m, v}},
		{"nothing collected", "swag", [][]float64{h(0.5, 0, 0, 0), m, v}},
		{"fractional n", "swag", [][]float64{h(0.5, 0, 2.5, 0), m, v}},
		{"column count", "swag", [][]float64{h(0.5, 0, 5, 3), m, v, c, c}},
		{"more columns than iterates", "swag", [][]float64{h(0.5, 0, 1, 2), m, v, c, c}},
		{"diagonal with columns", "swag", [][]float64{h(0.5, 1, 5, 2), m, v, c, c}},
		{"variance length", "swag", [][]float64{h(0.5, 0, 5, 0), m, v[:1]}},
		{"negative variance", "swag", [][]float64{h(0.5, 0, 5, 0), m, {1, -1}}},
		{"infinite mean", "swag", [][]float64{h(0.5, 0, 5, 0), {1, math.Inf(1)}, v}},
		{"column length", "swag", [][]float64{h(0.5, 0, 5, 2), m, v, c, c[:1]}},
		{"NaN column", "swag", [][]float64{h(0.5, 0, 5, 2), m, v, c, {0, math.NaN()}}},
		{"multi: no header", "multiswag", nil},
		{"multi: member count", "multiswag", append([][]float64{{2, 5}}, good...)},
		{"multi: vectors per member", "multiswag", append([][]float64{{1, 6}}, good...)},
		{"multi: trailing vectors", "multiswag", append(append([][]float64{{1, 4}}, good...), m)},
		{"multi: bad member", "multiswag", append([][]float64{{2, 5, 3}}, append(good, h(0.5, 0, 0, 0), m, v)...)},
		{"multi: dimensions differ", "multiswag", append([][]float64{{2, 5, 3}}, append(good, h(0.5, 0, 5, 0), m[:1], v[:1])...)},
		{"multi: scales differ", "multiswag", append([][]float64{{2, 5, 3}}, append(good, h(1, 0, 5, 0), m, v)...)},
	} {
		b := encode(t, &rawSaver{infer.Point{By: "swag"}, tc.kind, tc.vecs}, nil)
		if _, _, err := infer.Decode(bytes.NewReader(b)); !errors.Is(err, infer.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", tc.name, err)
		}
	}
	for _, tc := range []struct {
		kind string
		vecs [][]float64
	}{
		{"swag", good},
		{"multiswag", append([][]float64{{2, 5, 3}}, append(good, h(0.5, 0, 5, 0), m, v)...)},
	} {
		b := encode(t, &rawSaver{infer.Point{By: tc.kind}, tc.kind, tc.vecs}, nil)
		if _, _, err := infer.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("valid %s payload: %v", tc.kind, err)
		}
	}
}

// Draws from a mixture go to the members round-robin.
func TestMultiSWAGDrawRoundRobin(t *testing.T) {
	member := func(mean float64) [][]float64 {
		return [][]float64{{1, 0, 1, 0}, {mean, -mean}, {0, 0}}
	}
	vecs := [][]float64{{3, 3, 3, 3}}
	for _, mu := range []float64{10, 20, 30} {
		vecs = append(vecs, member(mu)...)
	}
	post, _, err := infer.Decode(bytes.NewReader(encode(t, &rawSaver{infer.Point{By: "multiswag"}, "multiswag", vecs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	draws := post.Draw(7, rng(1))
	if len(draws) != 7 || post.Dim() != 2 {
		t.Fatalf("%d draws of dim %d", len(draws), post.Dim())
	}
	for i, th := range draws {
		want := float64(10 * (i%3 + 1))
		if math.Abs(th[0]-want) > 1e-6 || math.Abs(th[1]+want) > 1e-6 {
			t.Errorf("draw %d = %v, want member %d's mean ±%v", i, th, i%3, want)
		}
	}
	if post.Draw(0, rng(1)) != nil {
		t.Error("Draw(0) returned draws")
	}
}

func TestSWAGSettings(t *testing.T) {
	reg := infer.Builtins()
	m, err := reg.New("swag", []infer.Arg{num("epochs", 100), num("swa_start", 0), num("scale", 0), str("diagonal", "true"),
		num("swa_lr", 1e-3), num("collect_every", 2), num("rank", 1), str("optimizer", "adam"), num("momentum", 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := &infer.SWAG{Epochs: 100, SWAStart: -1, Scale: -1, Diagonal: 1, SWALR: 1e-3, CollectEvery: 2, Rank: 1, Optimizer: "adam", Momentum: -1}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	for _, v := range []infer.Arg{str("diagonal", "false"), num("diagonal", 0)} {
		m, err := reg.New("swag", []infer.Arg{v})
		if err != nil || m.(*infer.SWAG).Diagonal != 0 {
			t.Errorf("%v: %+v %v", v, m, err)
		}
	}
	m, err = reg.New("multiswag", []infer.Arg{num("members", 5), num("epochs", 40), num("diagonal", 1), num("lr", 0.1)})
	if err != nil {
		t.Fatal(err)
	}
	if ms := m.(*infer.MultiSWAG); *ms != (infer.MultiSWAG{Members: 5, Epochs: 40, Diagonal: 1, LR: 0.1}) || ms.Member() != (infer.SWAG{Epochs: 40, Diagonal: 1, LR: 0.1}) {
		t.Errorf("got %+v", *ms)
	}

	for _, tc := range []struct {
		method string
		args   []infer.Arg
		index  int
		msg    string
	}{
		{"swag", []infer.Arg{num("epochs", 5), num("lr", -0.1)}, 1, "lr must be positive, got -0.1"},
		{"swag", []infer.Arg{num("swa_lr", 0)}, 0, "swa_lr must be positive, got 0"},
		{"swag", []infer.Arg{num("scale", -1)}, 0, "scale must not be negative, got -1"},
		{"swag", []infer.Arg{num("epochs", 10), num("rank", 1)}, 1,
			"rank must be at least 2 for the low-rank covariance (or set diagonal: true), got 1"},
		{"swag", []infer.Arg{num("swa_start", 300)}, 0, "swa_start must be below epochs (300), got 300"},
		{"swag", []infer.Arg{num("swa_start", 10), num("epochs", 10)}, 0, "swa_start must be below epochs (10), got 10"},
		{"swag", []infer.Arg{num("epochs", 10), num("collect_every", 6)}, 1,
			"collect_every 6 leaves nothing to collect in the 5 epochs after swa_start"},
		{"swag", []infer.Arg{num("lr", 1), str("diagonal", "yes")}, 1, `diagonal must be true or false, got "yes"`},
		{"swag", []infer.Arg{num("diagonal", 2)}, 0, "diagonal must be true or false (1 or 0), got 2"},
		{"swag", []infer.Arg{num("diagonal", 0.5)}, 0, "diagonal must be a whole number, got 0.5"},
		{"swag", []infer.Arg{str("diagonal", "true"), num("diagonal", 1)}, 1, "diagonal is set twice"},
		{"swag", []infer.Arg{str("optimizer", "adamw")}, 0, `optimizer must be one of "sgd", "adam", got "adamw"; did you mean "adam"?`},
		{"swag", []infer.Arg{num("rnk", 3)}, 0, `unknown setting "rnk" for swag; did you mean rank? (known: batch, collect_every, covariance, diagonal, epochs, lr, momentum, optimizer, predictive, rank, scale, swa_lr, swa_start)`},
		{"swag", []infer.Arg{str("diagonal", "true"), str("covariance", "curvature")}, 1,
			"covariance curvature sets the spread within the deviations' subspace, which diagonal: true does not keep: use covariance: iterates"},
		{"swag", []infer.Arg{str("covariance", "hessian")}, 0, `covariance must be one of "curvature", "iterates", got "hessian"`},
		{"multiswag", []infer.Arg{num("members", 0)}, 0, "members must be positive, got 0"},
		{"multiswag", []infer.Arg{num("members", 2), num("rank", 1)}, 1,
			"rank must be at least 2 for the low-rank covariance (or set diagonal: true), got 1"},
		{"multiswag", []infer.Arg{num("member", 2)}, 0, `unknown setting "member" for multiswag; did you mean members? (known: batch, collect_every, covariance, diagonal, epochs, lr, members, momentum, optimizer, predictive, rank, scale, swa_lr, swa_start)`},
	} {
		m, err := reg.New(tc.method, tc.args)
		var se *infer.SettingError
		if !errors.As(err, &se) {
			t.Errorf("%s%v: err = %v, want *SettingError", tc.method, tc.args, err)
			continue
		}
		if m != nil {
			t.Errorf("%s%v: a method came back with the error", tc.method, tc.args)
		}
		if se.Index != tc.index || se.Msg != tc.msg {
			t.Errorf("%s%v:\n got %d %q\nwant %d %q", tc.method, tc.args, se.Index, se.Msg, tc.index, tc.msg)
		}
	}

	// The same checks guard settings written in Go, with Index -1.
	p, _, _ := infertest.Sanity1D()
	for _, m := range []infer.Method{
		infer.SWAG{LR: -1}, infer.SWAG{Rank: 1}, infer.SWAG{SWAStart: 300}, infer.SWAG{Epochs: 10, SWAStart: 12},
		infer.SWAG{Epochs: 10, CollectEvery: 6}, infer.SWAG{Diagonal: 3}, infer.SWAG{Scale: -2}, infer.SWAG{Momentum: 1},
		infer.MultiSWAG{Members: -1}, infer.MultiSWAG{Rank: 1},
	} {
		_, err := m.Fit(context.Background(), p, rng(1), nil)
		var se *infer.SettingError
		if !errors.As(err, &se) || se.Index != -1 || !strings.HasPrefix(err.Error(), m.Name()+": ") {
			t.Errorf("%+v: %v, want a *SettingError with index -1", m, err)
		}
	}
	for _, m := range []infer.Method{infer.SWAG{}, infer.MultiSWAG{}} {
		if _, err := m.Fit(context.Background(), p, nil, nil); err == nil {
			t.Errorf("%s: nil rng accepted", m.Name())
		}
		if _, err := m.Fit(context.Background(), nil, rng(1), nil); err == nil {
			t.Errorf("%s: nil problem accepted", m.Name())
		}
	}
}

// MultiSWAG's fields are SWAG's, plus Members, with the same settings tags.
func TestMultiSWAGMirrorsSWAG(t *testing.T) {
	s, ms := reflect.TypeFor[infer.SWAG](), reflect.TypeFor[infer.MultiSWAG]()
	if ms.NumField() != s.NumField()+1 {
		t.Fatalf("MultiSWAG has %d fields, SWAG %d", ms.NumField(), s.NumField())
	}
	for i := range s.NumField() {
		f := s.Field(i)
		g, ok := ms.FieldByName(f.Name)
		if !ok || g.Type != f.Type || g.Tag != f.Tag {
			t.Errorf("MultiSWAG.%s does not mirror SWAG.%s", f.Name, f.Name)
		}
	}
	full := infer.SWAG{Epochs: 1, LR: 2, SWALR: 3, SWAStart: 4, CollectEvery: 5, Rank: 6, Scale: 7, Diagonal: 8, Batch: 9, Optimizer: "x", Momentum: 10}
	if got := (infer.MultiSWAG{Epochs: 1, LR: 2, SWALR: 3, SWAStart: 4, CollectEvery: 5, Rank: 6, Scale: 7, Diagonal: 8, Batch: 9, Optimizer: "x", Momentum: 10}).Member(); got != full {
		t.Errorf("Member() = %+v", got)
	}
}

func TestSWAGCapEpochs(t *testing.T) {
	for _, tc := range []struct {
		m    infer.SWAG
		n    int
		want infer.SWAG
	}{
		{infer.SWAG{}, 10, infer.SWAG{Epochs: 10, SWAStart: 5}},
		{infer.SWAG{}, 1000, infer.SWAG{Epochs: 300, SWAStart: 150}},
		{infer.SWAG{Epochs: 300, SWAStart: 290, CollectEvery: 5}, 10, infer.SWAG{Epochs: 10, SWAStart: 9, CollectEvery: 1}},
		{infer.SWAG{Epochs: 300, SWAStart: 100, CollectEvery: 3}, 30, infer.SWAG{Epochs: 30, SWAStart: 10, CollectEvery: 3}},
		{infer.SWAG{}, 1, infer.SWAG{Epochs: 1, SWAStart: -1}},
		{infer.SWAG{Epochs: 1}, 5, infer.SWAG{Epochs: 1, SWAStart: -1}},
	} {
		c := infer.CapEpochs(tc.m, tc.n).(*infer.SWAG)
		if c.Epochs != tc.want.Epochs || c.SWAStart != tc.want.SWAStart || c.CollectEvery != tc.want.CollectEvery {
			t.Errorf("%+v capped at %d: epochs %d swa_start %d collect_every %d, want %+v", tc.m, tc.n, c.Epochs, c.SWAStart, c.CollectEvery, tc.want)
		}
	}
	p, _, _ := infertest.Sanity1D()
	for _, n := range []int{1, 2, 3} {
		for _, tc := range []struct {
			m       infer.Method
			members int
		}{{infer.SWAG{}, 1}, {infer.MultiSWAG{Members: 2, CollectEvery: 7}, 2}} {
			capped := infer.CapEpochs(tc.m, n)
			reports := 0
			if _, err := capped.Fit(context.Background(), p, rng(1), func(infer.Progress) { reports++ }); err != nil {
				t.Errorf("%s capped at %d: %v", tc.m.Name(), n, err)
			}
			if reports != n*tc.members {
				t.Errorf("%s capped at %d: %d epochs reported", tc.m.Name(), n, reports)
			}
		}
	}
	if c := infer.CapEpochs(infer.MultiSWAG{Members: 4, Rank: 7}, 10).(*infer.MultiSWAG); c.Members != 4 || c.Rank != 7 || c.Epochs != 10 || c.SWAStart != 5 {
		t.Errorf("multiswag capped: %+v", *c)
	}
}

func TestSWAGDeterminism(t *testing.T) {
	p, _, _ := linreg3(50, 1)
	vecs := func(post infer.Posterior) [][]float64 { return post.(infer.Saver).Vectors() }
	same := func(name string, a, b infer.Posterior) {
		t.Helper()
		va, vb := vecs(a), vecs(b)
		if len(va) != len(vb) {
			t.Fatalf("%s: %d vectors vs %d", name, len(va), len(vb))
		}
		for i := range va {
			sameBits(t, name, va[i], vb[i])
		}
	}
	for _, m := range []infer.Method{
		infer.SWAG{Epochs: 20, Batch: 7, Rank: 4},
		infer.SWAG{Epochs: 20, Batch: 7, Optimizer: "adam", Diagonal: 1},
		infer.MultiSWAG{Epochs: 20, Batch: 7, Rank: 4},
	} {
		a, b, c := fitSWAG(t, m, p, 5), fitSWAG(t, m, p, 5), fitSWAG(t, m, p, 6)
		same(m.Name(), a, b)
		if a.Draw(1, rng(1))[0][0] == c.Draw(1, rng(1))[0][0] {
			t.Errorf("%s: another seed gave the same mean", m.Name())
		}
	}
	// MultiSWAG gives the same bits whether its members run concurrently
	// (Fork) or one after the other (no Fork), and its members differ.
	seq := *p
	seq.Fork = nil
	m := infer.MultiSWAG{Members: 3, Epochs: 20, Batch: 7, Rank: 4}
	conc, alone := fitSWAG(t, m, p, 5).(*infer.MultiSWAGPosterior), fitSWAG(t, m, &seq, 5)
	same("multiswag concurrent vs sequential", conc, alone)
	ms := conc.Members()
	if len(ms) != 3 || ms[0].Mean()[0] == ms[1].Mean()[0] || ms[1].Mean()[0] == ms[2].Mean()[0] {
		t.Errorf("members are not independent: %d members", len(ms))
	}
}

func TestSWAGDivergence(t *testing.T) {
	p, _, _ := infertest.Sanity1D() // 3 rows; batch 1 gives 3 steps per epoch
	k := 11*3 + 3                   // epoch 12, step 3
	for _, grad := range []bool{false, true} {
		post, err := infer.SWAG{Batch: 1, Epochs: 20, SWALR: 2.5e-3}.Fit(context.Background(), nanAfter(p, k, grad), rng(1), nil)
		var de *infer.DivergenceError
		if !errors.As(err, &de) || post != nil {
			t.Fatalf("swag: %v, %v; want a *DivergenceError", post, err)
		}
		if de.Method != "swag" || de.Epoch != 12 || de.Step != 3 || de.Grad != grad {
			t.Errorf("swag: %+v", *de)
		}
	}
	// A finite loss and gradient that overflow the momentum buffer leave an
	// infinite parameter, caught when it is collected at the epoch's end.
	huge := &infer.Problem{Dim: 1, N: 1, NegLogLik: func(g, theta []float64, idx []int) float64 {
		g[0] = 1e308
		return 0
	}}
	_, err := infer.SWAG{Epochs: 5, SWAStart: -1, Batch: 1, SWALR: 2.5e-3, CollectEvery: 1}.Fit(context.Background(), huge, rng(1), nil)
	var de *infer.DivergenceError
	if !errors.As(err, &de) || !de.Param || de.Epoch != 2 || de.Step != 1 || !math.IsInf(de.Value, -1) {
		t.Errorf("overflowing parameter: %v", err)
	}

	// Members one after the other (no Fork): the failing call is in member
	// 2's 12th epoch.
	seq := nanAfter(p, 20*3+k, false)
	seq.Fork = nil
	_, err = infer.MultiSWAG{Batch: 1, Epochs: 20, SWALR: 2.5e-3}.Fit(context.Background(), seq, rng(1), nil)
	if !errors.As(err, &de) || de.Epoch != 12 || de.Step != 3 {
		t.Fatalf("multiswag: %v", err)
	}
	if want := "multiswag: member 2 of 3: swag: loss became NaN at epoch 12, step 3"; err.Error() != want {
		t.Errorf("multiswag: %q, want %q", err, want)
	}
	// Concurrent members that all diverge: one of them is reported, not
	// the cancellation of the others.
	conc := *p
	conc.Fork = func() *infer.Problem { q := nanAfter(p, k, false); q.Fork = nil; return q }
	first := nanAfter(p, k, false)
	first.Fork = conc.Fork
	_, err = infer.MultiSWAG{Batch: 1, Epochs: 20, Members: 4, SWALR: 2.5e-3}.Fit(context.Background(), first, rng(1), nil)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "multiswag: member ") || errors.Is(err, context.Canceled) {
		t.Errorf("concurrent multiswag: %v", err)
	}
}

func TestSWAGCancel(t *testing.T) {
	p, _, _ := infertest.Sanity1D()
	for _, m := range []infer.Method{infer.SWAG{}, infer.MultiSWAG{}, infer.MultiSWAG{Members: 1}} {
		ctx, cancel := context.WithCancel(context.Background())
		epochs := 0
		post, err := m.Fit(ctx, p, rng(1), func(pr infer.Progress) {
			epochs++
			if epochs == 2 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) || post != nil {
			t.Errorf("%s: got %v, %v; want nil, context.Canceled", m.Name(), post, err)
		}
		// Each running member finishes at most the epoch it is in.
		if epochs < 2 || epochs > 4 {
			t.Errorf("%s: %d epochs reported after cancelling at 2", m.Name(), epochs)
		}
		called := false
		_, err = m.Fit(ctx, p, rng(1), func(infer.Progress) { called = true })
		if !errors.Is(err, context.Canceled) || called {
			t.Errorf("%s: pre-cancelled fit: err %v, progress reported %v", m.Name(), err, called)
		}
	}
}

func TestMultiSWAGProgress(t *testing.T) {
	p, _, _ := linreg3(50, 1)
	var got []infer.Progress
	m := infer.MultiSWAG{Members: 3, Epochs: 30, Batch: 16}
	if _, err := m.Fit(context.Background(), p, rng(1), func(pr infer.Progress) { got = append(got, pr) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 90 {
		t.Fatalf("%d reports, want 90", len(got))
	}
	for i, pr := range got {
		if pr.Method != "multiswag" || pr.Epoch != i+1 || pr.Epochs != 90 || !(pr.Loss > 0) {
			t.Errorf("report %d = %+v", i, pr)
		}
	}
	var one []infer.Progress
	if _, err := (infer.SWAG{Epochs: 30, Batch: 16}).Fit(context.Background(), p, rng(1), func(pr infer.Progress) { one = append(one, pr) }); err != nil {
		t.Fatal(err)
	}
	if len(one) != 30 || one[29].Method != "swag" || !(one[29].Loss < one[0].Loss) {
		t.Errorf("swag: %d reports, loss %v → %v", len(one), one[0].Loss, one[len(one)-1].Loss)
	}
}

// A SWAG fit allocates its workspace once: the count does not grow with
// the epochs (5200 steps and 200 collections at 400 epochs). Rank 3 keeps
// the columns, and with them the curvature covariance's allocations (a
// basis vector and two Hessian-vector products per column), the same at
// 2 epochs (4 iterates) as at 400.
func TestSWAGStepsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	p, _, _ := linreg3(50, 1)
	obs := func(infer.Progress) {}
	for _, m := range []infer.SWAG{{Batch: 16, Rank: 3}, {Batch: 16, Optimizer: "adam", Covariance: "iterates"}, {Batch: 16, Diagonal: 1}} {
		fit := func(e int) {
			m := m
			m.Epochs = e
			if _, err := m.Fit(context.Background(), p, rng(1), obs); err != nil {
				t.Fatal(err)
			}
		}
		few := testing.AllocsPerRun(3, func() { fit(2) })
		many := testing.AllocsPerRun(3, func() { fit(400) })
		if many > few+1 {
			t.Errorf("%+v: %v allocations for 2 epochs, %v for 400", m, few, many)
		}
	}
}

// With covariance: iterates under the auto rate, SWAG's marginal variances
// are the exact posterior's on conjugate linear regressions with
// correlated features: the rate comes from Mandt et al.'s rule, bounded by
// the curvature, the iterates are collected every step on i.i.d.
// minibatches, and scale ½ averages the two covariance estimates. They
// come out at 0.7-1.6 of the exact ones; this asserts the band
// [0.5, 2]. The correlations are not the posterior's (−0.55 exact, about
// +0.1 here): with one scalar rate and C ≈ H̄ the stationary covariance
// of SGD is nearly isotropic, as Mandt et al. note.
func TestSWAGIteratesCovariance(t *testing.T) {
	for _, n := range []int{60, 500} {
		p, mean, cov := correlatedRegression(n)
		post := fitSWAG(t, infer.SWAG{Covariance: "iterates"}, p, 2)
		if r, opt := post.(*infer.SWAGPosterior).Rate(); !(r > 0 && r <= opt) {
			t.Errorf("n=%d: rate %g, Mandt's %g", n, r, opt)
		}
		gotMean, gotVar := infertest.Moments(post.Draw(20000, rng(3)))
		for j := range mean {
			sd := math.Sqrt(cov.At(j, j))
			if math.Abs(gotMean[j]-mean[j]) > 0.3*sd {
				t.Errorf("n=%d: mean[%d] = %.4f, exact %.4f (sd %.3g)", n, j, gotMean[j], mean[j], sd)
			}
			if ratio := gotVar[j] / cov.At(j, j); ratio < 0.5 || ratio > 2 {
				t.Errorf("n=%d: var[%d] = %.3g, exact %.3g (ratio %.2f, want within [0.5, 2])", n, j, gotVar[j], cov.At(j, j), ratio)
			}
		}
	}
}

// correlatedRegression is a conjugate regression on n rows whose first two
// coefficients have posterior correlation about −0.55.
func correlatedRegression(n int) (*infer.Problem, []float64, *mat.SymDense) {
	x, y := infertest.RandomData(n, 3, 0.25, 1)
	for i := range n {
		x.Set(i, 1, x.At(i, 1)+0.8*x.At(i, 0))
	}
	return infertest.LinearRegression(x, y, 0.25, 1)
}

// At its defaults (covariance: curvature) SWAG's covariance is the
// Laplace approximation restricted to the span of its deviations. On a
// conjugate linear regression with 3 coefficients and rank 20 the span is
// the whole space and the Hessian is constant, so the covariance is the
// exact posterior's, correlations included (the iterates' had +0.1 for
// −0.55): every entry to 1e-4 of the largest, from central differences of
// the gradient.
func TestSWAGCurvatureCovariance(t *testing.T) {
	for _, n := range []int{60, 500} {
		p, mean, cov := correlatedRegression(n)
		q := fitSWAG(t, infer.SWAG{}, p, 2).(*infer.SWAGPosterior)
		if q.Scale() != 1 || len(q.Deviations()) != 3 {
			t.Fatalf("n=%d: scale %g, %d columns; want 1, 3", n, q.Scale(), len(q.Deviations()))
		}
		cols := q.Deviations()
		top := 0.0
		for i := range 3 {
			top = max(top, cov.At(i, i))
		}
		for i := range 3 {
			sd := math.Sqrt(cov.At(i, i))
			if math.Abs(q.Mean()[i]-mean[i]) > 0.3*sd {
				t.Errorf("n=%d: mean[%d] = %.4f, exact %.4f (sd %.3g)", n, i, q.Mean()[i], mean[i], sd)
			}
			for j := range 3 {
				got := 0.0
				if i == j {
					got = q.Variance()[i]
				}
				for _, c := range cols {
					got += c[i] * c[j] / float64(len(cols)-1)
				}
				if math.Abs(got-cov.At(i, j)) > 1e-4*top {
					t.Errorf("n=%d: cov[%d,%d] = %.6g, exact %.6g", n, i, j, got, cov.At(i, j))
				}
			}
		}
	}
}

// swa_lr takes auto (the default) or a number; anything else is rejected
// with both spellings named, at the offending argument.
func TestSWAGAutoRateSetting(t *testing.T) {
	reg := infer.Builtins()
	m, err := reg.New("swag", []infer.Arg{num("epochs", 50), str("swa_lr", "auto"), num("rank", 4)})
	if err != nil {
		t.Fatal(err)
	}
	if got := *m.(*infer.SWAG); got != (infer.SWAG{Epochs: 50, Rank: 4}) {
		t.Errorf("swa_lr: auto parsed as %+v", got)
	}
	if _, err := reg.New("multiswag", []infer.Arg{str("swa_lr", "auto")}); err != nil {
		t.Errorf("multiswag swa_lr: auto: %v", err)
	}
	_, err = reg.New("swag", []infer.Arg{num("epochs", 50), str("swa_lr", "fast")})
	var se *infer.SettingError
	if !errors.As(err, &se) || se.Index != 1 || se.Msg != `swa_lr must be auto or a positive number, got "fast"` {
		t.Errorf("swa_lr: fast: %v", err)
	}
	_, err = reg.New("swag", []infer.Arg{str("swa_lr", "auto"), num("rank", 1)})
	if !errors.As(err, &se) || se.Index != 1 {
		t.Errorf("rank 1 after swa_lr: auto: %v", err)
	}
}
