package main

// This file holds "kiln tune": a hyperparameter search over training
// settings, stored so that it resumes and scales out to several workers.
// It leaves out the search (package tune), the trials' training and the
// study's files (package train).

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/selection"
	"github.com/kiln-ml/kiln/tune"
	"github.com/kiln-ml/kiln/tune/sqlstore"
)

const tuneHead = `Usage: kiln tune --space FILE --trials N [--jobs J] [--sampler tpe|random|grid]
                 [--pruner none|median|halving] [--objective val|cv] [--folds K]
                 [--storage PATH|postgres://...] [--study NAME] [training flags]

Searches training settings for the best validation accuracy. --space names
the settings to search and their distributions, in YAML or JSON, by the
keys of a run's config.json, e.g.

  lr:         {type: loguniform, low: 1.0e-4, high: 1.0e-2}
  batch_size: {type: categorical, choices: [32, 64, 128]}
  optimizer:  {type: categorical, choices: [adam, sgd]}
  epochs:     {type: int, low: 2, high: 8, step: 2}

Types: uniform, loguniform, int (with step, or log: true) and categorical.
The settings that can be searched:
%s
The training flags set everything else, as for kiln train.

Each trial is an ordinary run directory, --out/<study>/trial-<n> (with
--objective cv, a kiln cv folder of --folds runs), trained without ever
seeing the test set, and scored by the validation accuracy of the model it
keeps (the epoch with the lowest validation loss), or by the mean over the
folds. Every epoch's validation accuracy (every fold's running mean, with
--objective cv) goes to the pruner, which may stop a poor trial early:
median (below the median of finished trials at that epoch) or halving
(asynchronous successive halving).

The study (trials, parameters, per-epoch values, states) lives in
--storage: by default the SQLite file --out/<study>/study.db; a
postgres:// URL shares it between machines. A killed or interrupted
kiln tune, rerun with the same arguments, carries on: --trials counts every
trial in the study (a trial cut off is recorded as failed and counts).
Several kiln tune processes with the same --storage and --study share the
trials and never run the same one; each waits for the others' trials
before retraining.

--jobs J trains J trials at once in this process; the matrix kernels' threads
(a setting of the whole process) are shared out between them, which does
not change any result.

At the end kiln tune prints the trials best first and the best parameters,
and writes to --out/<study>: trials.csv, history.png (optimisation
history), importance.png (parameter importance), study.json; then (unless
--retrain=false) it retrains the best settings on the training and
validation data together (val_split 0) in best-trial-<n> and evaluates that
model once on the test set.
`

func tuneCmd(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := run.DefaultConfig()
	fs := newFlagSet("tune")
	configPath := fs.String("config", "", "JSON or YAML `file` of settings (keys as in a run's config.json); flags given too override it")
	spacePath := fs.String("space", "", "search space `file`, YAML or JSON (required)")
	trials := fs.Int("trials", 20, "trials in the study in all, earlier runs and other workers counted")
	jobs := fs.Int("jobs", 1, "trials trained at once in this process")
	samplerName := fs.String("sampler", "tpe", "tpe, random or grid")
	prunerName := fs.String("pruner", "none", "none, median or halving")
	objective := fs.String("objective", selection.ObjectiveVal, "val (validation accuracy) or cv (mean validation accuracy over --folds)")
	folds := fs.Int("folds", 5, "folds per trial with --objective cv")
	storage := fs.String("storage", "", "study storage: a SQLite file `path` or a postgres:// URL (default: --out/<study>/study.db)")
	study := fs.String("study", "", "study `name`, also its folder under --out (default: the space file's name)")
	retrain := fs.Bool("retrain", true, "retrain the best settings on training+validation data and test them")
	addTrainFlags(fs, &cfg)
	fs.StringVar(&cfg.Out, "out", cfg.Out, "`folder` that holds the study's folder")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, fmt.Sprintf(tuneHead, wrap(strings.Join(selection.TunableNames(), ", ")+".", 74, "  ")), stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Errorf("unexpected argument %q (tune takes only flags, which start with --)", pos[0])}
	case *spacePath == "":
		return usageError{fmt.Errorf("--space: name the search space file")}
	case *trials < 1:
		return usageError{fmt.Errorf("--trials %d: want at least 1", *trials)}
	case *jobs < 1:
		return usageError{fmt.Errorf("--jobs %d: want at least 1", *jobs)}
	}
	if cfg, _, err = mergeConfig(fs, cfg, *configPath); err != nil {
		return usageError{err}
	}
	if err := cfg.ReadArchitecture(); err != nil {
		return usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	space, err := tune.LoadSpace(*spacePath)
	if err != nil {
		return usageError{fmt.Errorf("--space: %w", err)}
	}
	if err := selection.CheckSpace(cfg, space); err != nil { // before the storage makes any file
		return usageError{fmt.Errorf("--space: %w", err)}
	}
	sampler, err := tune.NewSampler(*samplerName)
	if err != nil {
		return usageError{fmt.Errorf("--sampler: %w", err)}
	}
	pruner, err := tune.NewPruner(*prunerName)
	if err != nil {
		return usageError{fmt.Errorf("--pruner: %w", err)}
	}
	if *study == "" {
		*study = strings.TrimSuffix(filepath.Base(*spacePath), filepath.Ext(*spacePath))
	}
	if strings.ContainsAny(*study, `/\`) || *study == "" || *study == "." || *study == ".." {
		return usageError{fmt.Errorf("--study %q: want a plain name (it is also the study's folder)", *study)}
	}
	target := *storage
	if target == "" {
		target = filepath.Join(cfg.Out, *study, selection.TuneDB)
	}
	st, err := sqlstore.Open(ctx, target)
	if err != nil {
		return usageError{fmt.Errorf("--storage: %w", err)}
	}
	defer st.Close()
	tn, err := selection.OpenTune(ctx, cfg, selection.TuneOptions{Study: *study, Space: space, Storage: st, Where: st.String(), Sampler: sampler,
		Pruner: pruner, Objective: *objective, Folds: *folds, Trials: *trials, Jobs: *jobs, Retrain: *retrain, Log: stdout, Version: versionString()})
	if err != nil {
		return usageError{err}
	}
	res, err := tn.Run(ctx)
	if res != nil {
		if werr := res.WriteReport(stdout); err == nil {
			err = werr
		}
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("interrupted; the finished trials are saved in %s; rerun the same command to carry on: %w", st, err)
	}
	return err
}

// wrap breaks text into lines of at most width columns, each indented.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line)
	return b.String()
}
