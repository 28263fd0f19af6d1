package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The exit codes of bayesl predict and of scripts over data a user would
// have: 1 for a data error (an empty cell, a missing file), 2 for a check
// or usage error (fitting data without a target, a bad flag), 0 otherwise.
func TestPredictExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("d.csv", "x,y\n1,2\n2,\n3,4\n")
	write("new.csv", "x\n1.5\n")
	model := "model m(x: 1) {\n  y ~ normal(dense(x, 1)[0], 1)\n}\n"
	write("gap.bl", `data d = csv("d.csv", x: [x], y: y)`+"\n")
	write("nolabel.bl", `data d = csv("new.csv", x: [x])`+"\n"+model+"posterior p = fit m on d using map\n")
	write("ok.bl", `data d = csv("d.csv", x: [x], y: y, drop_missing: true)`+"\n"+model+
		"posterior p = fit m on d using map(epochs: 2)\nsave p to \"p.post\"\n")
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run", "gap.bl"}, exitRuntime, `column "y": missing value (an empty cell) in data row 2`},
		{[]string{"check", "nolabel.bl"}, exitUsage, "data d has no target column"},
		{[]string{"run", "-q", "ok.bl"}, exitOK, ""},
		{[]string{"predict", "p.post", "new.csv", "-o", "out.csv"}, exitOK, ""},
		{[]string{"predict", "p.post", "nope.csv"}, exitRuntime, "no such file"},
		{[]string{"predict", "p.post", "new.csv", "--samples"}, exitUsage, "flag needs an argument"},
		{[]string{"predict", "p.post", "new.csv", "-o", "out.txt"}, exitUsage, ".csv"},
	} {
		var out, errb strings.Builder
		t.Chdir(dir)
		if code := run(tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("bayesl %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errb.String(), tc.code, tc.stderr)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "out.csv"))
	if err != nil || !strings.HasPrefix(string(got), "x,mean,sd,") {
		t.Errorf("out.csv: %q, %v", got, err)
	}
}
