package data

// This file holds SkipSummary, the tail of the folder loaders' one-line
// reports. It leaves out the report types themselves: each loader keeps
// its own, with its own field names, as part of its API.

import (
	"fmt"
	"strings"
)

// SkipSummary formats what a load left out, for the end of a one-line
// report: "; skipped N: a (why), b (why), c (why), and M more" naming at
// most three sources, then "; ignored I other files and H hidden entries".
// Each part appears only when it has something to count, so a clean load
// gives "". describe returns the source (a path, or path:line) and reason
// of one skipped entry.
func SkipSummary[S any](skipped []S, describe func(S) (source, reason string), ignored, hidden int) string {
	var s string
	if len(skipped) > 0 {
		var names []string
		for _, sk := range skipped[:min(3, len(skipped))] {
			source, reason := describe(sk)
			names = append(names, fmt.Sprintf("%s (%s)", source, reason))
		}
		more := ""
		if len(skipped) > 3 {
			more = fmt.Sprintf(", and %d more", len(skipped)-3)
		}
		s += fmt.Sprintf("; skipped %d: %s%s", len(skipped), strings.Join(names, ", "), more)
	}
	if ignored > 0 || hidden > 0 {
		s += fmt.Sprintf("; ignored %d other files and %d hidden entries", ignored, hidden)
	}
	return s
}
