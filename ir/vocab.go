package ir

import (
	"math"
	"slices"

	"github.com/bayesl/bayesl/parser/source"
)

// The language's vocabulary: one table per family of names (likelihoods,
// metrics, ood scores and metrics, pictures, data functions). The checker
// reads its names and arguments from these tables, the compiler dispatches
// on LikFamily, the REPL completes Words, and the README's tables are
// tested against Markdown renderings of them, so a name is added in one
// place (starlark-go's Universe is the model).

// LikFamily is the observation model of the target y, an index into
// Likelihoods.
type LikFamily int

// Likelihood families. Args holds node IDs of the family's arguments.
const (
	LikNormal      LikFamily = iota // Args: loc, scale
	LikStudentT                     // DF fixed; Args: loc, scale
	LikCategorical                  // Args: logits (Batch x Classes)
	LikBernoulli                    // Args: logits (Batch x 1)
	LikPoisson                      // Args: log rate (Batch x 1)
	LikGamma                        // Args: log mean, shape
)

// Support is the set of target values a likelihood gives positive
// probability to.
type Support int

// Supports of the likelihoods.
const (
	Reals     Support = iota // every finite number
	Positive                 // y > 0
	CountData                // 0, 1, 2, ...
	Binary                   // 0 or 1
	Labels                   // a class index 0 .. K-1, from the data's labels
)

// Contains reports whether y is in the support (Labels: any class index;
// the number of classes is checked against the data).
func (s Support) Contains(y float64) bool {
	switch s {
	case Positive:
		return y > 0 && !math.IsInf(y, 1)
	case CountData, Labels:
		return y >= 0 && y == math.Trunc(y) && !math.IsInf(y, 1)
	case Binary:
		return y == 0 || y == 1
	}
	return !math.IsNaN(y) && !math.IsInf(y, 0)
}

func (s Support) String() string {
	return [...]string{"real numbers", "positive numbers", "non-negative integers", "0 or 1", "class labels"}[s]
}

// LikSpec describes a likelihood family.
type LikSpec struct {
	Name string
	// Params are the arguments in call order. "df" is a number fixed when
	// the model is checked; "logits" has one column per class; every other
	// one is a network output of width 1.
	Params []string
	// Positive lists the parameters that must be positive, checked when
	// they are constants (a network output is made positive by softplus).
	Positive []string
	Support  Support
	// Scaled reports whether `standardize: true` rescales the target: the
	// location-scale families, whose predictions an affine map takes back
	// to the data's units. The others model the target in its own units.
	Scaled bool
	Doc    string // what it models, one line for the README
}

// Likelihoods is the table of likelihood families, indexed by LikFamily.
var Likelihoods = [...]LikSpec{
	LikNormal: {Name: "normal", Params: []string{"loc", "scale"}, Positive: []string{"scale"}, Support: Reals, Scaled: true,
		Doc: "Gaussian regression; scale a constant, a `param` or a per-example output (heteroscedastic)"},
	LikStudentT: {Name: "student_t", Params: []string{"df", "loc", "scale"}, Positive: []string{"df", "scale"}, Support: Reals, Scaled: true,
		Doc: "heavy-tailed regression, robust to outliers; `df` a fixed number"},
	LikCategorical: {Name: "categorical", Params: []string{"logits"}, Support: Labels,
		Doc: "K-class classifier: logits with one column per class"},
	LikBernoulli: {Name: "bernoulli", Params: []string{"logits"}, Support: Binary,
		Doc: "binary classifier: one logit column"},
	LikPoisson: {Name: "poisson", Params: []string{"log_rate"}, Support: CountData,
		Doc: "counts; rate = exp(log_rate)"},
	LikGamma: {Name: "gamma", Params: []string{"log_mean", "shape"}, Positive: []string{"shape"}, Support: Positive,
		Doc: "positive amounts (durations, sizes, costs); mean = exp(log_mean), variance = mean²/shape"},
}

// Spec returns the family's table entry.
func (f LikFamily) Spec() *LikSpec { return &Likelihoods[f] }

func (f LikFamily) String() string { return Likelihoods[f].Name }

// Classification reports whether the family's target is a class label.
func (f LikFamily) Classification() bool {
	s := Likelihoods[f].Support
	return s == Labels || s == Binary
}

// LikelihoodNamed returns the family called name.
func LikelihoodNamed(name string) (LikFamily, bool) {
	for i, l := range Likelihoods {
		if l.Name == name {
			return LikFamily(i), true
		}
	}
	return 0, false
}

// Named is an entry of a vocabulary table whose only behaviour is its name.
type Named struct{ Name, Doc string }

