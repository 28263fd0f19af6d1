package parser

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameAST compares two ASTs, ignoring source spans.
func sameAST(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return sameAST(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			switch a.Type().Field(i).Name {
			case "Sp", "Source":
				continue
			case "Text": // 1e-3 and 0.001 print the same number
			}
			if !sameAST(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameAST(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}

// checkRoundTrip formats src, re-parses the output and checks the AST is the
// same and that formatting is idempotent.
func checkRoundTrip(t *testing.T, name string, src []byte) {
	f1, err := Parse(name, src)
	if err != nil {
		return
	}
	out := Format(f1)
	f2, err := Parse(name, out)
	if err != nil {
		t.Fatalf("%s: formatted output does not parse: %v\n%s", name, err, out)
	}
	if !sameAST(reflect.ValueOf(f1.Stmts), reflect.ValueOf(f2.Stmts)) {
		t.Fatalf("%s: formatting changed the AST\n--- in\n%s\n--- out\n%s", name, src, out)
	}
	if again := Format(f2); string(again) != string(out) {
		t.Fatalf("%s: formatting is not idempotent\n--- once\n%s\n--- twice\n%s", name, out, again)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.bl")
	more, _ := filepath.Glob("testdata/*.bl")
	for _, name := range append(files, more...) {
		src, _ := os.ReadFile(name)
		checkRoundTrip(t, name, src)
	}
}

func TestFormatCanonical(t *testing.T) {
	src := `# header
data d=csv("a.csv",x:[p0..p3],y:label)   # trailing
let a,b=split(d,0.8,seed:1)


model m(x:4){
# inside
prior weights~normal(0,1) scaled fan_in
h=dense(x,8)|>relu
o=(-2*h)/(3+h)-h[0]
y~categorical(logits:dense(h|>tanh,3))
}
posterior p=fit m on a using map(epochs:10,lr:1e-2)
evaluate [p] on b:accuracy,nll
`
	want := `# header
data d = csv("a.csv", x: [p0 .. p3], y: label)  # trailing
let a, b = split(d, 0.8, seed: 1)

model m(x: 4) {
  # inside
  prior weights ~ normal(0, 1) scaled fan_in
  h = dense(x, 8) |> relu
  o = -2 * h / (3 + h) - h[0]
  y ~ categorical(logits: dense(h |> tanh, 3))
}
posterior p = fit m on a using map(epochs: 10, lr: 1e-2)
evaluate [p] on b: accuracy, nll
`
	f, err := Parse("t.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(Format(f)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkRoundTrip(t, "t.bl", []byte(src))
}

// FuzzFormat: whatever parses, formats into text that parses to the same AST.
func FuzzFormat(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.bl")
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("let x = -(1 .. 2) |> f(3)\nlet y = (a |> b) .. c"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if strings.Contains(string(src), "\r") {
			return
		}
		checkRoundTrip(t, "fuzz.bl", src)
	})
}
