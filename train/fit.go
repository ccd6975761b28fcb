package train

// This file holds the training loop: epochs, the loop's resumable position,
// schedules and callbacks. It leaves out what a run does around the loop
// (files, checkpoints, early stopping), which is in run.go.

import (
	"context"
	"fmt"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
)

// EpochStats summarises one epoch.
type EpochStats struct {
	Epoch     int // from 1
	Step      int // optimizer steps in all at the end of the epoch
	TrainLoss float64
	TrainAcc  float64
	ValLoss   float64 // 0 when there is no validation set
	ValAcc    float64
	LR        float64 // at the start of the epoch
	Images    int
	Duration  time.Duration
}

// StepInfo describes one finished step, for progress reporting.
type StepInfo struct {
	Epoch, Step, Steps int // Step counts from 1 within the epoch
	GlobalStep         int // optimizer steps in all
	Loss               float32
	RunningLoss        float64 // mean loss of the epoch so far
	Images             int     // images seen this epoch
	Elapsed            time.Duration
}

// Position is where a training loop stands: what Fit needs, besides the
// model, optimizer, schedule and generators, to carry on from the middle of
// an epoch exactly as if it had never stopped. The running sums make the
// resumed epoch's loss and accuracy the same, to the bit, as an
// uninterrupted one's.
type Position struct {
	Epoch   int           // finished epochs
	Batch   int           // finished batches of epoch Epoch (counting from 0)
	Step    int           // optimizer steps in all
	LossSum float64       // sum of per-example losses over the epoch's finished batches
	Correct int           // correctly classified examples in those batches
	Images  int           // examples in those batches
	LR      float64       // learning rate when the epoch began
	Elapsed time.Duration // training time spent in the epoch so far
}

// FitConfig configures Fit. Everything but Epochs is optional.
type FitConfig struct {
	Epochs    int
	Scheduler optim.Scheduler
	PerBatch  bool // step the scheduler every batch (OneCycle) instead of every epoch
	Val       *data.Loader

	// Pos is where to start; Fit keeps it current, so that after an error
	// or a cancelled context it says exactly what has been done. Nil starts
	// from the beginning.
	Pos *Position

	// CheckpointEvery calls OnCheckpoint after every this many optimizer
	// steps (counted over the whole run, so resuming keeps the rhythm),
	// except on an epoch's last batch, where OnEpoch follows. 0: never.
	CheckpointEvery int
	OnCheckpoint    func(Position) error

	OnStep  func(StepInfo)
	OnEpoch func(EpochStats) error // called after validation and the schedule's step; an error stops training
}

// Fit trains c on train until cfg.Epochs epochs are done and returns the
// statistics of the epochs it finished. Cancelling ctx stops it after the
// current step (or during validation) with an error wrapping ctx's, and
// *cfg.Pos tells where, so that the caller can checkpoint.
func Fit(ctx context.Context, c Learner, train *data.Loader, cfg FitConfig) ([]EpochStats, error) {
	pos := cfg.Pos
	if pos == nil {
		pos = &Position{}
	}
	var history []EpochStats
	for pos.Epoch < cfg.Epochs {
		st, err := trainEpoch(ctx, c, train, pos, cfg)
		if err != nil {
			return history, err
		}
		if cfg.Val != nil {
			r, err := Evaluate(ctx, c, cfg.Val, nil)
			if err != nil {
				return history, err
			}
			st.ValLoss, st.ValAcc = r.Loss, r.Accuracy
		}
		if cfg.Scheduler != nil && !cfg.PerBatch {
			cfg.Scheduler.Step()
		}
		*pos = Position{Epoch: pos.Epoch + 1, Step: pos.Step}
		history = append(history, st)
		if cfg.OnEpoch != nil {
			if err := cfg.OnEpoch(st); err != nil {
				return history, err
			}
		}
	}
	return history, nil
}

// trainEpoch runs epoch pos.Epoch from batch pos.Batch to its end.
func trainEpoch(ctx context.Context, c Learner, train *data.Loader, pos *Position, cfg FitConfig) (EpochStats, error) {
	nn.SetTraining(c.Module(), true)
	if pos.Batch == 0 && pos.Images == 0 {
		pos.LR = c.Optimizer().LR()
	}
	e := pos.Epoch
	st := EpochStats{Epoch: e + 1, LR: pos.LR}
	start, before := time.Now(), pos.Elapsed
	it, err := train.Epoch(ctx, e, pos.Batch)
	if err != nil {
		return st, fmt.Errorf("train: epoch %d: %w", e+1, err)
	}
	defer it.Close()
	steps := train.NumBatches()
	for it.Next() {
		b := it.Batch()
		loss, k := c.TrainStep(b)
		if cfg.Scheduler != nil && cfg.PerBatch {
			cfg.Scheduler.Step()
		}
		n := len(b.Y)
		pos.Batch++
		pos.Step++
		pos.LossSum += float64(loss) * float64(n)
		pos.Correct += k
		pos.Images += n
		pos.Elapsed = before + time.Since(start)
		if cfg.OnStep != nil {
			cfg.OnStep(StepInfo{Epoch: e + 1, Step: pos.Batch, Steps: steps, GlobalStep: pos.Step, Loss: loss,
				RunningLoss: pos.LossSum / float64(pos.Images), Images: pos.Images, Elapsed: pos.Elapsed})
		}
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("train: epoch %d: %w", e+1, err)
		}
		if cfg.CheckpointEvery > 0 && cfg.OnCheckpoint != nil && pos.Step%cfg.CheckpointEvery == 0 && pos.Batch < steps {
			if err := cfg.OnCheckpoint(*pos); err != nil {
				return st, err
			}
		}
	}
	if err := it.Err(); err != nil {
		return st, fmt.Errorf("train: epoch %d: %w", e+1, err)
	}
	st.Step, st.Images, st.Duration = pos.Step, pos.Images, pos.Elapsed
	if pos.Images > 0 {
		st.TrainLoss, st.TrainAcc = pos.LossSum/float64(pos.Images), float64(pos.Correct)/float64(pos.Images)
	}
	return st, nil
}
