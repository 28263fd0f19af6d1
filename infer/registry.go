package infer

import (
	"fmt"
	"github.com/bayesl/bayesl/stdlib/spell"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Arg is one setting as written in a script, e.g. epochs: 200 or
// optimizer: "sgd". Num holds a number; Str holds a string when IsStr; Call
// holds a nested method when the value is one, e.g. method: map(epochs: 50)
// for an ensemble.
type Arg struct {
	Name  string
	Num   float64
	Str   string
	IsStr bool
	Call  *Call
}

// Call is a method with its settings written as a setting's value.
type Call struct {
	Name string
	Args []Arg
}

// String formats the value as a script writes it: 0.01 or "sgd".
func (a Arg) String() string {
	if a.Call != nil {
		parts := make([]string, len(a.Call.Args))
		for i, c := range a.Call.Args {
			parts[i] = c.Name + ": " + c.String()
		}
		return a.Call.Name + "(" + strings.Join(parts, ", ") + ")"
	}
	if a.IsStr {
		return strconv.Quote(a.Str)
	}
	return strconv.FormatFloat(a.Num, 'g', -1, 64)
}

// SettingError reports a bad setting. Index is the position of the
// offending argument in the args slice (so the caller can point at its
// source), or -1 when the error is about a Go-side settings value.
type SettingError struct {
	Index int
	Msg   string
}

func (e *SettingError) Error() string { return e.Msg }

// UnknownMethodError reports an inference backend name that is not in the
// registry. Known lists the registered names, sorted.
type UnknownMethodError struct {
	Name  string
	Known []string
}

func (e *UnknownMethodError) Error() string {
	msg := fmt.Sprintf("unknown inference method %q", e.Name)
	if s := spell.Nearest(e.Name, e.Known); s != "" {
		msg += "; did you mean " + s + "?"
	}
	return msg + " (known: " + strings.Join(e.Known, ", ") + ")"
}

// Registry maps a backend name, as written in a script, to a constructor
// that parses the backend's settings. It is an ordinary value: Builtins
// returns a fresh one, and a program may add or remove entries.
type Registry map[string]func(args []Arg) (Method, error)

// Builtins returns a new registry holding the backends of this package:
// "map" (*MAP), "vi" (*VI),
// "swag" (*SWAG), "multiswag" (*MultiSWAG),
// "sgld" (*SGLD), "psgld" (*PSGLD), "csgmcmc" (*CSGMCMC) and "nuts" (*NUTS).
//
// "ensemble" (*Ensemble) and "laplace" (*Laplace) build their nested
// method: setting through the registry they belong to, so any point method
// in it can be nested.
func Builtins() Registry {
	r := Registry{
		"map":       Build[MAP],
		"vi":        Build[VI],
		"swag":      buildSWAG,
		"multiswag": buildMultiSWAG,
		"sgld":      buildSampler[SGLD],
		"psgld":     buildSampler[PSGLD],
		"csgmcmc":   buildSampler[CSGMCMC],
		"nuts":      buildSampler[NUTS],
	}
	r["ensemble"] = r.buildEnsemble
	r["laplace"] = r.buildLaplace
	r["mc_dropout"] = Build[MCDropout]
	return r
}

// Names returns the registered names, sorted.
func (r Registry) Names() []string { return slices.Sorted(maps.Keys(r)) }

// New builds the named backend from its settings. An unknown name gives an
// *UnknownMethodError listing the known ones; a bad setting gives a
// *SettingError.
func (r Registry) New(name string, args []Arg) (Method, error) {
	f, ok := r[name]
	if !ok || f == nil {
		return nil, &UnknownMethodError{Name: name, Known: r.Names()}
	}
	return f(args)
}

// Build is a registry constructor for a backend whose settings struct is T:
// it parses args into a new T with ParseSettings and returns a *T. A new
// backend registers itself with one entry, "name": Build[T].
func Build[T any, P interface {
	*T
	Method
}](args []Arg) (Method, error) {
	m := P(new(T))
	if err := ParseSettings(m, args); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseSettings stores script settings into the struct dst points to. Each
// settable field carries a tag
//
//	bl:"name[,option...]"
//
// where name is the setting's name in the language and the options are
//
//	pos        the value must be > 0
//	nonneg     the value must be >= 0
//	unit       the value must be in [0, 1)
//	oneof=a|b  a string setting must be one of the listed words
//	zero=V     a script value of exactly 0 is stored as V; for fields whose
//	           Go zero value means "the default", V is how 0 itself is spelt
//
// Field types are int (a whole number), float64 (a finite number),
// string, and *Call: a nested method, written as a call (method:
// map(epochs: 50)) or a bare name (method: map, stored as a Call without
// arguments), which the backend's constructor then builds through a
// Registry. Settings not mentioned in args keep their value, normally the
// zero value that means the documented default. Every error is a
// *SettingError whose Index is the offending argument.
//
// When dst has a Name() string method, messages name the backend.
func ParseSettings(dst any, args []Arg) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("infer: ParseSettings needs a pointer to a struct, got %T", dst)
	}
	owner := "settings"
	if n, ok := dst.(interface{ Name() string }); ok {
		owner = n.Name()
	}
	fields, err := settingFields(v.Elem().Type())
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(args))
	for i, a := range args {
		if a.Name == "" {
			return &SettingError{i, fmt.Sprintf("%s takes named settings, as in %s(epochs: 100); got %s", owner, owner, a)}
		}
		f, ok := fields[a.Name]
		if !ok {
			known := slices.Sorted(maps.Keys(fields))
			msg := fmt.Sprintf("unknown setting %q for %s", a.Name, owner)
			if s := spell.Nearest(a.Name, known); s != "" {
				msg += "; did you mean " + s + "?"
			}
			return &SettingError{i, msg + " (known: " + strings.Join(known, ", ") + ")"}
		}
		if seen[a.Name] {
			return &SettingError{i, fmt.Sprintf("%s is set twice", a.Name)}
		}
		seen[a.Name] = true
		if msg := f.set(v.Elem().Field(f.index), a); msg != "" {
			return &SettingError{i, msg}
		}
	}
	return nil
}

