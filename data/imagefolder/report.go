package imagefolder

// This file holds the report Open returns. It leaves out any persistence
// of it (a caller can log String or walk Skipped).

import (
	"fmt"

	"github.com/kiln-ml/kiln/data"
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
	head := fmt.Sprintf("imagefolder: %s: %d classes, kept %d of %d images", r.Root, r.Classes, r.Kept, r.Found)
	return head + data.SkipSummary(r.Skipped, func(s Skipped) (string, string) { return s.Path, s.Reason }, r.Ignored, r.Hidden)
}
