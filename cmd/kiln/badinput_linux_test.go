package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kiln-ml/kiln/run"
)

// TestKilnUnderFileLimit is not a test: kilnFull runs it in a child
// process, which runs one kiln command with its largest writable file
// limited, and exits with the command's status.
func TestKilnUnderFileLimit(t *testing.T) {
	spec := os.Getenv("KILN_FSIZE_ARGS")
	if spec == "" {
		t.Skip("helper process for TestFullDisk")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim)
	lim.Cur = 16 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		os.Stderr.WriteString("setrlimit: " + err.Error())
		os.Exit(3)
	}
	os.Exit(runContext(context.Background(), args, os.Stdout, os.Stderr))
}

// kilnFull runs kiln in a child process whose writes fail past 16 KiB
// (EFBIG; Go ignores SIGXFSZ), as they would on a full disk, without
// filling one.
func kilnFull(t *testing.T, args ...string) (int, string) {
	t.Helper()
	spec, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestKilnUnderFileLimit$")
	cmd.Env = append(os.Environ(), "KILN_FSIZE_ARGS="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	if cmd.ProcessState.ExitCode() == 3 {
		t.Skip(stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestFullDisk trains and resumes with writes failing past 16 KiB: each
// stops with an error naming the file it could not write, every checkpoint
// left reads back whole, no temporary file is left, and a resumed run's
// saved state is not overwritten.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	data, _ := tinyData(t)
	out := t.TempDir()
	done := tinyRun(t, data, out, "done") // written before the limit
	before := dirState(t, done)

	code, stderr := kilnFull(t, "train", "--data", data, "--epochs", "1", "--out", out, "--name", "full", "--workers", "1")
	if code != 1 || !strings.Contains(stderr, filepath.Join(out, "full")) || !strings.Contains(stderr, "file too large") {
		t.Errorf("train on a full disk: status %d, %q", code, stderr)
	}
	t.Logf("train on a full disk: %s", stderr)
	readableCheckpoints(t, filepath.Join(out, "full"))

	code, stderr = kilnFull(t, "train", "--resume", done, "--epochs", "3")
	if code != 1 || !strings.Contains(stderr, done) || !strings.Contains(stderr, "file too large") {
		t.Errorf("resume on a full disk: status %d, %q", code, stderr)
	}
	t.Logf("resume on a full disk: %s", stderr)
	readableCheckpoints(t, done)
	after := dirState(t, done)
	if before[filepath.Join(done, run.StateFile)] != after[filepath.Join(done, run.StateFile)] {
		t.Errorf("the failed resume overwrote %s", run.StateFile)
	}
}
