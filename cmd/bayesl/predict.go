package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/bayesl/bayesl/lang"
	"github.com/bayesl/bayesl/parser/source"
)

func init() {
	register(command{"predict", "predict POST DATA", "predict at the rows of a CSV file from a saved posterior", cmdPredict})
}

const predictSynopsis = "predict [flags] POSTERIOR.post DATA.csv"

// cmdPredict is `bayesl predict p.post new.csv [-o pred.csv]`: the rows of
// a CSV file, in raw units, through a saved posterior, back in the
// target's units. It runs the statements a script would,
//
//	posterior p = load("p.post")
//	data input = csv("new.csv", x: [the columns p was fitted on])
//	predict p at input to "pred.csv"
//
// so the file is written by the same writer in the same formats, the
// columns are checked by name against those the posterior was fitted on
// (in any order, others ignored, a target column too), and the numbers
// are a script's: with the same --seed and --samples they equal those of
// `predict NAME at ...` in a script whose posterior is called NAME, the
// file's stem (for a point posterior, map or pretrained, any name).
func cmdPredict(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("predict", predictSynopsis, stderr)
	out := fs.String("o", "", "write the predictions to this file, in the format of its extension\n(.csv, .json, .npy, .npz, .parquet); without it, print a table")
	samples := fs.Int("samples", 100, "posterior draws behind the predictive")
	quantiles := fs.String("quantiles", "", "predictive quantiles of a regression, e.g. 0.05,0.5,0.95")
	intervals := fs.String("intervals", "", "central predictive intervals of a regression, e.g. 0.9")
	draws := fs.Bool("draws", false, "also write the S per-draw outputs (an .npz file)")
	dropMissing := fs.Bool("drop-missing", false, "leave out rows with an empty cell (or NaN) instead of failing")
	seed := fs.Uint64("seed", 1, "root seed of the posterior draws")
	asJSON := fs.Bool("json", false, "print the result as one JSON document on stdout")
	quiet := fs.Bool("q", false, "quiet: print nothing but errors")
	files, code, ok := parseArgs(fs, args, 2)
	if !ok {
		return code
	}
	postPath, dataPath := files[0], files[1]
	p, err := lang.LoadPosterior(postPath)
	if err != nil {
		fmt.Fprintf(stderr, "bayesl predict: %v\n", err)
		return exitRuntime
	}
	settings, err := predictSettings(*quantiles, *intervals, *draws)
	if err != nil {
		fmt.Fprintf(stderr, "bayesl predict: %v\n", err)
		return exitUsage
	}
	src := predictScript(postName(postPath), postPath, dataPath, *out, p.XNames, settings, *dropMissing)

	var results []lang.Result
	cfg := &lang.Config{
		Seed:    *seed,
		Dir:     ".",
		Samples: *samples,
		Emit: func(r lang.Result) {
			switch {
			case *asJSON:
				results = append(results, r)
			case !*quiet:
				r.Format(stdout)
			}
		},
	}
	interrupted, err := runInterruptible(func(ctx context.Context) error {
		return lang.NewSession(cfg).Run(ctx, "bayesl predict", []byte(src))
	})
	code = exitOK
	switch {
	case interrupted && err != nil:
		fmt.Fprintln(stderr, "bayesl: interrupted")
		code = exitInterrupt
	case err != nil:
		printPredictError(stderr, err)
		code = exitCode(err)
	}
	if *asJSON {
		writeJSON(stdout, results, err)
	}
	return code
}

// parseArgs parses flags that may come before, between or after n
// positional arguments, and wants exactly n.
func parseArgs(fs *flag.FlagSet, args []string, n int) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != n {
		fmt.Fprintf(fs.Output(), "bayesl %s: want %d file names, got %d\n", fs.Name(), n, len(pos))
		fs.Usage()
		return nil, exitUsage, false
	}
	return pos, 0, true
}

// predictSettings turns the flags into the predict statement's settings.
func predictSettings(quantiles, intervals string, draws bool) (string, error) {
	var parts []string
	for _, f := range []struct{ name, list string }{{"quantiles", quantiles}, {"intervals", intervals}} {
		if f.list == "" {
			continue
		}
		var levels []string
		for l := range strings.SplitSeq(f.list, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(l), 64)
			if err != nil || !(v > 0 && v < 1) {
				return "", fmt.Errorf("--%s: %q is not a level between 0 and 1", f.name, strings.TrimSpace(l))
			}
			levels = append(levels, strconv.FormatFloat(v, 'g', -1, 64))
		}
		parts = append(parts, fmt.Sprintf("%s: [%s]", f.name, strings.Join(levels, ", ")))
	}
	if draws {
		parts = append(parts, "draws: true")
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "(" + strings.Join(parts, ", ") + ")", nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// postName is the name the posterior is bound to: the file's stem, as the
// script that saved it most likely called it, when that is a name the
// language accepts, else p. It seeds the draws (see cmdPredict).
func postName(path string) string {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if !identifier.MatchString(stem) || stem == "input" {
		return "p"
	}
	if _, err := lang.NewSession(nil).Check("name", []byte("let "+stem+" = 1")); err != nil {
		return "p" // a keyword
	}
	return stem
}

// predictScript is the script cmdPredict runs.
func predictScript(name, post, dataPath, out string, xnames []string, settings string, dropMissing bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "posterior %s = load(%s)\n", name, strconv.Quote(post))
	fmt.Fprintf(&b, "data input = csv(%s", strconv.Quote(dataPath))
	if len(xnames) > 0 {
		cols := make([]string, len(xnames))
		for i, n := range xnames {
			cols[i] = strconv.Quote(n)
		}
		fmt.Fprintf(&b, ", x: [%s]", strings.Join(cols, ", "))
	}
	if dropMissing {
		b.WriteString(", drop_missing: true")
	}
	fmt.Fprintf(&b, ")\npredict %s%s at input", name, settings)
	if out != "" {
		fmt.Fprintf(&b, " to %s", strconv.Quote(out))
	}
	b.WriteString("\n")
	return b.String()
}

// printPredictError prints the errors of the generated script without its
// positions, which would point into text the user never wrote: each
// message names the file, line and column of the data or posterior, and
// the remedy as a flag.
func printPredictError(w io.Writer, err error) {
	var list source.List
	var one *source.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = source.List{one}
	default:
		fmt.Fprintf(w, "bayesl predict: %v\n", err)
		return
	}
	for _, e := range list {
		msg := strings.Replace(e.Msg, "csv(..., drop_missing: true)", "--drop-missing", 1)
		fmt.Fprintf(w, "bayesl predict: %s: %s\n", e.Kind, msg)
	}
}
