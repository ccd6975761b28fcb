package selection

// This file holds k-fold cross-validation: the fold split of a run's
// training data, and CrossValidate, which trains one ordinary run per fold
// under a parent folder, summarises them and tests the best fold's model
// once. It leaves out repeated k-fold, group k-fold and the summary's
// files (cvreport.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/task"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/plots"
)

// The files of a cross-validation folder, besides its fold-<i> runs.
const (
	CVJSON = "cv.json" // CVSummary with the settings; written at the start and rewritten at the end
	CVCSV  = "cv.csv"  // one row per fold, then the mean and the std
	CVBest = "best"    // with KeepBest: a link to (or copy of) the best fold's run
)

// CVOptions configure CrossValidate. All but Folds are optional.
type CVOptions struct {
	Folds    int  // k, at least 2
	KeepBest bool // link the best fold's run as <dir>/best (copy it where links fail)
	// Test evaluates the best fold's model on the test set once at the
	// end, when the data have one. Tuning trials leave it off.
	Test bool
	// Resume continues the cross-validation in filepath.Join(cfg.Out,
	// cfg.Name): finished folds are read back, an interrupted one resumes,
	// missing ones are trained. Its cv.json must hold cfg.
	Resume  bool
	Log     io.Writer                            // fold headers, each run's epoch lines and the summary; nil discards them
	OnStep  func(train.StepInfo)                 // progress of the fold being trained
	OnFold  func(FoldResult, []FoldResult) error // after each fold, with the folds so far; an error stops (a tuning trial's pruning)
	Version string
}

// FoldResult is one fold's figures: those of the model its run keeps
// (best.safetensors, the epoch with the lowest validation loss), which is
// also what kiln eval and the final test use.
type FoldResult struct {
	Fold        int     // from 1
	Run         string  // the fold's run directory
	Epoch       int     // the kept model's epoch
	Epochs      int     // epochs trained
	ValAcc      float64 //
	ValLoss     float64 //
	TrainAcc    float64 // of the kept epoch, over the augmented training batches
	TrainLoss   float64 //
	TrainImages int     //
	ValImages   int     //
}

// CVSummary is a cross-validation's outcome.
type CVSummary struct {
	Dir    string
	Config run.Config // the settings every fold shares; Name is the folder's
	Folds  int
	Done   []FoldResult // by fold
	// Mean and sample standard deviation (n-1) of the folds' validation
	// accuracy and loss.
	MeanAcc, StdAcc, MeanLoss, StdLoss float64
	Best                               int    // index in Done of the best fold: highest accuracy, then lowest loss, then first
	Kept                               string // the best fold's link or copy, with KeepBest
	Test                               *train.Result
	TestRun                            string // the run whose model was tested
}

// BestFold returns the best fold's result.
func (s *CVSummary) BestFold() FoldResult { return s.Done[s.Best] }

