// Command embed shows bayesl embedded in a Go program: it loads a posterior
// saved by a script and answers predictions with their uncertainty split
// over HTTP, as JSON.
//
//	go run ./cmd/bayesl run examples/mcycle.bl        # writes examples/out/mcycle_vi.post
//	go run ./examples/embed -posterior examples/out/mcycle_vi.post
//	curl -s localhost:8080/predict -d '{"x": [[10], [20]], "quantiles": [0.05, 0.95]}'
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/bayesl/bayesl/lang"
)

func main() {
	path := flag.String("posterior", "examples/out/mcycle_vi.post", "a posterior saved by a bayesl script")
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	samples := flag.Int("samples", 200, "posterior draws per prediction")
	flag.Parse()
	post, err := lang.LoadPosterior(*path)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving %s (%s over model %s) on http://%s/predict", *path, post.Method(), post.Model().Name, *addr)
	log.Fatal(http.ListenAndServe(*addr, newHandler(post, *samples)))
}
