//go:build mpi

package main

// Tests of data-parallel training under Open MPI's mpirun. They run only in
// builds with the tag mpi (go test -tags mpi ./cmd/kiln), which CI runs;
// each rank is this test binary re-executed as the kiln command
// (TestKilnProcess).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
)

// mpirunCmd returns the command that starts np ranks of kiln with args.
func mpirunCmd(t *testing.T, ctx context.Context, np int, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun not found: install openmpi-bin and libopenmpi-dev")
	}
	spec, _ := json.Marshal(args)
	cmd := exec.CommandContext(ctx, bin, "--oversubscribe", "-np", strconv.Itoa(np), "-x", envArgs+"="+string(spec), os.Args[0], "-test.run=^TestKilnProcess$")
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "OMPI_MCA_rmaps_base_oversubscribe=1")
	return cmd
}

// mpirun runs np ranks of kiln with args and returns the exit status and
// output.
func mpirun(t *testing.T, np int, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := mpirunCmd(t, ctx, np, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return code, string(out)
}

// lenetFlags train LeNet-5 (no dropout) on a folder of 16x16 grey images.
func lenetFlags(data, out, name string) []string {
	return []string{"train", "--data", data, "--model", "lenet5", "--channels", "1", "--image-size", "16", "--val-split", "0",
		"--workers", "1", "--out", out, "--name", name}
}

// patterns writes 640 training and 96 test images: 20 steps an epoch at a
// global batch of 32.
func patterns(t *testing.T) string {
	dir := t.TempDir()
	writeFolder(t, filepath.Join(dir, "train"), 640, 1, 6)
	writeFolder(t, filepath.Join(dir, "test"), 96, 2, 6)
	return dir
}

func lastWeights(t *testing.T, dir string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, run.LastFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := checkpoint.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, name := range f.Names() {
		all = append(all, f.Tensors[name].Data...)
	}
	return all
}

// TestMPIMatchesOneProcess: two ranks at --batch-size 16 end an epoch
// with the parameters of one process at --batch-size 32, to tol relative,
// and hold the same bits after every step (--dist-check 1): LeNet-5 with
// Adam for 20 steps, and a ResNet (batch norm) with SGD and --sync-bn for
// 3. The ranks add their gradients in another order than one process, and
// on the ResNet a difference in the last bits can tip a near-zero
// activation a few steps in, which momentum carries (train's
// TestSyncBatchNormMatchesOneProcess), so it is compared early.
func TestMPIMatchesOneProcess(t *testing.T) {
	data, out := patterns(t), t.TempDir()
	few := t.TempDir() // 96 training images: 3 steps
	writeFolder(t, filepath.Join(few, "train"), 96, 1, 6)
	writeFolder(t, filepath.Join(few, "test"), 32, 2, 6)
	for _, tc := range []struct {
		name, data string
		tol        float64
		flags      []string
	}{
		{"lenet5", data, 1e-5, nil},
		{"resnet8", few, 1e-6, []string{"--model", "resnet8", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--sync-bn"}},
	} {
		flags := func(name string) []string {
			return append(append(lenetFlags(tc.data, out, tc.name+"-"+name), "--epochs", "1"), tc.flags...)
		}
		code, stdout, stderr := kiln(t, context.Background(), append(flags("one"), "--batch-size", "32")...)
		if code != 0 {
			t.Fatalf("%s, one process: exit %d\n%s%s", tc.name, code, stdout, stderr)
		}
		code, log := mpirun(t, 2, append(flags("two"), "--batch-size", "16", "--dist-check", "1")...)
		if code != 0 {
			t.Fatalf("%s, mpirun -np 2: exit %d\n%s", tc.name, code, log)
		}
		if !strings.Contains(log, "data-parallel on 2 ranks") || strings.Count(log, "Test accuracy") != 1 {
			t.Errorf("%s: the log should come from rank 0 alone and name the ranks:\n%s", tc.name, log)
		}
		a, b := lastWeights(t, filepath.Join(out, tc.name+"-one")), lastWeights(t, filepath.Join(out, tc.name+"-two"))
		var d, n float64
		for i := range a {
			d += float64(a[i]-b[i]) * float64(a[i]-b[i])
			n += float64(a[i]) * float64(a[i])
		}
		rel := math.Sqrt(d / n)
		t.Logf("%s after an epoch: relative L2 distance %.2g", tc.name, rel)
		if rel > tc.tol {
			t.Errorf("%s: two ranks end %.3g (relative L2) from one process, want <= %g", tc.name, rel, tc.tol)
		}
		info, err := run.ReadRunInfo(filepath.Join(out, tc.name+"-two"))
		if err != nil || info.Ranks != 2 {
			t.Errorf("%s: run.json ranks %d (%v), want 2", tc.name, info.Ranks, err)
		}
	}
}

// testAccuracy reads a finished run's test accuracy from its report.
func testAccuracy(t *testing.T, dir string) float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, run.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	var acc float64
	if _, err := fmt.Sscanf(string(b), "test accuracy %f", &acc); err != nil {
		t.Fatalf("%s: %v", run.ReportFile, err)
	}
	return acc
}

// TestMPIRanksTrainAlike trains the seed CNN on the embedded Fashion-MNIST
// subset with 1, 2 and 4 ranks at one global batch of 32.
func TestMPIRanksTrainAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three runs")
	}
	out := t.TempDir()
	var accs []float64
	for _, np := range []int{1, 2, 4} {
		name := fmt.Sprintf("np%d", np)
		args := []string{"train", "--epochs", "2", "--batch-size", strconv.Itoa(32 / np), "--workers", "1", "--out", out, "--name", name}
		code, log := mpirun(t, np, args...)
		if code != 0 {
			t.Fatalf("mpirun -np %d: exit %d\n%s", np, code, log)
		}
		accs = append(accs, testAccuracy(t, filepath.Join(out, name)))
	}
	t.Logf("test accuracy at np 1, 2, 4: %.4f %.4f %.4f", accs[0], accs[1], accs[2])
	for i, a := range accs {
		if a < 0.7 || math.Abs(a-accs[0]) > 0.03 {
			t.Errorf("np %d: test accuracy %.4f; np 1: %.4f", []int{1, 2, 4}[i], a, accs[0])
		}
	}
}

