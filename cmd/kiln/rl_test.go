package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRLTrainEvalPlay(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "rl", "train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "2048",
		"--seed", "2", "--out", out, "--name", "pp", "--checkpoint-every", "1024")
	if code != 0 {
		t.Fatalf("rl train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(out, "pp")
	for _, f := range []string{"config.json", "metrics.csv", "returns.png", "model.safetensors", "state.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "steps 2048/2048") || !strings.Contains(stdout, "zoo settings") {
		t.Errorf("rl train output:\n%s", stdout)
	}
	code, stdout, stderr = kiln(t, context.Background(), "rl", "eval", dir, "--episodes", "6")
	if code != 0 || !strings.Contains(stdout, "mean return") || !strings.Contains(stdout, "over 6 episodes") {
		t.Errorf("rl eval: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = kiln(t, context.Background(), "rl", "play", dir, "--seed", "3")
	if code != 0 || !strings.Contains(stdout, "step 1 ") || !strings.Contains(stdout, "episode ") {
		t.Errorf("rl play: exit %d\n%s", code, stdout)
	}
	// a finished run resumes to nothing; the same name is refused
	if code, stdout, stderr = kiln(t, context.Background(), "rl", "train", "--resume", dir); code != 0 {
		t.Errorf("rl train --resume of a finished run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr = kiln(t, context.Background(), "rl", "train", "--steps", "100", "--out", out, "--name", "pp"); code == 0 || !strings.Contains(stderr, "already exists") {
		t.Errorf("rl train into an existing directory: exit %d\n%s", code, stderr)
	}
}

func TestRLInterruptAndResume(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before the first iteration: the state is saved at once
	code, _, stderr := kiln(t, ctx, "rl", "train", "--algo", "dqn", "--steps", "600", "--out", out, "--name", "d")
	if code != 130 || !strings.Contains(stderr, "--resume") {
		t.Fatalf("interrupted rl train: exit %d, want 130\n%s", code, stderr)
	}
	code, stdout, stderr := kiln(t, context.Background(), "rl", "train", "--resume", filepath.Join(out, "d"))
	if code != 0 || !strings.Contains(stdout, "/600") {
		t.Errorf("rl train --resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestRLUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"rl"},
		{"rl", "fly"},
		{"rl", "train", "--env", "pong"},
		{"rl", "train", "--algo", "sac"},
		{"rl", "train", "--env", "pendulum"},
		{"rl", "train", "--steps", "0"},
		{"rl", "train", "--algo", "ppo", "--double-q"},
		{"rl", "train", "--resume", "x", "--steps", "5"},
		{"rl", "train", "extra"},
		{"rl", "eval"},
		{"rl", "eval", "a", "b"},
		{"rl", "eval", "a", "--episodes", "0"},
		{"rl", "play"},
	} {
		code, _, stderr := kiln(t, context.Background(), args...)
		if code != 2 {
			t.Errorf("kiln %s: exit %d, want 2\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	if code, _, _ := kiln(t, context.Background(), "rl", "eval", t.TempDir()); code != 1 {
		t.Errorf("kiln rl eval of a folder that is no run: exit %d, want 1", code)
	}
}
