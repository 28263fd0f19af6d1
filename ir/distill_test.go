package ir

import (
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser"
)

const distillPrelude = `data d = csv("a.csv", x: [a], y: b, classes: 3)
model c3(x: 1) {
  y ~ categorical(logits: dense(x, 3))
}
model c4(x: 1) {
  y ~ categorical(logits: dense(x, 4))
}
posterior p = fit c3 on d using map
`

func mustCheck(t *testing.T, scope *Scope, src string) *Program {
	t.Helper()
	f, err := parser.Parse("t.bl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Check(f, scope, &Config{Methods: MethodNames{"map"}})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func TestDistillChecked(t *testing.T) {
	prog := mustCheck(t, NewScope(), distillPrelude+`student s = distill p into dirichlet(c3) on d using dirichlet(samples: 20, guard: fixed)`)
	bp, ok := prog.Stmts[len(prog.Stmts)-1].(*BindPosterior)
	if !ok {
		t.Fatalf("last statement %T", prog.Stmts[len(prog.Stmts)-1])
	}
	e, ok := bp.Expr.(*Distill)
	if !ok || bp.Name != "s" {
		t.Fatalf("bound %s to %T", bp.Name, bp.Expr)
	}
	if e.Teacher.Name != "p" || e.Form != "dirichlet" || e.Model.Name != "c3" || !strings.HasPrefix(e.ModelText, "model c3(x: 1)") {
		t.Errorf("distill %+v", e)
	}
	if len(e.Args) != 2 || e.Args[0].Name != "samples" || e.Args[0].Num != 20 || e.Args[1].Str != "fixed" {
		t.Errorf("settings %+v", e.Args)
	}
	if _, ok := e.Data.(*DataRef); !ok {
		t.Errorf("data %T", e.Data)
	}
}

// TestDistillAcrossEntries: a teacher fitted in one entry is checked in a
// later one, both when Check extends the scope itself and when a session
// applies statements as they run (the REPL).
func TestDistillAcrossEntries(t *testing.T) {
	student := `student s = distill p into softmax(c4) on d using softmax`
	for name, scope := range map[string]func() *Scope{
		"check": func() *Scope {
			s := NewScope()
			mustCheck(t, s, distillPrelude)
			return s
		},
		"apply": func() *Scope {
			s := NewScope()
			for _, st := range mustCheck(t, s.Clone(), distillPrelude).Stmts {
				s.Apply(st)
			}
			return s
		},
	} {
		s := scope()
		if m, ok := s.PosteriorModel("p"); !ok || m.Name != "c3" {
			t.Errorf("%s: the scope does not know p's model", name)
		}
		f, _ := parser.Parse("t.bl", []byte(student))
		_, err := Check(f, s, nil)
		if err == nil || !strings.Contains(err.Error(), "student model c4 has 4 logits but the teacher p has 3 classes") {
			t.Errorf("%s: %v", name, err)
		}
		// A student is a posterior whose model is the student model, and
		// rebinding a name forgets the model.
		prog := mustCheck(t, s, `student s = distill p into softmax(c3) on d using softmax
posterior q = s`)
		for _, st := range prog.Stmts {
			s.Apply(st)
		}
		if typ, _ := s.Lookup("s"); typ != PosteriorT {
			t.Errorf("%s: s is a %v", name, typ)
		}
		if m, ok := s.PosteriorModel("q"); !ok || m.Name != "c3" {
			t.Errorf("%s: q's model unknown", name)
		}
		mustCheck(t, s, `posterior p = load("x.post")`)
		if _, ok := s.PosteriorModel("p"); ok {
			t.Errorf("%s: a loaded posterior keeps the model of the fit it replaced", name)
		}
	}
}
