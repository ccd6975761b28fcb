package selection

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/run"
)

// writeImages writes n grey 16x16 PNGs of the synthetic patterns into
// dir/<class>/.
func writeImages(t testing.TB, dir string, n int, seed uint64) {
	t.Helper()
	if _, err := synth.WriteFolder(dir, n, seed, len(synth.Classes)); err != nil {
		t.Fatal(err)
	}
}

// imageData writes a train/test image folder of the six pattern classes:
// 36 training images (6 per class) and 12 test images.
func imageData(t testing.TB) string {
	dir := t.TempDir()
	writeImages(t, filepath.Join(dir, "train"), 36, 1)
	writeImages(t, filepath.Join(dir, "test"), 12, 2)
	return dir
}

// tinyConfig trains the MLP briefly on data.
func tinyConfig(dataDir, out string) run.Config {
	cfg := run.DefaultConfig()
	cfg.Data, cfg.Model, cfg.Epochs, cfg.BatchSize, cfg.ImageSize, cfg.Channels = dataDir, "mlp", 1, 8, 16, 1
	cfg.Workers, cfg.Out, cfg.Seed, cfg.LR = 1, out, 3, 3e-3
	return cfg
}

func TestMeanStd(t *testing.T) {
	for _, tc := range []struct {
		v         []float64
		mean, std float64
	}{
		{[]float64{0.5}, 0.5, 0},
		{[]float64{1, 3}, 2, math.Sqrt2},
		{[]float64{0.8, 0.9, 0.7, 0.6}, 0.75, math.Sqrt(0.05 / 3)},
	} {
		m, s := meanStd(tc.v)
		if math.Abs(m-tc.mean) > 1e-12 || math.Abs(s-tc.std) > 1e-12 {
			t.Errorf("meanStd(%v) = %v, %v; want %v, %v", tc.v, m, s, tc.mean, tc.std)
		}
	}
}

// keptFromMetrics reads a run's metrics.jsonl and returns the validation
// accuracy and loss of its epoch with the lowest validation loss.
func keptFromMetrics(t *testing.T, dir string) (acc, loss float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, run.MetricsJSON))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	loss = math.Inf(1)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct{ ValAcc, ValLoss float64 }
		var raw map[string]float64
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		r.ValAcc, r.ValLoss = raw["val_acc"], raw["val_loss"]
		if r.ValLoss < loss {
			acc, loss = r.ValAcc, r.ValLoss
		}
	}
	return acc, loss
}

