package run

// This file holds the training-loop callbacks that write a run
// directory's outputs: the metrics files, TensorBoard scalars, the loss
// and accuracy plots, and the best model with early stopping. Each is one
// small type; a run adds the ones it wants to its train.Loop. It leaves
// out checkpoints of the training state, which need the whole run
// (package task), and progress bars (cmd/kiln).

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/plots"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// Metrics rewrites metrics.csv and metrics.jsonl in Dir after every epoch
// with the loop's whole history, and the task's Extra columns.
type Metrics struct {
	train.Base
	Dir   string
	Extra []Column
}

// OnEpoch writes the files.
func (m Metrics) OnEpoch(l *train.Loop, _ train.EpochStats) error {
	return WriteMetrics(m.Dir, l.History, m.Extra...)
}

// Scalars records TensorBoard scalars: the step's loss every 10 steps,
// and after every epoch the losses, accuracies (when Accuracy), learning
// rate and epoch number, plus whatever Extra adds.
type Scalars struct {
	train.Base
	W        *tfevents.Writer
	Val      bool // the loop validates
	Accuracy bool // the task has an accuracy
	Extra    func(w *tfevents.Writer, st train.EpochStats, now time.Time)
}

// OnStep records loss/train_step.
func (s Scalars) OnStep(_ *train.Loop, si train.StepInfo) error {
	if si.GlobalStep%10 == 0 {
		s.W.Scalar("loss/train_step", si.GlobalStep, float64(si.Loss), time.Now())
	}
	return nil
}

// OnEpoch records the epoch's scalars.
func (s Scalars) OnEpoch(_ *train.Loop, st train.EpochStats) error {
	now := time.Now()
	s.W.Scalar("loss/train", st.Step, st.TrainLoss, now)
	if s.Accuracy {
		s.W.Scalar("accuracy/train", st.Step, st.TrainAcc, now)
	}
	if s.Extra != nil {
		s.Extra(s.W, st, now)
	}
	if s.Val {
		s.W.Scalar("loss/val", st.Step, st.ValLoss, now)
		if s.Accuracy {
			s.W.Scalar("accuracy/val", st.Step, st.ValAcc, now)
		}
	}
	s.W.Scalar("lr", st.Step, st.LR, now)
	s.W.Scalar("epoch", st.Step, float64(st.Epoch), now)
	return nil
}

// Curves redraws loss.png (and accuracy.png, when Accuracy) in Dir after
// every epoch.
type Curves struct {
	train.Base
	Dir       string
	Model     string // the plots' titles start with it
	LossLabel string // the loss axis' label
	Val       bool   // draw the validation curves too
	Accuracy  bool
}

// OnEpoch draws the plots.
func (c Curves) OnEpoch(l *train.Loop, _ train.EpochStats) error {
	n := len(l.History)
	x := make([]float64, n)
	tl, vl, ta, va := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, h := range l.History {
		x[i], tl[i], vl[i], ta[i], va[i] = float64(h.Epoch), h.TrainLoss, h.ValLoss, 100*h.TrainAcc, 100*h.ValAcc
	}
	loss := []plots.Series{{Name: "training", X: x, Y: tl}}
	acc := []plots.Series{{Name: "training", X: x, Y: ta}}
	if c.Val {
		loss = append(loss, plots.Series{Name: "validation", X: x, Y: vl})
		acc = append(acc, plots.Series{Name: "validation", X: x, Y: va})
	}
	if err := plots.Curves(filepath.Join(c.Dir, LossPlot), c.Model+": loss", c.LossLabel, loss...); err != nil {
		return err
	}
	if !c.Accuracy {
		return nil
	}
	return plots.Curves(filepath.Join(c.Dir, AccPlot), c.Model+": accuracy", "accuracy (%)", acc...)
}

// Best keeps the model with the lowest validation loss (the training loss
// without a validation set): Save is called whenever an epoch beats Score,
// and with Patience > 0 the loop stops after Patience epochs without a
// better one. Score and SinceBest are part of a run's training state.
type Best struct {
	train.Base
	Val       bool
	Patience  int
	Save      func() error
	Score     float64 // the best so far; +Inf before the first epoch
	SinceBest int     // epochs since it
}

// OnEpoch compares the epoch with the best so far.
func (b *Best) OnEpoch(l *train.Loop, st train.EpochStats) error {
	score := st.TrainLoss
	if b.Val {
		score = st.ValLoss
	}
	if score < b.Score {
		b.Score, b.SinceBest = score, 0
		if err := b.Save(); err != nil {
			return err
		}
	} else {
		b.SinceBest++
	}
	if !l.Done() && b.Patience > 0 && b.SinceBest >= b.Patience {
		l.Stop(fmt.Sprintf("early stopping after epoch %d: no better validation loss for %d epochs", st.Epoch, b.Patience))
	}
	return nil
}
