package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An impl is one side of the comparison: a bayesl binary (pure-Go or
// OpenBLAS build) or the PyTorch script.
type impl struct {
	Name string // "bayesl-go", "bayesl-openblas", "pytorch"
	cmd  func(c benchCase) []string
}

// A benchCase is one row of the comparison: a data set and model, a
// backend (or the predictive), and its size.
type benchCase struct {
	Group   string // "main", "width" or "rows"
	Case    string // mcycle, digits, mnist, predict
	Backend string // a backends entry, or "predict"
	Epochs  int
	Rows    int // 0: the case's own
	Width   int // 0: the case's own
	Torch   string
}

func (c benchCase) key() string {
	return fmt.Sprintf("%s/%s/%s/w%d/n%d", c.Group, c.Case, c.Backend, c.Width, c.Rows)
}

type driveFlags struct {
	quick          bool
	reps           int
	scalingReps    int
	threads        int
	out            string
	goBin, obBin   string
	python, script string
	dataDir        string
	only           string
	scaling        bool
	timeout        time.Duration
}

// runDrive runs every case with every implementation, alternating them,
// and writes results.json, summary.md, scaling.csv and scaling.png.
func runDrive(args []string) error {
	var f driveFlags
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	fs.BoolVar(&f.quick, "quick", false, "smoke test: tiny sizes, one repetition, results to a temporary directory")
	fs.IntVar(&f.reps, "reps", 5, "repetitions of every main case and implementation")
	fs.IntVar(&f.scalingReps, "scaling-reps", 3, "repetitions of every point of the sweeps")
	fs.IntVar(&f.threads, "threads", 2, "threads on both sides: GOMAXPROCS and OPENBLAS_NUM_THREADS")
	fs.StringVar(&f.out, "out", "examples/bench/results", "output directory")
	fs.StringVar(&f.goBin, "go", "", "bayesl bench binary, pure-Go build (required)")
	fs.StringVar(&f.obBin, "openblas", "", "bayesl bench binary built with -tags openblas (optional)")
	fs.StringVar(&f.python, "python", "/usr/bin/python3", "the Python that has torch (empty: no PyTorch runs)")
	fs.StringVar(&f.script, "script", "examples/bench/torch_bench.py", "the PyTorch side")
	fs.StringVar(&f.dataDir, "data", "examples/data", "directory of mcycle.csv and digits.csv")
	fs.StringVar(&f.only, "only", "", "comma-separated case names or groups to run (default all)")
	fs.BoolVar(&f.scaling, "scaling", true, "run the width and data-size sweeps")
	fs.DurationVar(&f.timeout, "timeout", 20*time.Minute, "limit of one run")
	fs.Parse(args)
	if f.goBin == "" {
		return fmt.Errorf("drive: -go is required")
	}
	if f.quick {
		f.reps, f.scalingReps = 1, 1
		if !flagSet(fs, "out") {
			f.out = filepath.Join(os.TempDir(), "bayesl-bench-quick")
		}
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}

	impls := f.impls()
	cases := f.cases()
	env := append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(f.threads), "OPENBLAS_NUM_THREADS="+strconv.Itoa(f.threads))
	start := time.Now()
	res := &results{
		Machine: machineInfo(),
		Settings: map[string]any{
			"threads": f.threads, "reps": f.reps, "scaling_reps": f.scalingReps, "quick": f.quick,
			"bayesl":  fmt.Sprintf("GOMAXPROCS=%d; OpenBLAS build: OPENBLAS_NUM_THREADS=%d; training runs on one goroutine, Predict splits its products over GOMAXPROCS goroutines in the pure-Go build", f.threads, f.threads),
			"pytorch": fmt.Sprintf("torch.set_num_threads(1) (its intra-op pool), OPENBLAS_NUM_THREADS=%d (its BLAS); float64", f.threads),
		},
		Started: start.UTC().Format(time.RFC3339),
	}
	res.Machine["load_start"] = loadAvg()

	reps := func(c benchCase) int {
		if c.Group == "main" {
			return f.reps
		}
		return f.scalingReps
	}
	total := 0
	for _, c := range cases {
		total += reps(c) * len(implsFor(impls, c))
	}
	done := 0
	for _, c := range cases {
		im := implsFor(impls, c)
		for rep := range reps(c) {
			// Rotate the order every repetition so that no side always runs
			// first (or always right after the other's heavy case).
			for j := range im {
				it := im[(j+rep)%len(im)]
				done++
				fmt.Fprintf(os.Stderr, "[%d/%d] %-16s %s rep %d ... ", done, total, it.Name, c.key(), rep+1)
				rec, err := f.runOne(it, c, env)
				if err != nil {
					fmt.Fprintln(os.Stderr, "FAILED")
					return fmt.Errorf("%s %s: %w", it.Name, c.key(), err)
				}
				fmt.Fprintf(os.Stderr, "%.4g s, %.0f MB\n", rec.perEpoch(), rec.PeakRSSMB)
				res.Runs = append(res.Runs, run{Impl: it.Name, Key: c.key(), Case: c, Rep: rep, Record: rec, Load: loadAvg()})
			}
		}
	}
	res.Machine["load_end"] = loadAvg()
	res.Finished = time.Now().UTC().Format(time.RFC3339)
	res.summarise(impls, cases)
	res.compact()

	if err := writeJSON(filepath.Join(f.out, "results.json"), res); err != nil {
		return err
	}
	md := res.markdown()
	if err := os.WriteFile(filepath.Join(f.out, "summary.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	if f.scaling {
		if err := res.writeScaling(filepath.Join(f.out, "scaling.csv")); err != nil {
			return err
		}
		if err := plotScaling(res, filepath.Join(f.out, "scaling.png")); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%s)\n", f.out, time.Since(start).Round(time.Second))
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

func (f *driveFlags) impls() []impl {
	goCmd := func(bin string) func(c benchCase) []string {
		return func(c benchCase) []string {
			return []string{bin, "case", "-case", c.Case, "-backend", c.Backend, "-epochs", strconv.Itoa(c.Epochs),
				"-rows", strconv.Itoa(c.Rows), "-width", strconv.Itoa(c.Width), "-data", f.dataDir}
		}
	}
	out := []impl{{Name: "bayesl-go", cmd: goCmd(f.goBin)}}
	if f.obBin != "" {
		out = append(out, impl{Name: "bayesl-openblas", cmd: goCmd(f.obBin)})
	}
	if f.python != "" {
		out = append(out, impl{Name: "pytorch", cmd: func(c benchCase) []string {
			return []string{f.python, f.script, "--case", c.Case, "--backend", c.Torch, "--epochs", strconv.Itoa(c.Epochs),
				"--rows", strconv.Itoa(c.Rows), "--width", strconv.Itoa(c.Width), "--threads", "1"}
		}})
	}
	return out
}

// implsFor drops PyTorch for backends it has no loop for.
func implsFor(all []impl, c benchCase) []impl {
	if c.Torch != "" {
		return all
	}
	return slices.DeleteFunc(slices.Clone(all), func(i impl) bool { return i.Name == "pytorch" })
}

// cases lists the comparison. Epoch counts are chosen so that a run's
// steady-state part lasts well over the timer's resolution and the
// scheduler's noise: hundreds of one-step mcycle epochs, dozens of digits
// epochs, two MNIST-size epochs (the second is measured).
func (f *driveFlags) cases() []benchCase {
	q := f.quick
	pick := func(full, quick int) int {
		if q {
			return quick
		}
		return full
	}
	var out []benchCase
	for _, b := range backends {
		// The backends timed whole run several chains or members: their
		// MNIST-size case takes 10 000 rows to keep the run under an hour
		// (the rows sweep shows the time per row does not depend on N).
		rows := pick(0, 3000)
		if b.Whole {
			rows = pick(10000, 3000)
		}
		out = append(out,
			benchCase{Group: "main", Case: "mcycle", Backend: b.Name, Torch: b.Torch, Epochs: pick(300, 20)},
			benchCase{Group: "main", Case: "digits", Backend: b.Name, Torch: b.Torch, Epochs: pick(30, 3)},
			benchCase{Group: "main", Case: "mnist", Backend: b.Name, Torch: b.Torch, Epochs: 2, Rows: rows},
		)
	}
	for _, b := range predictives {
		out = append(out, benchCase{Group: "main", Case: "predict", Backend: b, Torch: b, Rows: pick(0, 1000)})
	}
	if f.scaling {
		widths := []int{64, 128, 256, 512, 1024}
		rows := []int{2000, 5000, 10000, 20000, 60000}
		wRows := 10000
		if q {
			widths, rows, wRows = []int{64, 256}, []int{1000, 2000}, 1000
		}
		for _, w := range widths {
			out = append(out, benchCase{Group: "width", Case: "mnist", Backend: "map", Torch: "map", Epochs: 2, Rows: wRows, Width: w})
		}
		for _, n := range rows {
			out = append(out, benchCase{Group: "rows", Case: "mnist", Backend: "map", Torch: "map", Epochs: max(2, 20000/n), Rows: n, Width: 256})
		}
	}
	if f.only != "" {
		keep := strings.Split(f.only, ",")
		out = slices.DeleteFunc(out, func(c benchCase) bool {
			return !slices.Contains(keep, c.Case) && !slices.Contains(keep, c.Group) && !slices.Contains(keep, c.Backend)
		})
	}
	return out
}

// runOne runs one process and parses the record on the last line of its
// standard output.
func (f *driveFlags) runOne(it impl, c benchCase, env []string) (*record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	argv := it.cmd(c)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 5))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var rec record
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		return nil, fmt.Errorf("bad record %q: %v", lines[len(lines)-1], err)
	}
	if b, ok := backendNamed(c.Backend); ok {
		rec.Whole = b.Whole
	}
	return &rec, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

