// Command bayesl runs bayesl model scripts.
//
// Usage:
//
//	bayesl run [flags] FILE     run a script: fit, evaluate, predict, plot, save
//	bayesl check FILE           parse and check a script without running it
//	bayesl repl [flags]         an interactive session
//	bayesl fmt [-w] FILE        print a script in canonical form
//	bayesl predict POST DATA    predict at a CSV file's rows from a saved posterior
//	bayesl version              print the version
//
// 'bayesl --help' lists every command from the table in this file.
//
// Exit codes: 0 success; 1 a data or runtime error (a missing or malformed
// file, a diverging fit); 2 a usage, syntax or check error; 130 interrupted
// (Ctrl-C).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set by the release build; a development build says "devel".
var version = "devel"

// command is one subcommand. The usage text is built from the table, so a
// command cannot be missing from 'bayesl --help'.
type command struct {
	name     string
	synopsis string // what follows "bayesl " in the usage line
	summary  string
	run      func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order --help shows them; a command
// in its own file adds itself with register from an init function.
var commands = []command{
	{"run", "run [flags] FILE", "run a script: fit, evaluate, predict, plot, save", cmdRun},
	{"check", "check FILE", "parse and check a script without running it", cmdCheck},
	{"repl", "repl [flags]", "an interactive session", cmdREPL},
	{"fmt", "fmt [-w] FILE", "print a script in canonical form", cmdFmt},
	{"version", "version", "print the version", cmdVersion},
}

// register adds a command before "version", which stays last.
func register(c command) {
	last := commands[len(commands)-1]
	commands = append(commands[:len(commands)-1], c, last)
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage() string {
	var b strings.Builder
	b.WriteString("bayesl: Bayesian neural networks from short scripts.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  bayesl %-22s %s\n", c.synopsis, c.summary)
	}
	b.WriteString(`
Run 'bayesl COMMAND --help' for the flags of a command.

Exit codes:
  0    success
  1    data or runtime error (missing or malformed file, NaN in data, diverging fit)
  2    usage, syntax or check error
  130  interrupted (Ctrl-C)
`)
	return b.String()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
	// exitInterrupt is the shell's code for a process ended by SIGINT
	// (128 + 2), so scripts calling bayesl can tell Ctrl-C from a failure.
	exitInterrupt = 130
)

func stderrf(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format, args...) }

func cmdVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "bayesl %s\n", version)
	return exitOK
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "bayesl: unknown command %q\n\n%s", args[0], usage())
	return exitUsage
}
