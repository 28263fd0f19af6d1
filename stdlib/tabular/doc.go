// Package tabular writes a table of named columns — numbers, or strings
// such as class labels — to the file formats a Python or R user reads
// directly, chosen by the file's extension from one table (Formats):
//
//	.csv      a header row, then one line per row (encoding/csv quoting)
//	.json     an array of records, [{"x": 1.5, "label": "setosa"}, ...]
//	          (pandas.read_json), NaN and ±Inf as null
//	.npy      one structured array of shape (N,): a float64 field ('<f8')
//	          per number column and a fixed-width unicode field ('<Un')
//	          per string column, in order, so np.load(path)["mean"] and
//	          pandas.DataFrame(np.load(path)) work without pickle
//	.npz      one array per column, entries in column order
//	          (np.load(path).files), plus the table's extra arrays
//	          (posterior draws, S x N x K), deflated as by
//	          numpy.savez_compressed
//	.parquet  one required DOUBLE or STRING column per column, in order,
//	          written with github.com/parquet-go/parquet-go
//
// Only .npz holds a table's extra N-dimensional arrays; the other formats
// refuse a table that has them rather than drop them. Predictions lays
// out a posterior predictive (stdlib/predictive) as such a table. The
// package knows nothing of the language. (It lives here rather than in
// stdlib/predictive so that the numerics, which infer and compile import,
// do not link a Parquet writer.)
package tabular