type run struct {
	Impl   string    `json:"impl"`
	Key    string    `json:"key"`
	Case   benchCase `json:"case"`
	Rep    int       `json:"rep"`
	Load   string    `json:"loadavg"`
	Record *record   `json:"record"`
}

// stat summarises the repetitions of one implementation on one case.
type stat struct {
	N         int     `json:"n"`
	Median    float64 `json:"median_s"`
	Min       float64 `json:"min_s"`
	Max       float64 `json:"max_s"`
	Spread    float64 `json:"spread"` // (max - min) / median
	PeakRSSMB float64 `json:"peak_rss_mb"`
	CPU       float64 `json:"median_cpu_s,omitempty"` // process CPU time per epoch, all threads
}

type row struct {
	Case    benchCase          `json:"case"`
	Stats   map[string]stat    `json:"stats"`   // by impl
	Ratios  map[string]float64 `json:"ratios"`  // bayesl-* median / pytorch median
	Targets map[string]string  `json:"targets"` // by impl: "met (≤ x)" or "missed (≤ x)"
}

type results struct {
	Machine  map[string]string `json:"machine"`
	Settings map[string]any    `json:"settings"`
	Started  string            `json:"started"`
	Finished string            `json:"finished"`
	Rows     []row             `json:"summary"`
	Runs     []run             `json:"runs"`
}

