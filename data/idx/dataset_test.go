package idx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
)

var _ data.Dataset = (*Dataset)(nil)

func TestDatasetGet(t *testing.T) {
	images := &Array{Type: U8, Dims: []int{2, 2, 3}, Data: []byte{0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 1}}
	labels := &Array{Type: U8, Dims: []int{2}, Data: []byte{2, 0}}
	d, err := NewDataset(images, labels, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || !equalInts(d.Shape(), []int{1, 2, 3}) {
		t.Fatalf("Len %d Shape %v", d.Len(), d.Shape())
	}
	tests := []struct {
		i     int
		label int
		x     []float32
	}{
		{0, 2, []float32{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{1, 0, []float32{1, 0, 0, 0, 0, float32(1) / 255}},
	}
	for _, tc := range tests {
		x := make([]float32, 6)
		label, err := d.Get(tc.i, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		if label != tc.label {
			t.Errorf("Get(%d) label %d, want %d", tc.i, label, tc.label)
		}
		for j := range x {
			if x[j] != tc.x[j] {
				t.Errorf("Get(%d) x[%d] = %v, want %v", tc.i, j, x[j], tc.x[j])
			}
		}
	}
	if got := d.Labels(); !equalInts(got, []int{2, 0}) {
		t.Errorf("Labels %v", got)
	}
	d.Labels()[0] = 9
	d.Classes()[0] = "z"
	if d.Labels()[0] != 2 || d.Classes()[0] != "a" {
		t.Error("Labels/Classes return the dataset's own slices")
	}
	for _, bad := range []struct {
		i int
		n int
	}{{-1, 6}, {2, 6}, {0, 5}, {0, 7}} {
		if _, err := d.Get(bad.i, make([]float32, bad.n), nil); err == nil {
			t.Errorf("Get(%d) with %d values: no error", bad.i, bad.n)
		}
	}
}

func TestNewDatasetErrors(t *testing.T) {
	img := &Array{Type: U8, Dims: []int{2, 1, 1}, Data: []byte{1, 2}}
	u8 := func(ls ...byte) *Array { return &Array{Type: U8, Dims: []int{len(ls)}, Data: ls} }
	tests := []struct {
		name    string
		images  *Array
		labels  *Array
		classes []string
		want    string
	}{
		{"f32 images", &Array{Type: F32, Dims: []int{1, 1, 1}, Data: make([]byte, 4)}, u8(0), []string{"a"}, "want u8 [N H W]"},
		{"2-d images", &Array{Type: U8, Dims: []int{2, 1}, Data: []byte{1, 2}}, u8(0, 0), []string{"a"}, "want u8 [N H W]"},
		{"count mismatch", img, u8(0), []string{"a"}, "2 images but 1 labels"},
		{"label too big", img, u8(0, 3), []string{"a", "b", "c"}, "label 1 is 3: want 0 to 2"},
		{"negative label", img, &Array{Type: I8, Dims: []int{2}, Data: []byte{0, 0xff}}, []string{"a"}, "label 1 is -1"},
		{"float labels", img, &Array{Type: F32, Dims: []int{2}, Data: make([]byte, 8)}, []string{"a"}, "integer type"},
		{"2-d labels", img, &Array{Type: U8, Dims: []int{2, 1}, Data: []byte{0, 0}}, []string{"a"}, "integer type"},
		{"no classes", img, u8(0, 0), nil, "no class names"},
		{"short data", &Array{Type: U8, Dims: []int{2, 1, 1}, Data: []byte{1}}, u8(0, 0), []string{"a"}, "does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDataset(tc.images, tc.labels, tc.classes)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadSplit(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train-images-idx3-ubyte.gz", gz(t, encode(U8, []uint32{3, 1, 2}, []byte{1, 2, 3, 4, 5, 6})))
	write("train-labels-idx1-ubyte", encode(U8, []uint32{3}, []byte{9, 0, 5}))
	write("t10k-images-idx3-ubyte", encode(U8, []uint32{1, 1, 2}, []byte{0, 255}))
	write("t10k-labels-idx1-ubyte.gz", gz(t, encode(U8, []uint32{1}, []byte{10})))

	train, err := LoadSplit(dir, true, DigitClasses())
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(train.Labels(), []int{9, 0, 5}) || !equalInts(train.Shape(), []int{1, 1, 2}) {
		t.Fatalf("train labels %v shape %v", train.Labels(), train.Shape())
	}
	_, err = LoadSplit(dir, false, DigitClasses())
	if err == nil || !strings.Contains(err.Error(), "label 0 is 10") || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte.gz") {
		t.Fatalf("test split error %v, want out-of-range label naming the file", err)
	}
	_, err = LoadSplit(t.TempDir(), true, DigitClasses())
	if err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Fatalf("empty dir error %v", err)
	}
}

// TestDebianFashionMNIST reads the real test split where Debian's
// dataset-fashion-mnist package is installed.
func TestDebianFashionMNIST(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(filepath.Join(dir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skip("dataset-fashion-mnist not installed")
	}
	d, err := LoadSplit(dir, false, FashionMNISTClasses())
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 10000 || !equalInts(d.Shape(), []int{1, 28, 28}) {
		t.Fatalf("Len %d Shape %v", d.Len(), d.Shape())
	}
	counts := make([]int, 10)
	for _, l := range d.Labels() {
		counts[l]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Errorf("class %d has %d test images, want 1000", c, n)
		}
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
