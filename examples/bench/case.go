package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/stdlib/metric"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// A backend is an inference method as a script names it. Method is the
// text after `using`, with {epochs}, {batch} and {lr} filled in; Torch names
// the loop of torch_bench.py that does the same work ("" when PyTorch has
// none: the harness then reports bayesl alone). A new backend is one line.
//
// Whole marks backends timed over the whole fit, divided by its epochs:
// those that run several chains or members (bayesl on both cores, PyTorch
// one after another, as the reference code does) or that end with work of
// their own (SWAG's collection, Laplace's curvature). map and vi are timed
// per steady-state epoch.
type backend struct {
	Name, Method, Torch string
	Whole               bool
}

var backends = []backend{
	{"map", "map(epochs: {epochs}, batch: {batch}, lr: {lr})", "map", false},
	{"vi", "vi(epochs: {epochs}, batch: {batch}, lr: {lr})", "vi", false},
	{"swag", "swag(epochs: {epochs}, batch: {batch}, lr: {lr})", "swag", true},
	{"multiswag", "multiswag(members: 3, epochs: {epochs}, batch: {batch}, lr: {lr})", "multiswag", true},
	{"sgld", "sgld(epochs: {epochs}, batch: {batch}, chains: 4)", "sgld", true},
	{"psgld", "psgld(epochs: {epochs}, batch: {batch}, chains: 4)", "psgld", true},
	{"csgmcmc", "csgmcmc(epochs: {epochs}, batch: {batch}, chains: 4, cycles: 2)", "csgmcmc", true},
	{"ensemble", "ensemble(members: 5, kind: plain, method: map(epochs: {epochs}, batch: {batch}, lr: {lr}))", "ensemble", true},
	// laplace_ll is the last layer's full GGN with τ tuned by the evidence
	// over its eigenvalues; laplace_kron the default over every weight on
	// the harness's nets (more than 2000 parameters): K-FAC per dense
	// layer from exact GGN factors, eigendecomposed, the model's prior.
	{"laplace_ll", "laplace(subset: last_layer, hessian: full, prior_precision: optimize, epochs: {epochs}, batch: {batch}, lr: {lr})", "laplace_ll", true},
	{"laplace_kron", "laplace(subset: all, hessian: kron, epochs: {epochs}, batch: {batch}, lr: {lr})", "laplace_kron", true},
}

// predictives are the backends of the predict case: "predict" draws 30
// weight vectors of a VI posterior through the network; "predict_glm" is a
// kron Laplace's linearised (GLM) predictive, 30 draws of the logits from
// N(f(x, θ_MAP), J Σ Jᵀ) per row, J Σ Jᵀ from the layers' Jacobians.
var predictives = []string{"predict", "predict_glm"}

func backendNamed(name string) (backend, bool) {
	for _, b := range backends {
		if b.Name == name {
			return b, true
		}
	}
	return backend{}, false
}

// record is what one process reports about one run of one case; the Python
// side prints the same fields.
type record struct {
	Impl      string         `json:"impl"`           // "bayesl" or "pytorch"
	BLAS      string         `json:"blas,omitempty"` // bayesl: "gonum" or "openblas"
	Case      string         `json:"case"`
	Backend   string         `json:"backend"`
	Rows      int            `json:"rows"`
	Widths    []int          `json:"widths"`
	Batch     int            `json:"batch"`
	Epochs    int            `json:"epochs,omitempty"`
	Samples   int            `json:"samples,omitempty"`
	EpochEnd  []float64      `json:"epoch_end_s,omitempty"` // seconds from the fit's start to the end of each epoch
	EpochCPU  []float64      `json:"epoch_cpu_s,omitempty"` // process CPU seconds (all threads) at the end of each epoch
	Seconds   float64        `json:"seconds"`               // the whole fit, or the predictive
	CPUS      float64        `json:"cpu_s,omitempty"`       // process CPU seconds (all threads) of the whole fit
	Whole     bool           `json:"whole_fit,omitempty"`   // perEpoch is Seconds/Epochs (see backend.Whole)
	PerEpochS float64        `json:"per_epoch_s,omitempty"` // perEpoch, kept when the stamps are dropped
	CPUEpochS float64        `json:"cpu_per_epoch_s,omitempty"`
	FirstS    float64        `json:"first_epoch_s,omitempty"`
	PeakRSSMB float64        `json:"peak_rss_mb"`
	Threads   map[string]any `json:"threads"`
	Version   string         `json:"version,omitempty"`
}

// cpuPerEpoch is perEpoch in process CPU time (all threads), or 0 when
// the record has none. For a single-threaded run, wall/CPU above 1 is time
// the process waited for a core.
func (r *record) cpuPerEpoch() float64 {
	if r.CPUEpochS > 0 {
		return r.CPUEpochS
	}
	if r.Whole && r.Epochs > 0 {
		return r.CPUS / float64(r.Epochs)
	}
	if n := len(r.EpochCPU); n >= 2 {
		return (r.EpochCPU[n-1] - r.EpochCPU[0]) / float64(n-1)
	}
	return 0
}