// CrossValidate trains cfg once per fold of a stratified k-fold split of
// the training data (cfg.ValSplit is ignored): fold i is the run
// <cfg.Out>/<cfg.Name>/fold-<i>, validated on fold i and never shown the
// test set. It writes cv.json and cv.csv there, and with opt.Test
// evaluates the best fold's model on the test set once at the end.
// Cancelling ctx stops in a fold, which opt.Resume later continues.
func CrossValidate(ctx context.Context, cfg run.Config, opt CVOptions) (*CVSummary, error) {
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	if opt.Folds < 2 {
		return nil, fmt.Errorf("--folds %d: want at least 2", opt.Folds)
	}
	if cfg.TaskName() == run.TaskAutoencode {
		return nil, errors.New("--task autoencode: cross-validation scores classifiers by accuracy; an autoencoder has none")
	}
	base := cfg
	base.Folds, base.Fold, base.NoTest = 0, 0, false
	if err := base.Validate(); err != nil {
		return nil, err
	}
	if err := base.ValidateFolds(opt.Folds); err != nil {
		return nil, err
	}
	if base.Name == "" {
		base.Name = "cv-" + time.Now().Format("20060102-150405")
	}
	dir := filepath.Join(base.Out, base.Name)
	sum := &CVSummary{Dir: dir, Config: base, Folds: opt.Folds}
	if opt.Resume {
		if err := checkCVDir(dir, sum); err != nil {
			return nil, err
		}
	} else if err := newCVDir(base.Out, base.Name); err != nil {
		return nil, err
	}
	if err := sum.write(); err != nil {
		return nil, err
	}
	for i := 1; i <= opt.Folds; i++ {
		fc := base
		fc.Folds, fc.Fold, fc.NoTest = opt.Folds, i, true
		fc.Out, fc.Name = dir, fmt.Sprintf("fold-%d", i)
		fmt.Fprintf(log, "kiln: fold %d of %d\n", i, opt.Folds)
		ro := task.Options{Log: log, OnStep: opt.OnStep, Version: opt.Version}
		var rs *task.Summary
		var err error
		if opt.Resume {
			rs, err = task.Continue(ctx, fc, ro)
		} else {
			rs, err = task.Run(ctx, fc, ro)
		}
		if err != nil {
			return sum, fmt.Errorf("fold %d of %d: %w", i, opt.Folds, err)
		}
		fr, err := foldResult(i, rs)
		if err != nil {
			return sum, err
		}
		sum.Done = append(sum.Done, fr)
		fmt.Fprintf(log, "kiln: fold %d of %d: validation accuracy %.2f%%, loss %.4f (epoch %d of %d)\n",
			i, opt.Folds, 100*fr.ValAcc, fr.ValLoss, fr.Epoch, fr.Epochs)
		if opt.OnFold != nil {
			if err := opt.OnFold(fr, sum.Done); err != nil {
				return sum, err
			}
		}
	}
	sum.summarise()
	if opt.KeepBest {
		if err := sum.keepBest(); err != nil {
			return sum, err
		}
	}
	if opt.Test {
		if err := sum.test(ctx, log, opt.Version); err != nil {
			return sum, err
		}
	}
	return sum, sum.write()
}