func (r *results) compact() {
	for _, x := range r.Runs {
		x.Record.compact()
	}
}

func (r *results) summarise(impls []impl, cases []benchCase) {
	for _, c := range cases {
		rw := row{Case: c, Stats: map[string]stat{}, Ratios: map[string]float64{}, Targets: map[string]string{}}
		for _, it := range impls {
			var t, rss, cpu []float64
			for _, x := range r.Runs {
				if x.Impl == it.Name && x.Key == c.key() {
					t = append(t, x.Record.perEpoch())
					rss = append(rss, x.Record.PeakRSSMB)
					cpu = append(cpu, x.Record.cpuPerEpoch())
				}
			}
			if len(t) == 0 {
				continue
			}
			s := stat{N: len(t), Median: median(t), Min: slices.Min(t), Max: slices.Max(t), PeakRSSMB: median(rss), CPU: median(cpu)}
			s.Spread = (s.Max - s.Min) / s.Median
			rw.Stats[it.Name] = s
		}
		if pt, ok := rw.Stats["pytorch"]; ok {
			for name, s := range rw.Stats {
				if name != "pytorch" {
					rw.Ratios[name] = s.Median / pt.Median
				}
			}
		}
		if c.Group == "main" {
			for name, ratio := range rw.Ratios {
				bound, applies := target(c, name)
				if !applies {
					continue
				}
				verdict := "met"
				if ratio > bound {
					verdict = "missed"
				}
				rw.Targets[name] = fmt.Sprintf("%s (ratio %.2f, target ≤ %.2f)", verdict, ratio, bound)
			}
		}
		r.Rows = append(r.Rows, rw)
	}
}

