package main

// This file holds "kiln train --finetune RUN": a new run that starts from
// RUN's best weights and trains on RUN's data plus the corrected labels
// kiln serve stored in RUN/feedback/<class>/ (run.Config.ExtraTrain, which
// package source joins to the training set by class name). It leaves out
// text runs, autoencoders and language models: kiln serve takes feedback
// for image classifiers.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/serve"
)

// finetuneConfig returns the config of a fine-tuning run of dir: dir's own
// settings, the flags given (set) from flagCfg, its best weights as the
// start and the joined data. It reports how many feedback files joined.
func finetuneConfig(dir string, flagCfg run.Config, set map[string]bool) (run.Config, int, error) {
	cfg, err := run.ReadRunConfig(dir)
	if err != nil {
		return cfg, 0, fmt.Errorf("--finetune: %w", err)
	}
	info, err := run.ReadRunInfo(dir)
	if err != nil {
		return cfg, 0, fmt.Errorf("--finetune: %w", err)
	}
	if run.IsTextRun(info.Task, info.Model) || info.Task == run.TaskAutoencode || info.Task == run.TaskLM || len(info.InputShape) != 3 {
		return cfg, 0, usageError{fmt.Errorf("--finetune %s: a %s run of %s; fine-tuning on feedback takes image classifiers", dir, info.Task, info.Model)}
	}
	fb := filepath.Join(dir, serve.FeedbackFolder)
	if _, err := os.Stat(fb); err != nil {
		return cfg, 0, usageError{fmt.Errorf("--finetune %s: no %s/ folder (kiln serve stores feedback there)", dir, serve.FeedbackFolder)}
	}
	for name := range set {
		if name == "data" {
			return cfg, 0, usageError{errors.New("--data: a fine-tuning run trains on its run's data and feedback")}
		}
		applyFlag(&cfg, &flagCfg, name)
	}
	if !set["name"] {
		cfg.Name = ""
	}
	cfg.Init = predict.CheckpointPath(dir, "best")
	cfg.Channels, cfg.ImageSize = info.InputShape[0], info.InputShape[1]
	n, err := countFiles(fb)
	if err != nil {
		return cfg, 0, fmt.Errorf("--finetune: %w", err)
	}
	cfg.ExtraTrain = fb
	return cfg, n, nil
}

// countFiles counts the files in dir's class folders, leaving out hidden
// ones (atomic writes' temporaries).
func countFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.Count(rel, string(filepath.Separator)) == 1 && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	return n, err
}
