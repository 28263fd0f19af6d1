// Package spell finds the likely intended word behind a misspelt one, for
// the "did you mean" hints of every error message in bayesl: unknown names
// in scripts, CSV columns, tensor names, method settings.
package spell

import (
	"fmt"
	"slices"
	"strings"
)

// Nearest returns the candidate closest to name by edit distance (in runes,
// ignoring case), or "" when none is close enough to be a plausible
// misspelling: the distance must be below the length of name and at most
// half of it, rounded up. Ties go to the earlier candidate.
func Nearest(name string, candidates []string) string {
	lname := strings.ToLower(name)
	best, bestD := "", -1
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := Distance(lname, strings.ToLower(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	n := len([]rune(name))
	if bestD < 0 || bestD > (n+1)/2 || bestD >= n {
		return ""
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// maxListed bounds the valid names an Unknown message lists: past it the
// list says how many more there are, so a message stays one readable line.
const maxListed = 24

// Unknown returns the message for a name that is not one of known: what
// kind of name it is, a "did you mean" when a candidate is close, and the
// valid names, sorted, so the user never has to look them up:
//
//	unknown metric "rmsee"; did you mean "rmse"? (known: accuracy, brier, ...)
func Unknown(what, name string, known []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if near := Nearest(name, known); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	if list := List(known); list != "" {
		msg += " (known: " + list + ")"
	}
	return msg
}

// List returns names sorted, without repeats, joined by commas, with at
// most maxListed of them and a count of the rest.
func List(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	s = slices.Compact(s)
	if len(s) > maxListed {
		return strings.Join(s[:maxListed], ", ") + fmt.Sprintf(", ... (%d more)", len(s)-maxListed)
	}
	return strings.Join(s, ", ")
}
