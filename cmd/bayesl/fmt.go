package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
)

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", "fmt [-w] FILE", stderr)
	write := fs.Bool("w", false, "write the result back to FILE instead of stdout")
	file, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	src, err := os.ReadFile(file)
	if err != nil {
		stderrf(stderr, "bayesl: %v\n", err)
		return exitRuntime
	}
	f, err := parser.Parse(file, src)
	if err != nil {
		source.Print(stderr, err)
		return exitUsage
	}
	out := parser.Format(f)
	if !*write {
		stdout.Write(out)
		return exitOK
	}
	if bytes.Equal(out, src) {
		return exitOK
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".bayesl-fmt-*")
	if err == nil {
		_, err = tmp.Write(out)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), file)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		stderrf(stderr, "bayesl fmt: %v\n", err)
		return exitRuntime
	}
	return exitOK
}
