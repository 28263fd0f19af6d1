package ir

import (
	"github.com/bayesl/bayesl/parser/source"
)

// A data set read without y: has inputs only: a posterior can be predicted
// at it, but fitting and evaluating need targets, so the checker tracks
// which data names have none and refuses them there, before anything runs.

// noteData records whether the data set bound to name has a target.
func (s *Scope) noteData(name string, d DataExpr) {
	if d != nil && !s.hasTarget(d) {
		s.unlabeled[name] = true
	}
}

// hasTarget reports whether d yields a target column.
func (s *Scope) hasTarget(d DataExpr) bool {
	switch d := d.(type) {
	case *CSV:
		return d.Y != ""
	case *Where:
		return s.hasTarget(d.Src)
	case *DataRef:
		return !s.unlabeled[d.Name]
	}
	return true
}

// needTarget reports an error at sp when d has no target; what completes
// "cannot be ...". A nil d (already reported) passes.
func (c *checker) needTarget(d DataExpr, sp source.Span, what string) bool {
	if d == nil || c.scope.hasTarget(d) {
		return true
	}
	name := "the data"
	if r, ok := d.(*DataRef); ok {
		name = "data " + r.Name
	}
	c.errorf(sp, source.Type, "%s has no target column (csv without y:), so it can be predicted at but not %s; read the targets with csv(..., y: NAME)", name, what)
	return false
}

// metricTargets reports an error when d has no target and a metric needs
// one: the comparisons with a reference posterior and the counts do not,
// so two posteriors can be compared on inputs alone.
func (c *checker) metricTargets(d DataExpr, sp source.Span, ms []Metric) bool {
	if d == nil || c.scope.hasTarget(d) {
		return true
	}
	for _, m := range ms {
		if spec, ok := MetricNamed(m.Name); ok && !spec.Ref && spec.For != "any" {
			return c.needTarget(d, sp, "evaluated on with "+m.Name+" (metrics with a reference posterior, such as agreement(p_ref), need no targets)")
		}
	}
	return true
}
