package ir

import "github.com/bayesl/bayesl/parser/source"

// A metric or picture made for one kind of model (the For of its table
// entry) is refused at check for a posterior whose model is known to be of
// the other kind, with the words run would use, so a script never fits for
// minutes before being told that accuracy needs a classifier.

// metricKinds checks each metric of an evaluate against each posterior.
func (c *checker) metricKinds(st *Evaluate) {
	for _, p := range st.Posts {
		m, known := c.scope.posts[p.Name]
		if !known || m.Lik == nil {
			continue
		}
		for _, mt := range st.Metrics {
			spec, ok := MetricNamed(mt.Name)
			if !ok {
				continue
			}
			switch cls := m.Lik.Family.Classification(); {
			case spec.For == "classification" && !cls:
				c.errorf(mt.Span, source.Type, "%s needs a classifier; %s is a regression model (%s likelihood)", mt.Name, p.Name, m.Lik.Family)
			case spec.For == "regression" && cls:
				c.errorf(mt.Span, source.Type, "%s needs a regression model; %s is a classifier (%s likelihood)", mt.Name, p.Name, m.Lik.Family)
			}
		}
	}
}

// plotKinds checks a picture's posterior: band and samples draw a 1-D
// regression, a reliability diagram a classifier.
func (c *checker) plotKinds(st *Plot) {
	if len(st.Posts) != 1 {
		return
	}
	p := st.Posts[0]
	m, known := c.scope.posts[p.Name]
	if !known || m.Lik == nil {
		return
	}
	cls := m.Lik.Family.Classification()
	switch st.Kind {
	case PlotBand, PlotSamples:
		if cls {
			c.errorf(p.Span, source.Type, "%s pictures need a regression model; %s is a classifier", st.Kind, p.Name)
		} else if m.InputWidth != 1 {
			c.errorf(p.Span, source.Shape, "%s pictures need a model with one input; %s takes %d", st.Kind, p.Name, m.InputWidth)
		}
	case PlotReliability:
		if !cls {
			c.errorf(p.Span, source.Type, "a reliability diagram needs a classifier; %s is a regression model", p.Name)
		}
	}
}
