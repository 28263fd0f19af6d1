package infer

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bayesl/bayesl/stdlib/dirichlet"
	"github.com/bayesl/bayesl/stdlib/num"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// softmaxLinear is a classifier z = φ(x)·W + b over 2-D inputs with D = 5
// quadratic features φ and K classes, θ = [W (D x K, row-major), b (K)],
// written out by hand: a
// Problem with the student and the prediction capabilities, and no
// compiler.
type softmaxLinear struct {
	x       *mat.Dense
	d, k    int
	out, dz []float64
	phi     []float64
}

func newSoftmaxLinear(x *mat.Dense, k int) *softmaxLinear {
	n, _ := x.Dims()
	return &softmaxLinear{x: x, d: 5, k: k, out: make([]float64, n*k), dz: make([]float64, n*k), phi: make([]float64, 5)}
}

// features maps a 2-D input to (x1, x2, x1², x2², x1·x2), so a student can
// be confident near the origin and not far from it.
func (l *softmaxLinear) features(xr []float64) []float64 {
	l.phi[0], l.phi[1] = xr[0], xr[1]
	l.phi[2], l.phi[3], l.phi[4] = xr[0]*xr[0], xr[1]*xr[1], xr[0]*xr[1]
	return l.phi
}

func (l *softmaxLinear) logits(dst, theta, xr []float64) {
	d, k := l.d, l.k
	copy(dst, theta[d*k:d*k+k])
	for i, v := range l.features(xr) {
		for j := range dst {
			dst[j] += v * theta[i*k+j]
		}
	}
}

func (l *softmaxLinear) problem() *Problem {
	n, _ := l.x.Dims()
	d, k := l.d, l.k
	p := &Problem{Dim: d*k + k, N: n, Kind: predictive.Classification, Classes: k}
	p.Init = func(theta []float64, rng *rand.Rand) {
		for i := range theta {
			theta[i] = 0.1 * rng.NormFloat64()
		}
	}
	p.Outputs = func(dst *mat.Dense, theta []float64, x *mat.Dense) {
		r, _ := x.Dims()
		for i := 0; i < r; i++ {
			l.logits(dst.RawRowView(i), theta, x.RawRowView(i))
		}
	}
	p.OutputGrad = func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
		b := len(idx)
		out, dz := l.out[:b*k], l.dz[:b*k]
		clear(dz)
		for r, i := range idx {
			l.logits(out[r*k:(r+1)*k], theta, l.x.RawRowView(i))
		}
		v := loss(dz, out)
		if grad != nil {
			clear(grad)
			for r, i := range idx {
				for a, xv := range l.features(l.x.RawRowView(i)) {
					for j := 0; j < k; j++ {
						grad[a*k+j] += xv * dz[r*k+j]
					}
				}
				for j := 0; j < k; j++ {
					grad[d*k+j] += dz[r*k+j]
				}
			}
		}
		return v
	}
	p.Predict = func(out *predictive.Predictive, thetas [][]float64, x *mat.Dense) {
		r, _ := x.Dims()
		out.Resize(predictive.Classification, len(thetas), r, k)
		for s, th := range thetas {
			for i := 0; i < r; i++ {
				row := out.LogProb[(s*r+i)*k : (s*r+i+1)*k]
				l.logits(row, th, x.RawRowView(i))
				num.LogSoftmax(row, row)
			}
		}
	}
	return p
}

// distillData is n inputs in 2-D and a teacher of m linear members that
// agree near the origin and disagree far from it.
func distillData(n, m int, seed uint64) (*mat.Dense, *Points) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := mat.NewDense(n, 2, nil)
	for i := 0; i < n; i++ {
		x.Set(i, 0, 1.5*rng.NormFloat64())
		x.Set(i, 1, 1.5*rng.NormFloat64())
	}
	var members [][]float64
	for range m {
		th := make([]float64, 5*3+3) // linear members: no quadratic terms, no bias
		copy(th, []float64{
			0.6 + 0.5*rng.NormFloat64(), -0.6 + 0.5*rng.NormFloat64(), 0.5 * rng.NormFloat64(),
			0.5 * rng.NormFloat64(), 0.6 + 0.5*rng.NormFloat64(), -0.6 + 0.5*rng.NormFloat64(),
		})
		members = append(members, th)
	}
	return x, &Points{Thetas: members, By: "ensemble"}
}

func distillSetup(form string, n int) (*Distill, *Problem) {
	x, teacher := distillData(n, 5, 7)
	student := newSoftmaxLinear(x, 3).problem()
	d := &Distill{Form: form, Teacher: teacher, TeacherProblem: newSoftmaxLinear(x, 3).problem(), TeacherX: x}
	return d, student
}

