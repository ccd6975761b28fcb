package task

// This file holds what differs between the tasks a run trains, behind one
// small interface: each task supplies its training step, the figures its
// epoch lines, TensorBoard scalars and plots show, and its final report.
// Image and text classification are one task (classify, here); the
// autoencoder's and the language model's are in autoencode.go and lm.go.
// It leaves out the loop and its callbacks, which every task shares
// (run.go).

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/plots"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// kind is one task's part of a run.
type kind interface {
	// unit names the examples: images, texts or windows.
	unit() string
	// classesNote is the ", N classes" of the run's first line, or "".
	classesNote() string
	// epochLine is the start of an epoch's log line; speed its end.
	epochLine(st train.EpochStats, cfg run.Config, val bool) string
	speed(st train.EpochStats, cfg run.Config) string
	// accuracy reports whether the task has an accuracy to record and plot.
	accuracy() bool
	// lossLabel labels the loss plot's axis.
	lossLabel() string
	// scalars returns the task's own TensorBoard scalars, or nil.
	scalars(val bool) func(w *tfevents.Writer, st train.EpochStats, now time.Time)
	// finish evaluates the trained run and writes its report.
	finish(ctx context.Context, s *session, sum *Summary) error
}

var (
	_ kind = classify{}
	_ kind = autoencode{}
	_ kind = languageModel{}
)

// newKind returns the task of model, whose training step takes its
// gradient clipping from cfg; an autoencoder's noise generator joins gens.
func newKind(m models.Model, ds *source.Datasets, opt optim.Optimizer, cfg run.Config, gens run.Generators, noiseSeed uint64) (kind, train.Learner) {
	switch m := m.(type) {
	case *models.ConvAutoencoder:
		seedNoise(m, noiseSeed, gens)
		r := NewReconstructor(m, opt)
		r.ClipNorm = cfg.ClipNorm
		return autoencode{m}, r
	case *models.CharLM:
		l := NewLanguageModel(m, opt)
		l.ClipNorm = cfg.ClipNorm
		return languageModel{m, ds.Encoder}, l
	}
	c := train.NewClassifier(m, m.ParamSet(), nil, opt)
	c.ClipNorm = cfg.ClipNorm
	return classify{text: ds.Encoder != nil, classes: len(ds.Classes)}, c
}

// classify is image and text classification with cross-entropy.
type classify struct {
	text    bool
	classes int
}

func (k classify) unit() string {
	if k.text {
		return "texts"
	}
	return "images"
}

func (k classify) classesNote() string { return fmt.Sprintf(", %d classes", k.classes) }

func (k classify) epochLine(st train.EpochStats, cfg run.Config, val bool) string {
	line := fmt.Sprintf("Epoch [%d/%d], Loss: %.4f, Acc: %.2f%%", st.Epoch, cfg.Epochs, st.TrainLoss, 100*st.TrainAcc)
	if val {
		line += fmt.Sprintf(", Val loss: %.4f, Val acc: %.2f%%", st.ValLoss, 100*st.ValAcc)
	}
	return line
}

func (k classify) speed(st train.EpochStats, _ run.Config) string {
	unit := "img/s"
	if k.text {
		unit = "texts/s"
	}
	return fmt.Sprintf("%.0f %s", float64(st.Images)/max(st.Duration.Seconds(), 1e-9), unit)
}

func (classify) accuracy() bool    { return true }
func (classify) lossLabel() string { return "cross-entropy loss" }

func (classify) scalars(bool) func(*tfevents.Writer, train.EpochStats, time.Time) { return nil }

// finish evaluates the best model on the test set and writes the report,
// the confusion matrix plot and the test scalars.
func (k classify) finish(ctx context.Context, s *session, sum *Summary) error {
	if s.ds.Test == nil {
		why := "the data has no test split"
		if s.cfg.NoTest {
			why = "no_test: the test set is kept for the selected model"
		}
		fmt.Fprintf(s.log, "kiln: no test set (%s); the run is in %s\n", why, s.dir)
		return nil
	}
	which, err := s.loadBest()
	if err != nil {
		return err
	}
	if s.rep != nil {
		if err := s.broadcastModel(); err != nil { // rank 0 read the best model
			return err
		}
	}
	tl, err := s.evalLoader(s.ds.Test)
	if err != nil {
		return err
	}
	r, err := train.EvaluateOn(ctx, s.learner, tl, s.ds.Classes, s.replicaSums())
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted during the test evaluation; training is finished and saved; evaluate with: kiln train --resume %s: %w", s.dir, err)
		}
		return err
	}
	sum.Test = &r
	if !s.writes() {
		return nil
	}
	fmt.Fprintf(s.log, "Test accuracy of the %s model: %.2f%% (%d %s), loss %.4f\n\n%s", which, 100*r.Accuracy, r.Confusion.Total(), k.unit(), r.Loss, r.Confusion.Report())
	if err := plots.Confusion(filepath.Join(s.dir, run.ConfPlot), "test set, "+which+" model", r.Confusion.Classes, r.Confusion.Counts); err != nil {
		return err
	}
	if err := s.testScalars([]string{"accuracy/test", "loss/test"}, r.Accuracy, r.Loss); err != nil {
		return err
	}
	rep := fmt.Sprintf("test accuracy %.4f, loss %.4f, %d %s, %s model\n\n%s", r.Accuracy, r.Loss, r.Confusion.Total(), k.unit(), which, r.Confusion.Report())
	return writeReport(s.dir, rep)
}

// testScalars records the test set's figures in TensorBoard at the run's
// last step, each names[i] with values[i], and flushes the file.
func (s *session) testScalars(names []string, values ...float64) error {
	now := time.Now()
	for i, name := range names {
		s.events.Scalar(name, s.loop.Pos.Step, values[i], now)
	}
	return s.events.Flush()
}

// writeReport writes a run's test_report.txt atomically.
func writeReport(dir, rep string) error {
	return checkpoint.WriteFileAtomic(filepath.Join(dir, run.ReportFile), func(w io.Writer) error {
		_, err := io.WriteString(w, rep)
		return err
	})
}
