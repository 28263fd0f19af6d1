package parser_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bayesl/bayesl/ir"
	"github.com/bayesl/bayesl/parser"
)

// script generates a valid script of about size bytes: data, a split, a
// model with a comment, a fit and an evaluation, repeated under new names.
func script(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `data d%[1]d = csv("d.csv", x: [t], y: a)
let a%[1]d, b%[1]d = split(d%[1]d, 0.8, seed: 7)
model m%[1]d(x: 1) {
  prior weights ~ normal(0, 1)  # a comment
  h = dense(x, 8) |> tanh
  y ~ normal(dense(h, 1)[0], 0.1 + 0.01 * 2)
}
posterior p%[1]d = fit m%[1]d on a%[1]d using map(epochs: 10, lr: 0.01)
evaluate [p%[1]d] on b%[1]d: nll, rmse
`, i)
	}
	return []byte(b.String())
}

func parseCheck(tb testing.TB, src []byte) {
	f, err := parser.Parse("big.bl", src)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ir.Check(f, ir.NewScope(), &ir.Config{}); err != nil {
		tb.Fatal(err)
	}
}

// TestTenThousandLets: 10 000 `let` lines took minutes to check while
// every span rescanned the file for its line and column.
func TestTenThousandLets(t *testing.T) {
	var b strings.Builder
	b.WriteString("data d = csv(\"d.csv\", x: [t], y: a)\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "let a%d, b%d = split(d, 0.5, seed: 7)\n", i, i)
	}
	start := time.Now()
	parseCheck(t, []byte(b.String()))
	if d := time.Since(start); d > time.Minute {
		t.Errorf("10 000 lets took %v to parse and check", d)
	}
}

// TestParseAllocsLinear: four times the script costs about four times
// the allocations (the statement-at-a-time parse keeps no per-file state
// that grows faster than the file).
func TestParseAllocsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 200 KB")
	}
	small, large := script(50<<10), script(200<<10)
	allocs := func(src []byte) float64 {
		return testing.AllocsPerRun(1, func() { parseCheck(t, src) })
	}
	a, b := allocs(small), allocs(large)
	if ratio := b / a * float64(len(small)) / float64(len(large)); ratio > 1.25 {
		t.Errorf("allocations per byte grow %.2fx from %d to %d bytes (%.0f, %.0f)", ratio, len(small), len(large), a, b)
	}
}

func benchParseCheck(b *testing.B, size int) {
	src := script(size)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		parseCheck(b, src)
	}
}

func BenchmarkParseCheck1MB(b *testing.B)  { benchParseCheck(b, 1<<20) }
func BenchmarkParseCheck10MB(b *testing.B) { benchParseCheck(b, 10<<20) }

// BenchmarkParseDeep: nesting just under the limit parses; far over it
// is refused by the pre-scan, without parsing.
func BenchmarkParseDeep(b *testing.B) {
	for _, n := range []int{parser.MaxDepth, 100000} {
		src := []byte("let x = " + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + "\n")
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				_, err := parser.Parse("deep.bl", src)
				if (err != nil) != (n > parser.MaxDepth) {
					b.Fatal(err)
				}
			}
		})
	}
}
