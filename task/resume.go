package task

// This file holds Resume: continuing a run from its training state, and
// the checks that the run, its settings and its data still agree. It
// leaves out the state file's layout (package run's state.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// Resume continues the run in dir from its training state and, with the
// same seed (and data), ends exactly as the run would have had it never
// stopped. cfg is the run's config (ReadRunConfig) with at most Data,
// Workers and CheckpointEvery changed, or Epochs raised when the schedule
// does not depend on it. A run killed before its first checkpoint starts
// over; a finished run is an error unless Epochs was raised; a run whose
// training finished but whose test evaluation did not just evaluates.
func Resume(ctx context.Context, dir string, cfg run.Config, opt Options) (*Summary, error) {
	saved, err := run.ReadRunConfig(dir)
	if err != nil {
		return nil, err
	}
	if info, err := run.ReadRunInfo(dir); err == nil && info.Imported != "" {
		return nil, fmt.Errorf("task: %s holds weights imported from %s, not a kiln training run; it cannot be resumed", dir, info.Imported)
	}
	extended, err := checkResume(saved, cfg)
	if err != nil {
		return nil, err
	}
	cfg.Out, cfg.Name = filepath.Dir(dir), filepath.Base(dir)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	info, err := run.ReadRunInfo(dir)
	if err != nil {
		return nil, err
	}
	s, err := newSession(cfg, opt)
	if err != nil {
		return nil, err
	}
	defer s.release()
	s.dir = dir
	if s.writes() {
		if err := run.LockRun(dir); err != nil { // one process at a time trains into a run
			return nil, err
		}
		defer run.UnlockRun(dir)
	}
	if err := sameData(info, s.info); err != nil {
		return nil, fmt.Errorf("task: cannot resume %s: %w", dir, err)
	}
	if err := source.SameEncoder(dir, s.ds); err != nil {
		return nil, fmt.Errorf("task: cannot resume %s: %w", dir, err)
	}
	s.info.Started, s.info.Version = info.Started, info.Version
	statePath := filepath.Join(dir, run.StateFile)
	if _, err := os.Stat(statePath); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(s.log, "kiln: %s has no training state yet (stopped before its first checkpoint); starting it from the beginning\n", dir)
		if s.writes() {
			s.events = tfevents.NewWriter(dir, time.Now(), hostname())
		}
		s.newLoop()
	} else {
		st, err := run.LoadState(statePath, s.model, s.optim)
		if err != nil {
			return nil, err
		}
		if err := s.restore(st, extended); err != nil {
			return nil, fmt.Errorf("task: %s: %w", statePath, err)
		}
		if err := train.SyncFromHost(s.learner); err != nil {
			return nil, err
		}
		if s.trained && (s.ds.Test == nil || run.Exists(filepath.Join(dir, run.ReportFile))) {
			return nil, fmt.Errorf("task: run %s is finished (%d epochs); to train it further, resume it with a larger --epochs", dir, s.loop.Pos.Epoch)
		}
		if s.trained {
			fmt.Fprintf(s.log, "kiln: %s finished training; running its test evaluation\n", dir)
		} else {
			fmt.Fprintf(s.log, "kiln: resuming %s at epoch %d, batch %d of %d (step %d)\n", dir, s.loop.Pos.Epoch+1, s.loop.Pos.Batch, s.trainL.NumBatches(), s.loop.Pos.Step)
		}
	}
	if cfg != saved && s.writes() {
		if err := run.WriteJSON(filepath.Join(dir, run.ConfigFile), cfg); err != nil {
			return nil, err
		}
	}
	return s.run(ctx)
}