// TestTeacherStats: the statistics are the mean log-probabilities (with
// the reference's 1e-8 guard) and the mean probabilities of the teacher's
// draws, whatever the row chunking.
func TestTeacherStats(t *testing.T) {
	for _, form := range DistillForms() {
		d, p := distillSetup(form, 50)
		*d = d.withDefaults()
		stats, draws, _, err := d.teacherStats(context.Background(), 3, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if draws != 5 {
			t.Errorf("%s: %d draws from a 5-member ensemble", form, draws)
		}
		full := new(predictive.Predictive)
		d.TeacherProblem.Predict(full, d.Teacher.Draw(5, nil), d.TeacherX)
		samples := make([]float64, 5*3)
		want := make([]float64, 3)
		for i := 0; i < p.N; i++ {
			for m := 0; m < 5; m++ {
				for j := 0; j < 3; j++ {
					samples[m*3+j] = math.Exp(full.LogProb[(m*p.N+i)*3+j])
				}
			}
			if form == FormDirichlet {
				dirichlet.MeanLog(want, samples, nil)
			} else {
				clear(want)
				for m := 0; m < 5; m++ {
					for j := range want {
						want[j] += samples[m*3+j] / 5
					}
				}
			}
			for j := range want {
				if math.Abs(stats[i*3+j]-want[j]) > 1e-12*max(1, math.Abs(want[j])) {
					t.Fatalf("%s: row %d class %d: %v, want %v", form, i, j, stats[i*3+j], want[j])
				}
			}
		}
	}
}

// TestTeacherStatsChunked: a budget smaller than one pass gives the same
// numbers in several chunks.
func TestTeacherStatsChunked(t *testing.T) {
	d, _ := distillSetup(FormDirichlet, 200)
	*d = d.withDefaults()
	calls := 0
	inner := d.TeacherProblem.Predict
	d.TeacherProblem.Predict = func(out *predictive.Predictive, thetas [][]float64, x *mat.Dense) {
		calls++
		if r, _ := x.Dims(); len(thetas)*r*3 > statsBudget {
			t.Errorf("a chunk of %d rows holds more than the budget", r)
		}
		inner(out, thetas, x)
	}
	if _, _, _, err := d.teacherStats(context.Background(), 3, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("%d Predict calls for 200 rows", calls)
	}
	big := mat.NewDense(statsBudget/(5*3)+10, 2, nil)
	d.TeacherX = big
	calls = 0
	if _, _, _, err := d.teacherStats(context.Background(), 3, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("%d Predict calls for %d rows over a budget of %d", calls, statsBudget/(5*3)+10, statsBudget)
	}
}

// TestDistillLossGradients: the per-example losses' gradients in the
// logits, for both forms and both guards, against central differences.
func TestDistillLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const k = 4
	stats := make([]float64, 2*k)
	for i := range 2 {
		pi := []float64{0.1, 0.6, 0.05, 0.25}
		dirichlet.MeanLog(stats[i*k:(i+1)*k], pi, nil)
	}
	soft := []float64{0.1, 0.6, 0.05, 0.25, 0, 0.5, 0.5, 0}
	for _, tc := range []struct {
		name string
		d    Distill
		t    []float64
	}{
		{"dirichlet", Distill{Form: FormDirichlet}, stats},
		{"dirichlet fixed", Distill{Form: FormDirichlet, Guard: "fixed", Alpha0: 7}, stats},
		{"dirichlet learnable", Distill{Form: FormDirichlet, Guard: "learnable", Alpha0: 7, GuardWeight: 0.3}, stats},
		{"softmax", Distill{Form: FormSoftmax}, soft},
	} {
		p := &Problem{Dim: 1, N: 2, Classes: k}
		st := newDistillState(tc.d.withDefaults(), p, tc.t)
		st.idx = []int{0, 1}
		st.penalty = st.logT != nil
		z := make([]float64, 2*k)
		for i := range z {
			z[i] = 2 * rng.NormFloat64()
		}
		dz := make([]float64, 2*k)
		st.loss(dz, z)
		for i := range z {
			f := func(h float64) float64 {
				old := z[i]
				z[i] = old + h
				defer func() { z[i] = old }()
				return st.loss(make([]float64, 2*k), z)
			}
			num := (f(1e-6) - f(-1e-6)) / 2e-6
			if math.Abs(num-dz[i]) > 1e-6*max(1, math.Abs(num)) {
				t.Errorf("%s: dL/dz[%d] = %v, numeric %v", tc.name, i, dz[i], num)
			}
		}
		if st.logT != nil {
			st.gLogT[0] = 0
			st.loss(dz, z)
			g := st.gLogT[0]
			f := func(h float64) float64 {
				st.logT[0] += h
				defer func() { st.logT[0] -= h }()
				return st.loss(make([]float64, 2*k), z)
			}
			if num := (f(1e-6) - f(-1e-6)) / 2e-6; math.Abs(num-g) > 1e-6*max(1, math.Abs(num)) {
				t.Errorf("%s: dL/da = %v, numeric %v", tc.name, g, num)
			}
		}
	}
}

