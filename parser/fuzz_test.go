package parser

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bayesl/bayesl/parser/source"
)

// FuzzParse checks that Parse never panics and that every error it returns
// is a positioned source.List whose spans lie inside the input.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.bl")
	more, _ := filepath.Glob("testdata/*.bl")
	for _, name := range append(files, more...) {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("model m(x: 1) { y ~ normal(dense(x, 1)[0], 1) }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := Parse("fuzz.bl", src)
		if err == nil {
			return
		}
		var list source.List
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not a source.List: %v", err)
		}
		for _, e := range list {
			if e.File == nil || e.Span.Start.Line < 1 || e.Span.Start.Offset > len(src) {
				t.Fatalf("error outside the file: %v (span %+v, len %d)", e, e.Span, len(src))
			}
		}
	})
}
