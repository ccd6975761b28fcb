package imagefolder

// This file holds the report Open returns. It leaves out any persistence
// of it (a caller can log String or walk Skipped).

import (
	"fmt"
	"strings"
)

// Skipped is a file left out at Open, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Report says what Open found.
type Report struct {
	Root    string
	Classes int
	Found   int       // files with an image extension
	Kept    int       // of those, examples in the dataset
	Skipped []Skipped // the others, in path order
	Ignored int       // other files: other extensions, or loose in the root
	Hidden  int       // hidden files and folders passed over
}

// String summarizes the report in one line, naming up to three skipped files.
func (r *Report) String() string {
	s := fmt.Sprintf("imagefolder: %s: %d classes, kept %d of %d images", r.Root, r.Classes, r.Kept, r.Found)
	if len(r.Skipped) > 0 {
		var names []string
		for _, sk := range r.Skipped[:min(3, len(r.Skipped))] {
			names = append(names, fmt.Sprintf("%s (%s)", sk.Path, sk.Reason))
		}
		more := ""
		if len(r.Skipped) > 3 {
			more = fmt.Sprintf(", and %d more", len(r.Skipped)-3)
		}
		s += fmt.Sprintf("; skipped %d: %s%s", len(r.Skipped), strings.Join(names, ", "), more)
	}
	if r.Ignored > 0 || r.Hidden > 0 {
		s += fmt.Sprintf("; ignored %d other files and %d hidden entries", r.Ignored, r.Hidden)
	}
	return s
}
