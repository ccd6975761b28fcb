package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/run"
)

// TestFinetune stores three corrected labels through kiln serve, then
// trains --finetune on them: the new run starts from the old best weights,
// trains on the old images plus the three, and keeps the old test set.
func TestFinetune(t *testing.T) {
	runDir, sample := trainTiny(t, "ft")
	info, err := run.ReadRunInfo(runDir)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, runDir)
	img, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	for i, class := range info.Classes[:3] {
		body := append(append([]byte(nil), img...), byte(i)) // three distinct files
		resp, err := http.Post(url+"/v1/models/ft/feedback?label="+class, "image/png", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("feedback %s: status %d", class, resp.StatusCode)
		}
	}
	if code, out := stop(); code != 0 {
		t.Fatalf("serve: %d\n%s", code, out)
	}
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--finetune", runDir, "--epochs", "1", "--out", out, "--name", "tuned", "--workers", "1")
	if code != 0 || !strings.Contains(stdout, "3 feedback files") {
		t.Fatalf("train --finetune: %d\n%s%s", code, stdout, stderr)
	}
	tuned := filepath.Join(out, "tuned")
	cfg, err := run.ReadRunConfig(tuned)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Init != filepath.Join(runDir, run.BestFile) || cfg.Data != filepath.Join(runDir, "finetune-data") {
		t.Errorf("config: init %q, data %q", cfg.Init, cfg.Data)
	}
	ti, err := run.ReadRunInfo(tuned)
	if err != nil {
		t.Fatal(err)
	}
	if ti.TrainImages+ti.ValImages != info.TrainImages+info.ValImages+3 || ti.TestImages != info.TestImages {
		t.Errorf("fine-tuning run: %d+%d training and %d test images; the run had %d+%d and %d, plus 3 feedback",
			ti.TrainImages, ti.ValImages, ti.TestImages, info.TrainImages, info.ValImages, info.TestImages)
	}
	code, _, stderr = kiln(t, context.Background(), "train", "--finetune", runDir, "--out", out)
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("a second --finetune: %d %s", code, stderr)
	}
	plain, _ := trainTiny(t, "plain")
	code, _, stderr = kiln(t, context.Background(), "train", "--finetune", plain, "--out", out)
	if code != 2 || !strings.Contains(stderr, "no feedback/ folder") {
		t.Errorf("--finetune without feedback: %d %s", code, stderr)
	}
	code, _, stderr = kiln(t, context.Background(), "train", "--finetune", runDir, "--data", plain, "--out", out)
	if code != 2 || !strings.Contains(stderr, "trains on its run's data") {
		t.Errorf("--finetune with --data: %d %s", code, stderr)
	}
}
