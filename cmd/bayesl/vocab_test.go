package main

import (
	"errors"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
)

var (
	methodName = regexp.MustCompile("^`(\\w+)`$")
	knownList  = regexp.MustCompile(`\(known: ([^)]*)\)`)
	backquoted = regexp.MustCompile("`(\\w+)`")
)

// TestReadmeMethods: the README's table of inference methods has one row
// per backend of the registry, and each row names every setting the
// backend accepts (read from the registry's own refusal of an unknown
// one), so the table cannot drift from what `fit ... using` takes.
func TestReadmeMethods(t *testing.T) {
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(src), "| method | what it learns | settings (defaults) |")
	if start < 0 {
		t.Fatal("README has no table of methods")
	}
	table := string(src[start:])
	table = table[:strings.Index(table, "\n\n")+1]
	rows := map[string]string{} // method: its settings cell
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "¦"), "|")
		if len(cells) < 5 {
			continue
		}
		if m := methodName.FindStringSubmatch(strings.TrimSpace(cells[1])); m != nil {
			rows[m[1]] = cells[len(cells)-2]
		}
	}
	reg := infer.Builtins()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range rows {
			if !yield(n) {
				return
			}
		}
	})
	if !slices.Equal(names, reg.Names()) {
		t.Errorf("README methods %v, registry %v", names, reg.Names())
	}
	for _, name := range reg.Names() {
		_, err := reg.New(name, []infer.Arg{{Name: "no_such_setting", Num: 1}})
		var se *infer.SettingError
		if !errors.As(err, &se) {
			t.Errorf("%s accepted an unknown setting: %v", name, err)
			continue
		}
		m := knownList.FindStringSubmatch(se.Msg)
		if m == nil {
			t.Errorf("%s: no list of settings in %q", name, se.Msg)
			continue
		}
		documented := map[string]bool{}
		for _, b := range backquoted.FindAllStringSubmatch(rows[name], -1) {
			documented[b[1]] = true
		}
		inherits := strings.Contains(rows[name], "every `swag` setting") || strings.Contains(rows[name], "the `sgld` settings") || strings.Contains(rows[name], "as `sgld`")
		for _, s := range strings.Split(m[1], ", ") {
			if !documented[s] && !inherits {
				t.Errorf("README row of %s does not name its setting %q", name, s)
			}
		}
	}
}

// The gamma example runs on the bundled Old Faithful data: its test NLL is
// that of the Gaussian network beside it (the conditional is near
// Gaussian), and its predicted mean waiting time grows with the eruption.
func TestGammaExample(t *testing.T) {
	if testing.Short() {
		t.Skip("fits two networks")
	}
	var out, errb strings.Builder
	if code := run([]string{"run", "../../examples/faithful_gamma.bl"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	nll := map[string]float64{}
	var means []float64
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && (f[0] == "p_gamma" || f[0] == "p_normal") {
			nll[f[0]], _ = strconv.ParseFloat(f[1], 64)
		}
		if len(f) == 6 && f[0] >= "0" && f[0] <= "3" {
			m, _ := strconv.ParseFloat(f[2], 64)
			means = append(means, m)
		}
	}
	if g, n := nll["p_gamma"], nll["p_normal"]; !(g > 2.8 && g < 3.2) || math.Abs(g-n) > 0.05 {
		t.Errorf("test NLL gamma %v, normal %v; want both near 3 and within 0.05:\n%s", g, n, out.String())
	}
	if len(means) != 4 || !slices.IsSorted(means) || means[0] < 40 || means[3] > 95 {
		t.Errorf("predicted mean waiting times %v, want 4 increasing values in 40..95", means)
	}
}
