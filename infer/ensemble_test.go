package infer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

func fitEnsemble(t *testing.T, e infer.Ensemble, p *infer.Problem, seed uint64) *infer.Points {
	t.Helper()
	post, err := e.Fit(context.Background(), p, rng(seed), nil)
	if err != nil {
		t.Fatal(err)
	}
	return post.(*infer.Points)
}

// Members are the same bit for bit however they are scheduled: one worker
// per core on forked problems, or one after the other without Fork.
func TestEnsembleDeterminism(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	e := infer.Ensemble{Members: 5, Method: &infer.MAP{Epochs: 20, Batch: 16}}
	p, _, _ := linreg3(64, 1)
	concurrent := fitEnsemble(t, e, p, 3)
	p.Fork = nil
	sequential := fitEnsemble(t, e, p, 3)
	runtime.GOMAXPROCS(1)
	p, _, _ = linreg3(64, 1)
	single := fitEnsemble(t, e, p, 3)
	for i := range 5 {
		sameBits(t, fmt.Sprintf("member %d, sequential", i), sequential.Thetas[i], concurrent.Thetas[i])
		sameBits(t, fmt.Sprintf("member %d, one core", i), single.Thetas[i], concurrent.Thetas[i])
	}
	// Member i's seed depends on i only, not on the number of members.
	e.Members = 2
	two := fitEnsemble(t, e, p, 3)
	for i := range 2 {
		sameBits(t, fmt.Sprintf("member %d of 2", i), two.Thetas[i], concurrent.Thetas[i])
	}
}

// Every plain member gets its own initialisation and data order.
func TestEnsembleMembersDiffer(t *testing.T) {
	p, _, _ := linreg3(64, 1)
	var mu sync.Mutex
	var inits [][]float64
	var record func(p *infer.Problem) *infer.Problem
	record = func(p *infer.Problem) *infer.Problem {
		q := *p
		q.Init = func(theta []float64, r *rand.Rand) {
			p.Init(theta, r)
			mu.Lock()
			inits = append(inits, append([]float64(nil), theta...))
			mu.Unlock()
		}
		q.Fork = func() *infer.Problem { return record(p.Fork()) }
		return &q
	}
	post := fitEnsemble(t, infer.Ensemble{Members: 4, Kind: "plain", Method: &infer.MAP{Epochs: 2, Batch: 8}}, record(p), 1)
	if len(inits) != 4 {
		t.Fatalf("%d initialisations, want 4", len(inits))
	}
	for i := range 4 {
		for j := range i {
			if reflect.DeepEqual(inits[i], inits[j]) {
				t.Errorf("initialisations %d and %d are equal", i, j)
			}
			if reflect.DeepEqual(post.Thetas[i], post.Thetas[j]) {
				t.Errorf("members %d and %d are equal", i, j)
			}
		}
	}
	if post.Dim() != 3 || post.StoredNumbers() != 12 || len(post.Draw(100, rng(1))) != 4 || post.Method() != "ensemble" {
		t.Errorf("Dim %d, StoredNumbers %d, Method %s", post.Dim(), post.StoredNumbers(), post.Method())
	}
}

// A plain ensemble of MAP fits of a convex problem is the mode, repeated:
// the means match the exact posterior (to Run's default 1e-2), and there
// is no posterior variance to check.
func TestEnsembleConformance(t *testing.T) {
	infertest.Run(t, &infer.Ensemble{Members: 3, Kind: "plain", Method: &infer.MAP{Epochs: 1000}}, infertest.Want{})
}

