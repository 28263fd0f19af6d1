package spell

import (
	"fmt"
	"strings"
	"testing"
)

func TestNearest(t *testing.T) {
	cands := []string{"relu", "tanh", "sigmoid", "y", "Accel"}
	for _, tc := range []struct{ name, want string }{
		{"rleu", "relu"}, {"tanhh", "tanh"}, {"zzzzzz", ""}, {"x", ""}, {"accell", "Accel"}, {"relu", ""},
	} {
		if got := Nearest(tc.name, cands); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The cases the CSV reader relies on: column names differing by case or a
// letter or two.
func TestNearestColumns(t *testing.T) {
	names := []string{"times", "accel", "species", "label"}
	for in, want := range map[string]string{
		"time": "times", "Accel": "accel", "specis": "species", "lable": "label",
		"xyzzy": "", "q": "",
	} {
		if got := Nearest(in, names); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"kitten", "sitting", 3}, {"é", "e", 1}, {"abc", "", 3}} {
		if got := Distance(tc.a, tc.b); got != tc.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

func TestUnknown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		known []string
		want  string
	}{
		{"crps", []string{"rmse", "nll", "ece"}, `unknown metric "crps" (known: ece, nll, rmse)`},
		{"rmsee", []string{"rmse", "nll", "nll"}, `unknown metric "rmsee"; did you mean "rmse"? (known: nll, rmse)`},
		{"x", nil, `unknown metric "x"`},
	} {
		if got := Unknown("metric", tc.name, tc.known); got != tc.want {
			t.Errorf("Unknown(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("n%02d", i)
	}
	if got := List(many); !strings.HasSuffix(got, "n23, ... (6 more)") {
		t.Errorf("List of 30 = %q, want the first 24 and a count", got)
	}
}