// MetricSpec describes a metric of `evaluate`.
type MetricSpec struct {
	Name string
	// Args are the call form's arguments: coverage(level), ece(bins), and
	// the reference posterior of the comparison metrics. None: no call form.
	Args []string
	// Ref reports that the metric compares with a reference posterior's
	// predictive instead of with the targets (and must be called).
	Ref bool
	For string // regression, classification, both, or any posterior
	Doc string
}

// Metrics is the table of `evaluate` metrics.
var Metrics = []MetricSpec{
	{Name: "nll", For: "both", Doc: "negative log-likelihood of the targets under the predictive mixture, per row"},
	{Name: "rmse", For: "regression", Doc: "root mean squared error of the predictive mean"},
	{Name: "mae", For: "regression", Doc: "mean absolute error of the predictive mean"},
	{Name: "coverage", Args: []string{"level"}, For: "regression", Doc: "fraction of targets inside the central `level` interval (0.9)"},
	{Name: "accuracy", For: "classification", Doc: "fraction of rows whose most probable class is the label"},
	{Name: "ece", Args: []string{"bins"}, For: "classification", Doc: "expected calibration error over `bins` equal-width bins (15)"},
	{Name: "brier", For: "classification", Doc: "Brier score summed over classes (0..2)"},
	{Name: "brier_per_class", For: "classification", Doc: "Brier score of each class"},
	{Name: "trainable", For: "any", Doc: "number of trainable parameters"},
	{Name: "stored", For: "any", Doc: "numbers the posterior stores"},
	{Name: "evidence", For: "any", Doc: "log marginal likelihood, where the method estimates it (laplace, vi's ELBO)"},
	{Name: "agreement", Args: []string{"reference"}, Ref: true, For: "classification", Doc: "fraction of rows whose top class matches the reference's"},
	{Name: "tv", Args: []string{"reference"}, Ref: true, For: "classification", Doc: "mean total variation to the reference's class distributions"},
	{Name: "w2", Args: []string{"reference"}, Ref: true, For: "regression", Doc: "mean 2-Wasserstein distance to the reference's moment-matched Gaussians"},
	{Name: "epistemic", Args: []string{"reference"}, Ref: true, For: "both", Doc: "summed epistemic uncertainty over the reference's (1: the same spread)"},
}

// MetricNamed returns the metric called name.
func MetricNamed(name string) (*MetricSpec, bool) {
	for i := range Metrics {
		if Metrics[i].Name == name {
			return &Metrics[i], true
		}
	}
	return nil, false
}

// OODScores are the uncertainty scores `ood ... by [...]` and histograms use.
var OODScores = []Named{
	{"total", "entropy of the mean prediction (regression: total variance)"},
	{"epistemic", "mutual information (regression: variance of the means)"},
	{"aleatoric", "expected entropy (regression: mean of the variances)"},
}

// OODMetrics are the metrics of `ood`.
var OODMetrics = []Named{
	{"auroc", "area under the ROC curve of the score as a detector (ties count half)"},
	{"w1", "1-D Wasserstein-1 distance between the in and out scores"},
	{"mean_in", "mean score on the in-distribution data"},
	{"mean_out", "mean score on the out-of-distribution data"},
}

// PlotSpec describes a picture of `plot`.
type PlotSpec struct {
	Kind               PlotKind
	Required, Optional []string
	Doc                string
}

// PlotPriorSamples draws functions from GP and model priors.
const PlotPriorSamples PlotKind = "prior_samples"

// Plots is the table of pictures.
var Plots = []PlotSpec{
	{Kind: PlotBand, Required: []string{"posterior"}, Optional: []string{"over", "data", "points"}, Doc: "1-D regression: predictive mean with its aleatoric and total bands, and the data"},
	{Kind: PlotSamples, Required: []string{"posterior"}, Optional: []string{"over", "data", "points", "n"}, Doc: "1-D regression: `n` function draws of the posterior"},
	{Kind: PlotReliability, Required: []string{"posterior", "on"}, Optional: []string{"bins"}, Doc: "classifier: reliability diagram, ECE in the title"},
	{Kind: PlotHistogram, Required: []string{"posterior", "in", "out"}, Optional: []string{"by", "bins"}, Doc: "histograms of an uncertainty score on in- and out-of-distribution data"},
	{Kind: PlotTraining, Required: []string{"posterior"}, Doc: "objective per epoch of one or more fits"},
	{Kind: PlotPriorSamples, Optional: []string{"over", "n", "points"}, Doc: "function draws from GP priors and models' priors side by side"},
}

// PlotNamed returns the picture called name.
func PlotNamed(name string) (*PlotSpec, bool) {
	for i := range Plots {
		if string(Plots[i].Kind) == name {
			return &Plots[i], true
		}
	}
	return nil, false
}

