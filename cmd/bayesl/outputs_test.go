package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An output file whose extension nobody writes is a check-time error: its
// text lists the formats, the exit code is the checker's, and nothing runs.
func TestOutputExtensionErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("x,y\n0,1\n1,2\n"), 0o644)
	script := filepath.Join(dir, "bad.bl")
	os.WriteFile(script, []byte(`data d = csv("d.csv", x: [x], y: y)
model m(x: 1) {
  y ~ normal(dense(x, 1)[0], 1)
}
posterior p = fit m on d using map(epochs: 1)
predict p at d to "pred.xlsx"
save p to "p.npz"
`), 0o644)
	for _, cmd := range []string{"check", "run"} {
		var out, errb strings.Builder
		code := run([]string{cmd, script}, &out, &errb)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", cmd, code, exitUsage)
		}
		for _, want := range []string{
			`bad.bl:6:19: type error: predictions are written to .csv, .json, .npy, .npz, .parquet; pred.xlsx has extension .xlsx`,
			`bad.bl:7:11: type error: a posterior is saved to a .post file, which load reads; p.npz is not one: to write its weights for Python, export p to "p.npz"`,
		} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, errb.String())
			}
		}
		if strings.Contains(out.String(), "fitted") {
			t.Errorf("%s fitted before reporting the error", cmd)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "p*")); len(left) > 0 {
		t.Errorf("files written: %v", left)
	}
}
