package ir

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's vocabulary tables from ir's tables")

// vocabTables renders each vocabulary table as the README shows it, keyed
// by the name in its <!-- vocab:NAME --> markers.
func vocabTables() map[string]string {
	var b strings.Builder
	out := map[string]string{}
	row := func(cells ...string) { fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | ")) }
	take := func(name string) { out[name] = b.String(); b.Reset() }

	row("likelihood", "targets", "`standardize` rescales the target", "models")
	row("---", "---", "---", "---")
	for _, l := range Likelihoods {
		scaled := "no"
		if l.Scaled {
			scaled = "yes"
		}
		row("`"+l.Name+"("+strings.Join(l.Params, ", ")+")`", l.Support.String(), scaled, l.Doc)
	}
	take("likelihoods")

	row("metric", "for", "measures")
	row("---", "---", "---")
	for _, m := range Metrics {
		name := m.Name
		if len(m.Args) > 0 {
			name += "(" + strings.Join(m.Args, ", ") + ")"
		}
		row("`"+name+"`", m.For, m.Doc)
	}
	take("metrics")

	row("ood", "name", "meaning")
	row("---", "---", "---")
	for _, s := range OODScores {
		row("score (`by`)", "`"+s.Name+"`", s.Doc)
	}
	for _, m := range OODMetrics {
		row("metric", "`"+m.Name+"`", m.Doc)
	}
	take("ood")

	row("picture", "arguments", "shows")
	row("---", "---", "---")
	for _, p := range Plots {
		args := append([]string(nil), p.Required...)
		for _, o := range p.Optional {
			args = append(args, o+":")
		}
		row("`"+string(p.Kind)+"`", strings.Join(args, ", "), p.Doc)
	}
	take("plots")

	row("csv option", "meaning")
	row("---", "---")
	for _, o := range CSVOptions {
		row("`"+o.Name+"`", o.Doc)
	}
	take("csv")
	return out
}

var vocabSection = regexp.MustCompile(`(?s)<!-- vocab:(\w+) -->\n(.*?)<!-- /vocab -->`)

// TestReadmeTables: the README's tables of likelihoods, metrics, ood
// scores and metrics, pictures and csv options are the renderings of ir's
// tables, so neither can change without the other (go test ./ir
// -update-readme rewrites them).
func TestReadmeTables(t *testing.T) {
	const path = "../README.md"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := vocabTables()
	seen := map[string]bool{}
	got := vocabSection.ReplaceAllStringFunc(string(src), func(sec string) string {
		m := vocabSection.FindStringSubmatch(sec)
		name := m[1]
		seen[name] = true
		w, ok := want[name]
		if !ok {
			t.Errorf("README: no table named %q in ir", name)
			return sec
		}
		if m[2] != w {
			if !*updateReadme {
				t.Errorf("README table %q differs from ir's (go test ./ir -run ReadmeTables -update-readme rewrites it); want:\n%s", name, w)
			}
		}
		return "<!-- vocab:" + name + " -->\n" + w + "<!-- /vocab -->"
	})
	for name := range want {
		if !seen[name] {
			t.Errorf("README lacks the table %q (<!-- vocab:%s --> ... <!-- /vocab -->)", name, name)
		}
	}
	if *updateReadme && got != string(src) {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