// target is the bound on the bayesl/PyTorch time ratio: small nets
// at least 3x faster in both builds; the MNIST-size MLP and the predictive
// no slower in the fast (OpenBLAS) build; K-FAC and the GLM predictive no
// slower in either build (issue 12).
func target(c benchCase, implName string) (float64, bool) {
	switch {
	case c.Case == "mcycle" || c.Case == "digits":
		return 1.0 / 3, true
	case c.Backend == "laplace_kron" || c.Backend == "predict_glm":
		return 1, true
	case c.Case == "mnist" || c.Case == "predict":
		return 1, implName == "bayesl-openblas"
	}
	return 0, false
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// markdown is the table of the main cases, for the README.
func (r *results) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%s cores, %s), Go %s, PyTorch %s; load average %s at the start, %s at the end.\n\n",
		r.Started[:10], r.Machine["cpu"], r.Machine["cores"], r.Machine["kernel"], r.Machine["go"], r.torchVersion(), r.Machine["load_start"], r.Machine["load_end"])
	fmt.Fprintf(&b, "| case | backend | bayesl pure Go | bayesl OpenBLAS | PyTorch | Go / PyTorch | OpenBLAS / PyTorch | CPU time, Go / PyTorch | peak RSS MB (Go / OpenBLAS / PyTorch) | spread (max-min)/median |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n")
	for _, rw := range r.Rows {
		if rw.Case.Group != "main" {
			continue
		}
		g, o, p := rw.Stats["bayesl-go"], rw.Stats["bayesl-openblas"], rw.Stats["pytorch"]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s |\n",
			caseLabel(rw.Case), rw.Case.Backend, dur(g), dur(o), dur(p),
			ratio(rw.Ratios, "bayesl-go"), ratio(rw.Ratios, "bayesl-openblas"), cpuRatio(g, p),
			mb(g), mb(o), mb(p), pct(g), pct(o), pct(p))
	}
	b.WriteString("\nTimes are medians over the repetitions of one epoch: for map and vi one steady-state epoch; for the other backends " +
		"the whole fit (every chain or member, SWAG's collection, Laplace's curvature and prior tuning) divided by its epochs, " +
		"with chains and members on both cores in bayesl and one after another in PyTorch; the predictives: the whole 30-draw predictive " +
		"with its NLL over all rows (per test row: divide by the rows). " +
		"CPU time is per epoch over all threads (PyTorch's includes OpenBLAS threads spinning while they wait).\n")
	var tg []string
	for _, rw := range r.Rows {
		for _, name := range []string{"bayesl-go", "bayesl-openblas"} {
			if t, ok := rw.Targets[name]; ok {
				tg = append(tg, fmt.Sprintf("- %s %s, %s: %s", caseLabel(rw.Case), rw.Case.Backend, name, t))
			}
		}
	}
	if len(tg) > 0 {
		b.WriteString("\nTargets:\n\n" + strings.Join(tg, "\n") + "\n")
	}
	return b.String()
}

func (r *results) torchVersion() string {
	for _, x := range r.Runs {
		if x.Impl == "pytorch" {
			return x.Record.Version
		}
	}
	return "(not run)"
}

