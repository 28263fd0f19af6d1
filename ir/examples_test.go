package ir

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser"
)

// exampleFiles reads CSV headers relative to the examples folder, as a
// session running a script from there does.
type exampleFiles string

func (dir exampleFiles) Columns(p string) ([]string, error) {
	f, err := os.Open(filepath.Join(string(dir), p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header, err := csv.NewReader(f).Read()
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	return header, err
}

// Every bundled example passes check with its data files' headers read:
// the columns it names exist, as the vocabulary's names do.
func TestExamplesCheck(t *testing.T) {
	files, err := filepath.Glob("../examples/*.bl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.Parse(filepath.Base(file), src)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if _, err := Check(f, NewScope(), &Config{Files: exampleFiles("../examples")}); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}