// TestMPIRanksMustAgree starts two ranks with different --lr: both stop
// before training, naming the flag, and no run directory is made.
func TestMPIRanksMustAgree(t *testing.T) {
	bin, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun not found")
	}
	data, out := patterns(t), t.TempDir()
	spec := func(lr string) string {
		b, _ := json.Marshal(append(lenetFlags(data, out, "r"), "--epochs", "1", "--lr", lr))
		return envArgs + "=" + string(b)
	}
	self := []string{os.Args[0], "-test.run=^TestKilnProcess$"}
	args := append(append([]string{"--oversubscribe", "-np", "1", "-x", spec("0.001")}, self...), ":", "-np", "1", "-x", spec("0.002"))
	cmd := exec.Command(bin, append(args, self...)...)
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	b, err := cmd.CombinedOutput()
	log := string(b)
	if err == nil || !strings.Contains(log, "--lr: rank 1") || !strings.Contains(log, `has "0.002"`) {
		t.Errorf("ranks with different --lr: %v\n%s", err, log)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a run directory was made")
	}
}

// rankPID returns the process id of a rank of the job mpirun started.
func rankPID(t *testing.T, mpirun int, rank int) int {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", mpirun, mpirun))
		for _, f := range strings.Fields(string(kids)) {
			env, _ := os.ReadFile("/proc/" + f + "/environ")
			if bytes.Contains(env, []byte(fmt.Sprintf("\x00OMPI_COMM_WORLD_RANK=%d\x00", rank))) {
				pid, _ := strconv.Atoi(f)
				return pid
			}
		}
	}
	t.Fatalf("rank %d of mpirun %d not found", rank, mpirun)
	return 0
}

// stateStep returns the step a training state file was saved at, or -1.
func stateStep(path string) int {
	f, err := checkpoint.Read(path)
	if err != nil {
		return -1
	}
	var st run.State
	if json.Unmarshal([]byte(f.Metadata["state"]), &st) != nil {
		return -1
	}
	return st.Step
}

// failRank starts a two-rank run of 3 epochs (60 steps, a checkpoint every
// 5), sends rank 1 sig once the run has checkpointed at step 20, and
// returns the job's exit status, output, and how long the job took to end
// after the signal.
func failRank(t *testing.T, data, out, name string, sig syscall.Signal, timeout string) (int, string, time.Duration) {
	t.Helper()
	args := append(lenetFlags(data, out, name), "--epochs", "3", "--batch-size", "16", "--checkpoint-every", "5", "--dist-timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := mpirunCmd(t, ctx, 2, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := rankPID(t, cmd.Process.Pid, 1)
	state := filepath.Join(out, name, run.StateFile)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Millisecond) {
		if stateStep(state) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint at step 20:\n%s", buf.String())
		}
	}
	syscall.Kill(pid, sig)
	at := time.Now()
	err := cmd.Wait()
	took := time.Since(at)
	syscall.Kill(pid, syscall.SIGKILL)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return code, buf.String(), took
}