// newCVDir creates out/name, refusing an existing one.
func newCVDir(out, name string) error {
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("--name %q: want a plain folder name", name)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	dir := filepath.Join(out, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; pick another --name, or continue it with kiln cv --resume %s", dir, dir)
		}
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// checkCVDir checks that dir holds a cross-validation of the same
// settings and folds, so that resuming it cannot mix two experiments.
func checkCVDir(dir string, sum *CVSummary) error {
	was, err := ReadCV(dir)
	if err != nil {
		return err
	}
	if was.Folds != sum.Folds {
		return fmt.Errorf("--folds %d: %s was started with %d folds", sum.Folds, dir, was.Folds)
	}
	a, b := was.Config, sum.Config
	a.Workers, b.Workers, a.Data, b.Data, a.CheckpointEvery, b.CheckpointEvery = 0, 0, "", "", 0, 0
	a.Out, b.Out = "", ""
	if a != b {
		return fmt.Errorf("%s was started with other settings; resume it with its own (kiln cv --resume %s)", dir, dir)
	}
	return nil
}

// foldResult reads a fold's figures from its run's history.
func foldResult(fold int, rs *task.Summary) (FoldResult, error) {
	if len(rs.History) == 0 {
		return FoldResult{}, fmt.Errorf("fold %d: the run %s has no finished epoch", fold, rs.Dir)
	}
	k := keptEpoch(rs.History)
	info, err := run.ReadRunInfo(rs.Dir)
	if err != nil {
		return FoldResult{}, err
	}
	return FoldResult{Fold: fold, Run: rs.Dir, Epoch: k.Epoch, Epochs: len(rs.History), ValAcc: k.ValAcc, ValLoss: k.ValLoss,
		TrainAcc: k.TrainAcc, TrainLoss: k.TrainLoss, TrainImages: info.TrainImages, ValImages: info.ValImages}, nil
}

// keptEpoch returns the epoch whose model a run keeps as best.safetensors:
// the first with the lowest validation loss, or the last when every loss
// is NaN (a diverged run keeps no best model).
func keptEpoch(h []train.EpochStats) train.EpochStats {
	best, k := math.Inf(1), len(h)-1
	for i, st := range h {
		if st.ValLoss < best {
			best, k = st.ValLoss, i
		}
	}
	return h[k]
}

// summarise fills the means, standard deviations and the best fold.
func (s *CVSummary) summarise() {
	acc, loss := make([]float64, len(s.Done)), make([]float64, len(s.Done))
	for i, f := range s.Done {
		acc[i], loss[i] = f.ValAcc, f.ValLoss
		b := s.Done[s.Best]
		if f.ValAcc > b.ValAcc || (f.ValAcc == b.ValAcc && f.ValLoss < b.ValLoss) {
			s.Best = i
		}
	}
	s.MeanAcc, s.StdAcc = meanStd(acc)
	s.MeanLoss, s.StdLoss = meanStd(loss)
}

// meanStd returns the mean and the sample standard deviation (n-1; 0 for
// one value).
func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// keepBest links dir/best to the best fold's run, or copies the run where
// the file system has no links.
func (s *CVSummary) keepBest() error {
	link := filepath.Join(s.Dir, CVBest)
	target := filepath.Base(s.BestFold().Run)
	if cur, err := os.Readlink(link); err == nil && cur == target {
		s.Kept = link
		return nil
	}
	if _, err := os.Lstat(link); err == nil {
		if err := os.RemoveAll(link); err != nil {
			return fmt.Errorf("selection: replacing %s: %w", link, err)
		}
	}
	if err := os.Symlink(target, link); err != nil {
		if err := copyRun(s.BestFold().Run, link); err != nil {
			return err
		}
	}
	s.Kept = link
	return nil
}

// copyRun copies the plain files of a run directory.
func copyRun(from, to string) error {
	if err := os.Mkdir(to, 0o755); err != nil {
		return fmt.Errorf("selection: %w", err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		return fmt.Errorf("selection: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return fmt.Errorf("selection: %w", err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			return fmt.Errorf("selection: %w", err)
		}
	}
	return nil
}

// test evaluates the best fold's kept model on the test set, once, and
// writes the report and confusion matrix into the folder.
func (s *CVSummary) test(ctx context.Context, log io.Writer, version string) error {
	cfg := s.Config
	cfg.ValSplit, cfg.Augment = 0, ""
	ds, err := source.LoadDatasets(cfg, io.Discard)
	if err != nil {
		return err
	}
	if ds.Test == nil {
		fmt.Fprintf(log, "kiln: no test set (the data has no test split)\n")
		return nil
	}
	// Evaluate through the fold's own run, whose input pipeline (a text
	// run's vocabulary is the fold's) the model was trained with.
	bestRun := s.BestFold().Run
	m, err := predict.LoadTrained(bestRun, "best")
	if err != nil {
		return err
	}
	m.Config.NoTest = false
	r, _, err := m.Evaluate(ctx, "", cfg.Workers, io.Discard)
	if err != nil {
		return err
	}
	s.Test, s.TestRun = &r, bestRun
	what := fmt.Sprintf("fold %d's model (%s)", s.BestFold().Fold, filepath.Base(m.Checkpoint))
	fmt.Fprintf(log, "Test accuracy of %s: %.2f%% (%d images), loss %.4f\n\n%s", what, 100*r.Accuracy, r.Confusion.Total(), r.Loss, r.Confusion.Report())
	if err := plots.Confusion(filepath.Join(s.Dir, run.ConfPlot), "test set, "+what, r.Confusion.Classes, r.Confusion.Counts); err != nil {
		return err
	}
	rep := fmt.Sprintf("test accuracy %.4f, loss %.4f, %d images, %s\n\n%s", r.Accuracy, r.Loss, r.Confusion.Total(), what, r.Confusion.Report())
	return writeText(filepath.Join(s.Dir, run.ReportFile), rep)
}

// ReadCV reads a cross-validation folder's cv.json.
func ReadCV(dir string) (*CVSummary, error) {
	b, err := os.ReadFile(filepath.Join(dir, CVJSON))
	if err != nil {
		return nil, fmt.Errorf("selection: %s is not a kiln cv folder: %w", dir, err)
	}
	var j cvJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("selection: %s: %w", filepath.Join(dir, CVJSON), err)
	}
	return j.summary(dir), nil
}
