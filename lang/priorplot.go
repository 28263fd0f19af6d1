package lang

import (
	"fmt"
	"strings"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser/source"
	"github.com/bayesl/bayesl/stdlib/gp"
	"github.com/bayesl/bayesl/stdlib/plot"
	"gonum.org/v1/gonum/mat"
)

// plotPriors draws `plot prior_samples(gp(...), net, net_gp, over: lo .. hi,
// n: N) to "file"`: N functions from each prior, side by side, each panel
// on its own y scale (an unmatched prior is often ten times wider). A GP panel draws from the zero-mean GP (stdlib/gp.Sample); a model
// panel draws θ from the model's prior and shows the output its likelihood
// reads, in the network's own units.
func (x *executor) plotPriors(st *ir.PlotPriors) error {
	g := st.Points
	grid := make([]float64, g)
	for i := range grid {
		grid[i] = st.From + (st.To-st.From)*float64(i)/float64(max(g-1, 1))
	}
	in := mat.NewDense(g, 1, append([]float64(nil), grid...))
	var panels []plot.Panel
	for i, pn := range st.Panels {
		rng := x.rng(fmt.Sprintf("plot:prior_samples:%d:%d", st.Span.Start.Offset, i))
		f := mat.NewDense(st.N, g, nil)
		var title string
		if pn.Kernel != nil {
			if err := gp.Sample(f, gpKernel(pn.Kernel), in, rng); err != nil {
				return x.wrap(pn.Span, source.Runtime, err)
			}
			title = "GP " + kernelTitle(pn.Kernel)
		} else {
			def := x.s.resolveDef(pn.Model)
			m := def.Model
			prog, err := x.s.program(m)
			if err != nil {
				return x.compileError(pn.Span, err)
			}
			mach := prog.NewMachine()
			theta := make([]float64, prog.Dim())
			row := mat.NewDense(g, 1, nil)
			for s := range st.N {
				drawPrior(theta, m, rng)
				mach.Outputs(row, theta, in)
				f.SetRow(s, row.RawMatrix().Data)
			}
			title = pn.Name + ": prior " + priorSummary(m)
			if _, matched := x.s.matched[pn.Model.Model]; matched {
				title = pn.Name + ": matched prior"
			}
		}
		panels = append(panels, plot.Panel{Title: title, FunctionsData: plot.FunctionsData{X: grid, F: f.RawMatrix().Data}})
	}
	path := x.path(st.Path, true)
	if err := plot.FunctionPanels(path, plot.PanelsData{Panels: panels}, plot.Labels{Title: fmt.Sprintf("%d prior function samples each", st.N)}); err != nil {
		return x.wrap(st.Span, source.Runtime, err)
	}
	x.emit(Result{Kind: "write", Path: path, Text: fmt.Sprintf("wrote %s", path)})
	return nil
}

// priorSummary describes a model's weight priors briefly: "normal(0, 1)"
// when every weight and bias has that prior.
func priorSummary(m *ir.Model) string {
	var first *ir.Prior
	for _, p := range m.Params {
		if p.Role != ir.Weight && p.Role != ir.Bias {
			continue
		}
		if first == nil {
			first = &p.Prior
			continue
		}
		if p.Prior.Family != first.Family || p.Prior.Loc != first.Loc || p.Prior.Scale != first.Scale {
			return "(per layer)"
		}
	}
	if first == nil {
		return ""
	}
	return fmt.Sprintf("%s(%g, %g)", first.Family, first.Loc, first.Scale)
}

// kernelTitle writes a kernel briefly for a panel title: ℓ for the
// lengthscale, p for the period, σ² and c only when not 1 and 0.
func kernelTitle(k *ir.Kernel) string {
	switch k.Kind {
	case ir.KernelSum, ir.KernelProduct:
		op := " + "
		if k.Kind == ir.KernelProduct {
			op = " × "
		}
		parts := make([]string, len(k.Terms))
		for i, t := range k.Terms {
			parts[i] = kernelTitle(t)
			if k.Kind == ir.KernelProduct && t.Kind == ir.KernelSum {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		return strings.Join(parts, op)
	}
	var args []string
	if k.Kind != ir.KernelLinear {
		args = append(args, fmt.Sprintf("ℓ=%g", k.Lengthscale))
	}
	if k.Kind == ir.KernelPeriodic {
		args = append(args, fmt.Sprintf("p=%g", k.Period))
	}
	if k.Variance != 1 {
		args = append(args, fmt.Sprintf("σ²=%g", k.Variance))
	}
	if k.Offset != 0 {
		args = append(args, fmt.Sprintf("c=%g", k.Offset))
	}
	return k.Kind.String() + "(" + strings.Join(args, ", ") + ")"
}