// perEpoch is the steady-state time of one epoch: the time from the end of
// the first epoch to the end of the last, per epoch (the first epoch also
// pays for workspaces, and PyTorch's for its allocator's warm-up). With one
// epoch it is that epoch. A predictive reports its whole time, and a
// backend timed whole (backend.Whole) its fit over its epochs.
func (r *record) perEpoch() float64 {
	if r.PerEpochS > 0 {
		return r.PerEpochS
	}
	if r.Whole && r.Epochs > 0 {
		return r.Seconds / float64(r.Epochs)
	}
	switch n := len(r.EpochEnd); {
	case n >= 2:
		return (r.EpochEnd[n-1] - r.EpochEnd[0]) / float64(n-1)
	case n == 1:
		return r.EpochEnd[0]
	}
	return r.Seconds
}

type caseFlags struct {
	name, backend, dataDir, cpuProfile string
	epochs, batch, width, rows         int
	samples                            int
	lr                                 float64
	seed                               uint64
}

// runCase runs one case once in this process and prints its record.
func runCase(args []string) error {
	var f caseFlags
	fs := flag.NewFlagSet("case", flag.ExitOnError)
	fs.StringVar(&f.name, "case", "", "mcycle | digits | mnist | predict")
	fs.StringVar(&f.backend, "backend", "map", "backend name (see the backends table)")
	fs.StringVar(&f.dataDir, "data", "examples/data", "directory of mcycle.csv and digits.csv")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part to this file")
	fs.IntVar(&f.epochs, "epochs", 3, "epochs")
	fs.IntVar(&f.batch, "batch", 128, "minibatch rows")
	fs.IntVar(&f.width, "width", 0, "hidden width (0: the case's own)")
	fs.IntVar(&f.rows, "rows", 0, "rows of the random data sets (0: the case's own)")
	fs.IntVar(&f.samples, "samples", 30, "posterior draws of the predictive")
	fs.Float64Var(&f.lr, "lr", 1e-3, "learning rate")
	fs.Uint64Var(&f.seed, "seed", 1, "seed")
	fs.Parse(args)

	rec, err := f.run()
	if err != nil {
		return err
	}
	rec.PeakRSSMB = peakRSSMB()
	return json.NewEncoder(os.Stdout).Encode(rec)
}

func (f *caseFlags) run() (*record, error) {
	ctx := context.Background()
	rec := &record{Impl: "bayesl", BLAS: blasName(), Case: f.name, Backend: f.backend, Batch: f.batch,
		Threads: map[string]any{"gomaxprocs": runtime.GOMAXPROCS(0), "openblas": os.Getenv("OPENBLAS_NUM_THREADS")},
		Version: runtime.Version()}
	var epochEnd, epochCPU []float64
	s := lang.NewSession(&lang.Config{Seed: f.seed, Dir: f.dataDir,
		Progress: func(_ string, p lang.Progress) {
			epochEnd = append(epochEnd, p.Elapsed.Seconds())
			epochCPU = append(epochCPU, cpuSeconds())
		}})

	var model, dataName string
	switch f.name {
	case "mcycle":
		w := or(f.width, 50)
		rec.Widths = []int{1, w, w, 1}
		dataName = "train"
		model = fmt.Sprintf(`data train = csv("mcycle.csv", x: [times], y: accel, standardize: true)
model net(x: 1) {
  h = dense(x, %d) |> tanh
  h = dense(h, %d) |> tanh
  y ~ normal(dense(h, 1)[0], 0.5)
}
`, w, w)
	case "digits":
		w := or(f.width, 128)
		rec.Widths = []int{64, w, 10}
		dataName = "train"
		model = fmt.Sprintf(`data train = csv("digits.csv", x: [p0 .. p63], y: label, classes: 10, standardize: true)
model net(x: 64) {
  h = dense(x, %d) |> relu
  y ~ categorical(logits: dense(h, 10))
}
`, w)
	case "mnist", "predict":
		w := or(f.width, 256)
		rec.Widths = []int{784, w, w, 10}
		n := or(f.rows, 60000)
		if f.name == "predict" {
			n = or(f.rows, 10000)
		}
		x, y := mnistShaped(n, f.seed)
		classes := make([]string, 10)
		for k := range classes {
			classes[k] = strconv.Itoa(k)
		}
		if err := s.SetData("train", x, y, &lang.DataOptions{Classes: classes}); err != nil {
			return nil, err
		}
		// The session holds its own copy: let ours go before timing starts.
		x = nil
		runtime.GC()
		debug.FreeOSMemory()
		dataName = "train"
		model = fmt.Sprintf(`model net(x: 784) {
  h = dense(x, %d) |> relu
  h = dense(h, %d) |> relu
  y ~ categorical(logits: dense(h, 10))
}
`, w, w)
	default:
		return nil, fmt.Errorf("unknown case %q (mcycle, digits, mnist, predict)", f.name)
	}

	stop := startProfile(f.cpuProfile)
	defer stop()
	if f.name == "predict" {
		return f.predictive(ctx, s, model, rec)
	}
	if slices.Contains(predictives, f.backend) {
		return nil, fmt.Errorf("backend %q belongs to the predict case", f.backend)
	}
	b, ok := backendNamed(f.backend)
	if !ok {
		return nil, fmt.Errorf("unknown backend %q", f.backend)
	}
	method := strings.NewReplacer("{epochs}", strconv.Itoa(f.epochs), "{batch}", strconv.Itoa(f.batch),
		"{lr}", strconv.FormatFloat(f.lr, 'g', -1, 64)).Replace(b.Method)
	script := model + fmt.Sprintf("posterior p = fit net on %s using %s\n", dataName, method)
	cpu0 := cpuSeconds()
	if err := s.Run(ctx, "bench.bl", []byte(script)); err != nil {
		return nil, err
	}
	rec.CPUS = cpuSeconds() - cpu0
	post := posterior(s)
	rec.Rows = rowsOf(s, dataName)
	rec.Epochs = f.epochs
	rec.EpochEnd = epochEnd
	rec.EpochCPU = epochCPU
	rec.Seconds = post.FitTime.Seconds()
	return rec, nil
}

