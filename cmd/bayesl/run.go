package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: bayesl %s\n\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nExit codes: 0 success, 1 data or runtime error, 2 usage, syntax or check error.\n")
	}
	return fs
}

// parseFlags parses flags that may come before or after the file name.
func parseFlags(fs *flag.FlagSet, args []string) (string, int, bool) {
	var file string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", exitOK, false
			}
			return "", exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			fmt.Fprintf(fs.Output(), "bayesl %s: one script at a time\n", fs.Name())
			return "", exitUsage, false
		}
		file, args = fs.Arg(0), fs.Args()[1:]
	}
	if file == "" {
		fs.Usage()
		return "", exitUsage, false
	}
	return file, 0, true
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check FILE", stderr)
	file, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	src, code := readOrReport(file, stderr)
	if code != exitOK {
		return code
	}
	// Paths resolve against the script's folder, as run resolves them, so
	// check reads the headers of the files run will read.
	s := lang.NewSession(&lang.Config{Dir: filepath.Dir(file)})
	if _, err := s.Check(file, src); err != nil {
		source.Print(stderr, err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: ok\n", file)
	return exitOK
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "run [flags] FILE", stderr)
	seed := fs.Uint64("seed", 1, "root seed of every random draw")
	quiet := fs.Bool("q", false, "quiet: no progress bars")
	asJSON := fs.Bool("json", false, "print every result as one JSON document on stdout")
	samples := fs.Int("samples", 100, "posterior draws behind every predictive")
	maxEpochs := fs.Int("max-epochs", 0, "cap every fit at this many epochs (0: as written)")
	file, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	var results []lang.Result
	bars := newProgress(stderr, !*quiet && isTerminal(stderr))
	cfg := &lang.Config{
		Seed:      *seed,
		Dir:       filepath.Dir(file),
		Samples:   *samples,
		MaxEpochs: *maxEpochs,
		Progress:  bars.update,
		Emit: func(r lang.Result) {
			bars.finish()
			if *asJSON {
				results = append(results, r)
				return
			}
			r.Format(stdout)
		},
	}
	var readErr error
	interrupted, err := runInterruptible(func(ctx context.Context) error {
		src, err := readScript(ctx, file)
		if err != nil {
			readErr = err
			return err
		}
		return lang.NewSession(cfg).Run(ctx, file, src)
	})
	bars.finish()
	code = exitOK
	switch {
	case interrupted && err == nil:
		// The signal came as the last statement finished (a final save,
		// say): it completed, and exit 0 says every file is written.
		fmt.Fprintln(stderr, "bayesl: interrupted after the last statement had completed; every file is written")
	case interrupted:
		err = errInterrupted{err}
		fmt.Fprintf(stderr, "%s\n", err)
		code = exitInterrupt
	case readErr != nil:
		fmt.Fprintf(stderr, "bayesl: %v\n", err)
		code = exitRuntime
	case err != nil:
		source.Print(stderr, err)
		code = exitCode(err)
	}
	if *asJSON {
		writeJSON(stdout, results, err)
	}
	return code
}

// interrupts is where runInterruptible hears Ctrl-C; tests replace it.
var interrupts = func() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt)
	return c, func() { signal.Stop(c) }
}

// stopGrace is how long an interrupted statement gets to return before the
// command gives up on it: most statements watch the context (a fit stops
// at its next step), a few block in the operating system (a FIFO's open,
// a device read), and Ctrl-C must end those too within a second.
const stopGrace = 500 * time.Millisecond

// runInterruptible runs f with a context that Ctrl-C cancels. It reports
// whether an interrupt came; when f has not returned stopGrace after it,
// runInterruptible returns without it (the process is about to exit: a
// file being written is left as it was, its temporary removed by the next
// write to that path).
func runInterruptible(f func(context.Context) error) (bool, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig, stop := interrupts()
	defer stop()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		select {
		case <-sig: // came while f was returning
			return true, err
		default:
			return false, err
		}
	case <-sig:
	}
	cancel()
	select {
	case err := <-done:
		return true, err
	case <-sig: // a second Ctrl-C: do not wait
	case <-time.After(stopGrace):
	}
	return true, context.Canceled
}

// errInterrupted is how an interrupted run ends: the statement that was
// running did not complete (nothing it would have written is written),
// every statement before it did.
type errInterrupted struct{ err error }

func (e errInterrupted) Error() string {
	var se *source.Error
	var list source.List
	if errors.As(e.err, &list) && len(list) > 0 {
		se = list[0]
	}
	if se != nil || errors.As(e.err, &se) {
		if se.File != nil {
			p := se.Span.Start
			return fmt.Sprintf("%s:%d:%d: interrupted; every statement before this one completed", se.File.Name, p.Line, p.Col)
		}
	}
	return "bayesl: interrupted"
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var list source.List
	var e *source.Error
	switch {
	case errors.As(err, &list) && len(list) > 0:
		e = list[0]
	case errors.As(err, &e):
	default:
		return exitRuntime
	}
	switch e.Kind {
	case source.Syntax, source.Name, source.Type, source.Shape:
		return exitUsage
	}
	return exitRuntime
}

type jsonError struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	Kind string `json:"kind"`
	Msg  string `json:"message"`
}

func writeJSON(w io.Writer, results []lang.Result, err error) {
	doc := struct {
		Results []lang.Result `json:"results"`
		Errors  []jsonError   `json:"errors,omitempty"`
	}{Results: results}
	if doc.Results == nil {
		doc.Results = []lang.Result{}
	}
	if err != nil {
		var list source.List
		var e *source.Error
		var ie errInterrupted
		switch {
		case errors.As(err, &ie):
			doc.Errors = append(doc.Errors, jsonError{Kind: "interrupted", Msg: ie.Error()})
		case errors.As(err, &list):
		case errors.As(err, &e):
			list = source.List{e}
		default:
			doc.Errors = append(doc.Errors, jsonError{Kind: "error", Msg: err.Error()})
		}
		for _, e := range list {
			je := jsonError{Kind: e.Kind.String(), Msg: e.Msg, Line: e.Span.Start.Line, Col: e.Span.Start.Col}
			if e.File != nil {
				je.File = e.File.Name
			}
			doc.Errors = append(doc.Errors, je)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		fmt.Fprintf(w, "{\"errors\": [{\"kind\": \"error\", \"message\": %q}]}\n", err.Error())
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws one bar per fit on stderr from the session's progress
// reports; it draws nothing when disabled.
type progress struct {
	w       io.Writer
	enabled bool
	name    string
	bar     *progressbar.ProgressBar
}

func newProgress(w io.Writer, enabled bool) *progress {
	return &progress{w: w, enabled: enabled}
}

func (p *progress) update(name string, pr lang.Progress) {
	if !p.enabled {
		return
	}
	if p.bar == nil || p.name != name {
		p.finish()
		p.name = name
		p.bar = progressbar.NewOptions(pr.Epochs,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("fit %s (%s)", name, pr.Method)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100e6),
		)
	}
	p.bar.Describe(fmt.Sprintf("fit %s (%s) loss %.4g", name, pr.Method, pr.Loss))
	p.bar.Set(pr.Epoch)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
		p.name = ""
	}
}
