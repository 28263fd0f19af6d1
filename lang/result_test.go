package lang

import (
	"encoding/json"
	"math"
	"testing"
)

// TestTableJSONNaN: NaN and infinite values become null rather than
// breaking the whole --json document.
func TestTableJSONNaN(t *testing.T) {
	r := Result{Kind: "evaluate", Table: &Table{Columns: []string{"posterior", "a", "b", "c"}, Rows: []TableRow{{Label: "p", Values: []float64{1.5, math.NaN(), math.Inf(1)}}}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"evaluate","table":{"title":"","columns":["posterior","a","b","c"],"rows":[{"label":"p","values":[1.5,null,null]}]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
