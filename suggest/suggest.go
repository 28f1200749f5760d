// Package suggest finds the known name a misspelt one was meant to be, for
// the "did you mean" of an error message.
package suggest

import "strings"

// Closest is the name in known that name is most likely a misspelling of:
// the first that is the same but for case and the separators '-', '_' and
// ' ', else the nearest (the first of the nearest) at most most edits away,
// case ignored; "" when none is. With most 0 only the first kind counts.
func Closest(name string, known []string, most int) string {
	for _, k := range known {
		if fold(k) == fold(name) {
			return k
		}
	}
	best, bestD := "", most+1
	lower := strings.ToLower(name)
	for _, k := range known {
		if d := Distance(lower, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

var separators = strings.NewReplacer("-", "", "_", "", " ", "")

// fold is s in lower case without separators.
func fold(s string) string { return separators.Replace(strings.ToLower(s)) }

// Distance is the Levenshtein distance of a and b: the fewest insertions,
// deletions and substitutions of a byte that turn a into b.
func Distance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
