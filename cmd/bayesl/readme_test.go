package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's golden output blocks from what the commands print")

// goldenMarker precedes a fenced block of README.md that shows what a
// command prints; the marker names the command's arguments.
var goldenMarker = regexp.MustCompile(`(?m)^<!-- golden: bayesl (.+) -->\n` + "```\n")

// timings are the numbers that vary from run to run (a fit's seconds).
var timings = regexp.MustCompile(`\b\d+\.\d+s\b`)

// TestREADMEOutput runs every command the README shows the output of and
// compares the output with the README's block, timings aside, so the
// quick start cannot drift from what the command prints. go test
// ./cmd/bayesl -run TestREADMEOutput -update rewrites the blocks.
func TestREADMEOutput(t *testing.T) {
	readme, err := filepath.Abs(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(text)
	marks := goldenMarker.FindAllStringSubmatchIndex(src, -1)
	if len(marks) == 0 {
		t.Fatal("README.md has no golden block (<!-- golden: bayesl ... --> before a fenced block)")
	}
	var out strings.Builder
	last := 0
	for _, m := range marks {
		args := strings.Fields(src[m[2]:m[3]])
		start := m[1]
		end := strings.Index(src[start:], "```\n")
		if end < 0 {
			t.Fatalf("golden block for %q is not closed", args)
		}
		end += start
		got := runInCopy(t, examples, args)
		want := src[start:end]
		same := timings.ReplaceAllString(got, "Xs") == timings.ReplaceAllString(want, "Xs")
		if same {
			got = want // -update keeps the timings of a quiet machine
		}
		if !*update && !same {
			t.Errorf("README.md shows for 'bayesl %s':\n%s\nthe command prints:\n%s\n(go test ./cmd/bayesl -run TestREADMEOutput -update rewrites it)", strings.Join(args, " "), want, got)
		}
		out.WriteString(src[last:start])
		out.WriteString(got)
		last = end
	}
	out.WriteString(src[last:])
	if *update && out.String() != src {
		if err := os.WriteFile(readme, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runInCopy runs bayesl with args from a directory holding a copy of
// examples' scripts and data, so the files the run writes stay out of the
// repository, and returns what it printed on stdout.
func runInCopy(t *testing.T, examples string, args []string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "examples", "data"), os.DirFS(filepath.Join(examples, "data"))); err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob(filepath.Join(examples, "*.bl"))
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "examples", filepath.Base(s)), b, 0o644)
	}
	t.Chdir(root)
	var stdout, stderr strings.Builder
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("bayesl %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}
