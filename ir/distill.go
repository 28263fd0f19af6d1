package ir

import (
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// StudentForms lists what a student network's logits z can mean, as
// written after `into` and `using`: "dirichlet" (the concentrations
// α = softplus(z) + 1 of a Dirichlet over the class probabilities) and
// "softmax" (class probabilities softmax(z)).
var StudentForms = []string{"dirichlet", "softmax"}

// Distill trains a student network to stand in for a teacher posterior:
//
//	student NAME = distill Teacher into Form(Model) on Data using Form(settings)
//
// Model is a categorical classifier whose logits have one column per class
// of the teacher. It is bound, like any posterior, by a BindPosterior.
type Distill struct {
	Teacher    *PosteriorRef
	Form       string // "dirichlet" or "softmax"
	Model      *Model
	ModelText  string      // the student model's source, stored with a saved student
	ModelSpan  source.Span // the model's name after into
	Data       DataExpr
	MethodSpan source.Span // the settings call after using
	Args       []Arg
	Span       source.Span
}

func (p *Distill) postSpan() source.Span { return p.Span }

// notePosterior records the model of a posterior when it is known before
// the statement runs (a fit, a student, or another name for either), so
// that a later distill can check its teacher; a loaded posterior's model is
// only known at run time.
func (s *Scope) notePosterior(bp *BindPosterior) {
	delete(s.posts, bp.Name)
	switch e := bp.Expr.(type) {
	case *Fit:
		s.posts[bp.Name] = e.Model
	case *Distill:
		s.posts[bp.Name] = e.Model
	case *Pretrained:
		s.posts[bp.Name] = e.Model
	case *PosteriorRef:
		if m, ok := s.posts[e.Name]; ok {
			s.posts[bp.Name] = m
		}
	}
}

// PosteriorModel returns the model of the posterior bound to name when it
// is known without running the script.
func (s *Scope) PosteriorModel(name string) (*Model, bool) {
	m, ok := s.posts[name]
	return m, ok
}

// student checks `student NAME = distill ...`.
func (c *checker) student(s *parser.StudentStmt) Stmt {
	d, ok := s.Value.(*parser.Distill)
	if !ok {
		c.errorf(s.Value.Span(), source.Type, "a student is written student NAME = distill POSTERIOR into dirichlet(MODEL) on DATA using dirichlet(...)")
		c.bind(s.Name, Invalid)
		return nil
	}
	e := c.distill(d)
	if e == nil {
		c.bind(s.Name, Invalid)
		return nil
	}
	c.bind(s.Name, PosteriorT)
	return &BindPosterior{Name: s.Name.Name, Expr: e, Span: s.Sp}
}

func (c *checker) distill(e *parser.Distill) *Distill {
	out := &Distill{Span: e.Sp}
	ok := true

	// The teacher: a posterior, and a classifier when its model is known.
	var teacher *Model
	if r, found := c.ref(e.Teacher, PosteriorT); found {
		out.Teacher = &PosteriorRef{r}
		if m, known := c.scope.posts[r.Name]; known {
			teacher = m
			if !m.Lik.Family.Classification() {
				c.errorf(e.Teacher.Sp, source.Type, "the teacher %s is not a classifier: its model %s has a %s likelihood; only classification posteriors can be distilled", r.Name, m.Name, m.Lik.Family)
				ok, teacher = false, nil
			}
		}
	} else {
		ok = false
	}

	// into FORM(MODEL)
	call, isCall := e.Into.(*parser.Call)
	if !isCall || len(call.Args) != 1 || call.Args[0].Name != nil {
		c.errorf(e.Into.Span(), source.Type, "the student is written dirichlet(MODEL) or softmax(MODEL)")
		ok = false
	} else {
		if !contains(StudentForms, call.Fun.Name) {
			c.unknown(call.Fun, "student form", StudentForms)
			ok = false
		}
		out.Form = call.Fun.Name
		if m := c.studentModel(call.Args[0].Value, teacher, out); m == nil {
			ok = false
		}
	}

	out.Data = c.dataExpr(e.Data)
	if out.Data == nil {
		ok = false
	}

	// using FORM(settings): the same form as the student.
	var id *parser.Ident
	var settings *parser.Call
	switch m := e.Method.(type) {
	case *parser.Ident:
		id = m
	case *parser.Call:
		id, settings = m.Fun, m
	default:
		c.errorf(e.Method.Span(), source.Type, "expected the student's settings, e.g. dirichlet(samples: 30, epochs: 50)")
		return nil
	}
	out.MethodSpan = e.Method.Span()
	switch {
	case !contains(StudentForms, id.Name):
		c.unknown(id, "student form", StudentForms)
		ok = false
	case out.Form != "" && contains(StudentForms, out.Form) && id.Name != out.Form:
		c.errorf(id.Sp, source.Type, "the student is %s(...), so its settings are written using %s(...), not %s(...)", out.Form, out.Form, id.Name)
		ok = false
	}
	if settings != nil {
		args, okS := c.settings(id, settings)
		if okS && ok && c.cfg.Methods != nil {
			okS = c.settingsOK(id.Sp, args, c.cfg.Methods.CheckStudent, id.Name)
		}
		out.Args = args
		ok = ok && okS
	}
	if !ok {
		return nil
	}
	return out
}

// studentModel resolves the model after into and checks that it can be a
// student of teacher (nil when the teacher's model is not known yet).
func (c *checker) studentModel(e parser.Expr, teacher *Model, out *Distill) *Model {
	id, isID := e.(*parser.Ident)
	if !isID {
		c.errorf(e.Span(), source.Type, "expected a model name")
		return nil
	}
	def := c.modelDef(id)
	if def == nil {
		return nil
	}
	m := def.Model
	if m.Lik.Family != LikCategorical {
		c.errorf(id.Sp, source.Type, "a student model must be a classifier with categorical(logits: ...), whose logits become its outputs; model %s has a %s likelihood", m.Name, m.Lik.Family)
		return nil
	}
	if teacher != nil {
		if m.Lik.Classes != teacher.Lik.Classes {
			c.errorf(id.Sp, source.Shape, "student model %s has %d logits but the teacher %s has %d classes", m.Name, m.Lik.Classes, out.Teacher.Name, teacher.Lik.Classes)
			return nil
		}
		if m.InputWidth != teacher.InputWidth {
			c.errorf(id.Sp, source.Shape, "student model %s takes %d inputs but the teacher %s takes %d", m.Name, m.InputWidth, out.Teacher.Name, teacher.InputWidth)
			return nil
		}
	}
	out.Model, out.ModelText, out.ModelSpan = m, def.Text, id.Sp
	return m
}
