package plot

import (
	"math"
	"math/rand/v2"
)

// Fixtures. The small ones (for goldens) are closed-form so that they do
// not depend on a random number generator; the large ones (for looking at
// the pictures) use a fixed PCG seed.

// bandFixture is a heteroscedastic sine with epistemic variance growing
// away from the training inputs in [-2, 2].
func bandFixture(n, train, test int) BandData {
	var d BandData
	noise := func(x float64) float64 { return 0.01 + 0.03*x*x }
	for i := range n {
		// Reversed order, so that the internal sort is exercised.
		x := 3 - 6*float64(i)/float64(n-1)
		d.X = append(d.X, x)
		d.Mean = append(d.Mean, math.Sin(x))
		d.Aleatoric = append(d.Aleatoric, noise(x))
		d.Epistemic = append(d.Epistemic, 0.002+0.01*math.Pow(math.Max(math.Abs(x)-1.5, 0), 3))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range train {
		x := -2 + 4*(float64(i)+0.5)/float64(train)
		e := math.Sin(7.3*float64(i)) * math.Sqrt(noise(x))
		if train > 20 {
			x = -2 + 4*r.Float64()
			e = r.NormFloat64() * math.Sqrt(noise(x))
		}
		d.TrainX = append(d.TrainX, x)
		d.TrainY = append(d.TrainY, math.Sin(x)+e)
	}
	for i := range test {
		x := -2.8 + 5.6*(float64(i)+0.5)/float64(test)
		e := math.Cos(5.1*float64(i)) * math.Sqrt(noise(x))
		if test > 20 {
			x = -2.8 + 5.6*r.Float64()
			e = r.NormFloat64() * math.Sqrt(noise(x))
		}
		d.TestX = append(d.TestX, x)
		d.TestY = append(d.TestY, math.Sin(x)+e)
	}
	return d
}

// reliabilityFixture is an overconfident K-class classifier: the top
// class has confidence c and is right with probability c^1.6.
func reliabilityFixture(n, k int, seed uint64) ReliabilityData {
	d := ReliabilityData{K: k}
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range n {
		var conf, u float64
		if seed == 0 { // closed form
			conf = 1/float64(k) + (1-1/float64(k))*math.Pow(float64(i%97)/97, 0.4)
			u = math.Mod(float64(i)*0.618033988749895, 1)
		} else {
			conf = 1/float64(k) + (1-1/float64(k))*math.Pow(r.Float64(), 0.3)
			u = r.Float64()
		}
		top := i % k
		row := make([]float64, k)
		for j := range row {
			row[j] = (1 - conf) / float64(k-1)
		}
		row[top] = conf
		d.Prob = append(d.Prob, row...)
		y := top
		if u > math.Pow(conf, 1.6) {
			y = (top + 1 + i%(k-1)) % k
		}
		d.Y = append(d.Y, float64(y))
	}
	return d
}

// oodFixture has OOD scores shifted up from the in-distribution ones.
func oodFixture(nIn, nOut int, seed uint64) OODData {
	var d OODData
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range nIn {
		if seed == 0 {
			d.In = append(d.In, 0.2+0.5*math.Pow(math.Mod(float64(i)*0.618, 1), 2))
		} else {
			d.In = append(d.In, math.Abs(0.3+0.25*r.NormFloat64()))
		}
	}
	for i := range nOut {
		if seed == 0 {
			d.Out = append(d.Out, 0.5+0.8*math.Mod(float64(i)*0.414, 1))
		} else {
			d.Out = append(d.Out, math.Abs(1.1+0.4*r.NormFloat64()))
		}
	}
	d.AUROC = true
	return d
}

// curvesFixture has a MAP-like and a VI-like loss curve.
func curvesFixture(epochs int) CurvesData {
	var d CurvesData
	a := Curve{Name: "p_map"}
	b := Curve{Name: "p_vi (ELBO loss)"}
	for e := range epochs {
		t := float64(e)
		a.Loss = append(a.Loss, 0.3+5*math.Exp(-t/float64(epochs)*8)+0.02*math.Sin(t))
		b.Loss = append(b.Loss, 0.6+20*math.Exp(-t/float64(epochs)*4)+0.05*math.Abs(math.Sin(3*t)))
	}
	d.Curves = []Curve{a, b}
	return d
}

// functionsFixture draws s smooth random functions on a g-point grid with
// amplitude amp, and a few data points.
func functionsFixture(s, g int, amp float64, data bool) FunctionsData {
	var d FunctionsData
	for i := range g {
		d.X = append(d.X, -3+6*float64(i)/float64(g-1))
	}
	for k := range s {
		a1, a2 := math.Sin(1.7*float64(k+1)), math.Cos(2.3*float64(k+1))
		ph := 0.9 * float64(k)
		for _, x := range d.X {
			d.F = append(d.F, amp*(a1*math.Sin(x+ph)+0.5*a2*math.Cos(2.1*x-ph)))
		}
	}
	if data {
		for i := range 8 {
			x := -2 + 4*float64(i)/7
			d.DataX = append(d.DataX, x)
			d.DataY = append(d.DataY, math.Sin(x))
		}
	}
	return d
}

func panelsFixture(s, g int) PanelsData {
	return PanelsData{Panels: []Panel{
		{Title: "GP prior", FunctionsData: functionsFixture(s, g, 1, false)},
		{Title: "N(0,1) prior", FunctionsData: functionsFixture(s, g, 4, false)},
		{Title: "matched prior", FunctionsData: functionsFixture(s, g, 1.1, false)},
	}}
}
