package ir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

// FuzzCheck checks that the checker never panics on any script that parses,
// and that its errors are positioned inside the file.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.bl")
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	if src, err := os.ReadFile("testdata/errors.bl"); err == nil {
		for _, chunk := range strings.Split(string(src), "\n---\n") {
			f.Add([]byte(chunk))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := parser.Parse("fuzz.bl", src)
		if err != nil {
			return
		}
		_, err = Check(file, NewScope(), &Config{Methods: MethodNames{"map", "vi"}})
		if err == nil {
			return
		}
		var list source.List
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not a source.List: %v", err)
		}
		for _, e := range list {
			if e.Span.Start.Line < 1 || e.Span.Start.Offset > len(src) {
				t.Fatalf("error outside the file: %v", e)
			}
		}
	})
}
