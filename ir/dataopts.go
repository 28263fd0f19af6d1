package ir

// CSVOptions is the table of csv(...)'s named options, after the path. The
// checker reads its argument names from here and the REPL completes them;
// a new option is an entry here and its case in checker.csv.
var CSVOptions = []Named{
	{"x", "feature columns: names, quoted names or ranges first .. last (default: every column but y)"},
	{"y", "the target column; leave it out for inputs to predict at (such data cannot be fitted or evaluated on)"},
	{"classes", "number of classes K: the target holds labels (integers 0..K-1 or strings, numbered in sorted order)"},
	{"standardize", "true: rescale features (and a location-scale target) by the statistics of the data a posterior is fitted on"},
	{"drop_missing", "true: leave out the rows with an empty cell (or NaN) in a column read, and say how many; otherwise such a row is an error"},
}
