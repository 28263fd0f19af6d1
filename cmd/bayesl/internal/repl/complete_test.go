package repl

import (
	"testing"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/lang"
)

// Completion is derived from ir's vocabulary tables and the registry of
// methods: every name of every table completes from its first letter, so a
// name added to a table is completed without touching the REPL.
func TestCompletionCoversTheVocabulary(t *testing.T) {
	c := &completer{s: lang.NewSession(&lang.Config{Seed: 1})}
	want := append(ir.LikelihoodNames(), ir.MetricNames()...)
	want = append(want, ir.PlotNames()...)
	want = append(want, ir.DataFuncNames()...)
	for _, tab := range [][]ir.Named{ir.OODScores, ir.OODMetrics, ir.CSVOptions} {
		for _, n := range tab {
			want = append(want, n.Name)
		}
	}
	want = append(want, infer.Builtins().Names()...)
	// The names the first round's hand-written list lacked.
	want = append(want, "band", "reliability", "histogram", "training", "mean_in", "mean_out")
	for _, w := range want {
		if len(w) < 2 { // x, y: nothing to complete
			continue
		}
		line := []rune("evaluate p on d: " + w[:1])
		got, n := c.Do(line, len(line))
		found := false
		for _, g := range got {
			found = found || w[:n]+string(g) == w
		}
		if !found {
			t.Errorf("completing %q does not offer %q", w[:1], w)
		}
	}
}