func caseLabel(c benchCase) string {
	switch c.Case {
	case "mcycle":
		return "(a) MLP 1-50-50-1, mcycle"
	case "digits":
		return "(b) MLP 64-128-10, digits"
	case "mnist":
		if c.Rows > 0 {
			return fmt.Sprintf("(c) MLP 784-256-256-10, %d rows", c.Rows)
		}
		return "(c) MLP 784-256-256-10, 60000 rows"
	case "predict":
		what := "predictive"
		if c.Backend == "predict_glm" {
			what = "GLM predictive (kron)"
		}
		return fmt.Sprintf("%s, 30 draws, %d rows", what, or(c.Rows, 10000))
	}
	return c.Case
}

func dur(s stat) string {
	if s.N == 0 {
		return "–"
	}
	switch v := s.Median; {
	case v < 1e-3:
		return fmt.Sprintf("%.0f µs", v*1e6)
	case v < 1:
		return fmt.Sprintf("%.3g ms", v*1e3)
	default:
		return fmt.Sprintf("%.3g s", v)
	}
}

func ratio(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func mb(s stat) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", s.PeakRSSMB)
}

// cpuRatio is the ratio of the medians of CPU time per epoch.
func cpuRatio(a, b stat) string {
	if a.N == 0 || b.N == 0 || a.CPU == 0 || b.CPU == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a.CPU/b.CPU)
}

func pct(s stat) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*s.Spread)
}

// hasSweeps reports whether the results hold width or rows sweep points.
func (r *results) hasSweeps() bool {
	for _, rw := range r.Rows {
		if rw.Case.Group != "main" {
			return true
		}
	}
	return false
}

// writeScaling writes the sweeps as CSV: one line per sweep point and
// implementation.
func (r *results) writeScaling(path string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"sweep", "width", "rows", "impl", "median_s", "min_s", "max_s", "reps", "peak_rss_mb"})
	for _, rw := range r.Rows {
		if rw.Case.Group == "main" {
			continue
		}
		for _, name := range []string{"bayesl-go", "bayesl-openblas", "pytorch"} {
			s, ok := rw.Stats[name]
			if !ok {
				continue
			}
			w.Write([]string{rw.Case.Group, strconv.Itoa(rw.Case.Width), strconv.Itoa(rw.Case.Rows), name,
				g(s.Median), g(s.Min), g(s.Max), strconv.Itoa(s.N), g(s.PeakRSSMB)})
		}
	}
	w.Flush()
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) }

func writeJSON(path string, v any) error {
	blob, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(blob, '\n'), 0o644)
}

func machineInfo() map[string]string {
	m := map[string]string{"cores": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version(), "cpu": "unknown", "kernel": "linux"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
		flags := []string{}
		for _, f := range []string{"avx2", "fma", "avx512f"} {
			if bytes.Contains(b, []byte(" "+f+" ")) {
				flags = append(flags, f)
			}
		}
		m["cpu_flags"] = strings.Join(flags, " ")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if l, _, ok := bytes.Cut(b, []byte("\n")); ok {
			m["memory"] = strings.Join(strings.Fields(string(l))[1:], " ")
		}
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// runReport rewrites summary.md, scaling.csv and scaling.png from a
// results.json, without running anything.
func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", "examples/bench/results", "directory holding results.json")
	fs.Parse(args)
	blob, err := os.ReadFile(filepath.Join(*dir, "results.json"))
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(blob, &res); err != nil {
		return err
	}
	res.compact()
	if err := writeJSON(filepath.Join(*dir, "results.json"), &res); err != nil {
		return err
	}
	md := res.markdown()
	if err := os.WriteFile(filepath.Join(*dir, "summary.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	if !res.hasSweeps() {
		// A run with -scaling=false: the sweep files of an earlier run stay.
		return nil
	}
	if err := res.writeScaling(filepath.Join(*dir, "scaling.csv")); err != nil {
		return err
	}
	return plotScaling(&res, filepath.Join(*dir, "scaling.png"))
}