// checkSettings validates the non-zero fields of a settings struct set from
// Go, with the constraints of its tags. Zero fields mean defaults.
func checkSettings(s any) error {
	v := reflect.ValueOf(s)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	fields, err := settingFields(v.Type())
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		f := fields[name]
		fv := v.Field(f.index)
		if fv.IsZero() {
			continue
		}
		var msg string
		switch fv.Kind() {
		case reflect.String:
			msg = f.checkStr(fv.String())
		case reflect.Int:
			x := float64(fv.Int())
			if f.hasZero && x == f.zero {
				continue
			}
			msg = f.checkNum(x)
		case reflect.Float64:
			x := fv.Float()
			if f.hasZero && x == f.zero {
				continue
			}
			msg = f.checkNum(x)
		}
		if msg != "" {
			return &SettingError{-1, msg}
		}
	}
	return nil
}

var callType = reflect.TypeFor[*Call]()

// field describes one tagged settings field.
type field struct {
	name    string
	index   int
	kind    reflect.Kind
	pos     bool
	nonneg  bool
	unit    bool
	oneof   []string
	hasZero bool
	zero    float64
}

func settingFields(t reflect.Type) (map[string]*field, error) {
	fields := make(map[string]*field)
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("bl")
		if !ok {
			continue
		}
		parts := strings.Split(tag, ",")
		f := &field{name: parts[0], index: i, kind: sf.Type.Kind()}
		if f.name == "" || !sf.IsExported() || fields[f.name] != nil {
			return nil, fmt.Errorf("infer: %s.%s: bad or duplicate setting tag %q", t.Name(), sf.Name, tag)
		}
		switch f.kind {
		case reflect.Int, reflect.Float64, reflect.String:
		case reflect.Pointer:
			if sf.Type != callType {
				return nil, fmt.Errorf("infer: %s.%s: setting of unsupported type %s", t.Name(), sf.Name, sf.Type)
			}
		default:
			return nil, fmt.Errorf("infer: %s.%s: setting of unsupported type %s", t.Name(), sf.Name, sf.Type)
		}
		for _, opt := range parts[1:] {
			key, val, _ := strings.Cut(opt, "=")
			switch key {
			case "pos":
				f.pos = true
			case "nonneg":
				f.nonneg = true
			case "unit":
				f.unit = true
			case "oneof":
				f.oneof = strings.Split(val, "|")
			case "zero":
				z, err := strconv.ParseFloat(val, 64)
				if err != nil {
					return nil, fmt.Errorf("infer: %s.%s: bad zero option %q", t.Name(), sf.Name, opt)
				}
				f.hasZero, f.zero = true, z
			default:
				return nil, fmt.Errorf("infer: %s.%s: unknown setting option %q", t.Name(), sf.Name, opt)
			}
		}
		fields[f.name] = f
	}
	return fields, nil
}

// set stores a into v and returns a message when a does not fit.
func (f *field) set(v reflect.Value, a Arg) string {
	if f.kind == reflect.Pointer { // *Call: a nested method
		switch {
		case a.Call != nil:
			c := *a.Call
			v.Set(reflect.ValueOf(&c))
		case a.IsStr:
			v.Set(reflect.ValueOf(&Call{Name: a.Str}))
		default:
			return fmt.Sprintf("%s must be a method such as map(epochs: 100), got %s", f.name, a)
		}
		return ""
	}
	if a.Call != nil {
		return fmt.Sprintf("%s must be a number or a name, not a method call", f.name)
	}
	if f.kind == reflect.String {
		if !a.IsStr {
			if f.oneof != nil {
				return fmt.Sprintf("%s must be one of %s, got %s", f.name, quoteAll(f.oneof), a)
			}
			return fmt.Sprintf("%s must be a string, got %s", f.name, a)
		}
		if msg := f.checkStr(a.Str); msg != "" {
			return msg
		}
		v.SetString(a.Str)
		return ""
	}
	if a.IsStr {
		return fmt.Sprintf("%s must be a number, got %s", f.name, a)
	}
	x := a.Num
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Sprintf("%s must be finite, got %s", f.name, a)
	}
	if f.kind == reflect.Int && (x != math.Trunc(x) || math.Abs(x) > 1<<53) {
		return fmt.Sprintf("%s must be a whole number, got %s", f.name, a)
	}
	if msg := f.checkNum(x); msg != "" {
		return msg
	}
	if x == 0 && f.hasZero {
		x = f.zero
	}
	if f.kind == reflect.Int {
		v.SetInt(int64(x))
	} else {
		v.SetFloat(x)
	}
	return ""
}

func (f *field) checkNum(x float64) string {
	switch {
	case f.pos && !(x > 0):
		return fmt.Sprintf("%s must be positive, got %g", f.name, x)
	case f.nonneg && !(x >= 0):
		return fmt.Sprintf("%s must not be negative, got %g", f.name, x)
	case f.unit && !(x >= 0 && x < 1):
		return fmt.Sprintf("%s must be in [0, 1), got %g", f.name, x)
	}
	return ""
}

func (f *field) checkStr(s string) string {
	if f.oneof != nil && !slices.Contains(f.oneof, s) {
		msg := fmt.Sprintf("%s must be one of %s, got %q", f.name, quoteAll(f.oneof), s)
		if near := spell.Nearest(s, f.oneof); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return msg
	}
	return ""
}

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}
