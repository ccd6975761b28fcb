package train

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
	TrainLoss float64
	TrainAcc  float64
	ValLoss   float64 // NaN-free 0 when there is no validation set
	ValAcc    float64
	LR        float64
	Images    int
	Duration  time.Duration
}

// StepInfo describes one finished step, for progress reporting.
type StepInfo struct {
	Epoch, Step, Steps int // Step counts from 1 within the epoch
	Loss               float32
	RunningLoss        float64 // mean loss of the epoch so far
	Images             int     // images seen this epoch
	Elapsed            time.Duration
}

// FitConfig configures Fit. Scheduler, Val and the callbacks are optional.
type FitConfig struct {
	Epochs     int
	StartEpoch int // epochs already done, when resuming
	Scheduler  optim.Scheduler
	PerBatch   bool // step the scheduler every batch (OneCycle) instead of every epoch
	Val        *data.Loader
	OnStep     func(StepInfo)
	OnEpoch    func(EpochStats) error // an error stops training
}

// Fit trains c on train for the configured epochs and returns each epoch's
// statistics. Cancelling ctx stops it after the current step with ctx's
// error, so that the caller can checkpoint.
func Fit(ctx context.Context, c *Classifier, train *data.Loader, cfg FitConfig) ([]EpochStats, error) {
	var history []EpochStats
	for e := cfg.StartEpoch; e < cfg.Epochs; e++ {
		st, err := trainEpoch(ctx, c, train, e, cfg)
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
		history = append(history, st)
		if cfg.OnEpoch != nil {
			if err := cfg.OnEpoch(st); err != nil {
				return history, err
			}
		}
	}
	return history, nil
}

func trainEpoch(ctx context.Context, c *Classifier, train *data.Loader, e int, cfg FitConfig) (EpochStats, error) {
	nn.SetTraining(c.Model, true)
	st := EpochStats{Epoch: e + 1, LR: c.Opt.LR()}
	start := time.Now()
	it, err := train.Epoch(ctx, e, 0)
	if err != nil {
		return st, err
	}
	defer it.Close()
	var lossSum float64
	correct, steps := 0, train.NumBatches()
	for i := 1; it.Next(); i++ {
		b := it.Batch()
		loss, k := c.TrainStep(b)
		if cfg.Scheduler != nil && cfg.PerBatch {
			cfg.Scheduler.Step()
		}
		n := len(b.Y)
		lossSum += float64(loss) * float64(n)
		correct += k
		st.Images += n
		if cfg.OnStep != nil {
			cfg.OnStep(StepInfo{Epoch: e + 1, Step: i, Steps: steps, Loss: loss, RunningLoss: lossSum / float64(st.Images),
				Images: st.Images, Elapsed: time.Since(start)})
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
	}
	if err := it.Err(); err != nil {
		return st, fmt.Errorf("train: epoch %d: %w", e+1, err)
	}
	if st.Images > 0 {
		st.TrainLoss, st.TrainAcc = lossSum/float64(st.Images), float64(correct)/float64(st.Images)
	}
	st.Duration = time.Since(start)
	return st, nil
}

// Result is an evaluation's mean loss, accuracy and confusion matrix.
type Result struct {
	Loss      float64
	Accuracy  float64
	Confusion *Confusion
}

// Evaluate runs c's model in evaluation mode over every batch of l and
// returns the mean loss and accuracy; with classes it also fills a confusion
// matrix. The model is left in evaluation mode.
func Evaluate(ctx context.Context, c *Classifier, l *data.Loader, classes []string) (Result, error) {
	nn.SetTraining(c.Model, false)
	var r Result
	if classes != nil {
		r.Confusion = NewConfusion(classes)
	}
	it, err := l.Epoch(ctx, 0, 0)
	if err != nil {
		return r, err
	}
	defer it.Close()
	var lossSum float64
	correct, n := 0, 0
	var preds []int
	for it.Next() {
		b := it.Batch()
		if r.Confusion != nil {
			preds = append(preds[:0], make([]int, len(b.Y))...)
		}
		ls, k := c.EvalBatch(b, preds)
		lossSum += ls
		correct += k
		n += len(b.Y)
		if r.Confusion != nil {
			for i, p := range preds {
				r.Confusion.Add(b.Y[i], p)
			}
		}
	}
	if err := it.Err(); err != nil {
		return r, fmt.Errorf("train: evaluation: %w", err)
	}
	if n > 0 {
		r.Loss, r.Accuracy = lossSum/float64(n), float64(correct)/float64(n)
	}
	return r, nil
}