// TestCrossValidate runs 3-fold cross-validation on an image folder and
// checks the fold runs, the summary's figures against the runs' own
// metrics, the kept best fold, the single test evaluation, and that
// resuming redoes only what is missing.
func TestCrossValidate(t *testing.T) {
	out := t.TempDir()
	cfg := tinyConfig(imageData(t), out)
	cfg.Name, cfg.Epochs = "cv", 2 // the figures are the epoch with the lowest validation loss
	var log bytes.Buffer
	sum, err := CrossValidate(context.Background(), cfg, CVOptions{Folds: 3, KeepBest: true, Test: true, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	dir := filepath.Join(out, "cv")
	var accs, losses []float64
	for i := 1; i <= 3; i++ {
		foldDir := filepath.Join(dir, fmt.Sprintf("fold-%d", i))
		fc, err := run.ReadRunConfig(foldDir)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := run.ReadRunInfo(foldDir)
		if fc.Folds != 3 || fc.Fold != i || !fc.NoTest || info.TrainImages != 24 || info.ValImages != 12 || info.TestImages != 0 {
			t.Errorf("fold %d: config %+v, info %+v", i, fc, info)
		}
		if run.Exists(filepath.Join(foldDir, run.ReportFile)) {
			t.Errorf("fold %d was tested", i)
		}
		acc, loss := keptFromMetrics(t, foldDir)
		accs, losses = append(accs, acc), append(losses, loss)
		if f := sum.Done[i-1]; f.Fold != i || f.Run != foldDir || math.Abs(f.ValAcc-acc) > 1e-6 || math.Abs(f.ValLoss-loss) > 1e-6 {
			t.Errorf("fold %d: %+v, metrics say acc %v loss %v", i, f, acc, loss)
		}
	}
	mean := (accs[0] + accs[1] + accs[2]) / 3
	var ss float64
	for _, a := range accs {
		ss += (a - mean) * (a - mean)
	}
	if math.Abs(sum.MeanAcc-mean) > 1e-6 || math.Abs(sum.StdAcc-math.Sqrt(ss/2)) > 1e-6 {
		t.Errorf("accuracy %v ± %v, want %v ± %v", sum.MeanAcc, sum.StdAcc, mean, math.Sqrt(ss/2))
	}
	if m := (losses[0] + losses[1] + losses[2]) / 3; math.Abs(sum.MeanLoss-m) > 1e-6 {
		t.Errorf("loss mean %v, want %v", sum.MeanLoss, m)
	}
	best := 0
	for i := range accs {
		if accs[i] > accs[best] || (accs[i] == accs[best] && losses[i] < losses[best]) {
			best = i
		}
	}
	if sum.Best != best {
		t.Errorf("best fold index %d, want %d (accuracies %v)", sum.Best, best, accs)
	}
	if target, err := os.Readlink(filepath.Join(dir, CVBest)); err != nil || target != fmt.Sprintf("fold-%d", best+1) {
		t.Errorf("best link -> %q, %v", target, err)
	}
	if sum.Test == nil || sum.Test.Confusion.Total() != 12 || sum.TestRun != sum.Done[best].Run || !run.Exists(filepath.Join(dir, run.ReportFile)) {
		t.Errorf("test: %+v in %s", sum.Test, sum.TestRun)
	}

	// cv.json and cv.csv agree with the summary.
	back, err := ReadCV(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Folds != 3 || len(back.Done) != 3 || back.MeanAcc != sum.MeanAcc || back.StdLoss != sum.StdLoss || back.Best != sum.Best ||
		back.Test == nil || back.Test.Accuracy != sum.Test.Accuracy || back.Config.Model != "mlp" {
		t.Errorf("cv.json: %+v", back)
	}
	b, _ := os.ReadFile(filepath.Join(dir, CVCSV))
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != 6 || rows[4][0] != "mean" || rows[5][0] != "std" {
		t.Fatalf("cv.csv: %v\n%s", err, b)
	}
	if v, _ := strconv.ParseFloat(rows[4][3], 64); math.Abs(v-mean) > 1e-5 {
		t.Errorf("cv.csv mean accuracy %s, want %v", rows[4][3], mean)
	}
	var table bytes.Buffer
	sum.WriteTable(&table)
	if !strings.Contains(table.String(), fmt.Sprintf("val accuracy %.2f%% ± %.2f%%", 100*mean, 100*sum.StdAcc)) {
		t.Errorf("table:\n%s", table.String())
	}

	// The same name again is refused; resuming a finished one reads it
	// back; resuming with a fold gone trains that fold only.
	if _, err := CrossValidate(context.Background(), cfg, CVOptions{Folds: 3}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second cv: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "fold-2")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(filepath.Join(dir, "fold-1", run.BestFile))
	log.Reset()
	again, err := CrossValidate(context.Background(), cfg, CVOptions{Folds: 3, Resume: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, "fold-1", run.BestFile))
	if n := strings.Count(log.String(), "is finished"); n != 2 || !before.ModTime().Equal(after.ModTime()) {
		t.Errorf("resume read back %d folds, fold-1 rewritten: %v\n%s", n, !before.ModTime().Equal(after.ModTime()), log.String())
	}
	// Same seed, same fold: the retrained fold gives the same figures.
	if again.MeanAcc != sum.MeanAcc || again.MeanLoss != sum.MeanLoss {
		t.Errorf("resumed summary %v/%v, first %v/%v", again.MeanAcc, again.MeanLoss, sum.MeanAcc, sum.MeanLoss)
	}
	other := cfg
	other.LR = 0.1
	if _, err := CrossValidate(context.Background(), other, CVOptions{Folds: 3, Resume: true}); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("resume with another lr: %v", err)
	}
	if _, err := CrossValidate(context.Background(), cfg, CVOptions{Folds: 1}); err == nil || !strings.Contains(err.Error(), "--folds 1") {
		t.Errorf("1 fold: %v", err)
	}
}
