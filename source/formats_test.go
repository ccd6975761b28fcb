package source

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/data/transform"
)

func touch(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDetectSource recognises each layout from file names alone.
func TestDetectSource(t *testing.T) {
	root := t.TempDir()
	j := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	touch(t, j("mnist", "train-images-idx3-ubyte.gz"), j("mnist", "train-labels-idx1-ubyte.gz"),
		j("raw", "t10k-images-idx3-ubyte"),
		j("fashion-mnist", "train-images-idx3-ubyte"),
		j("c10", "cifar-10-batches-bin", "batches.meta.txt"), j("c10", "cifar-10-batches-bin", "data_batch_1.bin"),
		j("c10flat", "batches.meta.txt"), j("c10flat", "test_batch.bin"),
		j("c100", "cifar-100-binary", "fine_label_names.txt"), j("c100", "cifar-100-binary", "train.bin"),
		j("split", "train", "cat", "a.png"), j("split", "test", "cat", "b.png"),
		j("classes", "cat", "a.png"), j("classes", ".hidden", "x.png"),
		j("flat", "a.PNG"), j("flat", "b.jpg"), j("flat", "notes.txt"),
		j("flatsplit", "train", "a.png"),
		j("empty", "notes.txt"))
	for _, tc := range []struct {
		dir    string
		format Format
		root   string
		split  bool
		desc   string
	}{
		{"mnist", FormatIDX, "mnist", false, "IDX files in "},
		{"raw", FormatIDX, "raw", false, "IDX files in "},
		{"fashion-mnist", FormatIDX, "fashion-mnist", false, "Fashion-MNIST IDX files in "},
		{"c10", FormatCIFAR10, "c10/cifar-10-batches-bin", false, "CIFAR-10 binary batches in "},
		{"c10flat", FormatCIFAR10, "c10flat", false, "CIFAR-10"},
		{"c100", FormatCIFAR100, "c100/cifar-100-binary", false, "CIFAR-100"},
		{"split", FormatImageFolder, "split", true, ""},
		{"classes", FormatImageFolder, "classes", false, ""},
		{"flat", FormatImages, "flat", false, "unlabelled images in "},
		{"flatsplit", FormatImages, "flatsplit", true, "unlabelled images in "},
	} {
		s, err := DetectSource(j(tc.dir))
		if err != nil {
			t.Errorf("%s: %v", tc.dir, err)
			continue
		}
		if s.Format != tc.format || s.Root != j(tc.root) || s.Split != tc.split || !strings.HasPrefix(s.String(), tc.desc) {
			t.Errorf("%s: %+v (%s)", tc.dir, s, s)
		}
	}
	for _, dir := range []string{"empty", "missing"} {
		if _, err := DetectSource(j(dir)); err == nil || !strings.HasPrefix(err.Error(), "--data "+j(dir)+": ") {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

// TestImageView checks that tensor examples survive the trip through
// 8-bit images exactly, and the channel and size conversions.
func TestImageView(t *testing.T) {
	src := synth.New(6, 3, 12, 10, 1)
	q := quantised{src}
	id, err := NewImageView(q, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, got := make([]float32, 3*12*10), make([]float32, 3*12*10)
	for i := range q.Len() {
		q.Get(i, want, nil)
		if _, err := id.Get(i, got, nil); err != nil || !slices.Equal(got, want) {
			t.Fatalf("example %d changed on the way through an image (%v)", i, err)
		}
	}
	grey, err := NewImageView(q, 1, mustParse(t, "resize=6x5"))
	if err != nil || !slices.Equal(grey.Shape(), []int{1, 6, 5}) {
		t.Fatalf("grey view: %v, %v", grey.Shape(), err)
	}
	g := make([]float32, 30)
	if _, err := grey.Get(0, g, nil); err != nil {
		t.Fatal(err)
	}
	back, _ := NewImageView(grey, 3, nil) // grey to RGB copies the channel
	rgb := make([]float32, 90)
	back.Get(0, rgb, nil)
	if !slices.Equal(rgb[:30], g) || !slices.Equal(rgb[30:60], g) || !slices.Equal(rgb[60:], g) {
		t.Errorf("grey to RGB does not replicate the channel")
	}
	if _, err := augmentTensors(q, "randomcrop=8"); err == nil || !strings.Contains(err.Error(), "must keep the size") {
		t.Errorf("size-changing augmentation: %v", err)
	}
	aug, err := augmentTensors(q, "hflip=1")
	if err != nil {
		t.Fatal(err)
	}
	aug.Get(0, got, rand.New(rand.NewPCG(1, 1)))
	q.Get(0, want, nil)
	if got[0] != want[9] || got[9] != want[0] {
		t.Errorf("hflip=1 did not mirror the rows")
	}
}

// quantised rounds a dataset's values to bytes/255, as IDX and CIFAR store them.
type quantised struct{ *synth.Shapes }

func (q quantised) Get(i int, x []float32, r *rand.Rand) (int, error) {
	y, err := q.Shapes.Get(i, x, r)
	for j, v := range x {
		x[j] = float32(uint8(min(max(v, 0), 1)*255+0.5)) / 255
	}
	return y, err
}

func mustParse(t *testing.T, spec string) *transform.Compose {
	t.Helper()
	tf, err := transform.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tf
}