// predictive fits a posterior for one epoch on the rows of class 0 and
// times a predictive of f.samples draws over all rows, with its NLL, as
// `evaluate p on train: nll` computes it: a VI posterior's draws through
// the network (backend "predict"), or a kron Laplace's GLM predictive
// ("predict_glm": the K-FAC fit is not timed, the J Σ Jᵀ of every row and
// the draws of its logits are).
func (f *caseFlags) predictive(ctx context.Context, s *lang.Session, model string, rec *record) (*record, error) {
	method := "vi(epochs: 1)"
	switch f.backend {
	case "predict", "map", "":
		f.backend = "predict"
	case "predict_glm":
		method = "laplace(subset: all, hessian: kron, predictive: glm, epochs: 1)"
	default:
		return nil, fmt.Errorf("unknown predictive %q (%s)", f.backend, strings.Join(predictives, ", "))
	}
	script := model + `let head = where(train, y < 1)
posterior p = fit net on head using ` + method + "\n"
	if err := s.Run(ctx, "bench.bl", []byte(script)); err != nil {
		return nil, err
	}
	post := posterior(s)
	d := dataset(s, "train")
	start := time.Now()
	pred, err := post.Predict(ctx, d.X, &lang.PredictOptions{Samples: f.samples, Seed: f.seed, Draws: true})
	if err != nil {
		return nil, err
	}
	_ = metric.NLL(pred.Draws.LogLik(d.Y))
	rec.Seconds = time.Since(start).Seconds()
	rec.Backend = f.backend
	rec.Samples = f.samples
	rec.Rows = d.Rows()
	return rec, nil
}

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// mnistShaped returns n random MNIST-shaped rows: 784 uniform pixels in
// [0, 1) and a label in 0..9.
func mnistShaped(n int, seed uint64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 784))
	x := make([]float64, n*784)
	for i := range x {
		x[i] = rng.Float64()
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(rng.IntN(10))
	}
	return mat.NewDense(n, 784, x), y
}

func posterior(s *lang.Session) *lang.Posterior {
	p, err := s.Posterior("p")
	if err != nil {
		panic(err) // the bench's own scripts bind p
	}
	return p
}

func dataset(s *lang.Session, name string) *lang.Dataset {
	d, err := s.Data(name)
	if err != nil {
		panic(err)
	}
	return d
}

func rowsOf(s *lang.Session, name string) int { return dataset(s, name).Rows() }

// blasName names the BLAS behind gonum's blas64: "gonum" for the pure-Go
// build, "openblas" for the build with -tags openblas.
func blasName() string {
	t := fmt.Sprintf("%T", blas64.Implementation())
	if strings.HasPrefix(t, "gonum.") {
		return "gonum"
	}
	if strings.HasPrefix(t, "netlib.") {
		return "openblas"
	}
	return t
}

// compact replaces the per-epoch stamps by what the reports use, so that
// results.json stays small enough to keep in the repository.
func (r *record) compact() {
	if len(r.EpochEnd) == 0 || r.Whole {
		r.EpochEnd, r.EpochCPU = nil, nil
		return
	}
	r.PerEpochS, r.CPUEpochS, r.FirstS = r.perEpoch(), r.cpuPerEpoch(), r.EpochEnd[0]
	r.EpochEnd, r.EpochCPU = nil, nil
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMB is the process's peak resident set (VmHWM), in MiB.
func peakRSSMB() float64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	fh, err := os.Create(filepath.Clean(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return func() {}
	}
	pprof.StartCPUProfile(fh)
	return func() { pprof.StopCPUProfile(); fh.Close() }
}
