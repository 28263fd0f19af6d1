// Command fidelity measures how faithful every inference backend's
// posterior is on four small real-data networks, against exact posteriors
// sampled by NUTS (issue 12).
//
//	go run ./examples/fidelity -refs     # refit NUTS at two seeds, rewrite testdata/<case>.json
//	go run ./examples/fidelity           # every backend at its defaults, a markdown table
//	go run ./examples/fidelity -json -case iris -backend swag,laplace
//
// Per case it reports, for each backend against the exact predictive on the
// held-out rows: top-class agreement and mean total variation
// (classifiers); the epistemic size ratio (summed mutual information, or
// summed epistemic variance, over exact's); Spearman's rank correlation of
// per-row epistemic uncertainty with exact's; NLL over exact's;
// (regression) the mean error in units of exact's predictive sd and the
// geometric mean over rows of the epistemic sd ratio; and the fit's time.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

func main() {
	refs := flag.Bool("refs", false, "refit the exact NUTS references (two seeds) and rewrite testdata/<case>.json")
	asJSON := flag.Bool("json", false, "print the scores as JSON instead of a markdown table")
	caseList := flag.String("case", "", "comma-separated cases to run (default all: "+caseNames()+")")
	backendList := flag.String("backend", "", "comma-separated backends: a method name selects it and its variants, e.g. laplace; an exact variant such as 'laplace(hessian: kron)' selects only it (default all)")
	samples := flag.Int("samples", 1000, "posterior draws behind every approximate predictive")
	seed := flag.Uint64("seed", 1, "run seed of every backend fit")
	flag.Parse()
	if err := run(os.Stdout, *refs, *asJSON, *caseList, *backendList, *samples, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "fidelity:", err)
		os.Exit(1)
	}
}

func caseNames() string {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func run(w io.Writer, refs, asJSON bool, caseList, backendList string, samples int, seed uint64) error {
	ctx := context.Background()
	root, err := findRoot()
	if err != nil {
		return err
	}
	sel, err := selectCases(caseList)
	if err != nil {
		return err
	}
	r := &runner{root: root, samples: samples, seed: seed}
	if refs {
		return writeReferences(ctx, w, r, sel)
	}
	methods := selectBackends(backends(), backendList)
	if len(methods) == 0 {
		return fmt.Errorf("no backend matches %q; the backends are %s", backendList, strings.Join(backends(), ", "))
	}
	var all []Score
	for _, c := range sel {
		ref, err := loadReference(root, c.Name)
		if err != nil {
			return err
		}
		if !asJSON {
			fmt.Fprintf(os.Stderr, "%s: exact is %s, %d draws; a second seed scores %s\n", c.Name, ref.Method, ref.Draws, brief(ref.SeedCheck))
		}
		for _, m := range methods {
			if err := checkMethod(c, m); err != nil {
				fmt.Fprintf(os.Stderr, "%s: skipping %s: the registry rejects it: %s\n", c.Name, m, firstLine(err.Error()))
				continue
			}
			sc := r.scoreBackend(ctx, c, ref, m)
			if !asJSON {
				fmt.Fprintf(os.Stderr, "%s: %s\n", c.Name, brief(sc))
			}
			all = append(all, sc)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	writeTable(w, all)
	return nil
}

// selectBackends keeps the methods matching a comma-separated filter: an
// item equal to a method, or the bare name of its family ("laplace" keeps
// laplace and every laplace(...) variant).
func selectBackends(all []string, filter string) []string {
	if filter == "" {
		return all
	}
	var out []string
	for _, m := range all {
		for _, f := range strings.Split(filter, ",") {
			f = strings.TrimSpace(f)
			if m == f || strings.HasPrefix(m, f+"(") {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func writeReferences(ctx context.Context, w io.Writer, r *runner, sel []fidelityCase) error {
	for _, c := range sel {
		ref, err := r.makeReference(ctx, c)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(ref, "", " ")
		if err != nil {
			return err
		}
		path := refPath(r.root, c.Name)
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: wrote %s (%d rows, %d draws, NUTS %.1fs); %s\n", c.Name, path, ref.Rows, ref.Draws, ref.FitSeconds, brief(ref.SeedCheck))
	}
	return nil
}

func loadReference(root, name string) (*Reference, error) {
	b, err := os.ReadFile(refPath(root, name))
	if err != nil {
		return nil, fmt.Errorf("%w (make it with go run ./examples/fidelity -refs)", err)
	}
	var ref Reference
	if err := json.Unmarshal(b, &ref); err != nil {
		return nil, fmt.Errorf("%s: %w", refPath(root, name), err)
	}
	return &ref, nil
}

// brief is a score on one line, for progress and the seed check.
func brief(s Score) string {
	if s.Err != "" {
		return s.Backend + ": error: " + firstLine(s.Err)
	}
	head := fmt.Sprintf("%s: ", s.Backend)
	if s.Task == "classification" {
		head += fmt.Sprintf("agreement %.3f, TV %.4f, ", s.Agreement, s.TV)
	} else {
		head += fmt.Sprintf("mean err %.3f sd, epi sd ratio %.3f, ", s.MeanErr, s.EpiSDRatio)
	}
	return head + fmt.Sprintf("epistemic %.3f, rank %.2f, NLL/exact %.4f, %.1fs", s.EpiRatio, s.Spearman, s.NLLRatio, s.FitSeconds)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// writeTable prints the scores as one markdown table, a dash where a
// column does not apply to the case's task.
func writeTable(w io.Writer, scores []Score) {
	fmt.Fprintln(w, "| case | backend | agreement | mean TV | epistemic / exact | rank corr. | NLL / exact | mean err (sd) | epi sd ratio | fit s |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range scores {
		if s.Err != "" {
			fmt.Fprintf(w, "| %s | %s | error: %s | | | | | | | |\n", s.Case, s.Backend, strings.ReplaceAll(firstLine(s.Err), "|", "/"))
			continue
		}
		cls := s.Task == "classification"
		cell := func(v float64, f string, on bool) string {
			if !on {
				return "–"
			}
			if math.IsNaN(v) {
				return "NaN"
			}
			return fmt.Sprintf(f, v)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Case, s.Backend,
			cell(s.Agreement, "%.3f", cls), cell(s.TV, "%.4f", cls),
			cell(s.EpiRatio, "%.3g", true), cell(s.Spearman, "%.2f", true), cell(s.NLLRatio, "%.3f", true),
			cell(s.MeanErr, "%.3f", !cls), cell(s.EpiSDRatio, "%.3g", !cls), seconds(s.FitSeconds))
	}
}

// seconds formats a fit time with two significant digits below 10 s.
func seconds(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.0f", v)
}