func TestEnsembleSettings(t *testing.T) {
	reg := infer.Builtins()
	m, err := reg.New("ensemble", []infer.Arg{num("members", 3), str("kind", "plain"), {Name: "method", Call: &infer.Call{Name: "map", Args: []infer.Arg{num("epochs", 50), str("optimizer", "sgd")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&infer.Ensemble{Members: 3, Kind: "plain", Method: &infer.MAP{Epochs: 50, Optimizer: "sgd"}}); !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	// method: map, a bare name, is map with its defaults.
	m, err = reg.New("ensemble", []infer.Arg{str("method", "map")})
	if err != nil || !reflect.DeepEqual(m, &infer.Ensemble{Method: &infer.MAP{}}) {
		t.Errorf("method: map gives %+v, %v", m, err)
	}
	for _, tc := range []struct {
		args  []infer.Arg
		index int
		msg   string
	}{
		{[]infer.Arg{num("members", 0)}, 0, `members must be positive, got 0`},
		{[]infer.Arg{str("method", "map"), num("members", -2)}, 1, `members must be positive, got -2`},
		{[]infer.Arg{num("members", 2.5)}, 0, `members must be a whole number, got 2.5`},
		{[]infer.Arg{num("member", 2)}, 0, `unknown setting "member" for ensemble; did you mean members? (known: kind, members, method)`},
		{[]infer.Arg{str("kind", "anchor")}, 0, `kind must be one of "anchored", "plain", got "anchor"; did you mean "anchored"?`},
		{[]infer.Arg{num("members", 2), {Name: "method", Call: &infer.Call{Name: "mapp"}}}, 1, `unknown method "mapp" for ensemble; did you mean map? (point methods: map)`},
		{[]infer.Arg{{Name: "method", Call: &infer.Call{Name: "map", Args: []infer.Arg{num("epochs", 0)}}}}, 0, `method map: epochs must be positive, got 0`},
		{[]infer.Arg{{Name: "method", Call: &infer.Call{Name: "vi"}}}, 0, `ensemble needs a method that learns one parameter vector (map); vi learns a distribution`},
		{[]infer.Arg{{Name: "method", Call: &infer.Call{Name: "ensemble"}}}, 0, `ensemble needs a method that learns one parameter vector (map); ensemble learns a distribution`},
	} {
		_, err := reg.New("ensemble", tc.args)
		var se *infer.SettingError
		if !errors.As(err, &se) || se.Index != tc.index || se.Msg != tc.msg {
			t.Errorf("%v: got %v, want %q at %d", tc.args, err, tc.msg, tc.index)
		}
	}
	// A method added to the registry can be nested.
	reg["adam"] = func(args []infer.Arg) (infer.Method, error) { return &infer.MAP{Epochs: 1}, nil }
	if m, err := reg.New("ensemble", []infer.Arg{str("method", "adam")}); err != nil || m.(*infer.Ensemble).Method.(*infer.MAP).Epochs != 1 {
		t.Errorf("nested user method: %+v, %v", m, err)
	}
	p, _, _ := infertest.Sanity1D()
	if _, err := (infer.Ensemble{Members: -1}).Fit(context.Background(), p, rng(1), nil); err == nil {
		t.Error("negative members: no error")
	}
	// Anchors are drawn from a normal prior; without one, asking for them
	// is an error and the default is plain.
	q := *p
	q.PriorLoc, q.PriorScale = nil, nil
	var se *infer.SettingError
	if _, err := (infer.Ensemble{Members: 2, Kind: "anchored"}).Fit(context.Background(), &q, rng(1), nil); !errors.As(err, &se) || !strings.Contains(err.Error(), "kind: plain") {
		t.Errorf("anchored without a normal prior: %v", err)
	}
	if post, err := (infer.Ensemble{Members: 2, Method: &infer.MAP{Epochs: 500}}).Fit(context.Background(), &q, rng(1), nil); err != nil {
		t.Error(err)
	} else if th := post.(*infer.Points).Thetas; th[0][0] != th[1][0] && math.Abs(th[0][0]-th[1][0]) > 1e-3 {
		t.Errorf("default without a normal prior is not plain: members %v", th)
	}
}

// initNaN makes the initial point NaN for the members whose first draw is
// one of the given values, and records every member's first draw.
func initNaN(p *infer.Problem, bad ...float64) *infer.Problem {
	q := *p
	q.Init = func(theta []float64, r *rand.Rand) {
		v := r.Float64()
		p.Init(theta, r)
		for _, b := range bad {
			if v == b {
				theta[0] = math.NaN()
			}
		}
	}
	if p.Fork != nil {
		q.Fork = func() *infer.Problem { return initNaN(p.Fork(), bad...) }
	}
	return &q
}

// firstDraw is the first Float64 of member i of an ensemble fitted with
// rng(seed): the members' sources are seeded with pairs drawn up front.
func firstDraw(seed uint64, i int) float64 {
	r := rng(seed)
	var s [2]uint64
	for range i + 1 {
		s = [2]uint64{r.Uint64(), r.Uint64()}
	}
	return rand.New(rand.NewPCG(s[0], s[1])).Float64()
}

// A diverging member fails the fit with its index: the lowest failing
// index, whatever the schedule, as a sequential run would report.
func TestEnsembleDivergence(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	e := infer.Ensemble{Members: 5, Kind: "plain", Method: &infer.MAP{Epochs: 30, Batch: 8}}
	for _, tc := range []struct {
		bad  []int
		want int
	}{{[]int{2}, 2}, {[]int{3, 1}, 1}, {[]int{4}, 4}} {
		var draws []float64
		for _, i := range tc.bad {
			draws = append(draws, firstDraw(9, i))
		}
		for _, fork := range []bool{true, false} {
			p, _, _ := linreg3(64, 1)
			if !fork {
				p.Fork = nil
			}
			_, err := e.Fit(context.Background(), initNaN(p, draws...), rng(9), nil)
			var me *infer.MemberError
			var div *infer.DivergenceError
			if !errors.As(err, &me) || me.Index != tc.want || !errors.As(err, &div) {
				t.Errorf("members %v diverge (fork %v): %v", tc.bad, fork, err)
				continue
			}
			if want := fmt.Sprintf("ensemble: member %d of 5: map: ", tc.want+1); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q, want prefix %q", err, want)
			}
		}
	}
}

func TestEnsembleProgressAndCancel(t *testing.T) {
	p, _, _ := linreg3(64, 1)
	var seen []infer.Progress
	var mu sync.Mutex
	e := infer.Ensemble{Members: 3, Method: &infer.MAP{Epochs: 4}}
	if _, err := e.Fit(context.Background(), p, rng(1), func(pr infer.Progress) {
		mu.Lock()
		seen = append(seen, pr)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 12 {
		t.Fatalf("%d reports, want 12", len(seen))
	}
	for k, pr := range seen {
		if pr.Epoch != k+1 || pr.Epochs != 12 || pr.Method != "ensemble" || !(pr.Loss > 0) {
			t.Errorf("report %d: %+v", k, pr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Fit(ctx, p, rng(1), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestEnsembleSaveLoad(t *testing.T) {
	p, _, _ := linreg3(64, 1)
	post := fitEnsemble(t, infer.Ensemble{Members: 3, Method: &infer.MAP{Epochs: 3}}, p, 2)
	var buf bytes.Buffer
	if err := infer.Encode(&buf, post, []byte("meta")); err != nil {
		t.Fatal(err)
	}
	back, meta, err := infer.Decode(&buf)
	if err != nil || string(meta) != "meta" {
		t.Fatal(err)
	}
	got := back.(*infer.Points)
	if got.Method() != "ensemble" || len(got.Thetas) != 3 {
		t.Fatalf("loaded %s with %d members", got.Method(), len(got.Thetas))
	}
	for i := range got.Thetas {
		sameBits(t, fmt.Sprintf("member %d", i), got.Thetas[i], post.Thetas[i])
	}
	for _, vecs := range [][][]float64{{}, {{1, 2}, {3}}} {
		var buf bytes.Buffer
		if err := infer.Encode(&buf, rawPosterior{"ensemble", vecs}, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := infer.Decode(&buf); !errors.Is(err, infer.ErrCorrupt) {
			t.Errorf("%v: %v", vecs, err)
		}
	}
}

func TestEnsembleCapEpochs(t *testing.T) {
	// The default member runs at least 5000 steps: on 3 rows, 5000 epochs.
	p, _, _ := infertest.Sanity1D()
	epochs := func(m infer.Method) int {
		n := 0
		if _, err := m.Fit(context.Background(), p, rng(1), func(pr infer.Progress) { n = pr.Epochs }); err != nil {
			t.Fatal(err)
		}
		return n / 2 // two members
	}
	if n := epochs(&infer.Ensemble{Members: 2}); n != 5000 {
		t.Errorf("default member: %d epochs, want 5000", n)
	}
	if n := epochs(infer.CapEpochs(&infer.Ensemble{Members: 2}, 7)); n != 7 {
		t.Errorf("default member capped at 7: %d epochs", n)
	}
	// Ten anchored members by default, five plain ones.
	for kind, want := range map[string]int{"": 10, "anchored": 10, "plain": 5} {
		post := fitEnsemble(t, infer.Ensemble{Kind: kind, Method: &infer.MAP{Epochs: 1}}, p, 1)
		if len(post.Thetas) != want {
			t.Errorf("kind %q: %d members, want %d", kind, len(post.Thetas), want)
		}
	}
	m, _ := infer.Builtins().New("ensemble", []infer.Arg{{Name: "method", Call: &infer.Call{Name: "map", Args: []infer.Arg{num("epochs", 50)}}}})
	if got := infer.CapEpochs(m, 7).(*infer.Ensemble).Method.(*infer.MAP).Epochs; got != 7 {
		t.Errorf("nested method capped to %d epochs, want 7", got)
	}
	if got := infer.CapEpochs(m, 70).(*infer.Ensemble).Method.(*infer.MAP).Epochs; got != 50 {
		t.Errorf("cap above the nested epochs gives %d, want 50", got)
	}
}

// Three plain MAP members of the conjugate problem of docs/algorithms.md §3
// find its one mode, 50/57; on a network's non-convex loss they would not.
// Anchored members (the default) would be draws from its posterior.
func ExampleEnsemble() {
	p, exact, _ := infertest.Sanity1D()
	e := infer.Ensemble{Members: 3, Kind: "plain", Method: &infer.MAP{Epochs: 1000}}
	post, err := e.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		panic(err)
	}
	for i, th := range post.Draw(100, nil) {
		fmt.Printf("member %d: %.3f\n", i, th[0])
	}
	fmt.Printf("exact:    %.3f\n", exact[0])
	// Output:
	// member 0: 0.877
	// member 1: 0.877
	// member 2: 0.877
	// exact:    0.877
}

// ParseSettings stores a nested method into a *Call field: a call as it is,
// a bare name as a call without settings.
func TestParseSettingsCall(t *testing.T) {
	var s struct {
		N int         `bl:"n"`
		M *infer.Call `bl:"method"`
	}
	call := &infer.Call{Name: "map", Args: []infer.Arg{num("epochs", 3)}}
	if err := infer.ParseSettings(&s, []infer.Arg{{Name: "method", Call: call}}); err != nil || !reflect.DeepEqual(s.M, call) || s.M == call {
		t.Errorf("call: %+v, %v", s.M, err)
	}
	if err := infer.ParseSettings(&s, []infer.Arg{str("method", "vi")}); err != nil || !reflect.DeepEqual(s.M, &infer.Call{Name: "vi"}) {
		t.Errorf("bare name: %+v, %v", s.M, err)
	}
	err := infer.ParseSettings(&s, []infer.Arg{num("method", 1)})
	var se *infer.SettingError
	if !errors.As(err, &se) || se.Index != 0 {
		t.Errorf("number: %v", err)
	}
	if err := infer.ParseSettings(&s, []infer.Arg{{Name: "n", Call: call}}); !errors.As(err, &se) {
		t.Errorf("call for a number: %v", err)
	}
	var bad struct {
		P *int `bl:"p"`
	}
	if err := infer.ParseSettings(&bad, nil); err == nil {
		t.Error("a *int setting is accepted")
	}
}

// anchorable is infertest.LinearRegression with the target-perturbation
// capability: noise sd √noiseVar, and ShiftTargets refitting the same
// inputs to shifted targets.
func anchorable(x *mat.Dense, y []float64, noiseVar, priorVar float64) (*infer.Problem, []float64, *mat.SymDense) {
	p, mean, cov := infertest.LinearRegression(x, y, noiseVar, priorVar)
	p.TargetNoise = math.Sqrt(noiseVar)
	p.ShiftTargets = func(shift []float64) *infer.Problem {
		ys := make([]float64, len(y))
		for i := range ys {
			ys[i] = y[i] + shift[i]
		}
		q, _, _ := anchorable(x, ys, noiseVar, priorVar)
		return q
	}
	p.Fork = func() *infer.Problem { q, _, _ := anchorable(x, y, noiseVar, priorVar); return q }
	return p, mean, cov
}

// For a linear-Gaussian model anchored members with perturbed targets are
// exact posterior draws (docs/algorithms.md §13): on §3's data their mean and
// variance are 50/57 and 1/57 to within sampling error, and with anchors
// alone the variance is 1/57², as the closed form θ_j = (θ_anc,j +
// xᵀỹ_j/σ²)/57 says.
func TestAnchoredEnsembleExact1D(t *testing.T) {
	const m = 1000
	x, y := mat.NewDense(3, 1, []float64{1, 2, 3}), []float64{1, 2, 2.5}
	p, _, _ := anchorable(x, y, 0.25, 1)
	for _, c := range []struct {
		name    string
		shift   bool
		wantVar float64
	}{{"perturbed targets", true, 1.0 / 57}, {"anchors only", false, 1.0 / (57 * 57)}} {
		q := *p
		if !c.shift {
			q.TargetNoise, q.ShiftTargets = 0, nil
			q.Fork = func() *infer.Problem { f := p.Fork(); f.TargetNoise, f.ShiftTargets = 0, nil; return f }
		}
		post := fitEnsemble(t, infer.Ensemble{Members: m, Method: &infer.MAP{Epochs: 500, LR: 0.05}}, &q, 5)
		mean, variance := infertest.Moments(post.Thetas)
		seMean, seVar := math.Sqrt(c.wantVar/m), c.wantVar*math.Sqrt(2.0/m)
		t.Logf("%s: mean %.5f (exact %.5f), variance %.6f (exact %.6f)", c.name, mean[0], 50.0/57, variance[0], c.wantVar)
		if math.Abs(mean[0]-50.0/57) > 4*seMean {
			t.Errorf("%s: mean %.5f, exact %.5f (4 SE %.5f)", c.name, mean[0], 50.0/57, 4*seMean)
		}
		if math.Abs(variance[0]-c.wantVar) > 4*seVar {
			t.Errorf("%s: variance %.6f, exact %.6f (4 SE %.6f)", c.name, variance[0], c.wantVar, 4*seVar)
		}
	}
}

// The same on three correlated coefficients: the members' mean and full
// covariance against the conjugate posterior's, entry by entry within
// four standard errors of a sample covariance of m normal draws.
func TestAnchoredEnsembleExact3D(t *testing.T) {
	const m = 500
	x, y := infertest.RandomData(64, 3, 0.25, 3)
	for i := range 64 {
		x.Set(i, 1, x.At(i, 1)+0.8*x.At(i, 0))
	}
	p, mean, cov := anchorable(x, y, 0.25, 1)
	post := fitEnsemble(t, infer.Ensemble{Members: m, Method: &infer.MAP{Epochs: 1000, LR: 0.05}}, p, 8)
	got, _ := infertest.Moments(post.Thetas)
	for a := range 3 {
		if se := math.Sqrt(cov.At(a, a) / m); math.Abs(got[a]-mean[a]) > 4*se {
			t.Errorf("mean[%d] = %.5f, exact %.5f (4 SE %.5f)", a, got[a], mean[a], 4*se)
		}
		for b := range 3 {
			c := 0.0
			for _, th := range post.Thetas {
				c += (th[a] - got[a]) * (th[b] - got[b])
			}
			c /= m - 1
			want := cov.At(a, b)
			if se := math.Sqrt((cov.At(a, a)*cov.At(b, b) + want*want) / m); math.Abs(c-want) > 4*se {
				t.Errorf("cov[%d][%d] = %.3g, exact %.3g (4 SE %.2g)", a, b, c, want, 4*se)
			}
		}
	}
}

// Anchored members are the same bit for bit however they are scheduled,
// and member i's anchor and target noise depend on i only.
func TestAnchoredEnsembleDeterminism(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	x, y := infertest.RandomData(40, 3, 0.25, 4)
	p, _, _ := anchorable(x, y, 0.25, 1)
	e := infer.Ensemble{Members: 4, Method: &infer.MAP{Epochs: 50}}
	concurrent := fitEnsemble(t, e, p, 3)
	runtime.GOMAXPROCS(1)
	single := fitEnsemble(t, e, p, 3)
	e.Members = 2
	two := fitEnsemble(t, e, p, 3)
	for i := range 4 {
		sameBits(t, fmt.Sprintf("member %d, one core", i), single.Thetas[i], concurrent.Thetas[i])
		if i < 2 {
			sameBits(t, fmt.Sprintf("member %d of 2", i), two.Thetas[i], concurrent.Thetas[i])
		}
	}
}

// logistic is Bayesian logistic regression on x (n x d) with labels y in
// {0, 1} and prior N(0, 1) on every coefficient, offering the output
// capability (one bernoulli logit per row) that anchored members perturb.
func logistic(x *mat.Dense, y []float64) *infer.Problem {
	n, d := x.Dims()
	loc, scale := make([]float64, d), make([]float64, d)
	for j := range scale {
		scale[j] = 1
	}
	outputGrad := linearOutputGrad(x)
	p := &infer.Problem{Dim: d, N: n, Kind: predictive.Classification, Classes: 2, OutputWidth: 1,
		PriorLoc: loc, PriorScale: scale, OutputGrad: outputGrad,
		Init: func(theta []float64, r *rand.Rand) { clear(theta) },
		NegLogPrior: func(grad, theta []float64) float64 {
			s := 0.0
			for j, t := range theta {
				s += t * t / 2
				if grad != nil {
					grad[j] += t
				}
			}
			return s
		},
		NegLogLik: func(grad, theta []float64, idx []int) float64 {
			// −log p(y|f) = softplus(f) − y f, with gradient σ(f) − y.
			return outputGrad(grad, theta, idx, func(do, o []float64) float64 {
				s := 0.0
				for r, i := range idx {
					f := o[r]
					s += math.Max(f, 0) + math.Log1p(math.Exp(-math.Abs(f))) - y[i]*f
					do[r] = 1/(1+math.Exp(-f)) - y[i]
				}
				return s
			})
		},
	}
	p.Fork = func() *infer.Problem { return logistic(x, y) }
	return p
}

// Anchored members of a classifier fit logits perturbed by noise of the
// likelihood's Fisher information: for logistic regression on enough data
// the posterior is close to the Gaussian of the Laplace approximation at
// the MAP, and the members' covariance matches it; anchors alone give a
// fraction of it.
func TestAnchoredEnsembleLogistic(t *testing.T) {
	const n, d, m = 200, 2, 300
	r := rng(11)
	x := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := range n {
		x.Set(i, 0, 1)
		x.Set(i, 1, r.NormFloat64())
		if r.Float64() < 1/(1+math.Exp(-(0.5+1.5*x.At(i, 1)))) {
			y[i] = 1
		}
	}
	p := logistic(x, y)
	fit := func(kind string, q *infer.Problem, members int) [][]float64 {
		post := fitEnsemble(t, infer.Ensemble{Members: members, Kind: kind, Method: &infer.MAP{Epochs: 400, LR: 0.05}}, q, 4)
		return post.Thetas
	}
	// The Laplace covariance at the MAP: (I + Σ p(1−p) x xᵀ)⁻¹.
	theta := fit("plain", p, 1)[0]
	prec := mat.NewSymDense(d, nil)
	for j := range d {
		prec.SetSym(j, j, 1)
	}
	for i := range n {
		f := theta[0]*x.At(i, 0) + theta[1]*x.At(i, 1)
		pi := 1 / (1 + math.Exp(-f))
		for a := range d {
			for b := a; b < d; b++ {
				prec.SetSym(a, b, prec.At(a, b)+pi*(1-pi)*x.At(i, a)*x.At(i, b))
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(prec) {
		t.Fatal("precision not positive definite")
	}
	cov := mat.NewSymDense(d, nil)
	if err := ch.InverseTo(cov); err != nil {
		t.Fatal(err)
	}
	moments := func(th [][]float64) ([]float64, *mat.SymDense) {
		mean, _ := infertest.Moments(th)
		c := mat.NewSymDense(d, nil)
		for a := range d {
			for b := a; b < d; b++ {
				s := 0.0
				for _, v := range th {
					s += (v[a] - mean[a]) * (v[b] - mean[b])
				}
				c.SetSym(a, b, s/float64(len(th)-1))
			}
		}
		return mean, c
	}
	mean, got := moments(fit("anchored", p, m))
	for a := range d {
		if sd := math.Sqrt(cov.At(a, a)); math.Abs(mean[a]-theta[a]) > 0.25*sd {
			t.Errorf("mean[%d] = %.4f, MAP %.4f (posterior sd %.4f)", a, mean[a], theta[a], sd)
		}
		if r := got.At(a, a) / cov.At(a, a); r < 0.8 || r > 1.25 {
			t.Errorf("variance[%d] = %.4g, Laplace %.4g (ratio %.2f)", a, got.At(a, a), cov.At(a, a), r)
		}
	}
	if c, want := got.At(0, 1), cov.At(0, 1); math.Abs(c-want) > 0.2*math.Sqrt(cov.At(0, 0)*cov.At(1, 1)) {
		t.Errorf("covariance %.4g, Laplace %.4g", c, want)
	}
	// Without the output noise the members are far too close together.
	q := *p
	q.OutputGrad = nil
	q.Fork = func() *infer.Problem { f := p.Fork(); f.OutputGrad = nil; return f }
	_, narrow := moments(fit("anchored", &q, 100))
	if r := narrow.At(1, 1) / cov.At(1, 1); r > 0.5 {
		t.Errorf("anchors alone: variance ratio %.2f, want well below 1", r)
	}
	t.Logf("variance ratios: with output noise %.2f, %.2f; anchors alone %.2f", got.At(0, 0)/cov.At(0, 0), got.At(1, 1)/cov.At(1, 1), narrow.At(1, 1)/cov.At(1, 1))
}

// withOutputs gives a linear-regression problem the output capability
// (f_n = x_nᵀθ) and a NoiseScale that reports its noise sd, but no
// TargetNoise: the scale as a model that learns it would report it.
func withOutputs(p *infer.Problem, x *mat.Dense, noiseVar float64) *infer.Problem {
	q := *p
	q.OutputWidth = 1
	q.OutputGrad = linearOutputGrad(x)
	q.NoiseScale = func(dst, theta []float64, idx []int) {
		for r := range dst {
			dst[r] = math.Sqrt(noiseVar)
		}
	}
	q.TargetNoise, q.ShiftTargets = 0, nil
	q.Fork = func() *infer.Problem { return withOutputs(p.Fork(), x, noiseVar) }
	return &q
}

// When the noise scale comes from NoiseScale rather than a fixed
// TargetNoise, members perturb the location output by noise of the
// likelihood's Fisher information 1/σ²: for a constant σ that is the same
// objective as perturbed targets, so the members are exact draws again.
func TestAnchoredEnsembleOutputNoiseExact(t *testing.T) {
	const m = 500
	x, y := infertest.RandomData(64, 3, 0.25, 3)
	for i := range 64 {
		x.Set(i, 1, x.At(i, 1)+0.8*x.At(i, 0))
	}
	base, mean, cov := infertest.LinearRegression(x, y, 0.25, 1)
	p := withOutputs(base, x, 0.25)
	post := fitEnsemble(t, infer.Ensemble{Members: m, Method: &infer.MAP{Epochs: 1000, LR: 0.05}}, p, 8)
	got, _ := infertest.Moments(post.Thetas)
	for a := range 3 {
		if se := math.Sqrt(cov.At(a, a) / m); math.Abs(got[a]-mean[a]) > 4*se {
			t.Errorf("mean[%d] = %.5f, exact %.5f (4 SE %.5f)", a, got[a], mean[a], 4*se)
		}
		for b := range 3 {
			c := 0.0
			for _, th := range post.Thetas {
				c += (th[a] - got[a]) * (th[b] - got[b])
			}
			c /= m - 1
			want := cov.At(a, b)
			if se := math.Sqrt((cov.At(a, a)*cov.At(b, b) + want*want) / m); math.Abs(c-want) > 4*se {
				t.Errorf("cov[%d][%d] = %.3g, exact %.3g (4 SE %.2g)", a, b, c, want, 4*se)
			}
		}
	}
}

// linearOutputGrad is the output capability of a linear model, f_n = x_nᵀθ.
func linearOutputGrad(x *mat.Dense) func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
	n, d := x.Dims()
	raw := mat.DenseCopyOf(x).RawMatrix().Data
	out, dOut := make([]float64, n), make([]float64, n)
	return func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
		o, do := out[:len(idx)], dOut[:len(idx)]
		for r, i := range idx {
			f := 0.0
			for j, t := range theta {
				f += raw[i*d+j] * t
			}
			o[r], do[r] = f, 0
		}
		v := loss(do, o)
		if grad != nil {
			clear(grad)
			for r, i := range idx {
				for j := range grad {
					grad[j] += do[r] * raw[i*d+j]
				}
			}
		}
		return v
	}
}
