package lang

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// TestTableJSON: a table marshals to the layout `bayesl run --json` has
// always written (a label, then values), NaN and infinite values as null
// rather than breaking the whole document, and reads back.
func TestTableJSON(t *testing.T) {
	tab := newTable("", "posterior", "a", "b", "c")
	tab.addRow("p", 1.5, math.NaN(), math.Inf(1))
	b, err := json.Marshal(Result{Kind: KindEvaluate, Table: tab})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"evaluate","table":{"title":"","columns":["posterior","a","b","c"],"rows":[{"label":"p","values":[1.5,null,null]}]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Kind != KindEvaluate || !reflect.DeepEqual(columnNames(back.Table), []string{"posterior", "a", "b", "c"}) {
		t.Fatalf("read back %+v", back)
	}
	if v, ok := back.Table.Lookup("p", "a"); !ok || v != 1.5 || !math.IsNaN(back.Table.Columns[2].Floats[0]) {
		t.Errorf("read back p/a = %v, %v; b = %v", v, ok, back.Table.Columns[2].Floats[0])
	}
	if _, ok := back.Table.Lookup("q", "a"); ok {
		t.Error("Lookup found a row that is not there")
	}
}

func columnNames(t *Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}