// checkResume reports whether cfg differs from a run's saved config only
// where a resumed run may, and whether it raises the number of epochs.
func checkResume(saved, cfg run.Config) (extended bool, err error) {
	a, b := saved, cfg
	for _, c := range []*run.Config{&a, &b} {
		c.Data, c.Workers, c.CheckpointEvery, c.Out, c.Name = "", 0, 0, "", ""
		c.Device, c.TF32 = "", false // where the steps run, and their matrix products' rounding
	}
	if b.Epochs != a.Epochs {
		if sch := strings.ToLower(saved.Scheduler); sch != "" && sch != "none" {
			return false, fmt.Errorf("--epochs %d: the run's %s schedule depends on its %d epochs, so it cannot be extended", cfg.Epochs, saved.Scheduler, saved.Epochs)
		}
		if b.Epochs < a.Epochs {
			return false, fmt.Errorf("--epochs %d: the run was set to %d; a resumed run can only train longer", cfg.Epochs, saved.Epochs)
		}
		extended, a.Epochs = true, b.Epochs
	}
	if a == b {
		return extended, nil
	}
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	for k, v := range ma {
		if fmt.Sprint(v) != fmt.Sprint(mb[k]) {
			return false, fmt.Errorf("--%s: a resumed run keeps its settings (%s is %v, not %v); only --data, --workers, --checkpoint-every and --epochs may change",
				strings.ReplaceAll(k, "_", "-"), k, v, mb[k])
		}
	}
	return false, errors.New("the settings differ from the run's")
}

// sameData checks that resumed data look like the run's.
func sameData(was, now run.RunInfo) error {
	switch {
	case strings.Join(was.Classes, "\x00") != strings.Join(now.Classes, "\x00"):
		return fmt.Errorf("the data's classes %v differ from the run's %v", now.Classes, was.Classes)
	case fmt.Sprint(was.InputShape) != fmt.Sprint(now.InputShape):
		return fmt.Errorf("the data's images are %v, the run's were %v", now.InputShape, was.InputShape)
	case was.TrainImages != now.TrainImages || was.ValImages != now.ValImages:
		return fmt.Errorf("the data have %d training and %d validation images, the run had %d and %d",
			now.TrainImages, now.ValImages, was.TrainImages, was.ValImages)
	}
	return nil
}

// restore sets the session to a saved training state: the loop's
// position and history (and why it stopped early, if it did), the best
// model's score, the schedule, the optimizer's rate and momentum, the
// generators and the TensorBoard file. A finished run whose epochs were
// extended trains on, with its early-stopping count reset.
func (s *session) restore(st *run.State, extended bool) error {
	s.restoreSchedule(st)
	if err := s.restoreRank(st); err != nil {
		return err
	}
	s.events = nil
	if !s.writes() {
		// Rank 0 keeps the TensorBoard file.
	} else if st.EventsFile != "" {
		w, err := tfevents.OpenWriter(filepath.Join(s.dir, st.EventsFile), st.EventRecords)
		if err == nil {
			s.events = w
		} else {
			fmt.Fprintf(s.log, "kiln: warning: %v; starting a new TensorBoard file\n", err)
		}
	}
	if s.events == nil && s.writes() {
		s.events = tfevents.NewWriter(s.dir, time.Now(), hostname())
	}
	s.newLoop()
	s.loop.Pos, s.loop.History = st.Position(), st.EpochHistory()
	s.best.Score, s.best.SinceBest = float64(st.Best), st.SinceBest
	s.trained = st.Trained
	if s.trained && extended {
		s.trained, s.best.SinceBest = false, 0
	} else if st.Stopped != "" {
		s.loop.Stop(st.Stopped)
	}
	return nil
}

// restoreSchedule steps the schedule to where the state left it and sets
// the optimizer's rate and momentum as they were.
func (s *session) restoreSchedule(st *run.State) {
	if s.sched != nil {
		for s.sched.LastEpoch() < st.SchedulerSteps {
			s.sched.Step()
		}
	}
	s.optim.SetLR(float64(st.LR))
	if m, ok := s.optim.(optim.Momentum); ok && st.Momentum != nil {
		m.SetMomentum(float64(*st.Momentum))
	}
}
