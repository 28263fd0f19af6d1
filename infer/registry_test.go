package infer_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bayesl/bayesl/infer"
)

func num(name string, v float64) infer.Arg { return infer.Arg{Name: name, Num: v} }
func str(name, v string) infer.Arg         { return infer.Arg{Name: name, Str: v, IsStr: true} }

func TestBuiltins(t *testing.T) {
	r := infer.Builtins()
	got := r.Names()
	if !slices.IsSorted(got) {
		t.Errorf("Names() = %v, not sorted", got)
	}
	for _, name := range []string{"map", "vi", "swag", "multiswag", "sgld", "psgld", "csgmcmc", "nuts"} {
		if !slices.Contains(got, name) {
			t.Errorf("Names() = %v, missing %q", got, name)
		}
	}
	// A fresh value each call: changing one leaves the next alone.
	delete(r, "vi")
	if _, ok := infer.Builtins()["vi"]; !ok {
		t.Error("Builtins shares its map")
	}
	for _, name := range infer.Builtins().Names() {
		m, err := infer.Builtins().New(name, nil)
		if err != nil {
			t.Fatalf("%s with no settings: %v", name, err)
		}
		if m.Name() != name {
			t.Errorf("registry entry %q builds %q", name, m.Name())
		}
	}
}

func TestRegistryNew(t *testing.T) {
	m, err := infer.Builtins().New("map", []infer.Arg{num("epochs", 50), num("lr", 3e-3), str("optimizer", "sgd"), num("momentum", 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := &infer.MAP{Epochs: 50, LR: 3e-3, Optimizer: "sgd", Momentum: -1}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	m, err = infer.Builtins().New("vi", []infer.Arg{num("kl_weight", 0.5), num("samples", 4), num("batch", 1e3), num("init_scale", 1e-2)})
	if err != nil {
		t.Fatal(err)
	}
	if v := m.(*infer.VI); *v != (infer.VI{KLWeight: 0.5, Samples: 4, Batch: 1000, InitScale: 1e-2}) {
		t.Errorf("got %+v", *v)
	}
}

func TestUnknownMethod(t *testing.T) {
	_, err := infer.Registry{"map": infer.Build[infer.MAP], "vi": infer.Build[infer.VI]}.New("vii", nil)
	var ue *infer.UnknownMethodError
	if !errors.As(err, &ue) || ue.Name != "vii" || !reflect.DeepEqual(ue.Known, []string{"map", "vi"}) {
		t.Fatalf("err = %#v", err)
	}
	if want := `unknown inference method "vii"; did you mean vi? (known: map, vi)`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	_, err = infer.Registry{}.New("map", nil)
	if err == nil || !strings.Contains(err.Error(), "(known: )") {
		t.Errorf("empty registry: %v", err)
	}
}

func TestSettingErrors(t *testing.T) {
	for _, tc := range []struct {
		method string
		args   []infer.Arg
		index  int
		msg    string
	}{
		{"map", []infer.Arg{num("epochs", 5), num("epoch", 3)}, 1,
			`unknown setting "epoch" for map; did you mean epochs? (known: batch, epochs, lr, momentum, optimizer)`},
		{"vi", []infer.Arg{num("zzz", 3)}, 0,
			`unknown setting "zzz" for vi (known: batch, epochs, init_scale, kl_weight, lr, momentum, optimizer, predictive, rank, samples)`},
		{"map", []infer.Arg{str("lr", "fast")}, 0, `lr must be a number, got "fast"`},
		{"map", []infer.Arg{num("optimizer", 3)}, 0, `optimizer must be one of "adam", "sgd", got 3`},
		{"map", []infer.Arg{str("optimizer", "adamw")}, 0, `optimizer must be one of "adam", "sgd", got "adamw"; did you mean "adam"?`},
		{"map", []infer.Arg{num("epochs", 2.5)}, 0, `epochs must be a whole number, got 2.5`},
		{"map", []infer.Arg{num("epochs", 0)}, 0, `epochs must be positive, got 0`},
		{"vi", []infer.Arg{num("epochs", 1), num("lr", -1e-3)}, 1, `lr must be positive, got -0.001`},
		{"vi", []infer.Arg{num("lr", 0)}, 0, `lr must be positive, got 0`},
		{"vi", []infer.Arg{num("batch", -1)}, 0, `batch must be positive, got -1`},
		{"vi", []infer.Arg{num("samples", 1e300)}, 0, `samples must be a whole number, got 1e+300`},
		{"vi", []infer.Arg{num("kl_weight", 0)}, 0, `kl_weight must be positive, got 0`},
		{"vi", []infer.Arg{num("momentum", 1)}, 0, `momentum must be in [0, 1), got 1`},
		{"vi", []infer.Arg{num("lr", 1e-3), num("lr", 1e-3)}, 1, `lr is set twice`},
		{"nuts", []infer.Arg{num("warmup", 10), num("max_depth", 40)}, 1, `max_depth must be at most 30, got 40`},
		{"nuts", []infer.Arg{num("target_accept", 1)}, 0, `target_accept must be in [0, 1), got 1`},
		{"vi", []infer.Arg{{Num: 3}}, 0, `vi takes named settings, as in vi(epochs: 100); got 3`},
	} {
		m, err := infer.Builtins().New(tc.method, tc.args)
		var se *infer.SettingError
		if !errors.As(err, &se) {
			t.Errorf("%s%v: err = %v, want *SettingError", tc.method, tc.args, err)
			continue
		}
		if m != nil {
			t.Errorf("%s%v: a method came back with the error", tc.method, tc.args)
		}
		if se.Index != tc.index || se.Msg != tc.msg || err.Error() != tc.msg {
			t.Errorf("%s%v:\n got %d %q\nwant %d %q", tc.method, tc.args, se.Index, se.Msg, tc.index, tc.msg)
		}
	}
}

// A new backend is one struct; ParseSettings reads its tags.
type fakeSettings struct {
	Members int     `bl:"members,pos"`
	Scale   float64 `bl:"scale,nonneg"`
	Mode    string  `bl:"mode"`
	Hidden  int
}

func TestParseSettings(t *testing.T) {
	var s fakeSettings
	if err := infer.ParseSettings(&s, []infer.Arg{num("members", 5), num("scale", 0), str("mode", "diag")}); err != nil {
		t.Fatal(err)
	}
	if s != (fakeSettings{Members: 5, Mode: "diag"}) {
		t.Errorf("got %+v", s)
	}
	err := infer.ParseSettings(&s, []infer.Arg{num("Hidden", 1)})
	if err == nil || !strings.Contains(err.Error(), `unknown setting "Hidden" for settings`) {
		t.Errorf("untagged field settable: %v", err)
	}
	if err := infer.ParseSettings(&s, []infer.Arg{num("scale", -1)}); err == nil {
		t.Error("negative scale accepted")
	}
	if err := infer.ParseSettings(&s, []infer.Arg{num("mode", 1)}); err == nil || err.Error() != "mode must be a string, got 1" {
		t.Errorf("number for a string: %v", err)
	}
	if err := infer.ParseSettings(s, nil); err == nil {
		t.Error("non-pointer accepted")
	}
	type badTag struct {
		X []int `bl:"x"`
	}
	if err := infer.ParseSettings(&badTag{}, nil); err == nil {
		t.Error("slice setting accepted")
	}
}
