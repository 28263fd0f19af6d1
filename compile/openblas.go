//go:build openblas

package compile

// The fast build: `go build -tags openblas` (or go test, go run) routes
// every gonum BLAS call of every program that links this package, and so
// every product of the kernels here, through OpenBLAS (see
// compile/internal/openblas). It needs Debian's libopenblas-dev and pkg-config.
import _ "github.com/bayesl/bayesl/compile/internal/openblas"
