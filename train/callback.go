package train

// This file holds the loop's callbacks: the interface, a do-nothing base
// to embed, callbacks made from functions, and one that fires every N
// steps. It leaves out the callbacks themselves, which belong to whoever
// owns what they write (a run directory's metrics, checkpoints and plots
// are package run's; progress bars are the command line's).

import (
	"errors"
	"fmt"
)

// Callback is told of a training loop's events. A callback that returns
// an error stops the loop with it; to end training cleanly instead, call
// Loop.Stop. Embed Base to implement only some of the methods.
type Callback interface {
	// OnStep is called after every optimizer step, before the loop checks
	// its context.
	OnStep(l *Loop, s StepInfo) error
	// OnEpoch is called after every epoch, its validation and its
	// schedule's step; l.Pos is already at the next epoch and l.History
	// ends with st.
	OnEpoch(l *Loop, st EpochStats) error
	// OnInterrupt is called when Run is about to return an error: the
	// context was cancelled (errors.Is(err, context.Canceled)) or a step,
	// the data or another callback failed. l.Pos says what is done; this
	// is the place to save it.
	OnInterrupt(l *Loop, err error) error
}

// Base is a Callback that does nothing, to embed in callbacks that need
// only some of the events.
type Base struct{}

// OnStep does nothing.
func (Base) OnStep(*Loop, StepInfo) error { return nil }

// OnEpoch does nothing.
func (Base) OnEpoch(*Loop, EpochStats) error { return nil }

// OnInterrupt does nothing.
func (Base) OnInterrupt(*Loop, error) error { return nil }

// Funcs is a Callback made of functions; nil ones are skipped.
type Funcs struct {
	Step      func(l *Loop, s StepInfo) error
	Epoch     func(l *Loop, st EpochStats) error
	Interrupt func(l *Loop, err error) error
}

// OnStep calls f.Step.
func (f Funcs) OnStep(l *Loop, s StepInfo) error {
	if f.Step == nil {
		return nil
	}
	return f.Step(l, s)
}

// OnEpoch calls f.Epoch.
func (f Funcs) OnEpoch(l *Loop, st EpochStats) error {
	if f.Epoch == nil {
		return nil
	}
	return f.Epoch(l, st)
}

// OnInterrupt calls f.Interrupt.
func (f Funcs) OnInterrupt(l *Loop, err error) error {
	if f.Interrupt == nil {
		return nil
	}
	return f.Interrupt(l, err)
}

// EveryNSteps returns a callback that calls fn after every n optimizer
// steps, counted over the whole run (so that a resumed run keeps the
// rhythm), except after an epoch's last batch, where OnEpoch follows, and
// once the loop's context is cancelled, where OnInterrupt follows. n <= 0
// never calls it.
func EveryNSteps(n int, fn func(l *Loop) error) Callback {
	return Funcs{Step: func(l *Loop, s StepInfo) error {
		if n <= 0 || s.GlobalStep%n != 0 || s.Step >= s.Steps || (l.ctx != nil && l.ctx.Err() != nil) {
			return nil
		}
		return fn(l)
	}}
}

// CallbackError is what Loop.Run returns when training stopped with Err
// and then callbacks failed in OnInterrupt (for example, saving the state
// failed too).
type CallbackError struct {
	Err       error   // why training stopped
	Callbacks []error // what the callbacks' OnInterrupt returned
}

func (e *CallbackError) Error() string {
	return fmt.Sprintf("%v; and then: %v", e.Err, errors.Join(e.Callbacks...))
}

// Unwrap returns the error that stopped training and the callbacks' errors.
func (e *CallbackError) Unwrap() []error { return append([]error{e.Err}, e.Callbacks...) }
