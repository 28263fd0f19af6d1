package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestREPLOnTerminal drives `bayesl repl` through a pseudo-terminal: the
// prompt, a multi-line block with its continuation prompt, tab completion of
// a session name, and Ctrl-C cancelling a long fit and returning to the
// prompt with the session intact.
func TestREPLOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data, _ := filepath.Abs(filepath.Join("..", "..", "examples", "data", "mcycle.csv"))
	cmd := exec.Command(bin, "repl", "-q", "--history", "")
	cmd.Env = append(os.Environ(), "TERM=dumb")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	waitFor := func(want string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			mu.Lock()
			s := screen.String()
			mu.Unlock()
			if strings.Contains(s, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %q; screen:\n%s", want, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	send := func(s string) { io.WriteString(tty, s) }

	waitFor(">>> ", 10*time.Second)
	send(`data mcycle_data = csv("` + data + `", x: [times], y: accel)` + "\r")
	send("model net(x: 1) {\r")
	waitFor("... ", 5*time.Second)
	send("  y ~ normal(dense(dense(x, 64) |> tanh, 1)[0], 1)\r}\r")
	send("mcycle_d\t\r") // tab completes the name
	waitFor("data mcycle_data: 133 rows", 5*time.Second)
	send("posterior p = fit net on mcycle_data using map(epochs: 100000000)\r")
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	send("\x03") // Ctrl-C
	waitFor("interrupted", 3*time.Second)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Ctrl-C took %v to cancel the fit", d)
	}
	send(":names\r")
	waitFor("net              model", 5*time.Second)
	send("\x04") // Ctrl-D leaves
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("repl exited with %v", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("repl did not exit on Ctrl-D")
	}
}

// buildBinary builds the command for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "bayesl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestSIGINT: a real SIGINT to `bayesl run` during a fit: exit 130 and
// "interrupted" within a second, no "context canceled".
func TestSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data, _ := filepath.Abs(filepath.Join("..", "..", "examples", "data", "mcycle.csv"))
	script := filepath.Join(t.TempDir(), "s.bl")
	os.WriteFile(script, []byte(`data mc = csv("`+data+`", x: [times], y: accel)
model net(x: 1) {
  y ~ normal(dense(dense(x, 64) |> tanh, 1)[0], 1)
}
posterior p = fit net on mc using map(epochs: 100000000)
`), 0o644)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "-q", script)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	took := time.Since(start)
	if cmd.ProcessState.ExitCode() != 130 || !strings.Contains(stderr.String(), "interrupted") || strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("exit %v, stderr:\n%s", err, stderr.String())
	}
	if took > time.Second {
		t.Errorf("took %v after SIGINT", took)
	}
}
