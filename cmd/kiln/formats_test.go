package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/idx"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/run"
)

// pixels returns n synthetic pattern images of c x h x w as bytes (CHW)
// and their labels, 0 to 5.
func pixels(t *testing.T, n, c, h, w int, seed uint64) ([]byte, []byte) {
	t.Helper()
	ds := synth.New(n, c, h, w, seed)
	x := make([]float32, c*h*w)
	px, labels := make([]byte, 0, n*len(x)), make([]byte, n)
	for i := range n {
		y, err := ds.Get(i, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range x {
			px = append(px, uint8(255*min(max(v, 0), 1)+0.5))
		}
		labels[i] = byte(y)
	}
	return px, labels
}

// writeIDX writes MNIST-style files (gzipped) of n h x w pattern images.
func writeIDX(t *testing.T, dir, prefix string, n, h, w int, seed uint64) {
	t.Helper()
	px, labels := pixels(t, n, 1, h, w, seed)
	for _, f := range []struct {
		name string
		a    *idx.Array
	}{
		{prefix + "-images-idx3-ubyte.gz", &idx.Array{Type: idx.U8, Dims: []int{n, h, w}, Data: px}},
		{prefix + "-labels-idx1-ubyte.gz", &idx.Array{Type: idx.U8, Dims: []int{n}, Data: labels}},
	} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if err := idx.Write(zw, f.a); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeCIFAR10 writes a CIFAR-10 binary folder: five training batches of
// per images and a test batch of test images, 3x32x32 patterns.
func writeCIFAR10(t *testing.T, dir string, per, test int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	os.WriteFile(filepath.Join(dir, "batches.meta.txt"), []byte(names), 0o644)
	write := func(name string, n int, seed uint64) {
		px, labels := pixels(t, n, 3, 32, 32, seed)
		var b []byte
		for i := range n {
			b = append(b, labels[i])
			b = append(b, px[i*3072:(i+1)*3072]...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		write("data_batch_"+string(rune('0'+i))+".bin", per, uint64(10+i))
	}
	write("test_batch.bin", test, 20)
}

// TestTrainIDXAndCIFAR trains on IDX and CIFAR-10 binary folders, whose
// format, class names and image shape come from the files, and evaluates
// the runs on them.
func TestTrainIDXAndCIFAR(t *testing.T) {
	out := t.TempDir()
	fashion := filepath.Join(t.TempDir(), "fashion-tiny")
	digits := filepath.Join(t.TempDir(), "digits")
	for _, d := range []string{fashion, digits} {
		os.MkdirAll(d, 0o755)
		writeIDX(t, d, "train", 60, 16, 16, 1)
		writeIDX(t, d, "t10k", 30, 16, 16, 2)
	}
	cifarDir := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
	writeCIFAR10(t, cifarDir, 8, 12)

	for _, tc := range []struct {
		name, data string
		extra      []string
		classes    []string
		shape      []int
		source     string
		test       int
	}{
		{"fashion", fashion, nil, idx.FashionMNISTClasses(), []int{1, 16, 16}, "Fashion-MNIST IDX files", 30},
		{"digits", digits, nil, idx.DigitClasses(), []int{1, 16, 16}, "IDX files in", 30},
		{"named", digits, []string{"--classes", strings.Join(synth.Classes, ",")}, synth.Classes, []int{1, 16, 16}, "IDX files in", 30},
		// The parent of cifar-10-batches-bin, as kiln data fetch leaves it.
		{"cifar", filepath.Dir(cifarDir), []string{"--augment", "randomcrop=32:4,hflip"},
			strings.Fields("airplane automobile bird cat deer dog frog horse ship truck"), []int{3, 32, 32}, "CIFAR-10 binary batches", 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"train", "--data", tc.data, "--epochs", "1", "--batch-size", "16", "--out", out, "--name", tc.name,
				"--image-size", "64", "--channels", "3"}, tc.extra...)
			code, stdout, stderr := kiln(t, context.Background(), args...)
			if code != 0 {
				t.Fatalf("train: status %d\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.source) || !strings.Contains(stdout, "Test accuracy") {
				t.Errorf("train output:\n%s", stdout)
			}
			runDir := filepath.Join(out, tc.name)
			info, err := run.ReadRunInfo(runDir)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(info.Classes, ",") != strings.Join(tc.classes, ",") || !equalInts(info.InputShape, tc.shape) || info.TestImages != tc.test {
				t.Errorf("run.json: classes %v, shape %v, %d test images; want %v, %v, %d", info.Classes, info.InputShape, info.TestImages,
					tc.classes, tc.shape, tc.test)
			}
			code, stdout, stderr = kiln(t, context.Background(), "eval", runDir, "--json")
			var rep evalReport
			if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
				t.Fatalf("eval: status %d, %v\n%s%s", code, err, stdout, stderr)
			}
			if rep.Images != tc.test || len(rep.Classes) != len(tc.classes) {
				t.Errorf("eval: %d images, %d classes", rep.Images, len(rep.Classes))
			}
		})
	}

	// A model of 16x16 grey images evaluated on CIFAR's 32x32 colour ones
	// (converted to the run's channels and size) fails only on the class
	// names, which it does not share.
	code, _, stderr := kiln(t, context.Background(), "eval", filepath.Join(out, "digits"), "--data", cifarDir)
	if code != 1 || !strings.Contains(stderr, `has class "airplane", which the model was not trained on`) {
		t.Errorf("cross-format eval: status %d, %q", code, stderr)
	}
	code, _, stderr = kiln(t, context.Background(), "train", "--data", digits, "--classes", "a,b", "--out", out, "--name", "x")
	if code != 1 || !strings.Contains(stderr, "label") {
		t.Errorf("too few --classes: status %d, %q", code, stderr)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStrictBadImage checks the cleaning policy end to end: a corrupt image
// (a PNG header with nothing after it) is skipped and reported by default,
// and --strict makes it an error that names the file.
func TestStrictBadImage(t *testing.T) {
	dir := t.TempDir()
	writeFolder(t, dir, 24, 3, 2)
	if err := os.WriteFile(filepath.Join(dir, synth.Classes[0], "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := []string{"train", "--data", dir, "--model", "mlp", "--epochs", "1", "--val-split", "0.25", "--out", out, "--workers", "1"}
	code, stdout, stderr := kiln(t, context.Background(), append(args, "--name", "lenient")...)
	if code != 0 {
		t.Fatalf("lenient run: status %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "broken.png") {
		t.Errorf("the skipped file is not reported:\n%s", stdout)
	}
	code, _, stderr = kiln(t, context.Background(), append(args, "--name", "strict", "--strict")...)
	if code == 0 || !strings.Contains(stderr, "broken.png") {
		t.Errorf("--strict: status %d, stderr %q; want a failure naming broken.png", code, stderr)
	}
}

func TestBenchInputPipeline(t *testing.T) {
	dir := t.TempDir()
	writeFolder(t, dir, 12, 4, 2)
	code, stdout, stderr := kiln(t, context.Background(), "bench", "--data", dir, "--workers", "2", "--json")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	var r struct {
		Decoded int     `json:"decoded"`
		ImgPerS float64 `json:"img_per_s"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Decoded == 0 || r.ImgPerS <= 0 {
		t.Errorf("report %q: %v", stdout, err)
	}
	if code, _, _ := kiln(t, context.Background(), "bench", "--data", dir, "--batch-size", "0"); code != 2 {
		t.Errorf("--batch-size 0: status %d, want 2", code)
	}
}
