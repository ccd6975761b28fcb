package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/bench"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/selection"
	"github.com/kiln-ml/kiln/tune"
	"github.com/kiln-ml/kiln/tune/sqlstore"
)

// envArgs holds, as JSON, the arguments a re-executed test binary passes
// to kilnMain() (see TestKilnProcess).
const envArgs = "KILN_TEST_KILN_ARGS"

// TestKilnProcess is not a test: run as a child process with envArgs set,
// it is the kiln command, so that tests can run several at once.
func TestKilnProcess(t *testing.T) {
	spec := os.Getenv(envArgs)
	if spec == "" {
		t.Skip("runs only as a child process of another test")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(kilnMain(args, os.Stdout, os.Stderr))
}

// tinyFlags are the training flags of a fast run on tinyData.
func tinyFlags(data string) []string {
	return []string{"--data", data, "--image-size", "16", "--channels", "1", "--model", "mlp", "--epochs", "1", "--batch-size", "8", "--workers", "1"}
}

func writeSpace(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "space.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const cliSpace = "lr: {type: loguniform, low: 1.0e-3, high: 1.0e-2}\nbatch-size: {type: categorical, choices: [8, 16]}\n"

// TestTuneCommand runs a small study from the command line and checks the
// output and the study's folder, then that a rerun trains nothing.
func TestTuneCommand(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	args := append([]string{"tune", "--space", writeSpace(t, out, cliSpace), "--trials", "3", "--sampler", "random", "--pruner", "median",
		"--jobs", "2", "--out", out}, tinyFlags(data)...)
	code, stdout, stderr := kiln(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("tune: status %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"holds 0 of 3 trials", "[trial 0] Epoch [1/1]", "kiln: trial 2 complete: ", "Study space: 3 trials (3 complete",
		"number  state", "Best trial ", "  batch-size: ", "  lr: ", "Retrained on training+validation data: " + filepath.Join(out, "space", "best-trial-"),
		"Test accuracy of the retrained best settings: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	dir := filepath.Join(out, "space")
	for _, f := range []string{selection.TuneDB, selection.TuneSettings, selection.TuneSummary, selection.TuneTrialsCSV, selection.TuneHistory, selection.TuneImportance,
		"trial-0000/" + run.ConfigFile, "trial-0002/" + run.BestFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	code, stdout, stderr = kiln(t, context.Background(), args...)
	if code != 0 || strings.Contains(stdout, "[trial") || !strings.Contains(stdout, "holds 3 of 3 trials") || !strings.Contains(stdout, "is finished") {
		t.Errorf("rerun: status %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestTuneUsageErrors checks that what is wrong before any training gives
// status 2 and names the culprit.
func TestTuneUsageErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeSpace(t, dir, cliSpace)
	bad := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tune"}, "--space: name the search space file"},
		{[]string{"tune", "--space", filepath.Join(dir, "missing.yaml")}, "--space: tune: search space: open"},
		{[]string{"tune", "--space", bad("syntax.yaml", "lr: {type: loguniform, low: [")}, "--space: "},
		{[]string{"tune", "--space", bad("kind.yaml", "lr: {type: normal, low: 0, high: 1}")}, `unknown distribution "normal"`},
		{[]string{"tune", "--space", bad("name.yaml", "learning_rate: {type: uniform, low: 0.1, high: 1}")},
			`--space: parameter "learning_rate" is not a training setting; a space names settings as in config.json: augment, batch_size`},
		{[]string{"tune", "--space", bad("seed.yaml", "seed: {type: int, low: 0, high: 9}")}, `parameter "seed" cannot be tuned`},
		{[]string{"tune", "--space", bad("opt.yaml", "optimizer: {type: categorical, choices: [adam, lbfgs]}")}, `--optimizer "lbfgs"`},
		{[]string{"tune", "--space", good, "--storage", filepath.Join(dir, "a?b.db"), "--out", dir}, "--storage: sqlstore: storage"},
		{[]string{"tune", "--space", good, "--storage", "postgres://127.0.0.1:1/kiln?connect_timeout=5", "--out", dir}, "--storage: sqlstore: postgres"},
		{[]string{"tune", "--space", good, "--sampler", "cmaes"}, `--sampler: tune: sampler "cmaes"`},
		{[]string{"tune", "--space", good, "--pruner", "hyperband"}, `--pruner: tune: pruner "hyperband"`},
		{[]string{"tune", "--space", good, "--objective", "test", "--out", dir}, `--objective "test": want val or cv`},
		{[]string{"tune", "--space", good, "--trials", "0"}, "--trials 0"},
		{[]string{"tune", "--space", good, "--jobs", "0"}, "--jobs 0"},
		{[]string{"tune", "--space", good, "--study", "a/b", "--out", dir}, `--study "a/b"`},
		{[]string{"tune", "--space", good, "--val-split", "0", "--out", dir}, "--objective val needs a validation set"},
		{[]string{"tune", "--space", good, "--epochs", "0"}, "--epochs 0"},
		{[]string{"tune", "stray"}, `unexpected argument "stray"`},
		{[]string{"cv", "--folds", "1"}, "--folds 1: want at least 2"},
		{[]string{"cv", "--task", "autoencode", "--model", "conv-ae"}, "--task autoencode"},
		{[]string{"cv", "--resume", dir}, "--resume: selection: " + dir + " is not a kiln cv folder"},
		{[]string{"cv", "--resume", dir, "--lr", "0.1", "--epochs", "3"}, "--epochs, --lr: a resumed cross-validation keeps its own settings"},
		{[]string{"bench", "--images", "0"}, "--images 0"},
		{[]string{"bench", "--threads", "1,0"}, `--threads "1,0"`},
	} {
		code, _, stderr := kiln(t, context.Background(), tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kiln %s: status %d, stderr %q; want status 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if _, err := os.Stat("runs"); err == nil {
		os.RemoveAll("runs")
		t.Error("a refused command wrote into ./runs")
	}
	// A rerun of a study with other training settings is refused.
	data, _ := tinyData(t)
	out := t.TempDir()
	args := append([]string{"tune", "--space", good, "--trials", "1", "--retrain=false", "--out", out}, tinyFlags(data)...)
	if code, stdout, stderr := kiln(t, context.Background(), args...); code != 0 {
		t.Fatalf("tune: status %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr := kiln(t, context.Background(), append(args, "--epochs", "2")...)
	if code != 2 || !strings.Contains(stderr, "was started with --epochs 1, not 2") {
		t.Errorf("rerun with --epochs 2: status %d, %q", code, stderr)
	}
	// The space sets lr in every trial: another base lr changes nothing.
	if code, stdout, stderr := kiln(t, context.Background(), append(args, "--lr", "0.3")...); code != 0 {
		t.Errorf("rerun with --lr 0.3: status %d\n%s%s", code, stdout, stderr)
	}
}

// TestTuneTwoWorkerProcesses runs two kiln tune processes on one SQLite
// study and checks that together they ran each trial once, and that one
// of them retrained the best settings.
func TestTuneTwoWorkerProcesses(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	const trials = 6
	args := append([]string{"tune", "--space", writeSpace(t, out, cliSpace), "--trials", strconv.Itoa(trials), "--sampler", "random",
		"--study", "shared", "--storage", filepath.Join(out, "shared.db"), "--out", out}, tinyFlags(data)...)
	spec, _ := json.Marshal(args)
	type worker struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	var ws []*worker
	for range 2 {
		w := &worker{cmd: exec.Command(os.Args[0], "-test.run=^TestKilnProcess$")}
		w.cmd.Env = append(os.Environ(), envArgs+"="+string(spec))
		w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	ran := map[int][]int{}
	done := regexp.MustCompile(`(?m)^kiln: trial (\d+) (complete|pruned|failed)`)
	for i, w := range ws {
		if err := w.cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v\n%s\n%s", i, err, w.stdout.String(), w.stderr.String())
		}
		for _, m := range done.FindAllStringSubmatch(w.stdout.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			ran[n] = append(ran[n], i)
		}
	}
	var numbers []int
	for n, by := range ran {
		numbers = append(numbers, n)
		if len(by) != 1 {
			t.Errorf("trial %d ran in workers %v", n, by)
		}
	}
	sort.Ints(numbers)
	if fmt.Sprint(numbers) != "[0 1 2 3 4 5]" {
		t.Errorf("trials run: %v", numbers)
	}
	t.Logf("trials by worker: %v", ran)
	retrained := 0
	for _, w := range ws {
		if strings.Contains(w.stdout.String(), "Test accuracy of the retrained best settings") {
			retrained++
		}
	}
	if retrained == 0 {
		t.Errorf("no worker reports the retrained model's test accuracy\n%s\n%s", ws[0].stdout.String(), ws[1].stdout.String())
	}
	st, err := sqlstore.Open(context.Background(), filepath.Join(out, "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	space, _ := tune.LoadSpace(filepath.Join(out, "space.yaml"))
	s, err := tune.OpenStudy(context.Background(), st, tune.StudyConfig{Name: "shared", Direction: tune.Maximize, Space: space})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Trials(context.Background())
	if len(ts) != trials {
		t.Errorf("the study holds %d trials, want %d", len(ts), trials)
	}
	for i, r := range ts {
		if r.Number != i || r.State != tune.Complete {
			t.Errorf("trial %d: number %d, %v %s", i, r.Number, r.State, r.Message)
		}
	}
}

// TestCVCommand cross-validates from the command line, resumes the
// finished folder, and is interrupted.
func TestCVCommand(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	args := append([]string{"cv", "--folds", "2", "--keep-best", "--out", out, "--name", "cv"}, tinyFlags(data)...)
	code, stdout, stderr := kiln(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("cv: status %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(out, "cv")
	for _, want := range []string{"kiln: fold 2 of 2: validation accuracy ", "fold  val acc", "mean ± std over 2 folds: val accuracy ",
		"best fold: ", "kept as " + filepath.Join(dir, "best"), "test accuracy of fold ", "(24 images)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	sum, err := selection.ReadCV(dir)
	if err != nil || len(sum.Done) != 2 || sum.Done[0].TrainImages != 24 || sum.Done[0].ValImages != 24 || sum.Test == nil {
		t.Fatalf("cv.json: %+v, %v", sum, err)
	}
	// eval takes the kept fold like any run.
	code, stdout, stderr = kiln(t, context.Background(), "eval", filepath.Join(dir, "best"))
	if code != 0 || !strings.Contains(stdout, "(24 images)") {
		t.Errorf("eval best: status %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kiln(t, context.Background(), "cv", "--resume", dir, "--workers", "2")
	if code != 0 || strings.Count(stdout, "is finished") != 2 || !strings.Contains(stdout, fmt.Sprintf("val accuracy %.2f%%", 100*sum.MeanAcc)) {
		t.Errorf("cv --resume: status %d\n%s%s", code, stdout, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr = kiln(t, ctx, append(args[:len(args):len(args)], "--name", "cut")...)
	if code != 130 || !strings.Contains(stderr, "kiln cv --resume "+filepath.Join(out, "cut")) {
		t.Errorf("interrupted cv: status %d, %q", code, stderr)
	}
}

// TestTrainFlagsShared checks that cv and tune take every training flag
// kiln train takes, with the same defaults.
func TestTrainFlagsShared(t *testing.T) {
	code, trainHelp, _ := kiln(t, context.Background(), "train", "-h")
	if code != 0 {
		t.Fatal("train -h failed")
	}
	fs := flag.NewFlagSet("shared", flag.ContinueOnError)
	cfg := run.DefaultConfig()
	addTrainFlags(fs, &cfg)
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	for _, m := range flagLine.FindAllStringSubmatch(trainHelp, -1) {
		name := m[1]
		switch name {
		case "resume", "config", "out", "name":
			continue
		case "sync-bn", "dist-timeout", "dist-check", "dist-bucket-kb":
			continue // data-parallel runs under mpirun: kiln train only
		case "finetune":
			continue // a new run from a served run's feedback: kiln train only
		}
		if fs.Lookup(name) == nil {
			t.Errorf("kiln train has --%s; kiln cv and kiln tune do not", name)
		}
	}
	for _, cmd := range []string{"cv", "tune", "bench"} {
		code, out, _ := kiln(t, context.Background(), cmd, "-h")
		if code != 0 || !strings.HasPrefix(out, "Usage: kiln "+cmd) || !strings.Contains(out, "Flags:") {
			t.Errorf("kiln %s -h: status %d\n%s", cmd, code, out)
		}
	}
}

func TestBenchCommand(t *testing.T) {
	code, stdout, stderr := kiln(t, context.Background(), "bench", "--images", "32")
	if code != 0 || !strings.Contains(stdout, "seed CNN training, batch 32, Adam:") || !strings.Contains(stdout, "GFLOPS") {
		t.Errorf("bench: status %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kiln(t, context.Background(), "bench", "--json", "--images", "32", "--threads", "1,2")
	var r bench.Report
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil || r.Images != 32 || r.TrainImgPerSec <= 0 || r.InferImgPerSec <= 0 || r.SgemmGFLOPS <= 0 {
		t.Errorf("bench --json: status %d, %v, %+v\n%s", code, err, r, stderr)
	}
	if len(r.Scaling) != 2 || r.Scaling[0].Threads != 1 || r.Scaling[1].Threads != 2 || r.Scaling[1].TrainImgPerSec <= 0 {
		t.Errorf("bench --threads 1,2: scaling %+v", r.Scaling)
	}
	if len(r.Latency) != 2 || r.Latency[0].Batch != 1 || r.Latency[1].Batch != 8 || !(r.Latency[0].MedianMS > 0) || r.Latency[0].P99MS < r.Latency[0].MedianMS {
		t.Errorf("bench latency %+v", r.Latency)
	}
	if r.Microarch == "" {
		t.Error("bench: no microarchitecture")
	}
}

// TestTuneKilledAndRerun kills a kiln tune process (SIGKILL) while it
// trains its second trial, and checks that the rerun records that trial
// as failed, keeps the finished one, and runs the rest.
func TestTuneKilledAndRerun(t *testing.T) {
	data, _ := tinyData(t)
	out := t.TempDir()
	args := append([]string{"tune", "--space", writeSpace(t, out, cliSpace), "--trials", "3", "--sampler", "random", "--out", out,
		"--retrain=false"}, tinyFlags(data)...)
	// Enough epochs that trial 1 cannot finish between the poll that sees
	// it start and the kill, even on a loaded machine.
	args = append(args, "--epochs", "12")
	spec, _ := json.Marshal(args)
	logPath := filepath.Join(out, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilnProcess$")
	cmd.Env = append(os.Environ(), envArgs+"="+string(spec))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "[trial 1] kiln: training") {
			break
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			cmd.Process.Kill()
			t.Fatalf("trial 1 did not start:\n%s", b)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	code, stdout, stderr := kiln(t, context.Background(), args...)
	if code != 0 || strings.Contains(stdout, "[trial 0]") || strings.Contains(stdout, "[trial 1]") || !strings.Contains(stdout, "[trial 2]") {
		t.Fatalf("rerun: status %d\n%s%s", code, stdout, stderr)
	}
	st, err := sqlstore.Open(context.Background(), filepath.Join(out, "space", selection.TuneDB))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	space, _ := tune.LoadSpace(filepath.Join(out, "space.yaml"))
	s, err := tune.OpenStudy(context.Background(), st, tune.StudyConfig{Name: "space", Direction: tune.Maximize, Space: space})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Trials(context.Background())
	if len(ts) != 3 || ts[0].State != tune.Complete || ts[1].State != tune.Failed || !strings.Contains(ts[1].Message, "exited") || ts[2].State != tune.Complete {
		t.Errorf("trials after the kill and rerun: %+v", ts)
	}
}
