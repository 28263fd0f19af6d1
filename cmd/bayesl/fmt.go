package main

import (
	"bytes"
	"io"

	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/tensorio"
)

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", "fmt [-w] FILE", stderr)
	write := fs.Bool("w", false, "write the result back to FILE instead of stdout")
	file, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	src, code := readOrReport(file, stderr)
	if code != exitOK {
		return code
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
	// Atomically, keeping the script's mode (CreateTemp's 0600 would
	// have made a shared script private).
	err = tensorio.WriteAtomic(file, func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	})
	if err != nil {
		stderrf(stderr, "bayesl fmt: %v\n", err)
		return exitRuntime
	}
	return exitOK
}
