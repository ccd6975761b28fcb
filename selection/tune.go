package selection

// This file holds hyperparameter tuning over training runs: each trial of
// a tune.Study is an ordinary run directory (or, with the cv objective, a
// cross-validation folder) in the study's folder, reporting its validation
// accuracy per epoch to the pruner; at the end the best settings are
// retrained on training and validation data together and tested once. It
// leaves out the study's storage (the caller opens one, see tune/sqlstore)
// and the summary's files (tunereport.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/tune"
)

// The objectives a study can maximise.
const (
	ObjectiveVal = "val" // validation accuracy of the trial's kept model
	ObjectiveCV  = "cv"  // mean validation accuracy over k folds
)

// The files of a study's folder, besides its trial-<n> runs and its
// best-trial-<n> retraining.
const (
	TuneSettings   = "tune.json"      // what the study was started with; a rerun must match it
	TuneSummary    = "study.json"     // trial counts, the best trial and the retraining's test result
	TuneTrialsCSV  = "trials.csv"     // the trials, best first
	TuneHistory    = "history.png"    // optimisation history
	TuneImportance = "importance.png" // parameter importance
	TuneDB         = "study.db"       // the default SQLite storage
	tuneLock       = "retrain.lock"
)

// TuneOptions configure a tuning study. Study, Space, Storage and Trials
// are required.
type TuneOptions struct {
	Study     string       // the study's name in the storage, and its folder under the base config's Out
	Space     *tune.Space  //
	Storage   tune.Storage // where the study lives; the caller closes it
	Where     string       // the storage, for messages and study.json
	Sampler   tune.Sampler // nil: TPE
	Pruner    tune.Pruner  // nil: none
	Objective string       // ObjectiveVal (the default) or ObjectiveCV
	Folds     int          // for ObjectiveCV; 0 means 5
	Trials    int          // the study's total, all workers and earlier runs counted
	Jobs      int          // trials at once in this process; 0 means 1
	Retrain   bool         // retrain the best settings on train+val and test them once
	Log       io.Writer    // trial lines (prefixed "[trial N]") and the outcome of each; nil discards them
	Version   string

	// HeartbeatInterval and Poll are for tests: how often a trial says it
	// is alive (0: 10 s) and how often to look whether other workers'
	// trials have finished before retraining (0: 2 s).
	HeartbeatInterval, Poll time.Duration
}

// Tuner is an open study over training runs.
type Tuner struct {
	base  run.Config
	opt   TuneOptions
	dir   string
	study *tune.Study
	log   *lineWriter
}

