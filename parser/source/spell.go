package source

import "github.com/bayesl/bayesl/stdlib/spell"

// Nearest returns the candidate closest to name by edit distance, or "" when
// none is close enough to be a plausible misspelling. It feeds "did you
// mean" hints; stdlib/spell holds the one implementation every stage shares.
func Nearest(name string, candidates []string) string {
	return spell.Nearest(name, candidates)
}
