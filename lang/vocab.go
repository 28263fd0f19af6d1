package lang

import (
	"bufio"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/ir"
)

// checkConfig is what the session's checker may ask of the runtime: its
// backends with their settings, and a look at the data files' headers, so
// check refuses a bad setting or column before any statement runs.
func (s *Session) checkConfig() *ir.Config {
	c := checkConfig(s.methods)
	c.Files = sessionFiles{s}
	return c
}

// checkConfig lets the checker see the backends of r and validate their
// settings.
func checkConfig(r infer.Registry) *ir.Config {
	return &ir.Config{Methods: methods{r}}
}

// methods is infer's registry as the checker's ir.Methods.
type methods struct{ r infer.Registry }

func (m methods) Names() []string { return m.r.Names() }

// CheckSettings builds the method as fit would and reports what it
// refuses: the index of the offending setting (-1 when none is) and the
// message.
func (m methods) CheckSettings(method string, args []ir.Arg) (int, string) {
	_, err := m.r.New(method, inferArgs(args))
	return settingError(err)
}

func inferArgs(args []ir.Arg) []infer.Arg {
	in := make([]infer.Arg, len(args))
	for i, a := range args {
		in[i] = inferArg(a)
	}
	return in
}

// settingError splits a registry's refusal into the index of the offending
// setting (-1 when none is) and the message; "" when err is nil.
func settingError(err error) (int, string) {
	if err == nil {
		return -1, ""
	}
	var se *infer.SettingError
	if errors.As(err, &se) {
		return se.Index, se.Msg
	}
	return -1, err.Error()
}

// CheckStudent builds the distillation as distill would and reports what
// it refuses, as CheckSettings does.
func (m methods) CheckStudent(form string, args []ir.Arg) (int, string) {
	_, err := infer.NewDistill(form, inferArgs(args))
	return settingError(err)
}

// sessionFiles reads data files' headers for the checker, resolving paths
// as the statements reading them will.
type sessionFiles struct{ s *Session }

// Columns returns the trimmed names of the first record of the CSV file at
// p, as data.ReadCSV reads it (a leading byte order mark skipped).
func (f sessionFiles) Columns(p string) ([]string, error) {
	switch {
	case f.s.cfg.Resolve != nil:
		p = f.s.cfg.Resolve(p, false)
	case !filepath.IsAbs(p) && f.s.cfg.Dir != "":
		p = filepath.Join(f.s.cfg.Dir, p)
	}
	// Only a regular file: reading the header of a pipe (/dev/stdin, a
	// FIFO) would block, or take the lines run is to read.
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	file, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	br := bufio.NewReader(file)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	return header, nil
}
