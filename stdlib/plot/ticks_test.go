package plot

import (
	"strings"
	"testing"
)

func labels(lo, hi float64, log bool) string {
	var t []string
	ticks := linearTicks{}.Ticks(lo, hi)
	if log {
		ticks = logTicks{}.Ticks(lo, hi)
	}
	for _, tk := range ticks {
		if tk.Label != "" {
			t = append(t, tk.Label)
		}
	}
	return strings.Join(t, " ")
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		log    bool
		want   string
	}{
		{0, 1, false, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{-3, 3, false, "-3 -2 -1 0 1 2 3"},
		{-1.55, 1.45, false, "-1.5 -1.0 -0.5 0.0 0.5 1.0"},
		{0, 125, false, "0 25 50 75 100 125"},
		{1, 3000, false, "500 1000 1500 2000 2500 3000"},
		{0.3, 20.6, true, "0.5 1 2 5 10 20"},
		{0.001, 50, true, "0.001 0.01 0.1 1 10"},
		{0.52, 0.58, true, "0.52 0.53 0.54 0.55 0.56 0.57 0.58"},
		{2e6, 9e6, false, "2e+06 3e+06 4e+06 5e+06 6e+06 7e+06 8e+06 9e+06"},
	} {
		if got := labels(c.lo, c.hi, c.log); got != c.want {
			t.Errorf("ticks(%v, %v, log=%v) = %q, want %q", c.lo, c.hi, c.log, got, c.want)
		}
	}
	// Degenerate ranges must not hang or panic.
	for _, r := range [][2]float64{{1, 1 + 1e-15}, {-1e300, 1e300}, {0, 1e-300}} {
		linearTicks{}.Ticks(r[0], r[1])
	}
}
