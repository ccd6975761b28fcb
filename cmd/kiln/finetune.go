package main

// This file holds "kiln train --finetune RUN": a new run that starts from
// RUN's best weights and trains on RUN's data plus the corrected labels
// kiln serve stored in RUN/feedback/<class>/. The two are joined in
// RUN/finetune-data/ (train/ and test/ class folders of hard links, or
// copies across file systems), which the new run's config names as its
// data. It leaves out the embedded set, IDX, CIFAR and text runs: their
// data are not image class folders, and their classes are not numbered
// in folder-name order.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/serve"
	"github.com/kiln-ml/kiln/source"
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
	if cfg.Data == "" || !sort.StringsAreSorted(info.Classes) {
		// Class folders are numbered in name order; the weights' outputs
		// must be in the same order to start from them.
		return cfg, 0, usageError{fmt.Errorf("--finetune %s: its classes %v come from data other than class folders (the embedded set, IDX, CIFAR); fine-tuning joins image class folders", dir, info.Classes)}
	}
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
	joined := filepath.Join(dir, "finetune-data")
	if _, err := os.Stat(joined); err == nil {
		return cfg, 0, fmt.Errorf("--finetune: %s exists from an earlier fine-tuning; remove it to join the data again", joined)
	}
	if err := joinOriginal(cfg.Data, joined); err != nil {
		return cfg, 0, err
	}
	n, err := linkTree(fb, filepath.Join(joined, "train"))
	if err != nil {
		return cfg, 0, err
	}
	cfg.Data = joined
	return cfg, n, nil
}

// joinOriginal puts a run's data, an image folder with train/ and test/,
// into dst/train and dst/test.
func joinOriginal(data string, dst string) error {
	src, err := source.DetectSource(data)
	if err != nil {
		return err
	}
	if src.Format != source.FormatImageFolder || !src.Split {
		return usageError{fmt.Errorf("--finetune: the run's data %s is %s; fine-tuning joins image folders with train/ and test/ (or the embedded set)", data, src)}
	}
	for _, part := range []string{"train", "test"} {
		if _, err := linkTree(filepath.Join(src.Root, part), filepath.Join(dst, part)); err != nil {
			return err
		}
	}
	return nil
}

// linkTree hard-links (or copies) every file of src's class folders into
// the same class folders under dst, and returns how many.
func linkTree(src, dst string) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if strings.Count(rel, string(filepath.Separator)) != 1 || strings.HasPrefix(filepath.Base(rel), ".") {
			return nil // class folders' files only; not the atomic writes' temporaries
		}
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		n++
		if os.Link(path, out) == nil {
			return nil
		}
		return copyAtomic(path, out)
	})
	if err != nil {
		return n, fmt.Errorf("--finetune: joining %s: %w", src, err)
	}
	return n, nil
}

// copyAtomic copies src to a new file dst, atomically.
func copyAtomic(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return checkpoint.WriteFileAtomic(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
