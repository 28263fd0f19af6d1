package infer_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bayesl/bayesl/infer"
	"github.com/bayesl/bayesl/infer/infertest"
)

// MAP on the conjugate problem of docs/algorithms.md §3 finds the exact
// posterior mean 50/57.
func ExampleMAP() {
	p, exact, _ := infertest.Sanity1D()
	post, err := infer.MAP{Epochs: 1000}.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("map: %.3f  exact: %.3f\n", post.(*infer.Point).Theta[0], exact[0])
	// Output:
	// map: 0.877  exact: 0.877
}

// VI on the same problem recovers the whole posterior N(50/57, 1/57).
func ExampleVI() {
	p, exact, cov := infertest.Sanity1D()
	m := infer.VI{Epochs: 20000, LR: 1e-3, Samples: 8}
	post, err := m.Fit(context.Background(), p, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		panic(err)
	}
	g := post.(*infer.Gaussian)
	fmt.Printf("vi:    mean %.1f std %.2f\n", g.Mean[0], g.Std[0])
	fmt.Printf("exact: mean %.1f std %.2f\n", exact[0], math.Sqrt(cov.At(0, 0)))
	// Output:
	// vi:    mean 0.9 std 0.13
	// exact: mean 0.9 std 0.13
}

// A script's "using vi(epochs: 300, kl_weight: 0.5)" becomes a registry
// lookup; a bad setting names the argument that caused it.
func ExampleRegistry_New() {
	reg := infer.Builtins()
	m, err := reg.New("vi", []infer.Arg{{Name: "epochs", Num: 300}, {Name: "kl_weight", Num: 0.5}})
	fmt.Printf("%s %+v %v\n", m.Name(), *m.(*infer.VI), err)

	_, err = reg.New("vi", []infer.Arg{{Name: "epochs", Num: 300}, {Name: "lr", Str: "fast", IsStr: true}})
	fmt.Printf("%v (argument %d)\n", err, err.(*infer.SettingError).Index)

	// An unknown name gets a suggestion; the message goes on to list every
	// known name.
	_, err = reg.New("swagg", nil)
	msg, _, _ := strings.Cut(err.Error(), " (known: ")
	fmt.Println(msg)
	// Output:
	// vi {Epochs:300 LR:0 Batch:0 KLWeight:0.5 Samples:0 InitScale:0 Optimizer: Momentum:0 Rank:0 Predictive: epochCap:0} <nil>
	// lr must be a number, got "fast" (argument 1)
	// unknown inference method "swagg"; did you mean swag?
}

// A posterior travels with the caller's metadata; Decode gives both back.
func ExampleEncode() {
	post := &infer.Gaussian{Mean: []float64{0.877}, Std: []float64{0.132}, By: "vi"}
	var buf bytes.Buffer
	if err := infer.Encode(&buf, post, []byte("model net(x: 1) { ... }")); err != nil {
		panic(err)
	}
	got, meta, err := infer.Decode(&buf)
	fmt.Println(got.Method(), got.(*infer.Gaussian).Mean, string(meta), err)
	// Output:
	// vi [0.877] model net(x: 1) { ... } <nil>
}
