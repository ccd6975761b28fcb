package rlrun

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// smallConfig is a run of a few seconds' fraction.
func smallConfig(t *testing.T, algo string) Config {
	t.Helper()
	c, err := NewConfig("cartpole", algo, false)
	if err != nil {
		t.Fatal(err)
	}
	c.Steps, c.CheckpointEvery, c.LogEvery, c.EvalEvery, c.EvalEpisodes, c.Seed = 3000, 1000, 500, 700, 3, 3
	if c.DQN != nil {
		c.DQN.TrainFreq, c.DQN.GradientSteps, c.DQN.LearningStarts, c.DQN.Hidden = 64, 8, 200, []int{32, 32}
	}
	return c
}

func modelData(t *testing.T, dir string) []float32 { return fileData(t, dir, ModelFile) }

func fileData(t *testing.T, dir, file string) []float32 {
	t.Helper()
	f, err := checkpoint.Read(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	for _, n := range f.Names() {
		out = append(out, f.Tensors[n].Data...)
	}
	return out
}

var errCrash = errors.New("simulated SIGKILL")

// TestResumeBitIdentical trains a run straight through, and the same run
// stopped twice: once by Ctrl-C (the context; the state is saved then)
// and once by a crash right after an iteration (nothing saved; the run
// goes back to its last periodic checkpoint). Both resumed runs must end
// with exactly the uninterrupted run's parameters.
func TestResumeBitIdentical(t *testing.T) {
	for _, algo := range []string{"ppo", "dqn"} {
		cfg := smallConfig(t, algo)
		out := t.TempDir()
		whole, err := Train(context.Background(), cfg, out, "whole", Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := modelData(t, whole)

		ctx, cancel := context.WithCancel(context.Background())
		dir, err := Train(ctx, cfg, out, "ctrl-c", Options{OnIteration: func(steps int) error {
			if steps >= 1300 {
				cancel()
			}
			return nil
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: interrupted run: %v", algo, err)
		}
		if err := Resume(context.Background(), dir, Options{}); err != nil {
			t.Fatal(err)
		}
		if got := modelData(t, dir); !slices.Equal(got, want) {
			t.Errorf("%s: resumed after Ctrl-C: parameters differ from the uninterrupted run's", algo)
		}

		dir, err = Train(context.Background(), cfg, out, "killed", Options{OnIteration: func(steps int) error {
			if steps >= 2500 {
				return errCrash
			}
			return nil
		}})
		if !errors.Is(err, errCrash) {
			t.Fatalf("%s: crashed run: %v", algo, err)
		}
		var log bytes.Buffer
		if err := Resume(context.Background(), dir, Options{Log: &log}); err != nil {
			t.Fatal(err)
		}
		if got := modelData(t, dir); !slices.Equal(got, want) {
			t.Errorf("%s: resumed after a crash: parameters differ from the uninterrupted run's", algo)
		}
		if !slices.Equal(fileData(t, dir, BestFile), fileData(t, whole, BestFile)) {
			t.Errorf("%s: resumed after a crash: best.safetensors differs from the uninterrupted run's", algo)
		}
		if !strings.Contains(log.String(), "steps 30") || !strings.Contains(log.String(), "/3000") {
			t.Errorf("%s: resumed log %q lacks the last row", algo, log.String())
		}
		// the metrics and the TensorBoard file match the whole run's
		for _, name := range []string{MetricsCSV} {
			a, _ := os.ReadFile(filepath.Join(whole, name))
			b, _ := os.ReadFile(filepath.Join(dir, name))
			if strings.Count(string(a), "\n") != strings.Count(string(b), "\n") {
				t.Errorf("%s: %s has %d lines after resuming, %d straight through", algo, name, strings.Count(string(b), "\n"), strings.Count(string(a), "\n"))
			}
		}
		events := func(dir string) int {
			m, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
			if len(m) != 1 {
				t.Fatalf("%s: %d event files in %s", algo, len(m), dir)
			}
			ev, err := tfevents.ReadFile(m[0])
			if err != nil {
				t.Fatal(err)
			}
			return len(ev)
		}
		if a, b := events(whole), events(dir); a != b {
			t.Errorf("%s: %d TensorBoard events after resuming, %d straight through", algo, b, a)
		}
		for _, name := range []string{ConfigFile, StateFile, ModelFile, BestFile, MetricsCSV, ReturnsPlot} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("%s: %v", algo, err)
			}
		}
		// a run without a state cannot resume; a finished run resumes to nothing
		if err := os.Remove(filepath.Join(whole, StateFile)); err != nil {
			t.Fatal(err)
		}
		if err := Resume(context.Background(), whole, Options{}); err == nil || !strings.Contains(err.Error(), "first checkpoint") {
			t.Errorf("%s: resuming without a state: %v", algo, err)
		}
		// a finished run resumes to nothing
		if err := Resume(context.Background(), dir, Options{}); err != nil {
			t.Errorf("%s: resuming a finished run: %v", algo, err)
		}
	}
}

func TestEvaluateAndPlay(t *testing.T) {
	cfg := smallConfig(t, "ppo")
	dir, err := Train(context.Background(), cfg, t.TempDir(), "r", Options{})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := Evaluate(dir, false, 5, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Evaluate(dir, false, 5, 2, 10)
	if len(r1) != 5 || !slices.Equal(r1, r2) {
		t.Errorf("evaluations %v and %v of the same seed", r1, r2)
	}
	var b bytes.Buffer
	if _, err := Evaluate(dir, true, 5, 2, 10); err != nil {
		t.Errorf("evaluating the best model: %v", err)
	}
	ret, n, err := Play(dir, false, 4, &b)
	if err != nil {
		t.Fatal(err)
	}
	if ret != float64(n) || strings.Count(b.String(), "\nstep ") != n || !strings.Contains(b.String(), "#") {
		t.Errorf("play: return %v over %d steps; output:\n%s", ret, n, b.String())
	}
	if _, err := Train(context.Background(), cfg, filepath.Dir(dir), "r", Options{}); err == nil {
		t.Error("Train reused an existing run directory")
	}
}

func TestConfig(t *testing.T) {
	c, err := NewConfig("CartPole-v1", "ppo", false)
	if err != nil || c.Settings != "zoo" || c.Envs != 8 || c.OnPolicy.NSteps != 32 {
		t.Errorf("zoo config %+v, %v", c, err)
	}
	c, err = NewConfig("cartpole", "reinforce", false)
	if err != nil || c.Settings != "defaults" {
		t.Errorf("reinforce config %+v, %v", c, err)
	}
	if _, err := NewConfig("pong", "ppo", false); err == nil {
		t.Error("env pong accepted")
	}
	if _, err := NewConfig("cartpole", "sac", false); err == nil {
		t.Error("algo sac accepted")
	}
	b, _ := os.ReadFile("testdata/config.json")
	if _, err := ParseConfig(b, "config.json"); err != nil {
		t.Errorf("testdata/config.json: %v", err)
	}
	for _, bad := range []string{`{}`, `{"env":"cartpole","algo":"dqn","steps":10,"envs":1,"checkpoint_every":1,"log_every":1,"on_policy":{}}`,
		`{"env":"cartpole","bogus":1}`, `[`} {
		if _, err := ParseConfig([]byte(bad), "x.json"); err == nil {
			t.Errorf("config %s accepted", bad)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	b, _ := os.ReadFile("testdata/config.json")
	f.Add(b)
	f.Add([]byte(`{"env":"acrobot","algo":"a2c"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b, "fuzz.json")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		if _, _, err := build(c); err != nil && c.Envs <= 16 {
			t.Fatalf("a valid config does not build: %v", err)
		}
	})
}