// TestDistillFits: both students learn the teacher's mean prediction on
// the training inputs; the Dirichlet student is more uncertain in its
// epistemic part far from the origin, where the members disagree, than
// near it.
func TestDistillFits(t *testing.T) {
	for _, form := range DistillForms() {
		d, p := distillSetup(form, 400)
		d.Epochs, d.LR, d.Batch, d.Patience = 300, 0.01, 32, 30
		var trace []float64
		post, err := d.Fit(context.Background(), p, rand.New(rand.NewPCG(5, 5)), func(pr Progress) { trace = append(trace, pr.Loss) })
		if err != nil {
			t.Fatal(err)
		}
		s := post.(*Student)
		if s.Method() != form || s.Report.Draws != 5 || s.Report.Epochs != len(trace) || s.Report.BestEpoch < 1 {
			t.Errorf("%s: student %s, report %+v, %d progress reports", form, s.Method(), s.Report, len(trace))
		}
		if trace[len(trace)-1] > trace[0] || s.Report.BestLoss != minOf(trace) {
			t.Errorf("%s: training loss %v ... %v, best %v", form, trace[0], trace[len(trace)-1], s.Report.BestLoss)
		}
		pred, err := Predict(context.Background(), post, p, d.TeacherX, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		tpred, _ := Predict(context.Background(), d.Teacher, d.TeacherProblem, d.TeacherX, 5, rand.New(rand.NewPCG(1, 1)))
		sp, _, _, epi := pred.Classification()
		tp, _, _, _ := tpred.Classification()
		diff := 0.0
		for i := range sp {
			diff += math.Abs(sp[i]-tp[i]) / float64(len(sp))
		}
		t.Logf("%s: %d epochs, best %d, mean |p_student - p_teacher| %.4f", form, s.Report.Epochs, s.Report.BestEpoch, diff)
		// A Dirichlet fitted by likelihood matches the draws' mean log
		// probabilities, not their mean, so its p̂ is looser than a
		// softmax student's.
		if tol := map[string]float64{FormDirichlet: 0.05, FormSoftmax: 0.02}[form]; diff > tol {
			t.Errorf("%s: student probabilities differ from the teacher's by %.3f on average", form, diff)
		}
		if form != FormDirichlet {
			for _, e := range epi {
				if e != 0 {
					t.Fatalf("softmax student with epistemic uncertainty %v", e)
				}
			}
			continue
		}
		var near, far []float64
		for i := 0; i < p.N; i++ {
			r := math.Hypot(d.TeacherX.At(i, 0), d.TeacherX.At(i, 1))
			if r < 1 {
				near = append(near, epi[i])
			} else if r > 3 {
				far = append(far, epi[i])
			}
		}
		t.Logf("epistemic near the origin %.4f, far from it %.4f", mean(near), mean(far))
		if mean(far) <= 1.3*mean(near) {
			t.Errorf("epistemic near the origin %.4f, far from it %.4f", mean(near), mean(far))
		}
	}
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// scripted is a student problem whose full-data loss follows a script, to
// test early stopping: the gradient is 1 in every coordinate, so θ moves
// every step and the kept θ tells which epoch it came from.
func scripted(losses []float64, thetas *[][]float64) *Problem {
	evals := 0
	return &Problem{
		Dim: 2, N: 4, Kind: predictive.Classification, Classes: 3,
		OutputGrad: func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
			if grad != nil {
				grad[0], grad[1] = 1, 1
				return 1
			}
			if evals%2 == 0 { // two chunks of 2 rows per evaluation
				*thetas = append(*thetas, append([]float64(nil), theta...))
			}
			v := losses[min(evals/2, len(losses)-1)]
			evals++
			return v
		},
	}
}

func TestDistillEarlyStopping(t *testing.T) {
	var thetas [][]float64
	p := scripted([]float64{5, 4, 3, 3.5, 3.2, 3.1, 2, 1}, &thetas)
	d, _ := distillSetup(FormDirichlet, 4)
	d.Epochs, d.Batch, d.Patience = 50, 2, 3
	var reports []Progress
	post, err := d.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 1)), func(pr Progress) { reports = append(reports, pr) })
	if err != nil {
		t.Fatal(err)
	}
	s := post.(*Student)
	if s.Report.Epochs != 6 || s.Report.BestEpoch != 3 || s.Report.BestLoss != 3 || len(reports) != 6 {
		t.Fatalf("stopped after %d epochs (best %d, loss %v, %d reports), want 6, 3, 3, 6", s.Report.Epochs, s.Report.BestEpoch, s.Report.BestLoss, len(reports))
	}
	if s.Theta[0] != thetas[2][0] || s.Theta[1] != thetas[2][1] {
		t.Errorf("kept θ %v, want the third epoch's %v", s.Theta, thetas[2])
	}
	if reports[5].Epoch != 6 || reports[5].Epochs != 50 || reports[5].Loss != 3.1 || reports[5].Method != "dirichlet" {
		t.Errorf("last report %+v", reports[5])
	}
}

