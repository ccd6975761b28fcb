package selection

// This file writes a cross-validation's summary: cv.json, cv.csv and the
// table kiln cv prints. It leaves out plots: the folds' own runs have
// theirs.

import (
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train"
)

// cvJSON is cv.json.
type cvJSON struct {
	Folds    int            `json:"folds"`
	Config   run.Config     `json:"config"`
	Results  []foldJSON     `json:"results"`
	MeanAcc  *run.JSONFloat `json:"mean_val_accuracy,omitempty"`
	StdAcc   *run.JSONFloat `json:"std_val_accuracy,omitempty"`
	MeanLoss *run.JSONFloat `json:"mean_val_loss,omitempty"`
	StdLoss  *run.JSONFloat `json:"std_val_loss,omitempty"`
	BestFold int            `json:"best_fold,omitempty"`
	BestRun  string         `json:"best_run,omitempty"`
	Kept     string         `json:"kept,omitempty"`
	Test     *testSummary   `json:"test,omitempty"`
}

type foldJSON struct {
	Fold        int           `json:"fold"`
	Run         string        `json:"run"`
	Epoch       int           `json:"epoch"`
	Epochs      int           `json:"epochs"`
	ValAcc      run.JSONFloat `json:"val_accuracy"`
	ValLoss     run.JSONFloat `json:"val_loss"`
	TrainAcc    run.JSONFloat `json:"train_accuracy"`
	TrainLoss   run.JSONFloat `json:"train_loss"`
	TrainImages int           `json:"train_images"`
	ValImages   int           `json:"val_images"`
}

// testSummary is a test result as recorded in cv.json and study.json.
type testSummary struct {
	Run      string        `json:"run"`
	Accuracy run.JSONFloat `json:"accuracy"`
	Loss     run.JSONFloat `json:"loss"`
	Images   int           `json:"images"`
}

func ptr(f float64) *run.JSONFloat {
	v := run.JSONFloat(f)
	return &v
}

// write rewrites cv.json and, once folds are done, cv.csv.
func (s *CVSummary) write() error {
	j := cvJSON{Folds: s.Folds, Config: s.Config, Results: []foldJSON{}}
	for _, f := range s.Done {
		j.Results = append(j.Results, foldJSON{Fold: f.Fold, Run: f.Run, Epoch: f.Epoch, Epochs: f.Epochs, ValAcc: run.JSONFloat(f.ValAcc),
			ValLoss: run.JSONFloat(f.ValLoss), TrainAcc: run.JSONFloat(f.TrainAcc), TrainLoss: run.JSONFloat(f.TrainLoss),
			TrainImages: f.TrainImages, ValImages: f.ValImages})
	}
	if len(s.Done) == s.Folds {
		j.MeanAcc, j.StdAcc, j.MeanLoss, j.StdLoss = ptr(s.MeanAcc), ptr(s.StdAcc), ptr(s.MeanLoss), ptr(s.StdLoss)
		j.BestFold, j.BestRun, j.Kept = s.BestFold().Fold, s.BestFold().Run, s.Kept
	}
	if s.Test != nil {
		j.Test = &testSummary{Run: s.TestRun, Accuracy: run.JSONFloat(s.Test.Accuracy), Loss: run.JSONFloat(s.Test.Loss), Images: s.Test.Confusion.Total()}
	}
	if err := run.WriteJSON(filepath.Join(s.Dir, CVJSON), j); err != nil {
		return err
	}
	if len(s.Done) < s.Folds {
		return nil
	}
	return checkpoint.WriteFileAtomic(filepath.Join(s.Dir, CVCSV), func(w io.Writer) error {
		fmt.Fprintln(w, "fold,run,epoch,val_acc,val_loss,train_acc,train_loss,train_images,val_images")
		for _, f := range s.Done {
			fmt.Fprintf(w, "%d,%s,%d,%.6g,%.6g,%.6g,%.6g,%d,%d\n", f.Fold, filepath.Base(f.Run), f.Epoch, f.ValAcc, f.ValLoss,
				f.TrainAcc, f.TrainLoss, f.TrainImages, f.ValImages)
		}
		fmt.Fprintf(w, "mean,,,%.6g,%.6g,,,,\n", s.MeanAcc, s.MeanLoss)
		fmt.Fprintf(w, "std,,,%.6g,%.6g,,,,\n", s.StdAcc, s.StdLoss)
		return nil
	})
}

// summary turns cv.json back into a summary.
func (j *cvJSON) summary(dir string) *CVSummary {
	s := &CVSummary{Dir: dir, Config: j.Config, Folds: j.Folds, Kept: j.Kept}
	for _, f := range j.Results {
		s.Done = append(s.Done, FoldResult{Fold: f.Fold, Run: f.Run, Epoch: f.Epoch, Epochs: f.Epochs, ValAcc: float64(f.ValAcc),
			ValLoss: float64(f.ValLoss), TrainAcc: float64(f.TrainAcc), TrainLoss: float64(f.TrainLoss),
			TrainImages: f.TrainImages, ValImages: f.ValImages})
	}
	if len(s.Done) > 0 && len(s.Done) == s.Folds {
		s.summarise()
	}
	if j.Test != nil {
		s.Test, s.TestRun = &train.Result{Accuracy: float64(j.Test.Accuracy), Loss: float64(j.Test.Loss)}, j.Test.Run
	}
	return s
}

// WriteTable writes the per-fold figures and their mean and standard
// deviation as aligned columns.
func (s *CVSummary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fold\tval acc\tval loss\tepoch\ttrain/val\trun")
	for _, f := range s.Done {
		fmt.Fprintf(tw, "%d\t%.2f%%\t%.4f\t%d/%d\t%d/%d\t%s\n", f.Fold, 100*f.ValAcc, f.ValLoss, f.Epoch, f.Epochs, f.TrainImages, f.ValImages, f.Run)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "mean ± std over %d folds: val accuracy %.2f%% ± %.2f%%, val loss %.4f ± %.4f (sample std, n-1)\n",
		len(s.Done), 100*s.MeanAcc, 100*s.StdAcc, s.MeanLoss, s.StdLoss)
	return err
}

// writeText writes a text file atomically.
func writeText(path, text string) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	})
}
