// Package repl is bayesl's interactive loop: it reads statements (a block
// spans several lines while brackets or a model body are open), runs them in
// one lang.Session, prints results and errors, and keeps going.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/chzyer/readline"
)

// Config sets up a REPL.
type Config struct {
	Session        *lang.Session
	Stdin          io.ReadCloser
	Stdout, Stderr io.Writer
	// HistoryFile is where input history persists ("" for none).
	HistoryFile string
	// Terminal says whether Stdin is an interactive terminal.
	Terminal bool
	// Interrupts delivers Ctrl-C during a running statement; nil means the
	// REPL listens for os.Interrupt itself.
	Interrupts <-chan os.Signal
}

const help = `Statements: data, let, model { ... }, posterior = fit ... using ...,
evaluate, predict, ood, save — the same as in scripts. A block continues
over several lines while a bracket or a model body is open. A name on its
own shows its value. Paths typed at the prompt are relative to the working
directory.

Commands:
  :help          this text
  :load FILE     run a script into the session (its paths are relative
                 to its own directory, as with 'bayesl run FILE')
  :names         list the session's names
  :show NAME     describe a data set, model or posterior
  :type NAME     the type of a name
  :save FILE     write the session as a script that runs from where it is
                 saved (posteriors saved beside it, paths rewritten)
  :quit          leave (also Ctrl-D)
Ctrl-C cancels a running fit and keeps the session; a statement blocked
reading a file (a FIFO) that does not stop: Ctrl-C again leaves (exit 130).
`

// Run reads and executes input until EOF or :quit.
func Run(cfg Config) error {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 ">>> ",
		HistoryFile:            cfg.HistoryFile,
		AutoComplete:           &completer{s: cfg.Session},
		InterruptPrompt:        "^C",
		EOFPrompt:              "",
		Stdin:                  cfg.Stdin,
		Stdout:                 cfg.Stdout,
		Stderr:                 cfg.Stderr,
		FuncIsTerminal:         func() bool { return cfg.Terminal },
		HistorySearchFold:      true,
		DisableAutoSaveHistory: false,
	})
	if err != nil {
		return err
	}
	defer rl.Close()
	r := &repl{cfg: cfg, rl: rl, out: rl.Stdout(), errOut: rl.Stderr()}
	if cfg.Terminal {
		fmt.Fprintln(r.out, "bayesl — :help for help, Ctrl-D to leave")
	}
	return r.loop()
}

type repl struct {
	cfg         Config
	rl          *readline.Instance
	out, errOut io.Writer
	entries     int
	abandoned   bool // left a blocked statement behind: the REPL must end
}

func (r *repl) loop() error {
	var buf strings.Builder
	for {
		if buf.Len() == 0 {
			r.rl.SetPrompt(">>> ")
		} else {
			r.rl.SetPrompt("... ")
		}
		line, err := r.rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			buf.Reset() // Ctrl-C at the prompt drops the pending block
			continue
		case errors.Is(err, io.EOF):
			if buf.Len() > 0 {
				r.exec(buf.String())
			}
			return nil
		case err != nil:
			return err
		}
		if buf.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), ":") {
			quit := r.command(strings.TrimSpace(line))
			if r.abandoned {
				return ErrInterrupted
			}
			if quit {
				return nil
			}
			continue
		}
		buf.WriteString(line)
		buf.WriteString("\n")
		if incomplete(buf.String()) {
			continue
		}
		r.exec(buf.String())
		if r.abandoned {
			return ErrInterrupted
		}
		buf.Reset()
	}
}

// incomplete reports whether src needs more lines: an open bracket or
// brace, or a parse that ran out of input.
func incomplete(src string) bool {
	if strings.TrimSpace(src) == "" {
		return false
	}
	if depth(src) > 0 {
		return true
	}
	_, err := parser.Parse("<stdin>", []byte(src))
	return errors.Is(err, parser.ErrIncomplete)
}

// depth counts open brackets outside strings and comments.
func depth(src string) int {
	d := 0
	inStr, inComment := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inComment:
			if c == '\n' {
				inComment = false
			}
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' || c == '\n' {
				inStr = false
			}
		case c == '#':
			inComment = true
		case c == '"':
			inStr = true
		case c == '(' || c == '[' || c == '{':
			d++
		case c == ')' || c == ']' || c == '}':
			d--
		}
	}
	return d
}

// exec runs one entry with a context that Ctrl-C cancels.
func (r *repl) exec(src string) {
	r.entries++
	r.report(r.interruptible(func(ctx context.Context) error {
		return r.cfg.Session.Run(ctx, "<stdin>", []byte(src))
	}))
}

