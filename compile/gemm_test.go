package compile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// refGemm is the textbook triple loop.
func refGemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				var av, bv float64
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

func randSlice(n int, rng *rand.Rand) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// TestFastGemm checks the assembly product against the triple loop for
// every transposition, edge sizes around the 6 x 8 tile and the k block,
// padded leading dimensions, and alpha/beta (beta 0 must ignore a NaN C).
func TestFastGemm(t *testing.T) {
	if !haveFMA {
		t.Skip("no AVX2/FMA kernel in this build or on this CPU")
	}
	t.Run("in place", func(t *testing.T) { testFastGemm(t) })
	t.Run("packed", func(t *testing.T) {
		save := inPlaceBytes
		inPlaceBytes = 0
		defer func() { inPlaceBytes = save }()
		testFastGemm(t)
	})
}

func testFastGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 5, 6, 7, 8, 9, 13, 16, 17, 50, 97, 520}
	ks := []int{1, 2, 3, 7, 64, 255, 256, 257, 600}
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for trial := 0; trial < 40; trial++ {
				m := sizes[rng.IntN(len(sizes))]
				n := sizes[rng.IntN(len(sizes))]
				k := ks[rng.IntN(len(ks))]
				pad := rng.IntN(3)
				ar, ac := m, k
				if tA {
					ar, ac = k, m
				}
				br, bc := k, n
				if tB {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+pad, bc+pad, n+pad
				a := randSlice((ar-1)*lda+ac, rng)
				b := randSlice((br-1)*ldb+bc, rng)
				alpha := []float64{1, -0.5, 2}[rng.IntN(3)]
				beta := []float64{0, 1, 0.25}[rng.IntN(3)]
				c := randSlice((m-1)*ldc+n, rng)
				if beta == 0 {
					for i := range c {
						c[i] = math.NaN()
					}
				}
				want := append([]float64(nil), c...)
				refGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
				got := append([]float64(nil), c...)
				fastGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
				for i := range m {
					for j := range n {
						w, g := want[i*ldc+j], got[i*ldc+j]
						if math.Abs(w-g) > 1e-12*(1+math.Abs(w))*math.Sqrt(float64(k)) {
							t.Fatalf("tA=%v tB=%v m=%d n=%d k=%d alpha=%g beta=%g: C[%d,%d] = %v, want %v", tA, tB, m, n, k, alpha, beta, i, j, g, w)
						}
					}
					for j := n; j < ldc && i*ldc+j < len(c); j++ {
						if g, w := got[i*ldc+j], c[i*ldc+j]; !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
							t.Fatalf("padding C[%d,%d] changed", i, j)
						}
					}
				}
			}
		}
	}
}

// TestFastGemmNoAlloc checks a steady-state product allocates nothing, a
// transposed B included.
func TestFastGemmNoAlloc(t *testing.T) {
	if !haveFMA {
		t.Skip("no AVX2/FMA kernel")
	}
	rng := rand.New(rand.NewPCG(1, 3))
	a, b, c := randSlice(128*70, rng), randSlice(70*50, rng), randSlice(128*50, rng)
	allocs := testing.AllocsPerRun(50, func() {
		fastGemm(false, false, 128, 50, 70, 1, a, 70, b, 50, 0, c, 50)
		fastGemm(false, true, 128, 70, 50, 1, c, 50, b, 50, 1, a, 70)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run", allocs)
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short A")
		}
	}()
	fastGemm(false, false, 4, 4, 4, 1, make([]float64, 15), 4, make([]float64, 16), 4, 0, make([]float64, 16), 4)
}

// BenchmarkGemm compares the kernel with gonum's Dgemm on the products of
// an MLP training step (batch 128): forward X·W, weight gradient Xᵀ·G and
// input gradient G·Wᵀ.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	for _, sh := range []struct{ in, out int }{{64, 128}, {128, 10}, {50, 50}, {784, 256}, {256, 256}} {
		const rows = 128
		x, w, g := randSlice(rows*sh.in, rng), randSlice(sh.in*sh.out, rng), randSlice(rows*sh.out, rng)
		cx, cw := make([]float64, rows*sh.in), make([]float64, sh.in*sh.out)
		cases := []struct {
			name       string
			tA, tB     bool
			m, n, k    int
			a, bb, c   []float64
			lda, ldb   int
			ldc        int
			alpha, bet float64
		}{
			{"XW", false, false, rows, sh.out, sh.in, x, w, g, sh.in, sh.out, sh.out, 1, 0},
			{"XtG", true, false, sh.in, sh.out, rows, x, g, cw, sh.in, sh.out, sh.out, 1, 1},
			{"GWt", false, true, rows, sh.in, sh.out, g, w, cx, sh.out, sh.out, sh.in, 1, 1},
		}
		for _, cs := range cases {
			flops := 2 * float64(cs.m*cs.n*cs.k)
			name := fmt.Sprintf("%dx%d/%s", sh.in, sh.out, cs.name)
			b.Run(name+"/blas64", func(b *testing.B) {
				impl := blas64.Implementation() // OpenBLAS under -tags openblas
				for b.Loop() {
					impl.Dgemm(trans(cs.tA), trans(cs.tB), cs.m, cs.n, cs.k, cs.alpha, cs.a, cs.lda, cs.bb, cs.ldb, cs.bet, cs.c, cs.ldc)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			b.Run(name+"/gonum", func(b *testing.B) {
				impl := gonum.Implementation{}
				for b.Loop() {
					impl.Dgemm(trans(cs.tA), trans(cs.tB), cs.m, cs.n, cs.k, cs.alpha, cs.a, cs.lda, cs.bb, cs.ldb, cs.bet, cs.c, cs.ldc)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			if haveFMA {
				b.Run(name+"/kernel", func(b *testing.B) {
					for b.Loop() {
						fastGemm(cs.tA, cs.tB, cs.m, cs.n, cs.k, cs.alpha, cs.a, cs.lda, cs.bb, cs.ldb, cs.bet, cs.c, cs.ldc)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
