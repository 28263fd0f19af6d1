package ir

import (
	"strings"
	"testing"
)

// A metric or picture for the other kind of model is refused at check,
// when the posterior's model is known, with run's words.
func TestMetricAndPlotKinds(t *testing.T) {
	head := `data d = csv("d.csv", x: [a], y: b)
data c = csv("d.csv", x: [a, b], y: k, classes: 3)
model reg(x: 1) {
  y ~ normal(dense(x, 1)[0], 1)
}
model cls(x: 2) {
  y ~ categorical(logits: dense(x, 3))
}
posterior r = fit reg on d using map
posterior k = fit cls on c using map
let r2 = r
`
	for _, tc := range []struct{ src, want string }{
		{"evaluate r on d: nll, accuracy", `v.bl:12:23: type error: accuracy needs a classifier; r is a regression model (normal likelihood)`},
		{"evaluate r2 on d: brier", `v.bl:12:19: type error: brier needs a classifier; r2 is a regression model (normal likelihood)`},
		{"evaluate k on c: rmse", `v.bl:12:18: type error: rmse needs a regression model; k is a classifier (categorical likelihood)`},
		{"evaluate k on c: w2(k)", `v.bl:12:18: type error: w2 needs a regression model; k is a classifier (categorical likelihood)`},
		{"plot reliability(r, on: d) to \"r.svg\"", `v.bl:12:18: type error: a reliability diagram needs a classifier; r is a regression model`},
		{"plot band(k, over: 0 .. 1) to \"b.svg\"", `v.bl:12:11: type error: band pictures need a regression model; k is a classifier`},
		{"evaluate [r, k] on c: nll, epistemic(k)", ""},
	} {
		errs := checkErrs(t, head+tc.src, &Config{})
		switch {
		case tc.want == "" && len(errs) != 0:
			t.Errorf("%s: unexpected %q", tc.src, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want)):
			t.Errorf("%s\n got %q\nwant %q", tc.src, errs, tc.want)
		}
	}
}

// A model's input width against the features of data whose header was read
// at check time.
func TestInputWidthAtCheck(t *testing.T) {
	cfg := &Config{Files: fakeFiles{"d.csv": {"a", "b", "c1", "c2"}}}
	src := `data d = csv("d.csv", y: b)
model m(x: 2) {
  y ~ normal(dense(x, 1)[0], 1)
}
posterior p = fit m on where(d, c1 > 0) using map
`
	want := `v.bl:5:15: shape error: model m takes 2 input features but the data has 3 (a, c1, c2)`
	if errs := checkErrs(t, src, cfg); len(errs) != 1 || !strings.HasPrefix(errs[0], want) {
		t.Errorf("got %q\nwant %q", errs, want)
	}
	if errs := checkErrs(t, strings.Replace(src, "x: 2", "x: 3", 1), cfg); len(errs) != 0 {
		t.Errorf("a model of the data's width: %q", errs)
	}
}

// A classifier's class count against csv(..., classes: K), known without
// reading the file.
func TestClassesAtCheck(t *testing.T) {
	model := "model m(x: 1) {\n  y ~ categorical(logits: dense(x, 3))\n}\n"
	for _, tc := range []struct{ data, want string }{
		{`csv("d.csv", x: [a], y: b, classes: 4)`, `v.bl:5:15: shape error: model m has 3 classes (logits width) but the data has 4`},
		{`csv("d.csv", x: [a], y: b)`, `v.bl:5:15: type error: model m is a classifier but the data has no class labels: read it with csv(..., classes: 3)`},
		{`csv("d.csv", x: [a], y: b, classes: 3)`, ""},
	} {
		src := "data d = " + tc.data + "\n" + model + "posterior p = fit m on where(d, a > 0) using map\n"
		errs := checkErrs(t, src, &Config{})
		switch {
		case tc.want == "" && len(errs) != 0:
			t.Errorf("%s: unexpected %q", tc.data, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want)):
			t.Errorf("%s\n got %q\nwant %q", tc.data, errs, tc.want)
		}
	}
}
