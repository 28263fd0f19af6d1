// Command bench is the bayesl side of the speed harness: it trains and
// predicts with bayesl through the language (backends by registry name),
// and drives the whole comparison with PyTorch. See README.md; run it with
// `bash examples/bench/run.sh`.
//
//	bench case -case C -backend B ...   one run in this process; prints a JSON record
//	bench drive -go BIN [-openblas BIN] [-python PY] ...   every case, alternating, with the reports
//	bench report -dir DIR               summary.md, scaling.csv and scaling.png from DIR/results.json
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench case|drive|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "case":
		err = runCase(os.Args[2:])
	case "drive":
		err = runDrive(os.Args[2:])
	case "report":
		err = runReport(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
