// Command bayesl runs bayesl model scripts.
//
// Usage:
//
//	bayesl run [flags] FILE     run a script: fit, evaluate, predict, save
//	bayesl check FILE           parse and check a script without running it
//	bayesl repl [flags]         an interactive session
//	bayesl fmt [-w] FILE        print a script in canonical form
//	bayesl version              print the version
//
// Exit codes: 0 success; 1 a data or runtime error (a missing or malformed
// file, a diverging fit); 2 a usage, syntax or check error.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set by the release build; a development build says "devel".
var version = "devel"

const usage = `bayesl: Bayesian neural networks from short scripts.

Usage:
  bayesl run [flags] FILE     run a script: fit, evaluate, predict, save
  bayesl check FILE           parse and check a script without running it
  bayesl version              print the version

Run 'bayesl COMMAND --help' for the flags of a command.

Exit codes:
  0  success
  1  data or runtime error (missing or malformed file, NaN in data, diverging fit)
  2  usage, syntax or check error
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

func stderrf(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format, args...) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "repl":
		return cmdREPL(args[1:], stdout, stderr)
	case "fmt":
		return cmdFmt(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "bayesl %s\n", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "bayesl: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
