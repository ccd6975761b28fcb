package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const quadSpace = `{"x": {"type": "uniform", "low": -5, "high": 5}, "n": {"type": "int", "low": 1, "high": 4},
	"opt": {"type": "categorical", "choices": ["adam", "sgd"]}}`

func openMem(t *testing.T, store Storage, cfg StudyConfig) *Study {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "study"
	}
	if cfg.Space == nil {
		cfg.Space = mustSpace(t, quadSpace)
	}
	s, err := OpenStudy(context.Background(), store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOptimizeParallelRunsEachTrialOnce(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, NewMemoryStorage(), StudyConfig{Sampler: NewRandom()})
	var mu sync.Mutex
	runs := map[int]int{}
	var active, peak atomic.Int32
	obj := func(_ context.Context, tr *Trial) (float64, error) {
		n := active.Add(1)
		defer active.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		runs[tr.Number()]++
		mu.Unlock()
		return tr.Float("x") * tr.Float("x"), nil
	}
	if err := Optimize(ctx, s, obj, 40, 4); err != nil {
		t.Fatal(err)
	}
	for n := range 40 {
		if runs[n] != 1 {
			t.Errorf("trial %d ran %d times", n, runs[n])
		}
	}
	if len(runs) != 40 {
		t.Errorf("%d distinct trials ran, want 40", len(runs))
	}
	if peak.Load() < 2 || peak.Load() > 4 {
		t.Errorf("peak concurrency %d, want 2..4", peak.Load())
	}
	ts, _ := s.Trials(ctx)
	for _, tr := range ts {
		if tr.State != Complete || tr.Value != tr.Params["x"].(float64)*tr.Params["x"].(float64) {
			t.Errorf("trial %d: %v value %v params %v", tr.Number, tr.State, tr.Value, tr.Params)
		}
	}
	// Resuming with a larger total runs only the difference.
	before := len(runs)
	if err := Optimize(ctx, s, obj, 45, 2); err != nil {
		t.Fatal(err)
	}
	if len(runs)-before != 5 {
		t.Errorf("resume ran %d trials, want 5", len(runs)-before)
	}
	if err := Optimize(ctx, s, obj, 45, 2); err != nil || len(runs) != 45 {
		t.Errorf("full study ran more: %d runs, %v", len(runs), err)
	}
}

func TestStudyIsReproducible(t *testing.T) {
	run := func(seed uint64) []string {
		s := openMem(t, NewMemoryStorage(), StudyConfig{Seed: seed, Sampler: NewTPE(TPEConfig{Startup: 3})})
		obj := func(_ context.Context, tr *Trial) (float64, error) { return math.Abs(tr.Float("x") - 1), nil }
		if err := Optimize(context.Background(), s, obj, 15, 1); err != nil {
			t.Fatal(err)
		}
		ts, _ := s.Trials(context.Background())
		var out []string
		for _, tr := range ts {
			out = append(out, string(tr.ParamsJSON))
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("same seed, different trials:\n%v\n%v", a, b)
	}
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Error("different seeds, same trials")
	}
}

