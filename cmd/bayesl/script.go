package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

// maxScript caps what a command reads as a script: a script is text a
// person writes, and a path that is a device (/dev/zero) or a runaway
// pipe must not fill the memory. 64 MiB is far beyond any script.
const maxScript = 64 << 20

// readScript reads the script at path, at most maxScript bytes, checking
// ctx between reads so Ctrl-C stops a slow pipe. (A FIFO nobody writes to
// blocks in open, beyond ctx's reach: runInterruptible's grace period
// covers that.)
func readScript(ctx context.Context, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var src []byte
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := f.Read(buf)
		src = append(src, buf[:n]...)
		if len(src) > maxScript {
			return nil, fmt.Errorf("%s: larger than %d MiB; is it a script?", path, maxScript>>20)
		}
		if err == io.EOF {
			return src, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readOrReport reads a script for check and fmt, which do nothing that
// Ctrl-C need stop after reading: it reports a failure or an interrupt on
// stderr and returns the exit code (0 when src is good).
func readOrReport(file string, stderr io.Writer) ([]byte, int) {
	var src []byte
	interrupted, err := runInterruptible(func(ctx context.Context) (err error) {
		src, err = readScript(ctx, file)
		return err
	})
	switch {
	case interrupted:
		fmt.Fprintln(stderr, "bayesl: interrupted")
		return nil, exitInterrupt
	case err != nil:
		fmt.Fprintf(stderr, "bayesl: %v\n", err)
		return nil, exitRuntime
	}
	return src, exitOK
}
