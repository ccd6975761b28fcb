package tune

// This file holds the Study: opening one in a storage, asking for trials
// and telling their results, and failing trials whose worker died. It
// leaves out the parallel loop (optimize.go) and the live trial handle
// (trial.go).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// StudyConfig says what to search and how. Name, Direction, Space and Seed
// are stored with the study; sampler, pruner and timings are this
// process's choice and may differ between workers.
type StudyConfig struct {
	Name      string
	Direction Direction
	Space     *Space
	Sampler   Sampler // nil means NewTPE(TPEConfig{})
	Pruner    Pruner  // nil means no pruning
	// Seed makes the search reproducible: trial n draws from a generator
	// seeded by (Seed, n). A resumed study keeps the seed it was created with.
	Seed uint64
	// HeartbeatInterval is how often a running trial tells the storage it
	// is alive; 0 means 10 s.
	HeartbeatInterval time.Duration
	// StaleAfter is how long without a heartbeat before another worker
	// fails a running trial; 0 means 6 heartbeat intervals. Trials of dead
	// processes on this host are failed at once, without waiting.
	StaleAfter time.Duration
	// OnTrialDone, when set, is called after each trial this process
	// finishes, with its final record (e.g. to print progress). With
	// several jobs it is called from several goroutines at once.
	OnTrialDone func(TrialRecord)
}

// Study is a search in a storage, shared by every worker that opens the
// same name there. Its methods are safe for concurrent use.
type Study struct {
	store      Storage
	info       StudyInfo
	space      *Space
	sampler    Sampler
	pruner     Pruner
	worker     string
	heartbeat  time.Duration
	staleAfter time.Duration
	onDone     func(TrialRecord)
}

// OpenStudy opens the study cfg.Name in store, creating it when absent. It
// refuses a study whose stored direction or space differ from cfg's, since
// its trials would mislead the sampler.
func OpenStudy(ctx context.Context, store Storage, cfg StudyConfig) (*Study, error) {
	if cfg.Name == "" {
		return nil, errors.New("tune: study: want a name")
	}
	if cfg.Space == nil || cfg.Space.Len() == 0 {
		return nil, fmt.Errorf("tune: study %q: want a search space with parameters", cfg.Name)
	}
	want := StudyInfo{Name: cfg.Name, Direction: cfg.Direction, Space: cfg.Space.String(), Seed: cfg.Seed}
	info, err := store.LoadOrCreateStudy(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("tune: study %q: %w", cfg.Name, err)
	}
	if info.Direction != want.Direction {
		return nil, fmt.Errorf("tune: study %q was created to %s, not %s; pick another study name", cfg.Name, info.Direction, want.Direction)
	}
	if info.Space != want.Space {
		return nil, fmt.Errorf("tune: study %q was created with another search space (%s); pick another study name", cfg.Name, info.Space)
	}
	s := &Study{store: store, info: info, space: cfg.Space, sampler: cfg.Sampler, pruner: cfg.Pruner,
		worker: WorkerID(), heartbeat: cfg.HeartbeatInterval, staleAfter: cfg.StaleAfter, onDone: cfg.OnTrialDone}
	if s.sampler == nil {
		s.sampler = NewTPE(TPEConfig{})
	}
	if s.pruner == nil {
		s.pruner = NopPruner{}
	}
	if s.heartbeat <= 0 {
		s.heartbeat = 10 * time.Second
	}
	if s.staleAfter <= 0 {
		s.staleAfter = 6 * s.heartbeat
	}
	if s.staleAfter <= s.heartbeat {
		return nil, fmt.Errorf("tune: study %q: StaleAfter %v must exceed HeartbeatInterval %v", cfg.Name, s.staleAfter, s.heartbeat)
	}
	return s, nil
}

// Name returns the study's name.
func (s *Study) Name() string { return s.info.Name }

// Direction returns whether the study minimises or maximises.
func (s *Study) Direction() Direction { return s.info.Direction }

// Space returns the search space.
func (s *Study) Space() *Space { return s.space }

// Seed returns the seed the study was created with.
func (s *Study) Seed() uint64 { return s.info.Seed }

// Trials returns all the study's trials in number order, decoded.
func (s *Study) Trials(ctx context.Context) ([]TrialRecord, error) {
	ts, err := s.store.Trials(ctx, s.info.ID)
	if err != nil {
		return nil, fmt.Errorf("tune: study %q: %w", s.info.Name, err)
	}
	for i := range ts {
		if ts[i].Params, ts[i].X, err = s.space.decodeParams(ts[i].ParamsJSON); err != nil {
			return nil, fmt.Errorf("tune: study %q trial %d: %w", s.info.Name, ts[i].Number, err)
		}
	}
	return ts, nil
}

// Best returns the best completed trial (the lowest number among equals),
// or ErrNoTrials.
func (s *Study) Best(ctx context.Context) (TrialRecord, error) {
	ts, err := s.Trials(ctx)
	if err != nil {
		return TrialRecord{}, err
	}
	if b, ok := Best(ts, s.info.Direction); ok {
		return b, nil
	}
	return TrialRecord{}, ErrNoTrials
}