// OpenTune checks the settings and the space, creates or reopens the
// study's folder <base.Out>/<opt.Study> and opens the study. Its errors are
// all about what was asked (a bad space, a parameter that is no setting, a
// rerun with other settings), never about training.
func OpenTune(ctx context.Context, base run.Config, opt TuneOptions) (*Tuner, error) {
	if opt.Objective == "" {
		opt.Objective = ObjectiveVal
	}
	if opt.Folds == 0 {
		opt.Folds = 5
	}
	opt.Jobs = max(opt.Jobs, 1)
	switch {
	case opt.Study == "" || strings.ContainsAny(opt.Study, `/\`) || opt.Study == "." || opt.Study == "..":
		return nil, fmt.Errorf("--study %q: want a plain name (it is also the study's folder)", opt.Study)
	case opt.Space == nil || opt.Space.Len() == 0:
		return nil, errors.New("--space: want a search space with parameters")
	case opt.Storage == nil:
		return nil, errors.New("selection: tune: no storage")
	case opt.Trials < 1:
		return nil, fmt.Errorf("--trials %d: want at least 1", opt.Trials)
	case opt.Objective != ObjectiveVal && opt.Objective != ObjectiveCV:
		return nil, fmt.Errorf("--objective %q: want val or cv", opt.Objective)
	case opt.Objective == ObjectiveCV && opt.Folds < 2:
		return nil, fmt.Errorf("--folds %d: want at least 2", opt.Folds)
	case opt.Objective == ObjectiveVal && base.ValSplit == 0:
		return nil, errors.New("--objective val needs a validation set: --val-split 0 leaves none (or use --objective cv)")
	case base.TaskName() == run.TaskAutoencode:
		return nil, errors.New("--task autoencode: a study maximises validation accuracy, which an autoencoder has not")
	}
	base.Folds, base.Fold, base.NoTest = 0, 0, false
	if err := base.Validate(); err != nil {
		return nil, err
	}
	if opt.Objective == ObjectiveCV {
		if err := base.ValidateFolds(opt.Folds); err != nil {
			return nil, err
		}
	}
	if err := CheckSpace(base, opt.Space); err != nil {
		return nil, fmt.Errorf("--space: %w", err)
	}
	t := &Tuner{base: base, opt: opt, dir: filepath.Join(base.Out, opt.Study), log: &lineWriter{w: opt.Log}}
	if t.log.w == nil {
		t.log.w = io.Discard
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	if err := t.checkSettings(); err != nil {
		return nil, err
	}
	var err error
	t.study, err = tune.OpenStudy(ctx, opt.Storage, tune.StudyConfig{Name: opt.Study, Direction: tune.Maximize, Space: opt.Space,
		Sampler: opt.Sampler, Pruner: opt.Pruner, Seed: base.Seed, HeartbeatInterval: opt.HeartbeatInterval, OnTrialDone: t.trialDone})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Dir returns the study's folder.
func (t *Tuner) Dir() string { return t.dir }

// Study returns the open study.
func (t *Tuner) Study() *tune.Study { return t.study }

// trialName is trial n's folder in the study's.
func trialName(n int) string { return fmt.Sprintf("trial-%04d", n) }

// Run runs trials until the study holds opt.Trials of them (counting
// earlier runs and other workers), then waits for other workers' trials,
// writes the summary files and, with opt.Retrain, retrains the best
// settings and tests them. Cancelling ctx stops the trials in flight (they
// are recorded as failed); rerunning with the same settings carries on.
func (t *Tuner) Run(ctx context.Context) (*TuneResult, error) {
	before, err := t.study.Trials(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.log, "kiln: study %s (%s) holds %d of %d trials; objective: %s; trials in %s\n",
		t.opt.Study, t.opt.Where, len(before), t.opt.Trials, t.objectiveName(), t.dir)
	if t.opt.Jobs > 1 {
		// The kernels' thread count is one setting for the whole process:
		// share the cores out between the trials running at once. The
		// kernels give the same bits whatever the count.
		defer kernels.SetThreads(kernels.ThreadSetting())
		kernels.SetThreads(max(1, kernels.Threads()/t.opt.Jobs))
	}
	optErr := tune.Optimize(ctx, t.study, t.objective, t.opt.Trials, t.opt.Jobs)
	if optErr != nil && ctx.Err() != nil {
		return nil, optErr
	}
	trials, err := t.waitForOthers(ctx)
	if err != nil {
		return nil, err
	}
	res := t.result(trials)
	if err := t.writeOutputs(res); err != nil {
		return res, err
	}
	if optErr != nil {
		return res, optErr
	}
	if t.opt.Retrain && res.HasBest {
		if err := t.retrain(ctx, res); err != nil {
			return res, err
		}
		if err := t.writeSummary(res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (t *Tuner) objectiveName() string {
	if t.opt.Objective == ObjectiveCV {
		return fmt.Sprintf("mean validation accuracy over %d folds", t.opt.Folds)
	}
	return "validation accuracy"
}

// objective trains one trial.
func (t *Tuner) objective(ctx context.Context, tr *tune.Trial) (float64, error) {
	cfg, err := ApplyParams(t.base, tr.Params())
	if err != nil {
		return math.NaN(), err
	}
	cfg.Out, cfg.Name, cfg.NoTest = t.dir, trialName(tr.Number()), true
	cfg.Workers = max(1, t.base.Workers/t.opt.Jobs)
	if err := cfg.Validate(); err != nil {
		return math.NaN(), err
	}
	log := t.log.prefixed(fmt.Sprintf("[trial %d] ", tr.Number()))
	if t.opt.Objective == ObjectiveCV {
		cs, err := CrossValidate(ctx, cfg, CVOptions{Folds: t.opt.Folds, Log: log, Version: t.opt.Version,
			OnFold: func(_ FoldResult, done []FoldResult) error {
				var sum float64
				for _, f := range done {
					sum += f.ValAcc
				}
				return report(tr, len(done), sum/float64(len(done)), len(done) == t.opt.Folds)
			}})
		if err != nil {
			return math.NaN(), err
		}
		return cs.MeanAcc, nil
	}
	sum, err := task.Run(ctx, cfg, task.Options{Log: log, Version: t.opt.Version,
		OnEpoch: func(st train.EpochStats) error { return report(tr, st.Epoch, st.ValAcc, st.Epoch == cfg.Epochs) }})
	var ie *task.InterruptedError
	if errors.As(err, &ie) {
		// Not "continue with kiln train --resume": a rerun study starts
		// new trials rather than finishing this one.
		return math.NaN(), fmt.Errorf("interrupted in epoch %d of %d: %w", ie.Epoch, cfg.Epochs, ie.Err)
	}
	if err != nil {
		return math.NaN(), err
	}
	return keptEpoch(sum.History).ValAcc, nil
}

// report gives the pruner a trial's value at step and returns
// tune.ErrPruned when it says stop; the last step is never pruned, since
// the trial is done by then.
func report(tr *tune.Trial, step int, value float64, last bool) error {
	if err := tr.Report(step, value); err != nil {
		return err
	}
	if !last && tr.ShouldPrune() {
		return tune.ErrPruned
	}
	return nil
}

// trialDone prints a finished trial's outcome.
func (t *Tuner) trialDone(r tune.TrialRecord) {
	var b strings.Builder
	fmt.Fprintf(&b, "kiln: trial %d %s", r.Number, r.State)
	switch r.State {
	case tune.Complete:
		fmt.Fprintf(&b, ": %.4f", r.Value)
	case tune.Pruned:
		fmt.Fprintf(&b, " at step %d: %.4f", r.LastStep(), r.Value)
	}
	if d := r.Duration(); d > 0 {
		fmt.Fprintf(&b, " in %s", d.Round(100*time.Millisecond))
	}
	for _, p := range t.opt.Space.Params {
		fmt.Fprintf(&b, " %s=%s", p.Name, tune.FormatValue(r.Params[p.Name]))
	}
	if r.State == tune.Failed {
		fmt.Fprintf(&b, ": %s", r.Message)
	}
	fmt.Fprintln(t.log, b.String())
}

// waitForOthers returns the study's trials once none is running: other
// workers may still be finishing theirs, and the best is chosen over all.
// Dead workers' trials are failed by the study's reaping.
func (t *Tuner) waitForOthers(ctx context.Context) ([]tune.TrialRecord, error) {
	poll := t.opt.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	said := false
	for {
		trials, err := t.study.Trials(ctx)
		if err != nil {
			return nil, err
		}
		running := 0
		for _, r := range trials {
			if r.State == tune.Running {
				running++
			}
		}
		if running == 0 {
			return trials, nil
		}
		if !said {
			fmt.Fprintf(t.log, "kiln: waiting for %d trials of other workers to finish\n", running)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
		if _, err := t.study.Reap(ctx); err != nil {
			return nil, err
		}
	}
}

// retrain trains the best trial's settings on the training and validation
// data together (val_split 0) in <dir>/best-trial-<n>, and tests the model
// once. A rerun finds the folder and carries on or reads it back; another
// worker of the same study folder holding the lock is left to do it.
func (t *Tuner) retrain(ctx context.Context, res *TuneResult) error {
	unlock, ok, err := lockFile(filepath.Join(t.dir, tuneLock))
	if err != nil {
		return err
	}
	if !ok {
		res.Skipped = "another worker is retraining the best settings in " + t.dir
		fmt.Fprintf(t.log, "kiln: %s\n", res.Skipped)
		return nil
	}
	defer unlock()
	cfg := res.BestConfig
	cfg.ValSplit, cfg.NoTest = 0, false
	cfg.Out, cfg.Name = t.dir, "best-"+trialName(res.Best.Number)
	fmt.Fprintf(t.log, "kiln: retraining trial %d's settings on the training and validation data (val_split 0) in %s\n",
		res.Best.Number, filepath.Join(cfg.Out, cfg.Name))
	sum, err := task.Continue(ctx, cfg, task.Options{Log: t.log, Version: t.opt.Version})
	if err != nil {
		return err
	}
	res.Retrain = sum
	return nil
}
