package tune

// This file holds the live Trial an objective receives: its parameters,
// intermediate reports and the pruning decision, and its heartbeat. It
// leaves out define-by-run suggestion (trial.SuggestFloat in Optuna): the
// whole space is sampled before the objective starts, which is what lets
// a study check that resumed workers search the same space.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"
)

// Trial is one evaluation of the objective. Its methods are safe for
// concurrent use.
type Trial struct {
	study *Study

	mu     sync.Mutex
	rec    TrialRecord
	prune  bool
	done   bool
	ctx    context.Context // for storage calls; survives the objective's cancellation
	stopHB context.CancelFunc
	hbDone chan struct{}
}

func newTrial(s *Study, rec TrialRecord) *Trial {
	if rec.Intermediate == nil {
		rec.Intermediate = map[int]float64{}
	}
	if rec.Attrs == nil {
		rec.Attrs = map[string]float64{}
	}
	return &Trial{study: s, rec: rec}
}

// Number returns the trial's number in the study (0, 1, ...): a stable
// name for its run directory.
func (t *Trial) Number() int { return t.rec.Number }

// Params returns the trial's parameter values by name: float64 for
// uniform and loguniform, int for int, the choice itself for categorical.
func (t *Trial) Params() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.rec.Params)
}

// param returns a parameter's value, panicking on a name the space lacks:
// that is a bug in the objective, not a condition to handle.
func (t *Trial) param(name string) any {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.rec.Params[name]
	if !ok {
		panic(fmt.Sprintf("tune: trial %d has no parameter %q", t.rec.Number, name))
	}
	return v
}

// Float returns a numeric parameter as float64 (int parameters and numeric
// choices convert).
func (t *Trial) Float(name string) float64 {
	v := t.param(name)
	f, ok := toFloat(v)
	if !ok {
		panic(fmt.Sprintf("tune: parameter %q is %T, not a number", name, v))
	}
	return f
}

// Int returns an int parameter, or an integer choice.
func (t *Trial) Int(name string) int {
	switch v := t.param(name).(type) {
	case int:
		return v
	case int64:
		return int(v)
	default:
		panic(fmt.Sprintf("tune: parameter %q is %T, not an integer", name, v))
	}
}

// Choice returns a parameter's value as stored: for categoricals, the
// choice (string, bool, int64 or float64).
func (t *Trial) Choice(name string) any { return t.param(name) }

// Report records the objective's value after step (an epoch, say) and
// runs the pruner; ShouldPrune then tells its verdict. Reporting a step
// twice replaces the value. It fails only when the storage does.
func (t *Trial) Report(step int, value float64) error {
	if step < 0 {
		return fmt.Errorf("tune: trial %d: step %d: want a step >= 0", t.rec.Number, step)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return fmt.Errorf("tune: trial %d: report after the trial finished", t.rec.Number)
	}
	s := t.study
	if err := s.store.Report(t.ctx, t.rec.ID, step, value); err != nil {
		return fmt.Errorf("tune: trial %d: %w", t.rec.Number, err)
	}
	t.rec.Intermediate[step] = value
	if _, nop := s.pruner.(NopPruner); nop {
		return nil
	}
	all, err := s.Trials(t.ctx)
	if err != nil {
		return err
	}
	others := make([]TrialRecord, 0, len(all))
	for _, r := range all {
		if r.ID != t.rec.ID {
			others = append(others, r)
		}
	}
	prune, attrs := s.pruner.Prune(&PruneInput{Trial: &t.rec, Step: step, Trials: others, Direction: s.info.Direction})
	if len(attrs) > 0 {
		if err := s.store.SetAttrs(t.ctx, t.rec.ID, attrs); err != nil {
			return fmt.Errorf("tune: trial %d: %w", t.rec.Number, err)
		}
		maps.Copy(t.rec.Attrs, attrs)
	}
	t.prune = prune
	return nil
}

// ShouldPrune reports whether the pruner judged the last reported value
// bad enough to stop; the objective should then return ErrPruned.
func (t *Trial) ShouldPrune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.prune
}

// startHeartbeat keeps the trial's heartbeat fresh until finish. Storage
// errors are ignored here: a missed beat is retried at the next tick, and
// only a long silence fails the trial.
func (t *Trial) startHeartbeat(ctx context.Context) {
	t.ctx = context.WithoutCancel(ctx)
	hctx, cancel := context.WithCancel(t.ctx)
	t.stopHB, t.hbDone = cancel, make(chan struct{})
	go func() {
		defer close(t.hbDone)
		tick := time.NewTicker(t.study.heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-tick.C:
				err := t.study.store.Heartbeat(hctx, t.rec.ID)
				if errors.Is(err, context.Canceled) {
					return
				}
			}
		}
	}()
}

// finish stops the heartbeat and returns a copy of the record.
func (t *Trial) finish() TrialRecord {
	t.mu.Lock()
	t.done = true
	stop, wait := t.stopHB, t.hbDone
	t.stopHB = nil
	rec := t.rec
	rec.Intermediate = maps.Clone(t.rec.Intermediate)
	rec.Attrs = maps.Clone(t.rec.Attrs)
	t.mu.Unlock()
	if stop != nil {
		stop()
		<-wait
	}
	return rec
}
