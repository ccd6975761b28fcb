package train

// This file holds the training loop: epochs, the loop's resumable position
// and schedules. It leaves out what happens around the loop (files,
// checkpoints, early stopping, progress): those are callbacks
// (callback.go), supplied by whoever runs the loop.

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

	// ValConfusion is the validation set's confusion matrix when the loop
	// has Classes; nil otherwise.
	ValConfusion *Confusion
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

// Position is where a training loop stands: what the loop needs, besides
// the model, optimizer, schedule and generators, to carry on from the
// middle of an epoch exactly as if it had never stopped. The running sums
// make the resumed epoch's loss and accuracy the same, to the bit, as an
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

// Loop trains a Learner epoch by epoch. Learner, Train and Epochs are
// required; the rest is optional. A Loop is used by one goroutine.
type Loop struct {
	Learner   Learner
	Train     *data.Loader
	Epochs    int
	Scheduler optim.Scheduler
	PerBatch  bool         // step the scheduler every batch (OneCycle) instead of every epoch
	Val       *data.Loader // evaluated after every epoch
	Classes   []string     // with Val: also count the validation set's confusion matrix (EpochStats.ValConfusion)
	Callbacks []Callback   // told of every step and epoch, in order
	// Replicas, in data-parallel training, sums every step's loss and
	// counts and the validation figures over the ranks, so that Pos,
	// History and what callbacks see are the global batch's on every rank.
	// Train and Val are then each rank's shards.
	Replicas Replicas
	// Interrupted, with Replicas, replaces watching Run's context: every
	// rank reports with each step's figures whether it was asked to stop,
	// and all stop after that same step when any was, with an error wrapping
	// context.Canceled. Run's context must then not be cancelled by the
	// signal, or ranks would stop at different steps.
	Interrupted func() bool

	// Pos is where the loop stands. Run starts from it and keeps it
	// current, so that after an error or a cancelled context it says
	// exactly what has been done. Resuming sets it from a saved state.
	Pos Position
	// History holds every finished epoch, Run's and (after a resume) those
	// the caller restored.
	History []EpochStats

	ctx     context.Context
	stopped string
	sums    [4]float64
}

// Stop asks the loop to end after the current epoch's callbacks, for the
// reason given (a callback's OnEpoch calls it: early stopping, pruning).
// The callbacks after the one that called Stop still see the epoch, and
// Stopped tells them why training ends.
func (l *Loop) Stop(reason string) {
	if l.stopped == "" {
		l.stopped = reason
	}
}

// Stopped returns the reason given to Stop, or "" if nothing stopped the
// loop early.
func (l *Loop) Stopped() string { return l.stopped }

// Done reports whether the loop has nothing left to train: every epoch is
// finished or a callback stopped it.
func (l *Loop) Done() bool { return l.stopped != "" || l.Pos.Epoch >= l.Epochs }

// Run trains until l.Epochs epochs are done or a callback calls Stop.
// Cancelling ctx stops it after the current step (or during validation)
// with an error wrapping ctx's; l.Pos tells where. When Run ends with an
// error, every callback's OnInterrupt sees it first.
func (l *Loop) Run(ctx context.Context) error {
	l.ctx = ctx
	defer func() { l.ctx = nil }()
	err := l.run(ctx)
	if err == nil {
		return nil
	}
	var errs []error
	if serr := SyncToHost(l.Learner); serr != nil {
		errs = append(errs, serr)
	}
	for _, c := range l.Callbacks {
		if cerr := c.OnInterrupt(l, err); cerr != nil {
			errs = append(errs, cerr)
		}
	}
	if len(errs) > 0 {
		return &CallbackError{Err: err, Callbacks: errs}
	}
	return err
}

