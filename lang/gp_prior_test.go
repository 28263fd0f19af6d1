package lang

import (
	"testing"
)

// TestExampleGPPrior runs examples/gp_prior.bl with every fit and match
// capped at 100 steps: both matches cut W2²/n (the RBF one at least
// 20-fold even so; the full run's numbers are in the README), and both
// posteriors are evaluated.
func TestExampleGPPrior(t *testing.T) {
	matches := map[string]*MatchSummary{}
	_, tables := runExampleWith(t, "gp_prior", 100, func(r Result) {
		if r.Kind == "match" {
			matches[r.Name] = r.Match
		}
	})
	for name, min := range map[string]float64{"net_gp": 20, "wave_gp": 2} {
		m := matches[name]
		if m == nil {
			t.Fatalf("no match result for %s", name)
		}
		t.Logf("%s: W2²/n %.4f -> %.4f in %d steps, %.2fs", name, m.Before, m.After, m.Steps, m.Seconds)
		if m.Steps != 100 || !(m.After < m.Before/min) {
			t.Errorf("%s: %d steps, W2²/n %.4f -> %.4f: want 100 steps and a %.0f-fold reduction", name, m.Steps, m.Before, m.After, min)
		}
	}
	for _, p := range []string{"p_plain", "p_gp"} {
		t.Logf("%s: test NLL %.3f", p, cell(t, tables[p], p, "nll"))
	}
}
