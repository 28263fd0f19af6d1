package parser

import "github.com/bayesl/bayesl/parser/source"

// MaxDepth is the deepest nesting Parse accepts, counted in brackets and
// prefix minus signs before parsing and in expression levels (operators,
// calls, indexes, fields, lists) after. Deeper input is a positioned syntax
// error: without a bound, the recursive parser and every pass after it
// would overflow the stack on a file of nested brackets.
const MaxDepth = 1000

// checkDepth scans the bytes as the lexer would, skipping comments and
// string literals, and reports the first bracket or prefix minus that
// nests deeper than MaxDepth. It runs before participle, whose recursion
// on such input ends in a fatal stack overflow that no recover catches.
func checkDepth(f *source.File) *source.Error {
	src := f.Src
	depth, minus := 0, 0 // open brackets; minus signs in a row
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
			continue
		case '"':
			for i+1 < len(src) && src[i+1] != '"' && src[i+1] != '\n' {
				if src[i+1] == '\\' && i+2 < len(src) && src[i+2] != '\n' {
					i++
				}
				i++
			}
			i++
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth = max(0, depth-1)
		case '-':
			minus++
			if depth+minus > MaxDepth {
				return tooDeep(f, i, "brackets and minus signs")
			}
			continue
		}
		minus = 0
		if depth > MaxDepth {
			return tooDeep(f, i, "brackets")
		}
	}
	return nil
}

func tooDeep(f *source.File, offset int, what string) *source.Error {
	start := f.Pos(offset)
	end := f.Pos(offset + 1)
	return source.Errorf(f, source.Span{Start: start, End: end}, source.Syntax, "%s nested more than %d deep", what, MaxDepth)
}
