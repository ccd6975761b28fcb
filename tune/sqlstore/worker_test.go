package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/tune"
)

// The environment a re-executed test binary reads to act as a worker.
const (
	envMode   = "KILN_TUNE_TEST_WORKER" // "run" or "hang"
	envTarget = "KILN_TUNE_TEST_TARGET" // storage
	envStudy  = "KILN_TUNE_TEST_STUDY"  // study name
	envDir    = "KILN_TUNE_TEST_DIR"    // folder for the run log and barrier files
	envTrials = "KILN_TUNE_TEST_TRIALS" // study total
)

func openWorkerStudy(ctx context.Context, target, name string) (*tune.Study, *Store, error) {
	st, err := Open(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	space, err := tune.ParseSpace([]byte(`{"x": {"type": "uniform", "low": -3, "high": 3}, "y": {"type": "int", "low": -3, "high": 3}}`))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	study, err := tune.OpenStudy(ctx, st, tune.StudyConfig{Name: name, Space: space, Seed: 1,
		Sampler: tune.NewTPE(tune.TPEConfig{Startup: 5}), Pruner: tune.NewMedianPruner(tune.MedianConfig{}),
		HeartbeatInterval: 200 * time.Millisecond})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return study, st, nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n") // one small O_APPEND write: whole lines even with two writers
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runWorker is the body of a re-executed test binary.
func runWorker(mode string) error {
	ctx := context.Background()
	dir := os.Getenv(envDir)
	study, st, err := openWorkerStudy(ctx, os.Getenv(envTarget), os.Getenv(envStudy))
	if err != nil {
		return err
	}
	defer st.Close()
	switch mode {
	case "run":
		// Start together, so that both workers really compete for trials.
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("ready-%d", os.Getpid())), nil, 0o644); err != nil {
			return err
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("no go signal")
			}
		}
		n, err := strconv.Atoi(os.Getenv(envTrials))
		if err != nil {
			return err
		}
		return tune.Optimize(ctx, study, func(_ context.Context, t *tune.Trial) (float64, error) {
			if err := appendLine(filepath.Join(dir, "runs.log"), fmt.Sprintf("%d %d", t.Number(), os.Getpid())); err != nil {
				return 0, err
			}
			v := t.Float("x")*t.Float("x") + t.Float("y")*t.Float("y")
			for step := 1; step <= 3; step++ {
				time.Sleep(2 * time.Millisecond)
				if err := t.Report(step, v*float64(4-step)); err != nil {
					return 0, err
				}
				if t.ShouldPrune() {
					return 0, tune.ErrPruned
				}
			}
			return v, nil
		}, n, 2)
	case "hang":
		return tune.Optimize(ctx, study, func(_ context.Context, t *tune.Trial) (float64, error) {
			if err := t.Report(1, 1); err != nil {
				return 0, err
			}
			if err := appendLine(filepath.Join(dir, "started"), strconv.Itoa(t.Number())); err != nil {
				return 0, err
			}
			time.Sleep(time.Hour) // until killed
			return 0, nil
		}, 10, 1)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

type worker struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

func startWorker(t *testing.T, mode, target, study, dir string, trials int) *worker {
	t.Helper()
	w := &worker{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	w.cmd.Env = append(os.Environ(), envMode+"="+mode, envTarget+"="+target, envStudy+"="+study,
		envDir+"="+dir, envTrials+"="+strconv.Itoa(trials))
	w.cmd.Stderr = &w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if w.cmd.ProcessState == nil {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
	})
	return w
}

// waitFor polls until cond holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// testTwoWorkers runs two worker processes on one study and checks that
// together they ran every trial number exactly once, and no more.
func testTwoWorkers(t *testing.T, target, study string) {
	dir := t.TempDir()
	const trials = 30
	a := startWorker(t, "run", target, study, dir, trials)
	b := startWorker(t, "run", target, study, dir, trials)
	waitFor(t, "both workers to be ready", func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "ready-*"))
		return len(m) == 2
	})
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*worker{a, b} {
		if err := w.cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v\n%s", w.cmd.Process.Pid, err, w.stderr.String())
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "runs.log"))
	if err != nil {
		t.Fatal(err)
	}
	runs, byPid := map[int]int{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		var n int
		var pid string
		if _, err := fmt.Sscan(line, &n, &pid); err != nil {
			t.Fatalf("run log line %q: %v", line, err)
		}
		runs[n]++
		byPid[pid]++
	}
	for n := range trials {
		if runs[n] != 1 {
			t.Errorf("trial %d ran %d times", n, runs[n])
		}
	}
	if len(runs) != trials {
		t.Errorf("%d distinct trials ran, want %d: %v", len(runs), trials, runs)
	}
	if len(byPid) != 2 {
		t.Errorf("trials per worker %v: want both workers to run some", byPid)
	}
	t.Logf("trials per worker: %v", byPid)
	ctx := context.Background()
	s, st, err := openWorkerStudy(ctx, target, study)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts, err := s.Trials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != trials {
		t.Fatalf("study holds %d trials, want %d", len(ts), trials)
	}
	for i, r := range ts {
		if r.Number != i || (r.State != tune.Complete && r.State != tune.Pruned) || len(r.Params) != 2 {
			t.Errorf("trial %d: number %d state %v params %v (%s)", i, r.Number, r.State, r.Params, r.Message)
		}
	}
}

// testKilledWorker kills a worker in the middle of a trial and checks that
// the trial is then recorded as failed, and that the study resumes.
func testKilledWorker(t *testing.T, target, study string) {
	dir := t.TempDir()
	w := startWorker(t, "hang", target, study, dir, 0)
	waitFor(t, "the worker to start a trial", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "started"))
		return len(b) > 0
	})
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	w.cmd.Wait()
	ctx := context.Background()
	s, st, err := openWorkerStudy(ctx, target, study)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts, err := s.Trials(ctx)
	if err != nil || len(ts) != 1 || ts[0].State != tune.Running || ts[0].Intermediate[1] != 1 {
		t.Fatalf("after the kill: %+v, %v", ts, err)
	}
	if n, err := s.Reap(ctx); n != 1 || err != nil {
		t.Fatalf("reaped %d, %v; want the dead worker's trial", n, err)
	}
	// Resuming runs the rest of the requested total.
	err = tune.Optimize(ctx, s, func(_ context.Context, t *tune.Trial) (float64, error) { return t.Float("x"), nil }, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	ts, err = s.Trials(ctx)
	if err != nil || len(ts) != 4 {
		t.Fatalf("after resuming: %d trials, %v", len(ts), err)
	}
	if ts[0].State != tune.Failed || !strings.Contains(ts[0].Message, "exited") {
		t.Errorf("killed trial: %v %q", ts[0].State, ts[0].Message)
	}
	for _, r := range ts[1:] {
		if r.State != tune.Complete {
			t.Errorf("trial %d: %v %s", r.Number, r.State, r.Message)
		}
	}
}

func TestSQLiteTwoWorkerProcesses(t *testing.T) {
	testTwoWorkers(t, filepath.Join(t.TempDir(), "study.db"), "shared")
}

func TestSQLiteKilledWorker(t *testing.T) {
	testKilledWorker(t, filepath.Join(t.TempDir(), "study.db"), "killed")
}
