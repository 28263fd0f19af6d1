package main

import (
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"bayesl": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script: exit
// codes, positioned error messages with carets, JSON output, help texts.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

// TestHelpListsEveryCommand: the usage text is built from the command
// table, so every registered command (predict included) shows in --help.
func TestHelpListsEveryCommand(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"--help"}, &out, &errb); code != exitOK {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out.String(), "bayesl "+c.synopsis) {
			t.Errorf("--help does not list %q:\n%s", c.name, out.String())
		}
	}
	for _, want := range []string{"run", "check", "repl", "fmt", "version"} {
		if _, ok := lookup(want); !ok {
			t.Errorf("no command %q", want)
		}
	}
}
