package tabular

import (
	"io"
	"reflect"

	"github.com/parquet-go/parquet-go"
)

// WriteParquet writes t as one row group of required DOUBLE and STRING
// columns, in the table's order, with parquet-go. (parquet.Group orders
// its fields by name; orderedGroup keeps the table's order, which pandas
// and pyarrow show.)
func WriteParquet(w io.Writer, t *Table) error {
	g := parquet.Group{}
	fields := make([]parquet.Field, len(t.Columns))
	for j, c := range t.Columns {
		var leaf parquet.Node = parquet.Leaf(parquet.DoubleType)
		if c.Strings != nil {
			leaf = parquet.String()
		}
		g[c.Name] = leaf
		fields[j] = namedField{leaf, c.Name}
	}
	schema := parquet.NewSchema("predictions", orderedGroup{g, fields})
	pw := parquet.NewWriter(w, schema, parquet.Compression(&parquet.Snappy))
	rows := make([]parquet.Row, 0, 1024)
	flush := func() error {
		_, err := pw.WriteRows(rows)
		rows = rows[:0]
		return err
	}
	for i := range t.Rows() {
		row := make(parquet.Row, len(t.Columns))
		for j, c := range t.Columns {
			if c.Strings != nil {
				row[j] = parquet.ByteArrayValue([]byte(c.Strings[i])).Level(0, 0, j)
			} else {
				row[j] = parquet.DoubleValue(c.Floats[i]).Level(0, 0, j)
			}
		}
		if rows = append(rows, row); len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return pw.Close()
}

// orderedGroup is a parquet group whose fields keep the order given.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (o orderedGroup) Fields() []parquet.Field { return o.fields }

// namedField is a leaf with its name in the group. Value serves readers
// into Go values, which this writer never uses.
type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string { return f.name }

func (f namedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}
