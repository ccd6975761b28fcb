package sqlstore

// This file implements tune.Storage on the tables of dialect.go. It leaves
// out deleting studies and trials: a study is a record of work done.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/kiln-ml/kiln/tune"
)

var _ tune.Storage = (*Store)(nil)

// nullable stores NaN as NULL.
func nullable(v float64) sql.NullFloat64 {
	return sql.NullFloat64{Float64: v, Valid: !math.IsNaN(v)}
}

func orNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

func (s *Store) wrap(what string, err error) error {
	return fmt.Errorf("sqlstore: %s: %s: %w", s, what, err)
}

// LoadOrCreateStudy implements tune.Storage. Workers opening a new study
// at once both insert; ON CONFLICT lets the loser read the winner's row.
func (s *Store) LoadOrCreateStudy(ctx context.Context, info tune.StudyInfo) (tune.StudyInfo, error) {
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO kiln_studies (name, direction, space, seed, created_at)
		VALUES (?, ?, ?, ?, {now}) ON CONFLICT (name) DO NOTHING`),
		info.Name, info.Direction.String(), info.Space, int64(info.Seed))
	if err != nil {
		return info, s.wrap("study "+info.Name, err)
	}
	var dir string
	var seed int64
	out := tune.StudyInfo{Name: info.Name}
	err = s.db.QueryRowContext(ctx, s.d.q(`SELECT id, direction, space, seed FROM kiln_studies WHERE name = ?`), info.Name).
		Scan(&out.ID, &dir, &out.Space, &seed)
	if err != nil {
		return info, s.wrap("study "+info.Name, err)
	}
	if out.Direction, err = tune.ParseDirection(dir); err != nil {
		return info, s.wrap("study "+info.Name, err)
	}
	out.Seed = uint64(seed)
	return out, nil
}

// ClaimTrial implements tune.Storage.
func (s *Store) ClaimTrial(ctx context.Context, studyID int64, worker string, limit int) (tune.TrialRecord, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return tune.TrialRecord{}, s.wrap("claiming a trial", err)
	}
	defer tx.Rollback()
	if s.d.lockStudy != "" {
		var id int64
		if err := tx.QueryRowContext(ctx, s.d.lockStudy, studyID).Scan(&id); err != nil {
			return tune.TrialRecord{}, s.wrap(fmt.Sprintf("locking study %d", studyID), err)
		}
	}
	var count, next int
	err = tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*), COALESCE(MAX(number) + 1, 0) FROM kiln_trials WHERE study_id = ?`), studyID).
		Scan(&count, &next)
	if err != nil {
		return tune.TrialRecord{}, s.wrap("claiming a trial", err)
	}
	if limit > 0 && count >= limit {
		return tune.TrialRecord{}, tune.ErrStudyFull
	}
	rec := tune.TrialRecord{Number: next, State: tune.Running, Value: math.NaN(), Worker: worker,
		Intermediate: map[int]float64{}, Attrs: map[string]float64{}}
	var started int64
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO kiln_trials (study_id, number, state, started_at, heartbeat_at, worker)
		VALUES (?, ?, 'running', {now}, {now}, ?) RETURNING id, started_at`), studyID, next, worker).Scan(&rec.ID, &started)
	if err != nil {
		return tune.TrialRecord{}, s.wrap(fmt.Sprintf("claiming trial %d", next), err)
	}
	if err := tx.Commit(); err != nil {
		return tune.TrialRecord{}, s.wrap(fmt.Sprintf("claiming trial %d", next), err)
	}
	rec.Started = time.UnixMilli(started)
	rec.Heartbeat = rec.Started
	return rec, nil
}

// exec runs one statement that must touch exactly one row.
func (s *Store) exec(ctx context.Context, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.d.q(query), args...)
	if err != nil {
		return s.wrap(what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return s.wrap(what, errors.New("no such trial"))
	}
	return nil
}

// SetParams implements tune.Storage.
func (s *Store) SetParams(ctx context.Context, trialID int64, params []byte) error {
	return s.exec(ctx, fmt.Sprintf("trial id %d: parameters", trialID),
		`UPDATE kiln_trials SET params = ? WHERE id = ?`, string(params), trialID)
}

// Report implements tune.Storage.
func (s *Store) Report(ctx context.Context, trialID int64, step int, value float64) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO kiln_intermediate_values (trial_id, step, value) VALUES (?, ?, ?)
		ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value`), trialID, step, nullable(value))
	if err != nil {
		return s.wrap(fmt.Sprintf("trial id %d: step %d", trialID, step), err)
	}
	return s.Heartbeat(ctx, trialID)
}