// CallSpec describes a builtin function: its positional-or-named required
// arguments and its named options.
type CallSpec struct {
	Name               string
	Required, Optional []string
	Doc                string
}

// DataFuncs are the functions that make a data set. csv's options live in
// CSVOptions (dataopts.go).
var DataFuncs = []CallSpec{
	{Name: "csv", Required: []string{"path"}, Doc: "a CSV file with a header"},
	{Name: "where", Required: []string{"data", "condition"}, Doc: "the rows whose column compares true with a number"},
	{Name: "split", Required: []string{"data", "frac"}, Optional: []string{"seed"}, Doc: "a shuffled train/test split"},
	{Name: "simulate", Required: []string{"model", "inputs"}, Optional: []string{"n", "datasets", "seed"}, Doc: "data sets drawn from a model's prior predictive"},
	{Name: "gmm_prior", Optional: []string{"seed", "zeus", "shuffle"}, Doc: "synthetic classification tasks from a Gaussian-mixture prior"},
}

// DataFunc returns the data function called name; csv's optional
// arguments are the names of CSVOptions.
func DataFunc(name string) (CallSpec, bool) {
	for _, f := range DataFuncs {
		if f.Name == name {
			if name == "csv" {
				f.Optional = names(CSVOptions)
			}
			return f, true
		}
	}
	return CallSpec{}, false
}

// names returns the names of a table.
func names(t []Named) []string { return column(t, func(n Named) string { return n.Name }) }

// column maps a table's entries to one of their fields, in table order.
func column[T any](t []T, f func(T) string) []string {
	out := make([]string, len(t))
	for i, e := range t {
		out[i] = f(e)
	}
	return out
}

// LikelihoodNames lists the likelihood families in LikFamily order.
func LikelihoodNames() []string {
	return column(Likelihoods[:], func(l LikSpec) string { return l.Name })
}

// MetricNames lists the metrics of evaluate.
func MetricNames() []string { return column(Metrics, func(m MetricSpec) string { return m.Name }) }

// PlotNames lists the pictures of plot.
func PlotNames() []string { return column(Plots, func(p PlotSpec) string { return string(p.Kind) }) }

// DataFuncNames lists the data functions.
func DataFuncNames() []string { return column(DataFuncs, func(f CallSpec) string { return f.Name }) }

// Words returns every name of every vocabulary table (and the other
// builtin names the checker knows: layers, activations, adapters, priors,
// GP kernels, student forms, settings of the tables' calls), sorted and
// without repeats: what a REPL completes besides keywords, methods and the
// session's names.
func Words() []string {
	out := LikelihoodNames()
	for _, l := range Likelihoods {
		out = append(out, l.Params...)
	}
	for _, m := range Metrics {
		out = append(out, m.Name)
		out = append(out, m.Args...)
	}
	out = append(out, names(OODScores)...)
	out = append(out, names(OODMetrics)...)
	for _, p := range Plots {
		out = append(out, string(p.Kind))
		out = append(out, p.Optional...)
	}
	for _, f := range DataFuncs {
		out = append(out, f.Name)
		out = append(out, f.Optional...)
	}
	out = append(out, names(CSVOptions)...)
	for a := range Acts() {
		out = append(out, a)
	}
	out = append(out, "dense", "rational", "periodic", "weights", "biases", "fan_in", "laplace", "frozen", "point", "load", "true", "false")
	out = append(out, adapterKinds...)
	out = append(out, StudentForms...)
	out = append(out, MatchMethods...)
	out = append(out, kernelNames[:]...)
	out = append(out, "gp", "uniform", "of", "over", DatasetColumn)
	slices.Sort(out)
	return slices.Compact(out)
}

// mustDataFunc and mustPlot return table entries the checker names itself.
func mustDataFunc(name string) CallSpec {
	f, ok := DataFunc(name)
	if !ok {
		panic("ir: no data function " + name)
	}
	return f
}

func mustPlot(k PlotKind) *PlotSpec {
	p, ok := PlotNamed(string(k))
	if !ok {
		panic("ir: no picture " + string(k))
	}
	return p
}

// settingsOK asks the registry's check (Methods.CheckSettings or
// CheckStudent) about the settings of name and reports its refusal at the
// offending setting, or at sp when no one setting is at fault.
func (c *checker) settingsOK(sp source.Span, args []Arg, check func(string, []Arg) (int, string), name string) bool {
	index, msg := check(name, args)
	if msg == "" {
		return true
	}
	if index >= 0 && index < len(args) {
		sp = args[index].Span
	}
	c.errorf(sp, source.Type, "%s", msg)
	return false
}
