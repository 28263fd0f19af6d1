package parser

import (
	"os"
	"testing"
)

func BenchmarkParseExample(b *testing.B) {
	src, err := os.ReadFile("../examples/mcycle.bl")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse("mcycle.bl", src); err != nil {
			b.Fatal(err)
		}
	}
}