// SetAttrs implements tune.Storage.
func (s *Store) SetAttrs(ctx context.Context, trialID int64, attrs map[string]float64) error {
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO kiln_trial_attrs (trial_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (trial_id, name) DO UPDATE SET value = excluded.value`), trialID, k, nullable(attrs[k]))
		if err != nil {
			return s.wrap(fmt.Sprintf("trial id %d: attribute %s", trialID, k), err)
		}
	}
	return nil
}

// Heartbeat implements tune.Storage.
func (s *Store) Heartbeat(ctx context.Context, trialID int64) error {
	return s.exec(ctx, fmt.Sprintf("trial id %d: heartbeat", trialID),
		`UPDATE kiln_trials SET heartbeat_at = {now} WHERE id = ?`, trialID)
}

// Finish implements tune.Storage.
func (s *Store) Finish(ctx context.Context, trialID int64, state tune.State, value float64, message string) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE kiln_trials SET state = ?, value = ?, message = ?, finished_at = {now}
		WHERE id = ? AND state = 'running'`), state.String(), nullable(value), message, trialID)
	if err != nil {
		return s.wrap(fmt.Sprintf("trial id %d: finishing", trialID), err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(fmt.Sprintf("trial id %d: finishing", trialID), err)
	} else if n == 0 {
		return tune.ErrNotRunning
	}
	return nil
}

// FailStale implements tune.Storage.
func (s *Store) FailStale(ctx context.Context, studyID int64, timeout time.Duration, message string) (int, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE kiln_trials SET state = 'failed', value = NULL, message = ?, finished_at = {now}
		WHERE study_id = ? AND state = 'running' AND heartbeat_at < {now} - ?`), message, studyID, timeout.Milliseconds())
	if err != nil {
		return 0, s.wrap("failing stale trials", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("failing stale trials", err)
	}
	return int(n), nil
}

// Trials implements tune.Storage. The three reads are not one snapshot: a
// value reported meanwhile may be missing, which no reader relies on.
func (s *Store) Trials(ctx context.Context, studyID int64) ([]tune.TrialRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id, number, state, params, value, started_at, finished_at, heartbeat_at, worker, message
		FROM kiln_trials WHERE study_id = ? ORDER BY number`), studyID)
	if err != nil {
		return nil, s.wrap("reading trials", err)
	}
	var out []tune.TrialRecord
	byID := map[int64]int{}
	for rows.Next() {
		var (
			r                  tune.TrialRecord
			state, params      string
			value              sql.NullFloat64
			started, heartbeat int64
			finished           sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Number, &state, &params, &value, &started, &finished, &heartbeat, &r.Worker, &r.Message); err != nil {
			rows.Close()
			return nil, s.wrap("reading trials", err)
		}
		if r.State, err = tune.ParseState(state); err != nil {
			rows.Close()
			return nil, s.wrap("reading trials", err)
		}
		if params != "" {
			r.ParamsJSON = []byte(params)
		}
		r.Value = orNaN(value)
		r.Started, r.Heartbeat = time.UnixMilli(started), time.UnixMilli(heartbeat)
		if finished.Valid {
			r.Finished = time.UnixMilli(finished.Int64)
		}
		r.Intermediate, r.Attrs = map[int]float64{}, map[string]float64{}
		byID[r.ID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("reading trials", err)
	}
	err = s.each(ctx, `SELECT v.trial_id, v.step, '', v.value FROM kiln_intermediate_values v
		JOIN kiln_trials t ON t.id = v.trial_id WHERE t.study_id = ?`, studyID, func(id int64, step int, _ string, v float64) {
		if i, ok := byID[id]; ok {
			out[i].Intermediate[step] = v
		}
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT a.trial_id, 0, a.name, a.value FROM kiln_trial_attrs a
		JOIN kiln_trials t ON t.id = a.trial_id WHERE t.study_id = ?`, studyID, func(id int64, _ int, name string, v float64) {
		if i, ok := byID[id]; ok {
			out[i].Attrs[name] = v
		}
	})
	return out, err
}

// each scans rows of (trial id, step, name, value): the intermediate
// values fill step, the attributes name.
func (s *Store) each(ctx context.Context, query string, studyID int64, f func(id int64, step int, name string, v float64)) error {
	rows, err := s.db.QueryContext(ctx, s.d.q(query), studyID)
	if err != nil {
		return s.wrap("reading trials", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			step  int
			name  string
			value sql.NullFloat64
		)
		if err := rows.Scan(&id, &step, &name, &value); err != nil {
			return s.wrap("reading trials", err)
		}
		f(id, step, name, orNaN(value))
	}
	if err := rows.Err(); err != nil {
		return s.wrap("reading trials", err)
	}
	return nil
}
