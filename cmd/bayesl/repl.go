package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bayesl/bayesl/cmd/bayesl/internal/repl"
	"github.com/bayesl/bayesl/lang"
)

func cmdREPL(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("repl", "repl [flags]", stderr)
	seed := fs.Uint64("seed", 1, "root seed of every random draw")
	quiet := fs.Bool("q", false, "quiet: no progress bars")
	samples := fs.Int("samples", 100, "posterior draws behind every predictive")
	history := fs.String("history", repl.DefaultHistoryFile(), "history file (empty for none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	term := isTerminal(os.Stdin) && isTerminal(stdout)
	bars := newProgress(stderr, !*quiet && isTerminal(stderr))
	s := lang.NewSession(&lang.Config{
		Seed:     *seed,
		Samples:  *samples,
		Progress: bars.update,
		Emit: func(r lang.Result) {
			bars.finish()
			r.Format(stdout)
		},
	})
	err := repl.Run(repl.Config{
		Session:     s,
		Stdin:       os.Stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		HistoryFile: *history,
		Terminal:    term,
	})
	if errors.Is(err, repl.ErrInterrupted) {
		fmt.Fprintln(stderr, "bayesl: interrupted")
		return exitInterrupt
	}
	if err != nil {
		fmt.Fprintf(stderr, "bayesl repl: %v\n", err)
		return exitRuntime
	}
	return exitOK
}
