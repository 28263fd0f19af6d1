package ir

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

var errorComment = regexp.MustCompile(`# ERROR "((?:[^"\\]|\\.)*)"`)

// TestErrorScripts checks each chunk of testdata/*.bl: every line marked
// with # ERROR "regex" must carry a matching error, and no other errors
// may occur (go/parser's compareErrors discipline). In a chunk, a name
// declared by a line "# weights NAME" is bound as a weights value.
func TestErrorScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error scripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { errorScript(t, file) })
	}
}

var weightsDecl = regexp.MustCompile(`(?m)^# weights (\w+)$`)

func errorScript(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, chunk := range strings.Split(string(src), "\n---\n") {
		want := map[int][]*regexp.Regexp{}
		for ln, line := range strings.Split(chunk, "\n") {
			for _, m := range errorComment.FindAllStringSubmatch(line, -1) {
				pat := strings.ReplaceAll(m[1], `\"`, `"`)
				want[ln+1] = append(want[ln+1], regexp.MustCompile(pat))
			}
		}
		f, err := parser.Parse("errors.bl", []byte(chunk))
		if err != nil {
			t.Errorf("chunk %d does not parse: %v", i, err)
			continue
		}
		scope := NewScope()
		for _, m := range weightsDecl.FindAllStringSubmatch(chunk, -1) {
			scope.Bind(m[1], WeightsT)
		}
		_, err = Check(f, scope, &Config{Methods: MethodNames{"map", "vi"}})
		var got source.List
		if err != nil {
			got = err.(source.List)
		}
		for _, e := range got {
			ln := e.Span.Start.Line
			matched := false
			for k, re := range want[ln] {
				if re != nil && re.MatchString(e.Msg) {
					want[ln][k] = nil
					matched = true
					break
				}
			}
			if !matched {
				t.Errorf("chunk %d: unexpected error %v", i, e)
			}
		}
		for ln, res := range want {
			for _, re := range res {
				if re != nil {
					t.Errorf("chunk %d line %d: missing error matching %q", i, ln, re)
				}
			}
		}
	}
}

func TestLowerModel(t *testing.T) {
	src := `model net(x: 3) {
  prior weights ~ normal(0, 2) scaled fan_in
  prior biases ~ laplace(0, 0.5)
  param s ~ normal(1, 0.1)
  h = dense(x, 4, prior: student_t(3, 0, 1)) |> tanh
  o = dense(h, 2, bias: false)
  y ~ normal(o[0] * 2 + 1, softplus(o[1]) + s)
}`
	f, err := parser.Parse("m.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Check(f, NewScope(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := prog.Stmts[0].(*DefineModel).Model
	type pinfo struct {
		name       string
		rows, cols int
		off        int
		fam        PriorFamily
		scale      float64
	}
	want := []pinfo{
		{"s", 1, 1, 0, PriorNormal, 0.1},
		{"dense0.w", 3, 4, 1, PriorStudentT, 1},
		{"dense0.b", 1, 4, 13, PriorLaplace, 0.5},
		{"dense1.w", 4, 2, 17, PriorNormal, 1}, // 2 / sqrt(4)
	}
	if len(m.Params) != len(want) {
		t.Fatalf("got %d params, want %d", len(m.Params), len(want))
	}
	for i, w := range want {
		p := m.Params[i]
		got := pinfo{p.Name, p.Rows, p.Cols, p.Offset, p.Prior.Family, p.Prior.Scale}
		if got != w {
			t.Errorf("param %d: got %+v, want %+v", i, got, w)
		}
	}
	if m.Dim() != 25 {
		t.Errorf("Dim = %d, want 25", m.Dim())
	}
	if m.Lik.Family != LikNormal || len(m.Lik.Args) != 2 {
		t.Fatalf("likelihood %+v", m.Lik)
	}
	// 2 + 1 with constants folded: o[0]*2 + 1 is add(mul(index, const), const).
	loc := m.Nodes[m.Lik.Args[0]]
	if loc.Op != OpAdd || m.Nodes[loc.Args[0]].Op != OpMul || m.Nodes[loc.Args[1]].Op != OpConst {
		t.Errorf("loc lowered as %v(%v, %v)", loc.Op, m.Nodes[loc.Args[0]].Op, m.Nodes[loc.Args[1]].Op)
	}
	for i, n := range m.Nodes {
		if n.ID != i {
			t.Errorf("node %d has ID %d", i, n.ID)
		}
		for _, a := range n.Args {
			if a >= i {
				t.Errorf("node %d uses later node %d", i, a)
			}
		}
	}
}

func TestScopeAcrossChecks(t *testing.T) {
	scope := NewScope()
	f1, _ := parser.Parse("a.bl", []byte(`data d = csv("a.csv", x: [a], y: b)`))
	if _, err := Check(f1, scope, nil); err != nil {
		t.Fatal(err)
	}
	f2, _ := parser.Parse("b.bl", []byte(`let e = where(d, b < 3)`))
	if _, err := Check(f2, scope, nil); err != nil {
		t.Fatal(err)
	}
	f3, _ := parser.Parse("c.bl", []byte(`let g = where(nope, b < 3)`))
	if _, err := Check(f3, scope, nil); err == nil {
		t.Fatal("want an error for an unknown name")
	}
	if _, ok := scope.Lookup("g"); ok {
		t.Error("a failed check must not change the scope")
	}
	if got := strings.Join(scope.Names(), ","); got != "d,e" {
		t.Errorf("names %q, want d,e", got)
	}
}

// A number bound by let can stand wherever a constant is expected, also in a
// later entry of the same scope.
func TestLetNumbersFold(t *testing.T) {
	scope := NewScope()
	splits := 0
	for _, src := range []string{
		`let frac = 0.8`,
		`data d = csv("a.csv", x: [a], y: b)
let tr, te = split(d, frac, seed: 3)`,
	} {
		f, err := parser.Parse("l.bl", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := Check(f, scope, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range prog.Stmts {
			if sp, ok := st.(*BindSplit); ok {
				splits++
				if sp.Frac != 0.8 {
					t.Errorf("split fraction %v, want 0.8", sp.Frac)
				}
			}
		}
	}
	if splits != 1 {
		t.Fatalf("the split statement was dropped (%d found)", splits)
	}
	f, _ := parser.Parse("l.bl", []byte(`let tr, te = split(d, bad, seed: 3)`))
	if _, err := Check(f, scope, nil); err == nil {
		t.Error("an unknown name where a number is needed must be an error")
	}
}