func TestDistillErrors(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 1))

	d, p := distillSetup(FormDirichlet, 20)
	p.OutputGrad = func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
		return math.NaN()
	}
	_, err := d.Fit(ctx, p, r, nil)
	var div *DivergenceError
	if !errors.As(err, &div) || div.Epoch != 1 || div.Step != 1 || div.Method != "dirichlet" {
		t.Errorf("NaN loss: %v", err)
	}

	d, p = distillSetup(FormSoftmax, 20)
	inner := p.OutputGrad
	p.OutputGrad = func(grad, theta []float64, idx []int, loss func(dOut, out []float64) float64) float64 {
		v := inner(grad, theta, idx, loss)
		if grad != nil {
			grad[3] = math.Inf(1)
		}
		return v
	}
	if _, err = d.Fit(ctx, p, r, nil); !errors.As(err, &div) || !div.Grad || div.Method != "softmax" {
		t.Errorf("infinite gradient: %v", err)
	}

	d, p = distillSetup(FormDirichlet, 20)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = d.Fit(cctx, p, r, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	for name, bad := range map[string]func(d *Distill, p *Problem){
		"no teacher":        func(d *Distill, p *Problem) { d.Teacher = nil },
		"no OutputGrad":     func(d *Distill, p *Problem) { p.OutputGrad = nil },
		"classes":           func(d *Distill, p *Problem) { p.Classes = 4 },
		"regression":        func(d *Distill, p *Problem) { d.TeacherProblem.Kind = predictive.Regression },
		"teacher rows":      func(d *Distill, p *Problem) { d.TeacherX = mat.NewDense(3, 2, nil) },
		"dirichlet teacher": func(d *Distill, p *Problem) { d.Teacher = &Student{Theta: make([]float64, 18), Form: FormDirichlet} },
	} {
		d, p := distillSetup(FormDirichlet, 20)
		bad(d, p)
		if _, err := d.Fit(ctx, p, r, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := d.Fit(ctx, p, nil, nil); err == nil {
		t.Error("nil rng: no error")
	}
}

func TestNewDistill(t *testing.T) {
	d, err := NewDistill("dirichlet", []Arg{{Name: "samples", Num: 10}, {Name: "guard", Str: "fixed", IsStr: true}, {Name: "alpha0", Num: 20}})
	if err != nil || d.Samples != 10 || d.Guard != "fixed" || d.Alpha0 != 20 || d.Name() != "dirichlet" {
		t.Fatalf("%+v, %v", d, err)
	}
	for _, tc := range []struct {
		form  string
		args  []Arg
		index int
	}{
		{"softmax", []Arg{{Name: "epochs", Num: 3}, {Name: "guard", Str: "fixed", IsStr: true}}, 1},
		{"dirichlet", []Arg{{Name: "patience", Num: 0}}, 0},
		{"dirichlet", []Arg{{Name: "epochs", Num: 3}, {Name: "smaples", Num: 3}}, 1},
		{"dirichlet", []Arg{{Name: "guard", Str: "fixd", IsStr: true}}, 0},
	} {
		_, err := NewDistill(tc.form, tc.args)
		var se *SettingError
		if !errors.As(err, &se) || se.Index != tc.index {
			t.Errorf("%s%v: %v, want a setting error at %d", tc.form, tc.args, err, tc.index)
		}
	}
	if _, err := NewDistill("gauss", nil); err == nil {
		t.Error("unknown form: no error")
	}
	c := CapEpochs(&Distill{Form: FormSoftmax, Epochs: 500}, 7).(*Distill)
	if c.Epochs != 7 || c.Form != FormSoftmax {
		t.Errorf("capped: %+v", c)
	}
}

// TestStudentPredictAndSave: the closed-form predictive of each form from
// known outputs, and files that load back to the same predictions.
func TestStudentPredictAndSave(t *testing.T) {
	x, _ := distillData(6, 1, 3)
	p := newSoftmaxLinear(x, 3).problem()
	theta := make([]float64, p.Dim)
	for i := range theta {
		theta[i] = 0.5 * (float64(i%5) - 2)
	}
	z := mat.NewDense(6, 3, nil)
	p.Outputs(z, theta, x)
	for _, s := range []*Student{
		{Theta: theta, Form: FormDirichlet},
		{Theta: theta, Form: FormDirichlet, Alpha0: 12},
		{Theta: theta, Form: FormSoftmax},
	} {
		pred, err := Predict(context.Background(), s, p, x, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pred.S != 1 || pred.N != 6 || pred.K != 3 {
			t.Fatalf("%s: predictive %d x %d x %d", s.Form, pred.S, pred.N, pred.K)
		}
		for i := 0; i < 6; i++ {
			row := z.RawRowView(i)
			switch s.Form {
			case FormDirichlet:
				want := dirichlet.Alpha(nil, row)
				if s.Alpha0 > 0 {
					c := s.Alpha0 / floatsSum(want)
					for j := range want {
						want[j] *= c
					}
				}
				for j, a := range want {
					if math.Abs(pred.Alpha[i*3+j]-a) > 1e-12*a {
						t.Fatalf("α0 guard %v: α[%d] = %v, want %v", s.Alpha0, i, pred.Alpha[i*3:i*3+3], want)
					}
				}
			case FormSoftmax:
				want := num.LogSoftmax(nil, row)
				for j := range want {
					if math.Abs(pred.LogProb[i*3+j]-want[j]) > 1e-12 {
						t.Fatalf("softmax: log p = %v, want %v", pred.LogProb[i*3:i*3+3], want)
					}
				}
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, s, []byte("m")); err != nil {
			t.Fatal(err)
		}
		back, _, err := Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		bs := back.(*Student)
		if bs.Form != s.Form || bs.Alpha0 != s.Alpha0 || len(bs.Theta) != len(s.Theta) {
			t.Fatalf("loaded %+v, saved %+v", bs, s)
		}
		again, _ := Predict(context.Background(), back, p, x, 1, nil)
		for i, v := range pred.LogProb {
			if again.LogProb[i] != v {
				t.Fatalf("%s: loaded student predicts %v, saved one %v", s.Form, again.LogProb[i], v)
			}
		}
	}
	for name, vecs := range map[string][][]float64{
		"no vectors": nil,
		"bad guard":  {theta, {-1}},
		"long guard": {theta, {1, 2}},
	} {
		if _, err := decodeStudent("dirichlet", vecs); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := decodeStudent("gauss", [][]float64{theta}); err == nil {
		t.Error("unknown form: no error")
	}
	if _, err := decodeStudent("softmax", [][]float64{theta, {3}}); err == nil {
		t.Error("softmax with a guard: no error")
	}
}

// TestDistillStepAllocatesNothing: a training step and the per-epoch
// evaluation allocate nothing once the workspaces exist.
func TestDistillStepAllocatesNothing(t *testing.T) {
	for _, d := range []Distill{
		{Form: FormDirichlet},
		{Form: FormDirichlet, Guard: "learnable"},
		{Form: FormDirichlet, Guard: "fixed"},
		{Form: FormSoftmax},
	} {
		x, _ := distillData(64, 1, 1)
		p := newSoftmaxLinear(x, 3).problem()
		stats := make([]float64, 64*3)
		for i := range stats {
			stats[i] = -1.1
		}
		st := newDistillState(d.withDefaults(), p, stats)
		perm := make([]int, 64)
		for i := range perm {
			perm[i] = i
		}
		st.step(perm[:16])
		if a := testing.AllocsPerRun(20, func() { st.step(perm[:16]) }); a != 0 {
			t.Errorf("%s/%s: a step allocates %v times", d.Form, d.Guard, a)
		}
		if a := testing.AllocsPerRun(5, func() { st.trainLoss(perm, 16) }); a != 0 {
			t.Errorf("%s/%s: the epoch loss allocates %v times", d.Form, d.Guard, a)
		}
	}
}
