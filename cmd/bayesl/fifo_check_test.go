//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// check reads the headers of regular files only: a data file that is a
// FIFO is left to run, instead of blocking check (or taking its lines).
func TestCheckSkipsFIFOHeader(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "p.csv"), 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	script := filepath.Join(dir, "f.bl")
	if err := os.WriteFile(script, []byte("data d = csv(\"p.csv\", x: [a], y: b)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	var out, errb strings.Builder
	go func() { done <- run([]string{"check", script}, &out, &errb) }()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("check exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("check blocked on a FIFO")
	}
}
