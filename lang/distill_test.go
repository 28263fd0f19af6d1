package lang

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/predictive"
	"gonum.org/v1/gonum/mat"
)

// TestExampleDistillDigits runs examples/distill_digits.bl with epochs
// capped at 100 (the teacher's own 60 are not cut): the Dirichlet student
// is within 2 accuracy points of its MultiSWAG teacher on held-out digits
// 0-4, and its epistemic uncertainty, computed in closed form from one
// forward pass, separates the unseen digits 5-9 from them with an AUROC
// above 0.7, a margin of 0.2 over chance (about 0.80 at this seed; the
// teacher's 30-draw mutual information reaches 0.96). The softmax student
// has no epistemic part, so its AUROC by it is exactly 0.5.
func TestExampleDistillDigits(t *testing.T) {
	s, tables := runExample(t, "distill_digits", 100)
	acc := func(p string) float64 { return cell(t, tables[p], p, "accuracy") }
	for _, p := range []string{"teacher", "s_dirichlet", "s_softmax"} {
		t.Logf("%-11s accuracy %.4f ece %.4f nll %.4f brier %.4f", p, acc(p),
			cell(t, tables[p], p, "ece"), cell(t, tables[p], p, "nll"), cell(t, tables[p], p, "brier"))
	}
	if d := acc("teacher") - acc("s_dirichlet"); d > 0.02 {
		t.Errorf("Dirichlet student accuracy %.4f is %.1f points below the teacher's %.4f", acc("s_dirichlet"), 100*d, acc("teacher"))
	}
	auroc := func(row string) float64 { return cell(t, tables[row], row, "auroc") }
	for _, p := range []string{"teacher", "s_dirichlet", "s_softmax"} {
		t.Logf("%-11s AUROC total %.4f epistemic %.4f aleatoric %.4f", p,
			auroc(p+" (total)"), auroc(p+" (epistemic)"), auroc(p+" (aleatoric)"))
	}
	if a := auroc("s_dirichlet (epistemic)"); !(a > 0.7) {
		t.Errorf("Dirichlet student's epistemic AUROC %.4f, want above 0.7", a)
	}
	if a := auroc("s_softmax (epistemic)"); a != 0.5 {
		t.Errorf("softmax student's epistemic AUROC %.4f, want exactly 0.5", a)
	}
	st := posteriorOf(t, s, "s_dirichlet")
	if r := st.post.(*infer.Student).Report; r.Draws != 30 || r.Epochs > 100 {
		t.Errorf("report %+v", r)
	}
}

const distillScript = `data iris = csv("data/iris.csv", y: species, classes: 3, standardize: true)
let train, test = split(iris, 0.7, seed: 2)
model net(x: 4) {
  h = dense(x, 16) |> tanh
  y ~ categorical(logits: dense(h, 3))
}
model small(x: 4) {
  y ~ categorical(logits: dense(x, 3))
}
posterior p = fit net on train using ensemble(members: 3, method: map(epochs: 60, lr: 0.01))
student sd = distill p into dirichlet(small) on train using dirichlet(epochs: 40, lr: 0.01, batch: 32)
student ss = distill p into softmax(net) on train using softmax(epochs: 40, lr: 0.01)
`

// distillSession runs script over the bundled data, with files written to
// (and read back from) dir.
func distillSession(t *testing.T, dir, script string, emit func(Result)) (*Session, error) {
	t.Helper()
	s := NewSession(&Config{Seed: 3, Samples: 20, Emit: emit, Resolve: func(p string, write bool) string {
		if write || strings.HasSuffix(p, ".post") || strings.HasSuffix(p, ".bl") {
			return filepath.Join(dir, p)
		}
		return filepath.Join("..", "examples", p)
	}})
	return s, s.Run(context.Background(), "distill.bl", []byte(script))
}

