package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeInterrupts replaces Ctrl-C with a channel the test sends on.
func fakeInterrupts(t *testing.T) chan os.Signal {
	c := make(chan os.Signal, 2)
	old := interrupts
	interrupts = func() (<-chan os.Signal, func()) { return c, func() {} }
	t.Cleanup(func() { interrupts = old })
	return c
}

// interruptRun runs `bayesl run` on script in a temporary directory with the
// mcycle data beside it, sends Ctrl-C after wait, and returns the exit code,
// stderr and how long the command took to end after the signal.
func interruptRun(t *testing.T, dir, script string, wait time.Duration, args ...string) (int, string, string, time.Duration) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "data", "mcycle.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "mcycle.csv"), data, 0o644)
	file := filepath.Join(dir, "s.bl")
	os.WriteFile(file, []byte(script), 0o644)
	sig := fakeInterrupts(t)
	var out, errb strings.Builder
	done := make(chan int, 1)
	go func() { done <- run(append(append([]string{"run", "-q"}, args...), file), &out, &errb) }()
	time.Sleep(wait)
	start := time.Now()
	sig <- os.Interrupt
	select {
	case code := <-done:
		return code, out.String(), errb.String(), time.Since(start)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not end 5 s after Ctrl-C")
	}
	return 0, "", "", 0
}

// TestInterruptFit: Ctrl-C during a fit ends the run within a second with
// exit 130 and "interrupted" at the statement, never "context canceled",
// and the save after it writes nothing.
func TestInterruptFit(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr, took := interruptRun(t, dir, `data mc = csv("mcycle.csv", x: [times], y: accel)
model net(x: 1) {
  y ~ normal(dense(dense(x, 64) |> tanh, 1)[0], 1)
}
posterior p = fit net on mc using map(epochs: 100000000)
save p to "p.post"
`, 300*time.Millisecond)
	if code != exitInterrupt {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitInterrupt, stderr)
	}
	if !strings.Contains(stderr, "s.bl:5:15: interrupted; every statement before this one completed") || strings.Contains(stderr, "context canceled") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if took > time.Second {
		t.Errorf("took %v after Ctrl-C", took)
	}
	if _, err := os.Stat(filepath.Join(dir, "p.post")); err == nil {
		t.Error("the interrupted run wrote p.post")
	}
}

// TestInterruptJSON: --json reports the interrupt as an error of its own kind.
func TestInterruptJSON(t *testing.T) {
	code, stdout, _, _ := interruptRun(t, t.TempDir(), `data mc = csv("mcycle.csv", x: [times], y: accel)
model net(x: 1) {
  y ~ normal(dense(dense(x, 64) |> tanh, 1)[0], 1)
}
posterior p = fit net on mc using map(epochs: 100000000)
`, 300*time.Millisecond, "--json")
	if code != exitInterrupt || !strings.Contains(stdout, `"kind": "interrupted"`) {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
}

// TestInterruptBlockedRead: a statement blocked in the operating system (a
// FIFO nobody writes to blocks in open) does not hold Ctrl-C up: the
// command ends a second after it.
func TestInterruptBlockedRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	// Unblock the abandoned open when the test ends.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	code, _, stderr, took := interruptRun(t, dir, `data d = csv("`+fifo+`", x: [a], y: b)
`, 200*time.Millisecond)
	if code != exitInterrupt || !strings.Contains(stderr, "interrupted") || strings.Contains(stderr, "context canceled") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if took > stopGrace+500*time.Millisecond {
		t.Errorf("took %v after Ctrl-C", took)
	}
}

// TestInterruptAfterLastStatement: a signal that comes as the last
// statement (a final save) completes leaves its work done, and exit 0 says
// so; one that stops a statement exits 130.
func TestInterruptAfterLastStatement(t *testing.T) {
	sig := fakeInterrupts(t)
	interrupted, err := runInterruptible(func(ctx context.Context) error {
		sig <- os.Interrupt
		time.Sleep(50 * time.Millisecond) // the save finishes, ignoring ctx
		return nil
	})
	if !interrupted || err != nil {
		t.Errorf("interrupted %v, err %v; want true, nil", interrupted, err)
	}
	interrupted, err = runInterruptible(func(ctx context.Context) error {
		sig <- os.Interrupt
		<-ctx.Done()
		return ctx.Err()
	})
	if !interrupted || err == nil {
		t.Errorf("interrupted %v, err %v; want true and an error", interrupted, err)
	}
	interrupted, err = runInterruptible(func(ctx context.Context) error { return nil })
	if interrupted || err != nil {
		t.Errorf("no signal: interrupted %v, err %v", interrupted, err)
	}
}

// TestScriptFromDevice: a script path that is a device does not fill the
// memory: reading stops at maxScript with an error that says why.
func TestScriptFromDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	for _, cmd := range []string{"run", "check", "fmt"} {
		var out, errb strings.Builder
		if code := run([]string{cmd, "/dev/zero"}, &out, &errb); code != exitRuntime || !strings.Contains(errb.String(), "/dev/zero: larger than 64 MiB; is it a script?") {
			t.Errorf("%s /dev/zero: exit %d, stderr %q", cmd, code, errb.String())
		}
	}
}
