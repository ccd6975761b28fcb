// Package tunetest checks that a tune.Storage keeps the contract studies
// rely on, so that the in-memory, SQLite and PostgreSQL storages are held
// to the same tests.
package tunetest

// This file holds the storage contract tests. It leaves out several
// processes sharing a storage, which needs a real database and lives in
// tune/sqlstore's tests.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/tune"
)

// Storage runs the contract tests on storages made by open; each call
// gets a fresh (or at least study-name-unique) storage via the prefix it
// is given, so that tests against a shared PostgreSQL database do not
// collide.
func Storage(t *testing.T, open func(t *testing.T) tune.Storage, prefix string) {
	ctx := context.Background()
	study := func(t *testing.T, st tune.Storage, name string) tune.StudyInfo {
		t.Helper()
		info, err := st.LoadOrCreateStudy(ctx, tune.StudyInfo{Name: prefix + name, Direction: tune.Maximize, Space: `{"x":1}`, Seed: math.MaxUint64 - 1})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	t.Run("study", func(t *testing.T) {
		st := open(t)
		a := study(t, st, "a")
		if a.ID == 0 || a.Direction != tune.Maximize || a.Space != `{"x":1}` || a.Seed != math.MaxUint64-1 {
			t.Errorf("created %+v", a)
		}
		// Loading keeps what was stored, whatever the caller now says.
		again, err := st.LoadOrCreateStudy(ctx, tune.StudyInfo{Name: prefix + "a", Direction: tune.Minimize, Space: "other", Seed: 1})
		if err != nil || again != a {
			t.Errorf("reloaded %+v, %v; want %+v", again, err, a)
		}
		if b := study(t, st, "b"); b.ID == a.ID {
			t.Error("two studies share an id")
		}
	})
	t.Run("claim", func(t *testing.T) {
		st := open(t)
		a, b := study(t, st, "claim-a"), study(t, st, "claim-b")
		for n := range 3 {
			r, err := st.ClaimTrial(ctx, a.ID, "w1", 3)
			if err != nil {
				t.Fatal(err)
			}
			if r.Number != n || r.State != tune.Running || r.Worker != "w1" || r.Started.IsZero() || !math.IsNaN(r.Value) {
				t.Errorf("claim %d: %+v", n, r)
			}
		}
		if _, err := st.ClaimTrial(ctx, a.ID, "w1", 3); !errors.Is(err, tune.ErrStudyFull) {
			t.Errorf("fourth claim with limit 3: %v", err)
		}
		if r, err := st.ClaimTrial(ctx, a.ID, "w1", 0); err != nil || r.Number != 3 {
			t.Errorf("unlimited claim: %d, %v", r.Number, err)
		}
		if r, err := st.ClaimTrial(ctx, b.ID, "w2", 3); err != nil || r.Number != 0 {
			t.Errorf("other study's first claim: %d, %v", r.Number, err)
		}
	})
	t.Run("concurrent claims", func(t *testing.T) {
		st := open(t)
		a := study(t, st, "race")
		var mu sync.Mutex
		seen := map[int]int{}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for {
					r, err := st.ClaimTrial(ctx, a.ID, fmt.Sprint("w", w), 40)
					if errors.Is(err, tune.ErrStudyFull) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seen[r.Number]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for n := range 40 {
			if seen[n] != 1 {
				t.Errorf("trial %d claimed %d times", n, seen[n])
			}
		}
		if len(seen) != 40 {
			t.Errorf("%d trials claimed, want 40", len(seen))
		}
	})
	t.Run("record", func(t *testing.T) {
		st := open(t)
		a := study(t, st, "record")
		r, err := st.ClaimTrial(ctx, a.ID, "w", 0)
		if err != nil {
			t.Fatal(err)
		}
		check := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		check(st.SetParams(ctx, r.ID, []byte(`{"lr":0.01}`)))
		check(st.Report(ctx, r.ID, 1, 0.5))
		check(st.Report(ctx, r.ID, 2, math.NaN()))
		check(st.Report(ctx, r.ID, 1, 0.25)) // replaces
		check(st.SetAttrs(ctx, r.ID, map[string]float64{"completed_rung_0": 0.25, "b": 1}))
		check(st.SetAttrs(ctx, r.ID, map[string]float64{"b": 2}))
		check(st.Heartbeat(ctx, r.ID))
		check(st.Finish(ctx, r.ID, tune.Pruned, 0.25, "pruned at step 2"))
		if err := st.Finish(ctx, r.ID, tune.Complete, 1, ""); !errors.Is(err, tune.ErrNotRunning) {
			t.Errorf("finishing twice: %v", err)
		}
		r2, err := st.ClaimTrial(ctx, a.ID, "w", 0)
		check(err)
		check(st.Finish(ctx, r2.ID, tune.Complete, math.Inf(1), ""))
		ts, err := st.Trials(ctx, a.ID)
		check(err)
		if len(ts) != 2 {
			t.Fatalf("%d trials, want 2", len(ts))
		}
		g := ts[0]
		if g.ID != r.ID || g.Number != 0 || g.State != tune.Pruned || g.Value != 0.25 || g.Message != "pruned at step 2" ||
			string(g.ParamsJSON) != `{"lr":0.01}` || g.Finished.Before(g.Started) || g.Worker != "w" {
			t.Errorf("trial 0: %+v", g)
		}
		if len(g.Intermediate) != 2 || g.Intermediate[1] != 0.25 || !math.IsNaN(g.Intermediate[2]) {
			t.Errorf("intermediate values %v", g.Intermediate)
		}
		if len(g.Attrs) != 2 || g.Attrs["completed_rung_0"] != 0.25 || g.Attrs["b"] != 2 {
			t.Errorf("attrs %v", g.Attrs)
		}
		if ts[1].State != tune.Complete || !math.IsInf(ts[1].Value, 1) || len(ts[1].ParamsJSON) != 0 {
			t.Errorf("trial 1: %+v", ts[1])
		}
		if err := st.Heartbeat(ctx, 1<<40); err == nil {
			t.Error("heartbeat of a missing trial: no error")
		}
	})
	t.Run("stale", func(t *testing.T) {
		st := open(t)
		a := study(t, st, "stale")
		old, err := st.ClaimTrial(ctx, a.ID, "w", 0)
		if err != nil {
			t.Fatal(err)
		}
		done, err := st.ClaimTrial(ctx, a.ID, "w", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(ctx, done.ID, tune.Complete, 1, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		fresh, err := st.ClaimTrial(ctx, a.ID, "w", 0)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.FailStale(ctx, a.ID, time.Hour, "gone"); n != 0 || err != nil {
			t.Errorf("nothing is an hour old: failed %d, %v", n, err)
		}
		n, err := st.FailStale(ctx, a.ID, 150*time.Millisecond, "no heartbeat")
		if n != 1 || err != nil {
			t.Fatalf("failed %d, %v; want only the old running trial", n, err)
		}
		ts, _ := st.Trials(ctx, a.ID)
		states := map[int64]tune.State{}
		for _, r := range ts {
			states[r.ID] = r.State
			if r.ID == old.ID && (r.Message != "no heartbeat" || r.Finished.IsZero()) {
				t.Errorf("stale trial %+v", r)
			}
		}
		if states[old.ID] != tune.Failed || states[done.ID] != tune.Complete || states[fresh.ID] != tune.Running {
			t.Errorf("states %v", states)
		}
		if err := st.Finish(ctx, old.ID, tune.Complete, 1, ""); !errors.Is(err, tune.ErrNotRunning) {
			t.Errorf("finishing a failed trial: %v", err)
		}
	})
}
