package tune

// This file holds Optimize, the loop that runs trials in parallel. It
// leaves out scheduling across machines: each machine runs its own
// Optimize on the shared study, and the storage keeps them apart.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
)

// Objective evaluates one trial. It returns the value to optimise, or
// ErrPruned when t.ShouldPrune() said to stop, or another error when the
// trial failed (the study records it and goes on). ctx is cancelled when
// Optimize stops early.
type Objective func(ctx context.Context, t *Trial) (float64, error)

// Optimize runs trials of the study until it holds nTrials trials in all
// (counting every state and every worker sharing the study), at most jobs
// at a time in this process. A resumed study thus runs only what is left;
// with a grid sampler it stops at the grid's size.
//
// A failing objective fails its trial and the search goes on; Optimize
// returns an error only for storage trouble, ctx's cancellation, or when
// every trial it ran failed (a broken objective, not a bad region).
func Optimize(ctx context.Context, study *Study, objective Objective, nTrials, jobs int) error {
	if nTrials < 1 {
		return fmt.Errorf("tune: %d trials: want at least 1", nTrials)
	}
	limit := nTrials
	if sz, ok := study.sampler.(Sized); ok {
		n, err := sz.Size(study.space)
		if err != nil {
			return err
		}
		limit = min(limit, n)
	}
	if _, err := study.Reap(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o := &optimizer{study: study, objective: objective, limit: limit}
	var wg sync.WaitGroup
	for range max(jobs, 1) {
		wg.Go(func() {
			if err := o.work(ctx); err != nil {
				o.fail(err)
				cancel()
			}
		})
	}
	wg.Wait()
	if o.err != nil {
		return o.err
	}
	if o.ran > 0 && o.ok == 0 {
		return fmt.Errorf("tune: study %q: all %d trials run here failed; the first: %w", study.info.Name, o.ran, o.firstObjErr)
	}
	return nil
}

// optimizer is the state Optimize's workers share.
type optimizer struct {
	study     *Study
	objective Objective
	limit     int

	mu          sync.Mutex
	err         error // first error that stops the search
	ran, ok     int   // trials finished here, and how many of them did not fail
	firstObjErr error
}

func (o *optimizer) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = err
	}
}

// work runs trials one after another until the study is full.
func (o *optimizer) work(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, err := o.study.Ask(ctx, o.limit)
		if errors.Is(err, ErrStudyFull) {
			return nil
		}
		if err != nil {
			return err
		}
		value, objErr := o.run(ctx, t)
		rec, err := o.study.Tell(ctx, t, value, objErr)
		if err != nil && !errors.Is(err, ErrNotRunning) {
			return err
		}
		o.mu.Lock()
		o.ran++
		if rec.State != Failed {
			o.ok++
		} else if o.firstObjErr == nil {
			o.firstObjErr = errors.New(rec.Message)
			if objErr != nil {
				o.firstObjErr = objErr
			}
		}
		o.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// run calls the objective; a panic fails the trial in the study before it
// goes on up, so that the record does not wait for a heartbeat timeout.
func (o *optimizer) run(ctx context.Context, t *Trial) (value float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			_, _ = o.study.Tell(ctx, t, math.NaN(), fmt.Errorf("panic: %v", r))
			panic(r)
		}
	}()
	return o.objective(ctx, t)
}