// TestStudentsArePosteriors: evaluate, predict, ood, plot and save work on
// students as on any posterior; a saved student loads back with its form
// and gives the same predictions, bit for bit.
func TestStudentsArePosteriors(t *testing.T) {
	dir := t.TempDir()
	var results []Result
	s, err := distillSession(t, dir, distillScript+`
evaluate [p, sd, ss] on test: accuracy, nll, ece, brier
predict sd at test
ood [sd, ss] in test vs test by [total, epistemic]: auroc
plot reliability(sd, on: test) to "sd.svg"
plot training([sd, ss]) to "curves.svg"
save sd to "sd.post"
save ss to "ss.post"
posterior sd2 = load("sd.post")
posterior ss2 = load("ss.post")
evaluate [sd, sd2, ss, ss2] on test: nll
`, func(r Result) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	var distilled, tables int
	for _, r := range results {
		switch r.Kind {
		case "distill":
			distilled++
			d := r.Distill
			if d.Teacher != "p" || d.TeacherMethod != "ensemble" || d.Draws != 3 || d.Rows != 105 || d.Epochs < 1 || !(d.StudentMs > 0) || !(d.TeacherMs > 0) {
				t.Errorf("summary %+v", d)
			}
		case "predict":
			if !strings.Contains(r.Table.Title, "closed form") || r.Table.Columns[len(r.Table.Columns)-1].Name != "epistemic" {
				t.Errorf("predict table %q %v", r.Table.Title, r.Table.Columns)
			}
		case "evaluate":
			tables++
		}
	}
	if distilled != 2 || tables != 2 {
		t.Fatalf("%d distill results, %d evaluate tables", distilled, tables)
	}
	last := results[len(results)-1].Table
	if a, b := last.Columns[1].Floats[0], last.Columns[1].Floats[1]; a != b || math.IsNaN(a) {
		t.Errorf("Dirichlet student NLL %v, loaded %v", a, b)
	}
	if a, b := last.Columns[1].Floats[2], last.Columns[1].Floats[3]; a != b || math.IsNaN(a) {
		t.Errorf("softmax student NLL %v, loaded %v", a, b)
	}
	for _, f := range []string{"sd.svg", "curves.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	sd2 := posteriorOf(t, s, "sd2")
	if sd2.Method() != "dirichlet" || sd2.Model().Name != "small" || len(sd2.Classes) != 3 {
		t.Errorf("loaded student: %s over %s, classes %v", sd2.Method(), sd2.Model().Name, sd2.Classes)
	}
	if got := s.Describe("ss"); !strings.Contains(got, "softmax over model net") {
		t.Errorf("describe: %q", got)
	}

	// The embedding API: one forward pass, a Dirichlet predictive whose
	// summaries add up.
	pl, err := LoadPosterior(filepath.Join(dir, "sd.post"))
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(2, 4, []float64{5.1, 3.5, 1.4, 0.2, 6.3, 2.9, 5.6, 1.8})
	pr, err := pl.Predict(context.Background(), x, &PredictOptions{Samples: 100, Seed: 1, Draws: true})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Draws.S != 1 || len(pr.Draws.Alpha) != 6 {
		t.Fatalf("student predictive S=%d with %d concentrations", pr.Draws.S, len(pr.Draws.Alpha))
	}
	for n := range 2 {
		if d := pr.Total[n] - pr.Aleatoric[n] - pr.Epistemic[n]; math.Abs(d) > 1e-12 || !(pr.Epistemic[n] > 0) {
			t.Errorf("row %d: total %v, aleatoric %v, epistemic %v", n, pr.Total[n], pr.Aleatoric[n], pr.Epistemic[n])
		}
	}
	if pr.Class[0] != 0 || pr.Class[1] != 2 {
		t.Errorf("classes %v, want setosa and virginica", pr.Class)
	}
}

// TestStudentREPLSave: a student distilled in a session is written to a
// file by :save and loaded back by the saved script.
func TestStudentREPLSave(t *testing.T) {
	dir := t.TempDir()
	s, err := distillSession(t, dir, distillScript, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveScript(filepath.Join(dir, "session.bl")); err != nil {
		t.Fatal(err)
	}
	script, _ := os.ReadFile(filepath.Join(dir, "session.bl"))
	if !strings.Contains(string(script), `posterior sd = load("session_sd.post")   # was: student sd = distill p`) {
		t.Fatalf("saved script:\n%s", script)
	}
	s2, err := distillSession(t, dir, string(script), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, script)
	}
	x := mat.NewDense(1, 4, []float64{5.9, 3.0, 4.2, 1.5})
	for _, name := range []string{"sd", "ss"} {
		a, err1 := posteriorOf(t, s, name).Predict(context.Background(), x, &PredictOptions{Samples: 10, Seed: 1})
		b, err2 := posteriorOf(t, s2, name).Predict(context.Background(), x, &PredictOptions{Samples: 10, Seed: 1})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a.Total[0] != b.Total[0] || a.Epistemic[0] != b.Epistemic[0] {
			t.Errorf("%s: %v %v before :save, %v %v after", name, a.Total[0], a.Epistemic[0], b.Total[0], b.Epistemic[0])
		}
	}
}

// TestDistillRuntimeErrors: what only running can tell, as positioned
// errors: a loaded teacher's kind and classes, bad settings, a data set
// that does not fit.
func TestDistillRuntimeErrors(t *testing.T) {
	dir := t.TempDir()
	prelude := `data iris = csv("data/iris.csv", y: species, classes: 3, standardize: true)
data mc = csv("data/mcycle.csv", x: [times], y: accel)
model reg(x: 1) {
  y ~ normal(dense(x, 1)[0], 1)
}
model c3(x: 4) {
  y ~ categorical(logits: dense(x, 3))
}
model c4(x: 4) {
  y ~ categorical(logits: dense(x, 4))
}
model c3one(x: 1) {
  y ~ categorical(logits: dense(x, 3))
}
`
	if _, err := distillSession(t, dir, prelude+`posterior r = fit reg on mc using map(epochs: 1)
posterior c = fit c3 on iris using map(epochs: 1)
student sd = distill c into dirichlet(c3) on iris using dirichlet(epochs: 1)
save r to "r.post"
save c to "c.post"
save sd to "sd.post"`, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stmt, want, at string // at: where the caret goes
	}{
		{`student s = distill r into dirichlet(c3one) on mc using dirichlet`, "the teacher r is not a classifier: its model reg has a normal likelihood", "r into"},
		{`student s = distill c into dirichlet(c4) on iris using dirichlet`, "student model c4 has 4 logits but the teacher c has 3 classes", "c4)"},
		{`student s = distill c into dirichlet(c3) on iris using dirichlet(epochs: 5, patience: 0)`, "patience must be positive, got 0", "patience"},
		{`student s = distill c into softmax(c3) on iris using softmax(guard: "fixed")`, "guard is a setting of dirichlet students", "guard"},
		{`student s = distill sd into dirichlet(c3) on iris using dirichlet`, "the teacher sd is a Dirichlet student", "sd into"},
		{`student s = distill c into dirichlet(c3one) on mc using dirichlet`, "student model c3one takes 1 inputs but the teacher c takes 4", "c3one"},
	} {
		script := prelude + `posterior r = load("r.post")
posterior c = load("c.post")
posterior sd = load("sd.post")
` + tc.stmt
		_, err := distillSession(t, dir, script, nil)
		var se *source.Error
		if !errors.As(err, &se) || !strings.Contains(se.Msg, tc.want) {
			t.Errorf("%s: %v, want %q", tc.stmt, err, tc.want)
			continue
		}
		if col := strings.Index(tc.stmt, tc.at) + 1; se.Span.Start.Line != strings.Count(script, "\n")+1 || se.Span.Start.Col != col {
			t.Errorf("%s: error at %d:%d, want column %d", tc.stmt, se.Span.Start.Line, se.Span.Start.Col, col)
		}
	}
}

// TestDistillDiverges: a student whose loss stops being finite is a
// numeric error naming the statement, the epoch and the step.
func TestDistillDiverges(t *testing.T) {
	_, err := distillSession(t, t.TempDir(), `data iris = csv("data/iris.csv", y: species, classes: 3)
model c3(x: 4) {
  y ~ categorical(logits: dense(x, 3) |> exp |> exp)
}
posterior c = fit c3 on iris using map(epochs: 1, lr: 0.0001)
student s = distill c into dirichlet(c3) on iris using dirichlet(lr: 1000, epochs: 50)`, nil)
	var se *source.Error
	if !errors.As(err, &se) || se.Kind != source.Numeric || !strings.Contains(se.Msg, "distilling s diverged: dirichlet:") {
		t.Fatalf("%v", err)
	}
}

// TestStudentPredictiveKinds: a Dirichlet student's predictive carries its
// concentrations; a softmax student's is one draw.
func TestStudentPredictiveKinds(t *testing.T) {
	s, err := distillSession(t, t.TempDir(), distillScript, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(3, 4, nil)
	for name, want := range map[string]int{"sd": 9, "ss": 0} {
		pred, err := posteriorOf(t, s, name).predictAt(context.Background(), x, 50, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pred.Kind != predictive.Classification || pred.S != 1 || len(pred.Alpha) != want {
			t.Errorf("%s: %v predictive, S=%d, %d concentrations", name, pred.Kind, pred.S, len(pred.Alpha))
		}
	}
}

// TestStudentStepAllocatesNothing: the student capability of a compiled
// problem (gather the minibatch, forward, loss, backward) allocates nothing
// once warm; the trainer's own step is checked in infer.
func TestStudentStepAllocatesNothing(t *testing.T) {
	p, _ := benchProblem(t)
	theta := make([]float64, p.Dim)
	p.Init(theta, rand.New(rand.NewPCG(1, 1)))
	grad := make([]float64, p.Dim)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = 7 * i
	}
	loss := func(dOut, out []float64) float64 {
		s := 0.0
		for i, z := range out {
			s += z * z
			dOut[i] = 2 * z
		}
		return s
	}
	p.OutputGrad(grad, theta, idx, loss)
	if a := testing.AllocsPerRun(10, func() { p.OutputGrad(grad, theta, idx, loss) }); a != 0 {
		t.Errorf("OutputGrad through the problem allocates %v times per step", a)
	}
}
