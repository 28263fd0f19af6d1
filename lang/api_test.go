package lang

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// internalPkgs are the packages behind the API: a type of theirs in lang's
// exported surface would tie embedding programs to bayesl's insides.
// stdlib packages (plain numerics: predictive, tensorio, data's Scaler) and
// parser/source (errors with positions) are public.
var internalPkgs = []string{"ir", "infer", "compile", "parser"}

func internal(path string) bool {
	for _, p := range internalPkgs {
		if path == "github.com/bayesl/bayesl/"+p {
			return true
		}
	}
	return strings.Contains(path, "/internal/")
}

// TestAPIShowsNoInternalType type-checks lang and walks every exported
// identifier: package-level functions, variables and constants, exported
// types with their exported fields and the method sets of T and *T
// (promoted methods included). None may mention a type of an internal
// package.
func TestAPIShowsNoInternalType(t *testing.T) {
	// Export data of lang's dependencies, from the build the test ran.
	list, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}", ".").Output()
	if err != nil {
		t.Skipf("go list -export: %v", err)
	}
	export := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if path, file, ok := strings.Cut(line, "="); ok {
			export[path] = file
		}
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var asts []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		asts = append(asts, a)
	}
	lookup := func(path string) (io.ReadCloser, error) {
		if f := export[path]; f != "" {
			return os.Open(f)
		}
		return nil, fmt.Errorf("no export data for %s", path)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
	pkg, err := conf.Check("github.com/bayesl/bayesl/lang", fset, asts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range leaks(pkg) {
		t.Errorf("exported API mentions an internal type: %s", bad)
	}

	// The walk itself finds a field, a method result and a promoted
	// method, and ignores what is unexported.
	fake, err := parser.ParseFile(fset, "fake.go", `package fake
import "github.com/bayesl/bayesl/ir"
type P struct{ M *ir.Model; m *ir.Model }
func (P) Get() []*ir.Program { return nil }
func (P) get() *ir.Program { return nil }
type Q struct{ P }
`, 0)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := conf.Check("fake", fset, []*ast.File{fake}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(leaks(fp), "; ")
	for _, want := range []string{"P.M: github.com/bayesl/bayesl/ir.Model", "P.Get(result)", "Q.Get(result)"} {
		if !strings.Contains(got, want) {
			t.Errorf("leaks of a leaky package miss %s: %s", want, got)
		}
	}
	if strings.Contains(got, ".m:") || strings.Contains(got, ".get") {
		t.Errorf("leaks of a leaky package: %s", got)
	}
}

// leaks lists "where: type" for every exported use of an internal type.
func leaks(pkg *types.Package) []string {
	var out []string
	seen := map[types.Type]bool{}
	var visit func(where string, typ types.Type)
	visit = func(where string, typ types.Type) {
		switch t := types.Unalias(typ).(type) {
		case *types.Named:
			if p := t.Obj().Pkg(); p != nil && internal(p.Path()) {
				out = append(out, where+": "+t.String())
				return
			}
			if seen[t] || t.Obj().Pkg() != pkg {
				return // other packages' types are their own business
			}
			seen[t] = true
			visit(where, t.Underlying())
			for _, ms := range []*types.MethodSet{types.NewMethodSet(t), types.NewMethodSet(types.NewPointer(t))} {
				for i := range ms.Len() {
					if m := ms.At(i).Obj(); m.Exported() {
						visit(where+"."+m.Name(), m.Type())
					}
				}
			}
		case *types.Pointer:
			visit(where, t.Elem())
		case *types.Slice:
			visit(where, t.Elem())
		case *types.Array:
			visit(where, t.Elem())
		case *types.Map:
			visit(where, t.Key())
			visit(where, t.Elem())
		case *types.Chan:
			visit(where, t.Elem())
		case *types.Signature:
			for i := range t.Params().Len() {
				visit(where+"(param)", t.Params().At(i).Type())
			}
			for i := range t.Results().Len() {
				visit(where+"(result)", t.Results().At(i).Type())
			}
		case *types.Struct:
			for i := range t.NumFields() {
				if f := t.Field(i); f.Exported() {
					visit(where+"."+f.Name(), f.Type())
				}
			}
		case *types.Interface:
			for i := range t.NumMethods() {
				if m := t.Method(i); m.Exported() {
					visit(where+"."+m.Name(), m.Type())
				}
			}
		}
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		if obj := scope.Lookup(name); obj.Exported() {
			visit(name, obj.Type())
		}
	}
	return out
}
