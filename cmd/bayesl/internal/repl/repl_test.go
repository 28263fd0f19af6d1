package repl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bayesl/bayesl/lang"
)

// syncBuffer is a bytes.Buffer safe for the REPL goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func dataDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "examples", "data"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func newSession(out io.Writer) *lang.Session {
	return lang.NewSession(&lang.Config{Seed: 1, Emit: func(r lang.Result) { r.Format(out) }})
}

func TestScriptedSession(t *testing.T) {
	dir := t.TempDir()
	input := `data mc = csv("` + dataDir(t) + `/mcycle.csv", x: [times], y: accel, standardize: true)
model net(x: 1) {
  h = dense(x, 8) |> tanh
  y ~ normal(dense(h, 1)[0],
             0.5)
}
mc
h = frob
posterior p = fit net on mc using map(epochs: 30)
:names
:show net
:type p
:nonsense
predict p at [[10], [20]]
:save ` + dir + `/s.bl
`
	var out, errOut syncBuffer
	s := newSession(&out)
	err := Run(Config{Session: s, Stdin: io.NopCloser(strings.NewReader(input)), Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"data mc: 133 rows, 1 features (times)", // a name alone shows its value
		"fitted p: map on 133 rows",
		"net              model", // :names
		"dense0.w",               // :show
		"posterior\n",            // :type
		"predict p (1 posterior draws)",
		"saved the session to",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"<stdin>:1:3: syntax error", "  ^", "unknown command :nonsense"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}

	// The saved script re-creates the session without refitting: its
	// predictions are identical.
	script, err := os.ReadFile(filepath.Join(dir, "s.bl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `posterior p = load("s_p.post")`) {
		t.Fatalf("saved script does not load the posterior:\n%s", script)
	}
	var again bytes.Buffer
	s2 := lang.NewSession(&lang.Config{Seed: 1, Dir: dir, Emit: func(r lang.Result) { r.Format(&again) }})
	if err := s2.Run(context.Background(), "s.bl", script); err != nil {
		t.Fatal(err)
	}
	pred := out.String()[strings.Index(out.String(), "predict p"):]
	pred = pred[:strings.Index(pred, "saved the session")]
	if !strings.Contains(again.String(), pred) {
		t.Errorf("replayed session predicts differently:\n%s\nwant\n%s", again.String(), pred)
	}
}

func TestIncomplete(t *testing.T) {
	for src, want := range map[string]bool{
		"model m(x: 1) {\n":         true,
		"let a = split(d,\n":        true,
		"data d = csv(\"x.csv\")\n": false,
		"posterior p = fit m on\n":  true,
		"let s = \"(\" # ( \n":      false,
		"model m(x: 1) { y ~ n }\n": false,
		"":                          false,
	} {
		if got := incomplete(src); got != want {
			t.Errorf("incomplete(%q) = %v, want %v", src, got, want)
		}
	}
}

// TestInterruptCancelsFit: Ctrl-C during a fit cancels it within a second and
// the session goes on with its names intact.
func TestInterruptCancelsFit(t *testing.T) {
	pr, pw := io.Pipe()
	var out, errOut syncBuffer
	sig := make(chan os.Signal, 1)
	s := newSession(&out)
	done := make(chan error, 1)
	go func() {
		done <- Run(Config{Session: s, Stdin: pr, Stdout: &out, Stderr: &errOut, Interrupts: sig})
	}()
	io.WriteString(pw, `data mc = csv("`+dataDir(t)+`/mcycle.csv", x: [times], y: accel)
model net(x: 1) {
  y ~ normal(dense(dense(x, 64) |> tanh, 1)[0], 1)
}
posterior p = fit net on mc using map(epochs: 100000000)
`)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	sig <- os.Interrupt
	for !strings.Contains(errOut.String(), "interrupted") {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("fit not cancelled within 2s; stderr: %s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancel took %v, want under a second", d)
	}
	io.WriteString(pw, ":names\n:quit\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "mc ") || !strings.Contains(out.String(), "net ") {
		t.Errorf("session lost its names after the interrupt:\n%s", out.String())
	}
	if _, ok := s.TypeOf("p"); ok {
		t.Error("the cancelled fit must not bind p")
	}
}

// TestPaths: the REPL's one rule for relative paths. A path typed at the
// prompt is relative to the working directory; `:load FILE` takes FILE
// relative to the working directory and the paths inside the script
// relative to the script's directory, as `bayesl run FILE` does; `:save`
// rewrites relative paths so the saved script runs from where it is saved.
func TestPaths(t *testing.T) {
	csv, err := os.ReadFile(filepath.Join(dataDir(t), "mcycle.csv"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range []struct{ path, text string }{
		{"proj/data/mc.csv", string(csv)},
		{"proj/fit.bl", `data mc = csv("data/mc.csv", # "data/mc.csv" in a comment stays
  x: [times], y: accel, standardize: true)
model net(x: 1) {
  y ~ normal(dense(dense(x, 4) |> tanh, 1)[0], 1)
}
posterior p = fit net on mc using map(epochs: 20)
save p to "out/p.post"
`},
	} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(root)
	input := `:load proj/fit.bl
:load proj/missing.bl
:load
data again = csv("proj/data/mc.csv", x: [times], y: accel)
posterior q = load("proj/out/p.post")
predict q at [[10]] to "proj/out/pred.csv"
:save sess/s.bl
`
	var out, errOut syncBuffer
	s := newSession(&out)
	if err := Run(Config{Session: s, Stdin: io.NopCloser(strings.NewReader(input)), Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fitted p: map on 133 rows", "saved p to proj/out/p.post", "wrote 1 predictions of q to proj/out/pred.csv", "saved the session to sess/s.bl"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"proj/missing.bl: no such file or directory", ":load needs a file name"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if _, ok := s.TypeOf("again"); !ok {
		t.Errorf("the prompt's path did not resolve against the working directory:\n%s", errOut.String())
	}
	saved, err := os.ReadFile(filepath.Join(root, "sess", "s.bl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`csv("../proj/data/mc.csv", # "data/mc.csv" in a comment stays`, // from the loaded script's directory
		`posterior p = load("s_p.post")`,
		`save p to "../proj/out/p.post"`,
		`data again = csv("../proj/data/mc.csv"`, // from the working directory
		`load("../proj/out/p.post")`,
		`to "../proj/out/pred.csv"`,
	} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved session lacks %q:\n%s", want, saved)
		}
	}

	// The saved session runs from anywhere: from another working
	// directory, loaded by its path, as `bayesl run` would.
	t.Chdir(t.TempDir())
	var again bytes.Buffer
	s2 := lang.NewSession(&lang.Config{Seed: 1, Emit: func(r lang.Result) { r.Format(&again) }})
	if err := s2.RunFile(context.Background(), filepath.Join(root, "sess", "s.bl")); err != nil {
		t.Fatalf("the saved session does not run: %v\n%s", err, saved)
	}
	if !strings.Contains(again.String(), "wrote 1 predictions of q to") {
		t.Errorf("replay:\n%s", again.String())
	}
}

// TestInterruptBlocked: a statement blocked in the operating system (a
// FIFO nobody writes to blocks in open) does not trap the user: Ctrl-C says
// it does not stop, a second Ctrl-C leaves with ErrInterrupted.
func TestInterruptBlocked(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	t.Cleanup(func() { // unblock the abandoned open
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	pr, pw := io.Pipe()
	var out, errOut syncBuffer
	sig := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(Config{Session: newSession(&out), Stdin: pr, Stdout: &out, Stderr: &errOut, Interrupts: sig})
	}()
	io.WriteString(pw, `data d = csv("`+fifo+`", x: [a], y: b)`+"\n")
	time.Sleep(200 * time.Millisecond)
	sig <- os.Interrupt
	start := time.Now()
	for !strings.Contains(errOut.String(), "Ctrl-C again leaves") {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("no word after Ctrl-C; stderr: %s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	sig <- os.Interrupt
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("Run returned %v, want ErrInterrupted", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a second Ctrl-C did not leave")
	}
}