func TestTrialStates(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, NewMemoryStorage(), StudyConfig{Direction: Maximize})
	boom := errors.New("out of memory")
	obj := func(_ context.Context, tr *Trial) (float64, error) {
		switch tr.Number() {
		case 0:
			return 0.5, nil
		case 1:
			for step, v := range []float64{0.1, 0.2} {
				if err := tr.Report(step+1, v); err != nil {
					return 0, err
				}
			}
			return 0, ErrPruned
		case 2:
			return 0, fmt.Errorf("epoch 3: %w", boom)
		}
		return math.NaN(), nil
	}
	if err := Optimize(ctx, s, obj, 4, 1); err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Trials(ctx)
	want := []struct {
		state State
		value float64
		msg   string
	}{
		{Complete, 0.5, ""}, {Pruned, 0.2, "pruned at step 2"}, {Failed, math.NaN(), "epoch 3: out of memory"}, {Failed, math.NaN(), "NaN"},
	}
	for i, w := range want {
		tr := ts[i]
		if tr.State != w.state || !sameFloat(tr.Value, w.value) || !strings.Contains(tr.Message, w.msg) || tr.Finished.IsZero() {
			t.Errorf("trial %d: %v %v %q, want %v %v %q", i, tr.State, tr.Value, tr.Message, w.state, w.value, w.msg)
		}
	}
	if ts[1].Intermediate[1] != 0.1 || ts[1].Intermediate[2] != 0.2 {
		t.Errorf("intermediate values %v", ts[1].Intermediate)
	}
	best, err := s.Best(ctx)
	if err != nil || best.Number != 0 {
		t.Errorf("best %d, %v", best.Number, err)
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestOptimizeReportsAllFailed(t *testing.T) {
	s := openMem(t, NewMemoryStorage(), StudyConfig{})
	err := Optimize(context.Background(), s, func(context.Context, *Trial) (float64, error) {
		return 0, errors.New("no such model")
	}, 3, 2)
	if err == nil || !strings.Contains(err.Error(), "all 3 trials") || !strings.Contains(err.Error(), "no such model") {
		t.Fatalf("got %v", err)
	}
	if _, err := s.Best(context.Background()); !errors.Is(err, ErrNoTrials) {
		t.Errorf("best of failed trials: %v", err)
	}
}

func TestOptimizeCancel(t *testing.T) {
	s := openMem(t, NewMemoryStorage(), StudyConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	err := Optimize(ctx, s, func(ctx context.Context, tr *Trial) (float64, error) {
		cancel()
		<-ctx.Done()
		return 0, ctx.Err()
	}, 10, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	ts, _ := s.Trials(context.Background())
	if len(ts) != 1 || ts[0].State != Failed {
		t.Fatalf("after cancel: %+v", ts)
	}
}

func TestPanicFailsTrial(t *testing.T) {
	s := openMem(t, NewMemoryStorage(), StudyConfig{})
	o := &optimizer{study: s, objective: func(context.Context, *Trial) (float64, error) { panic("index out of range") }}
	tr, err := s.Ask(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		o.run(context.Background(), tr)
	}()
	ts, _ := s.Trials(context.Background())
	if ts[0].State != Failed || !strings.Contains(ts[0].Message, "index out of range") {
		t.Errorf("after panic: %v %q", ts[0].State, ts[0].Message)
	}
}

func TestPruningInOptimize(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, NewMemoryStorage(), StudyConfig{Sampler: NewRandom(), Pruner: NewMedianPruner(MedianConfig{Startup: 3})})
	epochs := 0
	err := Optimize(ctx, s, func(_ context.Context, tr *Trial) (float64, error) {
		loss := math.Abs(tr.Float("x"))
		for step := 1; step <= 5; step++ {
			epochs++
			if err := tr.Report(step, loss/float64(step)); err != nil {
				return 0, err
			}
			if tr.ShouldPrune() {
				return 0, ErrPruned
			}
		}
		return loss / 5, nil
	}, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Trials(ctx)
	pruned := 0
	for _, tr := range ts {
		if tr.State == Pruned {
			pruned++
			if tr.LastStep() != 1 || tr.Value != tr.Intermediate[1] {
				t.Errorf("trial %d pruned at step %d with value %v", tr.Number, tr.LastStep(), tr.Value)
			}
		}
	}
	// Values are monotone in |x|, so a trial worse than the median at step
	// 1 stays worse and is pruned there; the median is of the survivors,
	// so it tightens and most trials after startup go.
	t.Logf("%d pruned, %d epochs", pruned, epochs)
	if pruned < 8 || epochs >= 30*5 {
		t.Errorf("%d pruned trials, %d epochs", pruned, epochs)
	}
}

func TestReapStaleHeartbeat(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStorage()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	store.now = func() time.Time { return time.Unix(0, clock.Load()) }
	s := openMem(t, store, StudyConfig{HeartbeatInterval: time.Hour, StaleAfter: 2 * time.Hour})
	tr, err := s.Ask(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reap(ctx); n != 0 || err != nil {
		t.Fatalf("fresh trial reaped: %d, %v", n, err)
	}
	clock.Add(int64(3 * time.Hour))
	if n, err := s.Reap(ctx); n != 1 || err != nil {
		t.Fatalf("stale trial: reaped %d, %v", n, err)
	}
	ts, _ := s.Trials(ctx)
	if ts[0].State != Failed || !strings.Contains(ts[0].Message, "heartbeat") {
		t.Errorf("stale trial: %v %q", ts[0].State, ts[0].Message)
	}
	// The late worker's result is refused, not recorded over the failure.
	if _, err := s.Tell(ctx, tr, 1, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("tell after reap: %v", err)
	}
}

func TestReapDeadWorkers(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStorage()
	s := openMem(t, store, StudyConfig{})
	WorkerID()
	workers := map[string]bool{ // worker -> should be failed
		fmt.Sprintf("%s:%d:earlier", workerHost, os.Getpid()): true,  // this pid, earlier process
		fmt.Sprintf("%s:%d:x", workerHost, 1<<22+12345):       true,  // no such pid (above pid_max's default)
		fmt.Sprintf("%s:%d:x", workerHost, os.Getppid()):      false, // alive
		fmt.Sprintf("otherhost:%d:x", 1<<22+12345):            false, // another host: heartbeat's job
		WorkerID():     false,
		"not-parsable": false,
	}
	ids := map[int64]string{}
	for w := range workers {
		rec, err := store.ClaimTrial(ctx, s.info.ID, w, 0)
		if err != nil {
			t.Fatal(err)
		}
		ids[rec.ID] = w
	}
	n, err := s.Reap(ctx)
	if err != nil || n != 2 {
		t.Errorf("reaped %d, %v; want 2", n, err)
	}
	ts, _ := s.Trials(ctx)
	for _, tr := range ts {
		if failed := tr.State == Failed; failed != workers[ids[tr.ID]] {
			t.Errorf("worker %s: state %v", ids[tr.ID], tr.State)
		}
	}
}

func TestOpenStudyRefusesMismatch(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStorage()
	openMem(t, store, StudyConfig{Name: "a", Seed: 3})
	other := mustSpace(t, `{"x": {"type": "uniform", "low": -5, "high": 6}}`)
	if _, err := OpenStudy(ctx, store, StudyConfig{Name: "a", Space: other}); err == nil || !strings.Contains(err.Error(), "search space") {
		t.Errorf("other space: %v", err)
	}
	if _, err := OpenStudy(ctx, store, StudyConfig{Name: "a", Space: mustSpace(t, quadSpace), Direction: Maximize}); err == nil || !strings.Contains(err.Error(), "minimize") {
		t.Errorf("other direction: %v", err)
	}
	s, err := OpenStudy(ctx, store, StudyConfig{Name: "a", Space: mustSpace(t, quadSpace), Seed: 99})
	if err != nil || s.Seed() != 3 {
		t.Errorf("reopen: seed %d, %v; want the stored seed 3", s.Seed(), err)
	}
	if _, err := OpenStudy(ctx, store, StudyConfig{Name: "b", Space: other, HeartbeatInterval: time.Second, StaleAfter: time.Second}); err == nil {
		t.Error("StaleAfter equal to the heartbeat: no error")
	}
}

func TestTrialAccessors(t *testing.T) {
	s := openMem(t, NewMemoryStorage(), StudyConfig{})
	tr, err := s.Ask(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ask(context.Background(), 1); !errors.Is(err, ErrStudyFull) {
		t.Errorf("second ask with limit 1: %v", err)
	}
	p := tr.Params()
	if tr.Float("x") != p["x"] || tr.Int("n") != p["n"] || tr.Choice("opt") != p["opt"] || tr.Float("n") != float64(p["n"].(int)) {
		t.Errorf("accessors disagree with %v", p)
	}
	for _, bad := range []func(){func() { tr.Float("nope") }, func() { tr.Int("x") }, func() { tr.Float("opt") }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			bad()
		}()
	}
	if err := tr.Report(-1, 0); err == nil {
		t.Error("negative step: no error")
	}
	if _, err := s.Tell(context.Background(), tr, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Report(1, 0); err == nil {
		t.Error("report after tell: no error")
	}
}
