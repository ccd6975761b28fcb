package main

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

// TestTrainAutoencoder trains the plain and the denoising autoencoder on a
// labelled folder and on a folder of images without classes, and checks
// what the run directory holds.
func TestTrainAutoencoder(t *testing.T) {
	data, _ := tinyData(t)
	flat := t.TempDir()
	for _, d := range []string{"cross", "ring"} {
		files, _ := filepath.Glob(filepath.Join(data, "train", d, "*.png"))
		for _, f := range files {
			copyFile(t, f, filepath.Join(flat, d+"-"+filepath.Base(f)))
		}
	}
	out := t.TempDir()
	for _, tc := range []struct {
		name, model, data string
		set               string
		n                 int
		rows              int // of the reconstruction grid: input, (noisy,) output, for two groups of 8
		labelled          bool
	}{
		{"ae", "", data, "test", 24, 2, true},
		{"dae", "conv-dae", data, "test", 24, 3, true},
		{"flat", "", flat, "validation", 4, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"train", "--task", "autoencode", "--data", tc.data, "--image-size", "16", "--channels", "1", "--epochs", "2",
				"--batch-size", "8", "--workers", "2", "--val-split", "0.25", "--out", out, "--name", tc.name}
			if tc.model != "" {
				args = append(args, "--model", tc.model)
			}
			code, stdout, stderr := kiln(t, context.Background(), args...)
			if code != 0 {
				t.Fatalf("train: status %d\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "Epoch [2/2], Loss: 0.") || strings.Contains(stdout, "Acc:") ||
				!strings.Contains(stdout, "Reconstruction loss (MSE) of the best model on the "+tc.set+" set") {
				t.Errorf("train output:\n%s", stdout)
			}
			runDir := filepath.Join(out, tc.name)
			for _, f := range []string{run.ConfigFile, run.InfoFile, run.BestFile, run.LastFile, run.StateFile, run.LossPlot,
				task.ReconPlot, task.FeaturesFile, task.FeaturesCSV, task.FeaturesScatter, run.ReportFile} {
				if st, err := os.Stat(filepath.Join(runDir, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
			for _, f := range []string{run.AccPlot, run.ConfPlot} {
				if _, err := os.Stat(filepath.Join(runDir, f)); err == nil {
					t.Errorf("an autoencoder run has %s", f)
				}
			}
			f, err := checkpoint.Read(filepath.Join(runDir, task.FeaturesFile))
			if err != nil {
				t.Fatal(err)
			}
			if s := f.Tensors["features"].Shape; len(s) != 2 || s[0] != tc.n || s[1] != 32 {
				t.Errorf("features shape %v, want [%d 32]", s, tc.n)
			}
			if labelled := f.Metadata["classes"] != "[]"; labelled != tc.labelled {
				t.Errorf("features classes %q", f.Metadata["classes"])
			}
			csv, _ := os.ReadFile(filepath.Join(runDir, task.FeaturesCSV))
			if lines := strings.Count(string(csv), "\n"); lines != tc.n+1 || !strings.HasPrefix(string(csv), "label,class,f0,f1,") {
				t.Errorf("features.csv: %d lines", lines)
			}
			r, _ := os.Open(filepath.Join(runDir, task.ReconPlot))
			img, err := png.Decode(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			// 16x16 images at scale 4 with 2-pixel gaps: the grid is 8
			// tiles wide; rows * groups tiles high.
			groups := (min(tc.n, 16) + 7) / 8
			if h, wantH := img.Bounds().Dy(), 2+groups*tc.rows*66+(groups-1)*6; h != wantH {
				t.Errorf("reconstruction grid %v, want height %d", img.Bounds(), wantH)
			}
			if code, _, stderr := kiln(t, context.Background(), "export", runDir); code != 1 || !strings.Contains(stderr, "is an autoencoder (") {
				t.Errorf("ONNX export of an autoencoder: status %d, %q", code, stderr)
			}
			if code, _, stderr := kiln(t, context.Background(), "export", runDir, "--format", "safetensors", "--dtype", "bf16"); code != 0 {
				t.Errorf("safetensors export of an autoencoder: status %d, %q", code, stderr)
			}
			// eval and predict need a classifier, and say so.
			if code, _, stderr := kiln(t, context.Background(), "eval", runDir); code != 1 || !strings.Contains(stderr, "autoencode run of") {
				t.Errorf("eval of an autoencoder: status %d, %q", code, stderr)
			}
		})
	}
	code, _, stderr := kiln(t, context.Background(), "train", "--data", flat, "--out", out, "--name", "x")
	if code != 1 || !strings.Contains(stderr, "image files without class folders") {
		t.Errorf("classifier on unlabelled images: status %d, %q", code, stderr)
	}
}