// Reap fails running trials whose worker is gone: those of dead processes
// on this host at once, others after StaleAfter without a heartbeat. It
// returns how many it failed. Optimize calls it before starting; a resumed
// study thus records the trials a killed run left behind as failed.
func (s *Study) Reap(ctx context.Context) (int, error) {
	n, err := s.store.FailStale(ctx, s.info.ID, s.staleAfter, fmt.Sprintf("no heartbeat for %v", s.staleAfter))
	if err != nil {
		return 0, fmt.Errorf("tune: study %q: %w", s.info.Name, err)
	}
	ts, err := s.store.Trials(ctx, s.info.ID)
	if err != nil {
		return 0, fmt.Errorf("tune: study %q: %w", s.info.Name, err)
	}
	m, err := s.reapDead(ctx, ts)
	return n + m, err
}

// reapDead fails the running trials in ts whose worker process on this
// host has exited.
func (s *Study) reapDead(ctx context.Context, ts []TrialRecord) (int, error) {
	n := 0
	for i := range ts {
		t := &ts[i]
		if t.State != Running || !deadWorker(t.Worker) {
			continue
		}
		err := s.store.Finish(ctx, t.ID, Failed, math.NaN(), "worker "+t.Worker+" exited while running the trial")
		switch {
		case err == nil:
			n++
			t.State = Failed
		case !errors.Is(err, ErrNotRunning):
			return n, fmt.Errorf("tune: study %q trial %d: %w", s.info.Name, t.Number, err)
		}
	}
	return n, nil
}

// Ask claims the study's next trial and samples its parameters. limit is
// the study's total number of trials (all states, all workers); when the
// study holds that many, Ask returns ErrStudyFull. limit <= 0 means no
// limit. The caller must pass the trial to Tell when done.
func (s *Study) Ask(ctx context.Context, limit int) (*Trial, error) {
	if _, err := s.store.FailStale(ctx, s.info.ID, s.staleAfter, fmt.Sprintf("no heartbeat for %v", s.staleAfter)); err != nil {
		return nil, fmt.Errorf("tune: study %q: %w", s.info.Name, err)
	}
	rec, err := s.store.ClaimTrial(ctx, s.info.ID, s.worker, limit)
	if errors.Is(err, ErrStudyFull) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("tune: study %q: %w", s.info.Name, err)
	}
	t := newTrial(s, rec)
	t.startHeartbeat(ctx)
	if err := s.sampleInto(ctx, t); err != nil {
		_, _ = s.Tell(ctx, t, math.NaN(), err)
		return nil, err
	}
	return t, nil
}

// sampleInto draws the trial's parameters from the study's history and
// stores them.
func (s *Study) sampleInto(ctx context.Context, t *Trial) error {
	all, err := s.Trials(ctx)
	if err != nil {
		return err
	}
	history := make([]TrialRecord, 0, len(all))
	for _, r := range all {
		if r.ID != t.rec.ID {
			history = append(history, r)
		}
	}
	if _, err := s.reapDead(ctx, history); err != nil {
		return err
	}
	req := &SampleRequest{Space: s.space, Number: t.rec.Number, Direction: s.info.Direction, History: history,
		Rand: rand.New(rand.NewPCG(s.info.Seed, uint64(t.rec.Number))), Seed: s.info.Seed}
	x, err := s.sampler.Sample(req)
	if err != nil {
		return fmt.Errorf("tune: study %q trial %d: %w", s.info.Name, t.rec.Number, err)
	}
	if len(x) != s.space.Len() {
		return fmt.Errorf("tune: study %q trial %d: sampler gave %d values for %d parameters", s.info.Name, t.rec.Number, len(x), s.space.Len())
	}
	b, vals, err := s.space.encodeParams(x)
	if err != nil {
		return err
	}
	if err := s.store.SetParams(ctx, t.rec.ID, b); err != nil {
		return fmt.Errorf("tune: study %q trial %d: %w", s.info.Name, t.rec.Number, err)
	}
	t.rec.ParamsJSON, t.rec.Params, t.rec.X = b, vals, x
	return nil
}

// Tell records a trial's outcome: complete with value when objErr is nil
// (failed if value is NaN), pruned when objErr is ErrPruned (with the last
// reported value), failed otherwise. It stops the trial's heartbeat and
// returns the final record. It returns ErrNotRunning when another worker
// has already failed the trial as stale. Tell works even when ctx is
// cancelled, so that an interrupted trial is still recorded.
func (s *Study) Tell(ctx context.Context, t *Trial, value float64, objErr error) (TrialRecord, error) {
	rec := t.finish()
	state, msg := Complete, ""
	switch {
	case objErr == nil && math.IsNaN(value):
		state, msg = Failed, "objective returned NaN"
	case objErr == nil:
	case errors.Is(objErr, ErrPruned):
		state, value = Pruned, math.NaN()
		if last := rec.LastStep(); last >= 0 {
			value = rec.Intermediate[last]
			msg = fmt.Sprintf("pruned at step %d", last)
		}
	default:
		state, value, msg = Failed, math.NaN(), objErr.Error()
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
	}
	if state == Failed {
		value = math.NaN()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err := s.store.Finish(ctx, rec.ID, state, value, msg)
	if err != nil && !errors.Is(err, ErrNotRunning) {
		err = fmt.Errorf("tune: study %q trial %d: %w", s.info.Name, rec.Number, err)
	}
	rec.State, rec.Value, rec.Message, rec.Finished = state, value, msg, time.Now()
	if err == nil && s.onDone != nil {
		s.onDone(rec)
	}
	return rec, err
}
