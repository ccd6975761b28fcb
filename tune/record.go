package tune

// This file holds the plain data of a study: directions, trial states and
// the record of a trial as stored. It leaves out the live Trial handle an
// objective gets (trial.go).

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Direction says whether the objective is to be minimised or maximised.
type Direction int

// The two directions.
const (
	Minimize Direction = iota
	Maximize
)

// String returns "minimize" or "maximize".
func (d Direction) String() string {
	if d == Maximize {
		return "maximize"
	}
	return "minimize"
}

// ParseDirection reads "minimize" or "maximize" (also "min", "max").
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "minimize", "min":
		return Minimize, nil
	case "maximize", "max":
		return Maximize, nil
	}
	return Minimize, fmt.Errorf("tune: direction %q: want minimize or maximize", s)
}

// better reports whether a is strictly better than b. NaN is never better.
func (d Direction) better(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	if d == Maximize {
		return a > b
	}
	return a < b
}

// State is where a trial is in its life.
type State int

// The trial states. Only Running is not final.
const (
	Running  State = iota // claimed by a worker, objective in progress
	Complete              // objective returned a value
	Pruned                // stopped early by the pruner
	Failed                // objective failed, or the worker died
)

var stateNames = [...]string{"running", "complete", "pruned", "failed"}

// String returns the state's lower-case name, as stored.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// ParseState reads a state's name.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if n == s {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("tune: unknown trial state %q", s)
}

// Errors a caller may test for with errors.Is.
var (
	// ErrPruned is what an objective returns when its trial should stop
	// because ShouldPrune said so; the trial is recorded as pruned.
	ErrPruned = errors.New("tune: trial pruned")
	// ErrStudyFull is what Storage.ClaimTrial and Study.Ask return when
	// the study already holds the requested number of trials.
	ErrStudyFull = errors.New("tune: study has all its trials")
	// ErrNotRunning is what Storage.Finish returns when the trial is no
	// longer running: another worker found it stale and failed it.
	ErrNotRunning = errors.New("tune: trial is not running")
	// ErrNoTrials is what Best returns when no trial has completed.
	ErrNoTrials = errors.New("tune: no completed trials")
)

// TrialRecord is a trial as stored: what samplers, pruners and reports
// read. Storages fill everything but Params and X, which a Study decodes
// from ParamsJSON with its space.
type TrialRecord struct {
	ID           int64              // storage key, unique across studies
	Number       int                // 0, 1, 2, ... within the study, in claim order
	State        State              //
	ParamsJSON   []byte             // the parameters as stored: {"name": value, ...}
	Params       map[string]any     // decoded values
	X            []float64          // internal numbers in space order; NaN where unset
	Value        float64            // objective value; NaN unless Complete (Pruned: the last reported value)
	Intermediate map[int]float64    // reported values by step
	Attrs        map[string]float64 // pruner bookkeeping, e.g. successive halving's rung values
	Started      time.Time          //
	Finished     time.Time          // zero while running
	Heartbeat    time.Time          // last sign of life from the worker
	Worker       string             // host:pid:nonce of the worker that claimed it
	Message      string             // why it failed or was pruned
}

// LastStep returns the largest reported step, or -1 when none.
func (r *TrialRecord) LastStep() int {
	last := -1
	for s := range r.Intermediate {
		if s > last {
			last = s
		}
	}
	return last
}

// Duration returns how long the trial ran, or 0 while it runs.
func (r *TrialRecord) Duration() time.Duration {
	if r.Finished.IsZero() || r.Started.IsZero() {
		return 0
	}
	return r.Finished.Sub(r.Started)
}