// TestMPIFailedRankStopsTheJob kills rank 1 mid-epoch (SIGKILL), and in a
// second job stops it (SIGSTOP, a hang): the job ends within the timeout
// with a message naming rank 1, and --resume on two ranks finishes the run
// with the same model as a run never stopped.
func TestMPIFailedRankStopsTheJob(t *testing.T) {
	data, out := patterns(t), t.TempDir()
	code, log := mpirun(t, 2, append(lenetFlags(data, out, "straight"), "--epochs", "3", "--batch-size", "16", "--checkpoint-every", "5")...)
	if code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, log)
	}
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		want string
	}{
		{"killed", syscall.SIGKILL, "rank 1"},
		{"hung", syscall.SIGSTOP, "rank 1 ("},
	} {
		code, log, took := failRank(t, data, out, tc.name, tc.sig, "4s")
		t.Logf("%s: the job ended %v after the signal, exit %d", tc.name, took.Round(time.Millisecond), code)
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "rank 1") {
				t.Logf("  %s", strings.TrimSpace(line))
			}
		}
		if code == 0 || !strings.Contains(log, tc.want) || took > 30*time.Second {
			t.Errorf("%s rank: exit %d after %v, want a failure naming %q within the timeout:\n%s", tc.name, code, took, tc.want, log)
		}
		// Stopped inside a collective, rank 1 started it and fell silent;
		// stopped between two, it never started the next.
		if tc.sig == syscall.SIGSTOP && !strings.Contains(log, "has said nothing for") && !strings.Contains(log, "never started it") {
			t.Errorf("hung rank: the message should say that rank 1 hangs:\n%s", log)
		}
		code, log = mpirun(t, 2, "train", "--resume", filepath.Join(out, tc.name))
		if code != 0 {
			t.Fatalf("%s: resume: exit %d\n%s", tc.name, code, log)
		}
		a, b := lastWeights(t, filepath.Join(out, "straight")), lastWeights(t, filepath.Join(out, tc.name))
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s: the resumed run's weights differ from the uninterrupted run's (first at %d)", tc.name, i)
				break
			}
		}
	}
}

// TestMPIDevice: two ranks on the device path (--device cpu-backend) end
// an epoch with the bits of two ranks on the engine's path, checking the
// ranks agree after every step: LeNet-5, and resnet8, whose running
// statistics are rank 0's after every step (buffers included in the
// comparison).
func TestMPIDevice(t *testing.T) {
	data, out := patterns(t), t.TempDir()
	few := t.TempDir() // 96 training images: 6 steps of 16 a rank
	writeFolder(t, filepath.Join(few, "train"), 96, 1, 6)
	writeFolder(t, filepath.Join(few, "test"), 32, 2, 6)
	for _, tc := range []struct {
		name, data string
		flags      []string
	}{
		{"lenet5", data, nil},
		{"resnet8", few, []string{"--model", "resnet8", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"}},
	} {
		for _, dev := range []string{"cpu", "cpu-backend"} {
			args := append(append(lenetFlags(tc.data, out, tc.name+"-"+dev), "--epochs", "1", "--batch-size", "16", "--dist-check", "1", "--device", dev), tc.flags...)
			if code, log := mpirun(t, 2, args...); code != 0 {
				t.Fatalf("%s --device %s, mpirun -np 2: exit %d\n%s", tc.name, dev, code, log)
			}
		}
		a, b := lastWeights(t, filepath.Join(out, tc.name+"-cpu")), lastWeights(t, filepath.Join(out, tc.name+"-cpu-backend"))
		if len(a) == 0 || !slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
			t.Fatalf("%s: two ranks on cpu-backend do not end with the bits of two ranks on cpu", tc.name)
		}
		// The test set is scored by both ranks, each with its own
		// running statistics: rank 0's on both paths, or the reports
		// differ.
		ra, _ := os.ReadFile(filepath.Join(out, tc.name+"-cpu", run.ReportFile))
		rb, _ := os.ReadFile(filepath.Join(out, tc.name+"-cpu-backend", run.ReportFile))
		if len(ra) == 0 || !bytes.Equal(ra, rb) {
			t.Fatalf("%s: test reports differ:\n%s\n%s", tc.name, ra, rb)
		}
	}
	args := append(lenetFlags(few, out, "syncbn"), "--epochs", "1", "--batch-size", "16", "--device", "cpu-backend", "--model", "resnet8", "--sync-bn")
	if code, log := mpirun(t, 2, args...); code == 0 || !strings.Contains(log, "--sync-bn with --device cpu-backend") {
		t.Fatalf("--sync-bn on cpu-backend under mpirun: exit %d\n%s", code, log)
	}
}
