package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cited matches a Markdown file named in Go source: docs/algorithms.md,
// README.md, examples/data/SOURCES.md.
var cited = regexp.MustCompile(`[A-Za-z0-9_./-]+\.md\b`)

// TestCitedDocsExist: every Markdown file the Go code names lives in the
// repository (comments once cited design notes that were not in it). A
// name is found from the repository root, from the citing file's
// directory, or, bare, anywhere in the repository; summary.md is what the
// speed harness writes.
func TestCitedDocsExist(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{"summary.md": true}
	var sources []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "out") {
			return filepath.SkipDir
		}
		switch filepath.Ext(p) {
		case ".md":
			rel, _ := filepath.Rel(root, p)
			have[filepath.ToSlash(rel)] = true
			have[d.Name()] = true
		case ".go":
			sources = append(sources, p)
		}
		return nil
	})
	for _, p := range sources {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, name := range cited.FindAllString(line, -1) {
				rel, _ := filepath.Rel(root, filepath.Join(filepath.Dir(p), name))
				if have[name] || have[filepath.ToSlash(rel)] {
					continue
				}
				r, _ := filepath.Rel(root, p)
				t.Errorf("%s:%d cites %s, which is not in the repository", r, i+1, name)
			}
		}
	}
}
