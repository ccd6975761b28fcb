package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/train"
)

// TestRunReportsEveryFigure runs a tiny benchmark and checks that every
// figure is measured and positive, and that the JSON names are stable.
func TestRunReportsEveryFigure(t *testing.T) {
	r, err := Run(context.Background(), Options{Images: 64, InferBatch: 32, SgemmN: 64})
	if err != nil {
		t.Fatal(err)
	}
	if r.SgemmGFLOPS <= 0 || (r.PeakGFLOPS <= 0 && r.Kernel != "generic") || r.TrainImgPerSec <= 0 || r.InferImgPerSec <= 0 {
		t.Errorf("a figure is missing: %+v", r)
	}
	b, _ := json.Marshal(r)
	for _, k := range []string{"sgemm_gflops_1thread", "peak_gflops_per_core", "train_img_per_s", "infer_img_per_s", "gemm_kernel"} {
		if !strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if !strings.Contains(r.String(), "images/s") {
		t.Errorf("text report: %s", r.String())
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Images: 64, SgemmN: 32}); err == nil {
		t.Error("a cancelled run reported no error")
	}
}

// BenchmarkSeedCNNTrain times the seed CNN's training step at batch 32 with
// Adam, the work of seed_pytorch.py --synthetic; it reports images/s.
func BenchmarkSeedCNNTrain(b *testing.B) {
	m, err := seedCNN()
	if err != nil {
		b.Fatal(err)
	}
	timeSteps(b, newTrainer(m))
}

// timeSteps times c's training steps on one random batch of 32 seed-CNN
// images, after three warm-up steps, and reports images/s.
func timeSteps(b *testing.B, c *train.Classifier) {
	batch := seedBatch(32)
	for range 3 {
		c.TrainStep(batch)
	}
	b.ResetTimer()
	for b.Loop() {
		c.TrainStep(batch)
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkSeedCNNInfer times evaluation-mode forward passes at batch 256.
func BenchmarkSeedCNNInfer(b *testing.B) {
	infer, err := newInferrer(256)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		infer()
	}
	b.ReportMetric(float64(256*b.N)/b.Elapsed().Seconds(), "img/s")
}

func TestLoaderThroughput(t *testing.T) {
	dir := t.TempDir()
	for c := range 2 {
		for i := range 8 {
			writePNG(t, filepath.Join(dir, fmt.Sprintf("class%d", c), fmt.Sprintf("%d.png", i)))
		}
	}
	r, err := Loader(context.Background(), dir, 32, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Decoded != 16 || r.ImgPerS <= 0 {
		t.Errorf("report %+v", r)
	}
}

func writePNG(t *testing.T, path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, image.NewRGBA(image.Rect(0, 0, 40, 36))); err != nil {
		t.Fatal(err)
	}
}
