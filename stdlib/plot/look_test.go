package plot

import (
	"flag"
	"path/filepath"
	"testing"
)

var look = flag.String("look", "", "write large sample pictures of every kind to this directory")

func TestLook(t *testing.T) {
	if *look == "" {
		t.Skip("no -look directory")
	}
	dir := *look
	for _, ext := range []string{".png", ".svg"} {
		check := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		check(Band(filepath.Join(dir, "band"+ext), bandFixture(200, 60, 25), Labels{Title: "sine, p_vi", X: "x", Y: "y"}))
		check(Reliability(filepath.Join(dir, "reliability"+ext), reliabilityFixture(3000, 10, 1), Labels{Title: "digits, p_map"}))
		d := oodFixture(800, 500, 1)
		d.InName, d.OutName = "digits 0-4", "digits 5-9"
		check(OODHistogram(filepath.Join(dir, "ood"+ext), d, Labels{Title: "predictive entropy", X: "predictive entropy (nats)"}))
		check(Curves(filepath.Join(dir, "curves"+ext), curvesFixture(3000), Labels{Title: "training"}))
		c := curvesFixture(3000)
		c.LogY = true
		check(Curves(filepath.Join(dir, "curves_log"+ext), c, Labels{Title: "training (log)"}))
		check(Functions(filepath.Join(dir, "functions"+ext), functionsFixture(100, 200, 1, true), Labels{Title: "posterior function samples"}))
		check(FunctionPanels(filepath.Join(dir, "panels"+ext), panelsFixture(30, 150), Labels{Title: "prior function samples"}))
	}
}