// ErrInterrupted is Run's error when the user left with Ctrl-C while a
// statement that does not stop (blocked in the operating system, on a FIFO
// or a device) was running.
var ErrInterrupted = errors.New("interrupted")

// stopGrace is how long a cancelled statement gets before the REPL says it
// does not stop and offers to leave.
const stopGrace = 500 * time.Millisecond

// interruptible runs f with a context that Ctrl-C cancels. A statement
// that does not return stopGrace after Ctrl-C is blocked outside the
// context's reach: a second Ctrl-C then leaves the REPL (r.abandoned),
// as the statement holds the session.
func (r *repl) interruptible(f func(context.Context) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := r.cfg.Interrupts
	if sig == nil {
		c := make(chan os.Signal, 2)
		signal.Notify(c, os.Interrupt)
		defer signal.Stop(c)
		sig = c
	}
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-sig:
	}
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
	}
	fmt.Fprintln(r.errOut, "the statement does not stop (blocked reading a file?); Ctrl-C again leaves the REPL")
	select {
	case err := <-done:
		return err
	case <-sig:
		r.abandoned = true
		return ErrInterrupted
	}
}

func (r *repl) report(err error) {
	var se *source.Error
	var list source.List
	switch {
	case err == nil, r.abandoned:
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(r.errOut, "interrupted; the session keeps every value bound before this entry")
	case errors.As(err, &se), errors.As(err, &list):
		source.Print(r.errOut, err)
	default:
		fmt.Fprintln(r.errOut, err)
	}
}

// command runs a :command and reports whether the REPL should stop.
func (r *repl) command(line string) bool {
	name, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	s := r.cfg.Session
	switch name {
	case ":quit", ":q", ":exit":
		return true
	case ":help", ":h":
		fmt.Fprint(r.out, help)
	case ":names":
		for _, n := range s.Names() {
			t, _ := s.TypeOf(n)
			fmt.Fprintf(r.out, "%-16s %s\n", n, t)
		}
	case ":show":
		if _, ok := s.TypeOf(arg); !ok {
			fmt.Fprintf(r.errOut, "no name %q (:names lists them)\n", arg)
			break
		}
		fmt.Fprintln(r.out, s.Describe(arg))
	case ":type":
		t, ok := s.TypeOf(arg)
		if !ok {
			fmt.Fprintf(r.errOut, "no name %q (:names lists them)\n", arg)
			break
		}
		fmt.Fprintln(r.out, t)
	case ":load":
		// FILE is relative to the working directory, the paths inside it
		// to the script's own directory, as with 'bayesl run FILE'.
		if arg == "" {
			fmt.Fprintln(r.errOut, ":load needs a file name")
			break
		}
		r.report(r.interruptible(func(ctx context.Context) error { return s.RunFile(ctx, arg) }))
	case ":save":
		if arg == "" {
			fmt.Fprintln(r.errOut, ":save needs a file name")
			break
		}
		if err := s.SaveScript(arg); err != nil {
			fmt.Fprintf(r.errOut, "%v\n", err)
			break
		}
		fmt.Fprintf(r.out, "saved the session to %s\n", arg)
	default:
		fmt.Fprintf(r.errOut, "unknown command %s (:help lists them)\n", name)
	}
	return false
}

// completer completes keywords, builtins and the session's names.
type completer struct{ s *lang.Session }

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	start := pos
	for start > 0 && isWordRune(line[start-1]) {
		start--
	}
	prefix := string(line[start:pos])
	words := append(c.s.Builtins(), c.s.Names()...)
	if start == 0 && strings.HasPrefix(prefix, ":") {
		words = []string{":help", ":load", ":names", ":show", ":type", ":save", ":quit"}
	} else if start > 0 && line[0] == ':' {
		words = c.s.Names()
	}
	sort.Strings(words)
	var out [][]rune
	seen := map[string]bool{}
	for _, w := range words {
		if strings.HasPrefix(w, prefix) && w != prefix && !seen[w] {
			seen[w] = true
			out = append(out, []rune(w[len(prefix):]))
		}
	}
	return out, len([]rune(prefix))
}

func isWordRune(r rune) bool {
	return r == '_' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// DefaultHistoryFile is $XDG_CONFIG_HOME/bayesl/history (or the home
// directory's .config), created on demand; "" when neither is known.
func DefaultHistoryFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	dir = filepath.Join(dir, "bayesl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	return filepath.Join(dir, "history")
}
