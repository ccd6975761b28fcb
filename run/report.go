package run

// This file reads back what a finished run wrote: its training state's
// metadata and its test report.

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/train"
)

// ReadStateMeta reads the JSON part of a training state file.
func ReadStateMeta(path string) (*State, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	if got := f.Metadata["format"]; got != stateFormat {
		return nil, fmt.Errorf("run: %s: format %q, want %q", path, got, stateFormat)
	}
	var st State
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &st); err != nil {
		return nil, fmt.Errorf("run: %s: state metadata: %w", path, err)
	}
	return &st, nil
}

// ReadReport reads a run's test_report.txt back into a Result: the
// figures of its first line and the confusion matrix, whose rows end in one
// count per class (class names may hold spaces, counts do not).
func ReadReport(path string, classes []string) (*train.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	return parseReport(b, path, classes)
}

// parseReport parses the text of a test report; path is for messages.
func parseReport(b []byte, path string, classes []string) (*train.Result, error) {
	var err error
	bad := func(what string) error {
		return fmt.Errorf("run: %s: %s; delete the file to evaluate the run again", path, what)
	}
	var r train.Result
	var n int
	if _, err := fmt.Sscanf(string(b), "test accuracy %g, loss %g, %d images", &r.Accuracy, &r.Loss, &n); err != nil {
		return nil, bad("want \"test accuracy A, loss L, N images\" first")
	}
	_, matrix, ok := strings.Cut(string(b), "confusion matrix")
	lines := strings.Split(matrix, "\n")
	if !ok || len(lines) < len(classes)+1 {
		return nil, bad("no confusion matrix")
	}
	c := train.NewConfusion(classes)
	for i := range classes {
		f := strings.Fields(lines[i+1])
		if len(f) < len(classes) {
			return nil, bad(fmt.Sprintf("confusion matrix row %d is short", i+1))
		}
		for j, v := range f[len(f)-len(classes):] {
			if c.Counts[i][j], err = strconv.Atoi(v); err != nil || c.Counts[i][j] < 0 {
				return nil, bad(fmt.Sprintf("confusion matrix row %d: %q is not a count", i+1, v))
			}
		}
	}
	if c.Total() != n {
		return nil, bad(fmt.Sprintf("the confusion matrix counts %d images, the first line %d", c.Total(), n))
	}
	// The matrix gives the accuracy exactly; the loss keeps the report's
	// four decimals.
	r.Confusion, r.Accuracy = c, c.Accuracy()
	return &r, nil
}