func (l *Loop) run(ctx context.Context) error {
	for l.stopped == "" && l.Pos.Epoch < l.Epochs {
		st, err := l.epoch(ctx)
		if err != nil {
			return err
		}
		if l.Val != nil {
			r, err := EvaluateOn(ctx, l.Learner, l.Val, l.Classes, l.Replicas)
			if err != nil {
				return err
			}
			st.ValLoss, st.ValAcc, st.ValConfusion = r.Loss, r.Accuracy, r.Confusion
		}
		if l.Scheduler != nil && !l.PerBatch {
			l.Scheduler.Step()
		}
		l.Pos = Position{Epoch: l.Pos.Epoch + 1, Step: l.Pos.Step}
		l.History = append(l.History, st)
		if err := SyncToHost(l.Learner); err != nil {
			return err
		}
		for _, c := range l.Callbacks {
			if err := c.OnEpoch(l, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// epoch runs epoch l.Pos.Epoch from batch l.Pos.Batch to its end.
func (l *Loop) epoch(ctx context.Context) (EpochStats, error) {
	pos := &l.Pos
	nn.SetTraining(l.Learner.Module(), true)
	if pos.Batch == 0 && pos.Images == 0 {
		pos.LR = l.Learner.Optimizer().LR()
	}
	e := pos.Epoch
	st := EpochStats{Epoch: e + 1, LR: pos.LR}
	start, before := time.Now(), pos.Elapsed
	it, err := l.Train.Epoch(ctx, e, pos.Batch)
	if err != nil {
		return st, fmt.Errorf("train: epoch %d: %w", e+1, err)
	}
	defer it.Close()
	steps := l.Train.NumBatches()
	// A Stager trains on a batch while the next is fetched and copied to
	// its device: the next batch comes out of the iterator during the
	// step, so b is not read after it.
	sg, staged := l.Learner.(Stager)
	more := it.Next()
	if staged && more {
		sg.Stage(it.Batch())
	}
	stageNext := func() { // made once an epoch, not once a step
		if more = it.Next(); more {
			sg.Stage(it.Batch())
		}
	}
	for more {
		b := it.Batch()
		var loss float32
		var k, n int
		if staged {
			n = len(b.Y)
			loss, k = sg.TrainStaged(stageNext)
		} else {
			loss, k = l.Learner.TrainStep(b)
			n = len(b.Y) // after the step: a DP learner draws its Poisson batch into b
		}
		if err := stepErr(l.Learner); err != nil {
			return st, fmt.Errorf("train: epoch %d, step %d: %w", e+1, pos.Step+1, err)
		}
		lossSum := float64(loss) * float64(n)
		stop := false
		if l.Replicas != nil {
			l.sums = [4]float64{lossSum, float64(k), float64(n), 0}
			if l.Interrupted != nil && l.Interrupted() {
				l.sums[3] = 1
			}
			if err := l.Replicas.Sum(l.sums[:]); err != nil {
				return st, &ReplicaError{fmt.Errorf("epoch %d, step %d: %w", e+1, pos.Step+1, err)}
			}
			lossSum, k, n = l.sums[0], int(l.sums[1]), int(l.sums[2])
			loss, stop = float32(lossSum/float64(n)), l.sums[3] > 0
		}
		if l.Scheduler != nil && l.PerBatch {
			l.Scheduler.Step()
		}
		pos.Batch++
		pos.Step++
		pos.LossSum += lossSum
		pos.Correct += k
		pos.Images += n
		pos.Elapsed = before + time.Since(start)
		si := StepInfo{Epoch: e + 1, Step: pos.Batch, Steps: steps, GlobalStep: pos.Step, Loss: loss,
			RunningLoss: pos.LossSum / float64(pos.Images), Images: pos.Images, Elapsed: pos.Elapsed}
		for _, c := range l.Callbacks {
			if err := c.OnStep(l, si); err != nil {
				return st, err
			}
		}
		if stop {
			return st, fmt.Errorf("train: epoch %d: a rank was interrupted: %w", e+1, context.Canceled)
		}
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("train: epoch %d: %w", e+1, err)
		}
		if !staged {
			more = it.Next()
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
