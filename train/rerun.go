package train

// This file carries on a run that a rerun command finds on disk: kiln cv
// --resume for its folds, and kiln tune for the retraining of its best
// settings. It leaves out Resume's own checks (resume.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
)

// continueRun trains cfg's run in filepath.Join(cfg.Out, cfg.Name): from
// the start when the folder is absent, resumed when it stopped part of the
// way, and read back when it is finished, so that a killed command, rerun,
// redoes nothing. The folder's run must have cfg's settings.
func continueRun(ctx context.Context, cfg Config, opt Options) (*Summary, error) {
	dir := filepath.Join(cfg.Out, cfg.Name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return Run(ctx, cfg, opt)
	}
	saved, err := ReadRunConfig(dir)
	if err != nil {
		// Killed between making the folder and writing its config:
		// nothing was trained, and an empty folder can go.
		if os.Remove(dir) == nil {
			return Run(ctx, cfg, opt)
		}
		return nil, err
	}
	if ext, err := checkResume(saved, cfg); err != nil || ext {
		if err == nil {
			err = fmt.Errorf("--epochs %d: the run has %d", cfg.Epochs, saved.Epochs)
		}
		return nil, fmt.Errorf("train: %s holds a run with other settings: %w", dir, err)
	}
	st, err := readStateMeta(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return Resume(ctx, dir, cfg, opt) // starts it over
	}
	if err != nil {
		return nil, err
	}
	info, err := ReadRunInfo(dir)
	if err != nil {
		return nil, err
	}
	report := filepath.Join(dir, ReportFile)
	if !st.Trained || (info.TestImages > 0 && !fileExists(report)) {
		return Resume(ctx, dir, cfg, opt)
	}
	sum := &Summary{Dir: dir, History: st.history(), Stopped: st.Stopped}
	if info.TestImages > 0 {
		if sum.Test, err = readReport(report, info.Classes); err != nil {
			return nil, err
		}
	}
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, "kiln: %s is finished (%d epochs); reading it back\n", dir, len(sum.History))
	}
	return sum, nil
}

// readStateMeta reads the JSON part of a training state file.
func readStateMeta(path string) (*trainState, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	if got := f.Metadata["format"]; got != stateFormat {
		return nil, fmt.Errorf("train: %s: format %q, want %q", path, got, stateFormat)
	}
	var st trainState
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &st); err != nil {
		return nil, fmt.Errorf("train: %s: state metadata: %w", path, err)
	}
	return &st, nil
}

// readReport reads a run's test_report.txt back into a Result: the
// figures of its first line and the confusion matrix, whose rows end in one
// count per class (class names may hold spaces, counts do not).
func readReport(path string, classes []string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return parseReport(b, path, classes)
}

// parseReport parses the text of a test report; path is for messages.
func parseReport(b []byte, path string, classes []string) (*Result, error) {
	var err error
	bad := func(what string) error {
		return fmt.Errorf("train: %s: %s; delete the file to evaluate the run again", path, what)
	}
	var r Result
	var n int
	if _, err := fmt.Sscanf(string(b), "test accuracy %g, loss %g, %d images", &r.Accuracy, &r.Loss, &n); err != nil {
		return nil, bad("want \"test accuracy A, loss L, N images\" first")
	}
	_, matrix, ok := strings.Cut(string(b), "confusion matrix")
	lines := strings.Split(matrix, "\n")
	if !ok || len(lines) < len(classes)+1 {
		return nil, bad("no confusion matrix")
	}
	c := NewConfusion(classes)
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
