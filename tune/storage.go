package tune

// This file holds the Storage contract and the in-memory storage. It leaves
// out the SQL storages, which live in tune/sqlstore.

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sync"
	"time"
)

// StudyInfo is what a storage keeps about a study itself.
type StudyInfo struct {
	ID        int64
	Name      string
	Direction Direction
	Space     string // canonical JSON of the search space (Space.String)
	Seed      uint64
}

// Storage keeps studies and their trials. Implementations must be safe for
// concurrent use, and ClaimTrial must be atomic across every process that
// shares the storage: that is what keeps two workers from running the same
// trial. Times (heartbeats, staleness) are the storage's own clock, so that
// workers on machines with skewed clocks agree.
type Storage interface {
	// LoadOrCreateStudy returns the study called info.Name, creating it
	// from info when there is none.
	LoadOrCreateStudy(ctx context.Context, info StudyInfo) (StudyInfo, error)
	// ClaimTrial adds a running trial numbered after the study's last one,
	// owned by worker, unless the study already holds limit trials, in which
	// case it returns ErrStudyFull. limit <= 0 means no limit.
	ClaimTrial(ctx context.Context, studyID int64, worker string, limit int) (TrialRecord, error)
	// SetParams stores a trial's parameters as JSON.
	SetParams(ctx context.Context, trialID int64, params []byte) error
	// Report stores an intermediate value (replacing one at the same step)
	// and counts as a heartbeat.
	Report(ctx context.Context, trialID int64, step int, value float64) error
	// SetAttrs merges pruner bookkeeping into a trial's attributes.
	SetAttrs(ctx context.Context, trialID int64, attrs map[string]float64) error
	// Heartbeat records that the trial's worker is alive.
	Heartbeat(ctx context.Context, trialID int64) error
	// Finish moves a running trial to a final state. It returns
	// ErrNotRunning when the trial is not running any more.
	Finish(ctx context.Context, trialID int64, state State, value float64, message string) error
	// FailStale fails the study's running trials whose last heartbeat is
	// older than timeout, and returns how many it failed.
	FailStale(ctx context.Context, studyID int64, timeout time.Duration, message string) (int, error)
	// Trials returns all of the study's trials in number order, with their
	// intermediate values and attributes.
	Trials(ctx context.Context, studyID int64) ([]TrialRecord, error)
	// Close releases the storage.
	Close() error
}

// MemoryStorage is a Storage that lives in one process and is lost with
// it: for tests, and for searches too short to be worth a file.
type MemoryStorage struct {
	mu      sync.Mutex
	studies []StudyInfo
	trials  map[int64][]*TrialRecord // by study ID
	byID    map[int64]*TrialRecord
	nextID  int64
	now     func() time.Time
}

// NewMemoryStorage returns an empty in-memory storage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{trials: map[int64][]*TrialRecord{}, byID: map[int64]*TrialRecord{}, now: time.Now}
}

// LoadOrCreateStudy implements Storage.
func (m *MemoryStorage) LoadOrCreateStudy(_ context.Context, info StudyInfo) (StudyInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.studies {
		if s.Name == info.Name {
			return s, nil
		}
	}
	info.ID = int64(len(m.studies) + 1)
	m.studies = append(m.studies, info)
	return info, nil
}

// ClaimTrial implements Storage.
func (m *MemoryStorage) ClaimTrial(_ context.Context, studyID int64, worker string, limit int) (TrialRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.trials[studyID]
	if limit > 0 && len(ts) >= limit {
		return TrialRecord{}, ErrStudyFull
	}
	m.nextID++
	now := m.now()
	r := &TrialRecord{ID: m.nextID, Number: len(ts), State: Running, Value: math.NaN(),
		Intermediate: map[int]float64{}, Attrs: map[string]float64{},
		Started: now, Heartbeat: now, Worker: worker}
	m.trials[studyID] = append(ts, r)
	m.byID[r.ID] = r
	return copyRecord(r), nil
}

func (m *MemoryStorage) trial(id int64) (*TrialRecord, error) {
	r, ok := m.byID[id]
	if !ok {
		return nil, fmt.Errorf("tune: no trial with id %d", id)
	}
	return r, nil
}

// SetParams implements Storage.
func (m *MemoryStorage) SetParams(_ context.Context, trialID int64, params []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.trial(trialID)
	if err == nil {
		r.ParamsJSON = append([]byte(nil), params...)
	}
	return err
}

// Report implements Storage.
func (m *MemoryStorage) Report(_ context.Context, trialID int64, step int, value float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.trial(trialID)
	if err == nil {
		r.Intermediate[step] = value
		r.Heartbeat = m.now()
	}
	return err
}

// SetAttrs implements Storage.
func (m *MemoryStorage) SetAttrs(_ context.Context, trialID int64, attrs map[string]float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.trial(trialID)
	if err == nil {
		maps.Copy(r.Attrs, attrs)
	}
	return err
}

// Heartbeat implements Storage.
func (m *MemoryStorage) Heartbeat(_ context.Context, trialID int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.trial(trialID)
	if err == nil {
		r.Heartbeat = m.now()
	}
	return err
}

// Finish implements Storage.
func (m *MemoryStorage) Finish(_ context.Context, trialID int64, state State, value float64, message string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.trial(trialID)
	if err != nil {
		return err
	}
	if r.State != Running {
		return ErrNotRunning
	}
	r.State, r.Value, r.Message, r.Finished = state, value, message, m.now()
	return nil
}

// FailStale implements Storage.
func (m *MemoryStorage) FailStale(_ context.Context, studyID int64, timeout time.Duration, message string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now, n := m.now(), 0
	for _, r := range m.trials[studyID] {
		if r.State == Running && now.Sub(r.Heartbeat) > timeout {
			r.State, r.Message, r.Finished, r.Value = Failed, message, now, math.NaN()
			n++
		}
	}
	return n, nil
}

// Trials implements Storage.
func (m *MemoryStorage) Trials(_ context.Context, studyID int64) ([]TrialRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]TrialRecord, len(m.trials[studyID]))
	for i, r := range m.trials[studyID] {
		out[i] = copyRecord(r)
	}
	return out, nil
}

// Close implements Storage.
func (m *MemoryStorage) Close() error { return nil }

func copyRecord(r *TrialRecord) TrialRecord {
	c := *r
	c.ParamsJSON = append([]byte(nil), r.ParamsJSON...)
	c.Intermediate = maps.Clone(r.Intermediate)
	c.Attrs = maps.Clone(r.Attrs)
	return c
}
