package main

// This file holds "kiln cv": k-fold cross-validation of one set of
// training settings. It leaves out the folds' training (package train) and
// comparing several settings, which is kiln tune's job.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/selection"
	"github.com/kiln-ml/kiln/task"
)

const cvHead = `Usage: kiln cv --folds K [--keep-best] [training flags]
       kiln cv --resume DIR [--workers N] [--keep-best]

Estimates how well a set of training settings does on unseen data: the
training data (the train/ split of --data, or the embedded set) are dealt
into K stratified folds, and K models are trained, each validated on one
fold after training on the others. --val-split is not used; the test set
is not seen by any fold.

Writes a folder --out/--name (default cv-<time>) holding fold-1 ... fold-K,
each an ordinary run directory (kiln eval, predict and export take them),
and cv.json and cv.csv: each fold's validation accuracy and loss, and
their mean and sample standard deviation (n-1). A fold's figures are those
of the model its run keeps (best.safetensors: the epoch with the lowest
validation loss). The best fold (highest accuracy) is evaluated once on the
test set, if the data have one (test_report.txt, confusion.png); with
--keep-best its run is also linked as DIR/best.

Ctrl-C stops in the current fold and saves its state; kiln cv --resume DIR
reads back the finished folds and carries on.
`

// cvResumeFlags may be given with --resume; the rest comes from cv.json.
var cvResumeFlags = map[string]bool{"resume": true, "workers": true, "data": true, "checkpoint-every": true, "keep-best": true}

func cvCmd(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := run.DefaultConfig()
	fs := newFlagSet("cv")
	configPath := fs.String("config", "", "JSON or YAML `file` of settings (keys as in a run's config.json); flags given too override it")
	folds := fs.Int("folds", 5, "number of folds `K` (at least 2)")
	keep := fs.Bool("keep-best", false, "link the best fold's run as DIR/best")
	resume := fs.String("resume", "", "continue the cross-validation in `DIR`")
	addTrainFlags(fs, &cfg)
	fs.StringVar(&cfg.Out, "out", cfg.Out, "`folder` that holds the cross-validation's folder")
	fs.StringVar(&cfg.Name, "name", "", "name of the cross-validation's folder (default: cv-<time>); an existing one is never overwritten")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, cvHead, stdout)
			return nil
		}
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (cv takes only flags, which start with --)", pos[0])}
	}
	opt := selection.CVOptions{Folds: *folds, KeepBest: *keep, Test: true, Version: versionString()}
	if *resume != "" {
		var bad []string
		fs.Visit(func(f *flag.Flag) {
			if !cvResumeFlags[f.Name] {
				bad = append(bad, "--"+f.Name)
			}
		})
		if len(bad) > 0 {
			sort.Strings(bad)
			return usageError{fmt.Errorf("%s: a resumed cross-validation keeps its own settings; with --resume only --workers, --data, --checkpoint-every and --keep-best may be given",
				strings.Join(bad, ", "))}
		}
		was, err := selection.ReadCV(*resume)
		if err != nil {
			return usageError{fmt.Errorf("--resume: %w", err)}
		}
		flagCfg := cfg
		cfg = was.Config
		fs.Visit(func(f *flag.Flag) { applyFlag(&cfg, &flagCfg, f.Name) })
		cfg.Out, cfg.Name = filepath.Dir(*resume), filepath.Base(*resume)
		opt.Folds, opt.Resume = was.Folds, true
	} else {
		if cfg, _, err = mergeConfig(fs, cfg, *configPath); err != nil {
			return usageError{err}
		}
	}
	if cfg.Task == run.TaskAutoencode {
		return usageError{errors.New("--task autoencode: cross-validation scores classifiers by accuracy; an autoencoder has none")}
	}
	if err := cfg.ReadArchitecture(); err != nil {
		return usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if err := cfg.ValidateFolds(opt.Folds); err != nil {
		return usageError{err}
	}
	p := newProgress(stdout)
	opt.Log, opt.OnStep = p, p.step
	sum, err := selection.CrossValidate(ctx, cfg, opt)
	p.done()
	if err != nil {
		var ie *task.InterruptedError
		if errors.As(err, &ie) && sum != nil {
			return fmt.Errorf("interrupted in %s; the finished folds are saved; continue with: kiln cv --resume %s: %w", filepath.Base(ie.Dir), sum.Dir, ie.Err)
		}
		return err
	}
	fmt.Fprintf(stdout, "\nCross-validation of %s, %d folds, in %s:\n", cfg.Model, sum.Folds, sum.Dir)
	if err := sum.WriteTable(stdout); err != nil {
		return err
	}
	b := sum.BestFold()
	fmt.Fprintf(stdout, "best fold: %d (%s)", b.Fold, b.Run)
	if sum.Kept != "" {
		fmt.Fprintf(stdout, ", kept as %s", sum.Kept)
	}
	fmt.Fprintln(stdout)
	if sum.Test != nil {
		fmt.Fprintf(stdout, "test accuracy of fold %d's model: %.2f%% (%d images), loss %.4f\n", b.Fold, 100*sum.Test.Accuracy, sum.Test.Confusion.Total(), sum.Test.Loss)
	}
	fmt.Fprintf(stdout, "summary: %s, %s\n", filepath.Join(sum.Dir, selection.CVJSON), filepath.Join(sum.Dir, selection.CVCSV))
	return nil
}
