package task

// This file carries on a run that a rerun command finds on disk: kiln cv
// --resume for its folds, and kiln tune for the retraining of its best
// settings. It leaves out Resume's own checks (resume.go).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-ml/kiln/run"
)

// Continue trains cfg's run in filepath.Join(cfg.Out, cfg.Name): from
// the start when the folder is absent, resumed when it stopped part of the
// way, and read back when it is finished, so that a killed command, rerun,
// redoes nothing. The folder's run must have cfg's settings.
func Continue(ctx context.Context, cfg run.Config, opt Options) (*Summary, error) {
	dir := filepath.Join(cfg.Out, cfg.Name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return Run(ctx, cfg, opt)
	}
	saved, err := run.ReadRunConfig(dir)
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
		return nil, fmt.Errorf("task: %s holds a run with other settings: %w", dir, err)
	}
	st, err := run.ReadStateMeta(filepath.Join(dir, run.StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return Resume(ctx, dir, cfg, opt) // starts it over
	}
	if err != nil {
		return nil, err
	}
	info, err := run.ReadRunInfo(dir)
	if err != nil {
		return nil, err
	}
	report := filepath.Join(dir, run.ReportFile)
	if !st.Trained || (info.TestImages > 0 && !run.Exists(report)) {
		return Resume(ctx, dir, cfg, opt)
	}
	sum := &Summary{Dir: dir, History: st.EpochHistory(), Stopped: st.Stopped}
	if info.TestImages > 0 {
		if sum.Test, err = run.ReadReport(report, info.Classes); err != nil {
			return nil, err
		}
	}
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, "kiln: %s is finished (%d epochs); reading it back\n", dir, len(sum.History))
	}
	return sum, nil
}
