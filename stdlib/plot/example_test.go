package plot_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/bayesl/bayesl/stdlib/plot"
)

func ExampleBand() {
	dir, err := os.MkdirTemp("", "bayesl-plot-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// A predictive on a grid of 50 inputs: the epistemic variance grows
	// away from the data in [-1, 1], the aleatoric variance is constant.
	// In a real program these come from predictive.Predictive.Regression.
	var d plot.BandData
	for i := range 50 {
		x := -2 + 4*float64(i)/49
		d.X = append(d.X, x)
		d.Mean = append(d.Mean, math.Sin(x))
		d.Aleatoric = append(d.Aleatoric, 0.01)
		d.Epistemic = append(d.Epistemic, 0.001+0.05*math.Pow(math.Max(math.Abs(x)-1, 0), 2))
	}
	for _, x := range []float64{-0.9, -0.5, 0, 0.4, 0.8} {
		d.TrainX = append(d.TrainX, x)
		d.TrainY = append(d.TrainY, math.Sin(x))
	}
	labels := plot.Labels{Title: "sine", X: "x", Y: "y"}
	if err := plot.Band(filepath.Join(dir, "band.svg"), d, labels); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ok")

	// The format comes from the extension.
	err = plot.Band(filepath.Join(dir, "band.jpg"), d, labels)
	fmt.Println(errors.Is(err, plot.ErrFormat))
	// Output:
	// ok
	// true
}
