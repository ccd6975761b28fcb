package main

import (
	"bytes"
	"context"
	"net/http"
	neturl "net/url"
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
	orig, err := run.ReadRunConfig(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Init != filepath.Join(runDir, run.BestFile) || cfg.Data != orig.Data || cfg.ExtraTrain != filepath.Join(runDir, "feedback") {
		t.Errorf("config: init %q, data %q, extra_train %q", cfg.Init, cfg.Data, cfg.ExtraTrain)
	}
	ti, err := run.ReadRunInfo(tuned)
	if err != nil {
		t.Fatal(err)
	}
	if ti.TrainImages != info.TrainImages+3 || ti.ValImages != info.ValImages || ti.TestImages != info.TestImages {
		t.Errorf("fine-tuning run: %d+%d training and %d test images; the run had %d+%d and %d, plus 3 feedback",
			ti.TrainImages, ti.ValImages, ti.TestImages, info.TrainImages, info.ValImages, info.TestImages)
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

// TestFinetuneEmbedded fine-tunes a run on kiln's embedded Fashion-MNIST
// subset, whose data are no class folders and one of whose classes,
// "T-shirt/top", cannot be a folder's name as it stands: kiln serve stores
// its feedback under the escaped name, and the fine-tuning run reads it
// back as that class.
func TestFinetuneEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the embedded subset")
	}
	out := t.TempDir()
	code, stdout, stderr := kiln(t, context.Background(), "train", "--epochs", "1", "--model", "mlp", "--workers", "2", "--out", out, "--name", "fm")
	if code != 0 {
		t.Fatalf("train: %d\n%s%s", code, stdout, stderr)
	}
	runDir := filepath.Join(out, "fm")
	_, sample := tinyData(t)
	img, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, runDir)
	resp, err := http.Post(url+"/v1/models/fm/feedback?label="+neturl.QueryEscape("T-shirt/top"), "image/png", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, out := stop(); code != 0 || resp.StatusCode != http.StatusCreated {
		t.Fatalf("feedback: status %d; serve: %d\n%s", resp.StatusCode, code, out)
	}
	code, stdout, stderr = kiln(t, context.Background(), "train", "--finetune", runDir, "--epochs", "1", "--out", out, "--name", "tuned", "--workers", "2")
	if code != 0 || !strings.Contains(stdout, "1 feedback files") {
		t.Fatalf("train --finetune: %d\n%s%s", code, stdout, stderr)
	}
	before, _ := run.ReadRunInfo(runDir)
	after, err := run.ReadRunInfo(filepath.Join(out, "tuned"))
	if err != nil || after.TrainImages != before.TrainImages+1 || strings.Join(after.Classes, ",") != strings.Join(before.Classes, ",") {
		t.Errorf("fine-tuning run: %d training images and classes %v; the run had %d and %v (%v)", after.TrainImages, after.Classes, before.TrainImages, before.Classes, err)
	}
}
