package cifar

// This file holds the Dataset and the loaders for the standard directory
// layouts. It leaves out augmentation (see data/transform).

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// maxFileBytes bounds one batch file; the real ones are 30 MB (CIFAR-10) and
// 150 MB (CIFAR-100 train.bin).
const maxFileBytes = 512 << 20

// Dataset is a CIFAR batch with class names. It implements data.Dataset with
// shape [3, 32, 32] and values scaled to [0, 1]. It is read-only after
// construction, so concurrent Gets are safe.
type Dataset struct {
	pixels  []byte
	labels  []int
	coarse  []int
	classes []string
}

// NewDataset wraps b, labelling it with classes. If coarse is true (CIFAR-100
// only) the examples are labelled with their superclass, and classes must
// name the 20 superclasses. Every label must index classes.
func NewDataset(b *Batch, classes []string, coarse bool) (*Dataset, error) {
	if len(b.Pixels) != len(b.Labels)*ImageBytes || (b.Coarse != nil && len(b.Coarse) != len(b.Labels)) {
		return nil, fmt.Errorf("cifar: batch of %d labels has %d pixel bytes and %d coarse labels", len(b.Labels), len(b.Pixels), len(b.Coarse))
	}
	if coarse && b.Coarse == nil {
		return nil, fmt.Errorf("cifar: coarse labels asked for, but the batch has none (not CIFAR-100)")
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("cifar: no class names given")
	}
	primary := b.Labels
	if coarse {
		primary = b.Coarse
	}
	labels, err := toInts(primary, len(classes))
	if err != nil {
		return nil, err
	}
	d := &Dataset{pixels: b.Pixels, labels: labels, classes: append([]string(nil), classes...)}
	if b.Coarse != nil {
		d.coarse = make([]int, len(b.Coarse))
		for i, c := range b.Coarse {
			d.coarse[i] = int(c)
		}
	}
	return d, nil
}

func toInts(ls []uint8, nclass int) ([]int, error) {
	out := make([]int, len(ls))
	for i, l := range ls {
		if int(l) >= nclass {
			return nil, fmt.Errorf("cifar: record %d has label %d: want 0 to %d (%d classes)", i, l, nclass-1, nclass)
		}
		out[i] = int(l)
	}
	return out, nil
}

// Load10 reads CIFAR-10 from dir, the cifar-10-batches-bin directory of the
// binary archive: data_batch_1.bin to data_batch_5.bin for training or
// test_batch.bin for testing, with class names from batches.meta.txt.
func Load10(dir string, train bool) (*Dataset, error) {
	files := []string{"test_batch.bin"}
	if train {
		files = files[:0]
		for i := 1; i <= 5; i++ {
			files = append(files, "data_batch_"+strconv.Itoa(i)+".bin")
		}
	}
	return load(dir, files, CIFAR10, "batches.meta.txt", false)
}

// Load100 reads CIFAR-100 from dir, the cifar-100-binary directory of the
// binary archive: train.bin or test.bin. With coarse false the examples are
// labelled with the 100 fine classes (fine_label_names.txt), otherwise with
// the 20 superclasses (coarse_label_names.txt); CoarseLabels always gives
// the superclasses.
func Load100(dir string, train, coarse bool) (*Dataset, error) {
	file := "test.bin"
	if train {
		file = "train.bin"
	}
	names := "fine_label_names.txt"
	if coarse {
		names = "coarse_label_names.txt"
	}
	return load(dir, []string{file}, CIFAR100, names, coarse)
}

func load(dir string, files []string, v Variant, namesFile string, coarse bool) (*Dataset, error) {
	namesPath := filepath.Join(dir, namesFile)
	f, err := os.Open(namesPath)
	if err != nil {
		return nil, fmt.Errorf("cifar: class names: %w", err)
	}
	classes, err := ReadClassNames(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, namesPath)
	}
	var all *Batch
	for _, name := range files {
		path := filepath.Join(dir, name)
		raw, err := readFile(path)
		if err != nil {
			return nil, err
		}
		b, err := Parse(raw, v)
		if err != nil {
			return nil, fmt.Errorf("%w (file %s)", err, path)
		}
		if all == nil {
			all = b
		} else {
			all.Append(b)
		}
	}
	d, err := NewDataset(all, classes, coarse)
	if err != nil {
		return nil, fmt.Errorf("%w (files in %s, names from %s)", err, dir, namesFile)
	}
	return d, nil
}

// readFile reads path after checking its size, so that a wrong path (a disk
// image, say) fails fast instead of filling memory.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("cifar: %s is %d bytes, more than any batch file (limit %d)", path, fi.Size(), maxFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	return b, nil
}

// toUnit maps a byte to [0, 1] by float32 division, bit-for-bit what
// PyTorch's ToTensor computes, without a division per pixel.
var toUnit = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// Len returns the number of examples.
func (d *Dataset) Len() int { return len(d.labels) }

// Shape returns [3, 32, 32].
func (d *Dataset) Shape() []int { return []int{3, 32, 32} }

// Classes returns a copy of the class names.
func (d *Dataset) Classes() []string { return append([]string(nil), d.classes...) }

// Labels returns a copy of all labels, without decoding any image.
func (d *Dataset) Labels() []int { return append([]int(nil), d.labels...) }

// CoarseLabels returns a copy of the CIFAR-100 superclass labels, or nil for
// CIFAR-10.
func (d *Dataset) CoarseLabels() []int {
	if d.coarse == nil {
		return nil
	}
	return append([]int(nil), d.coarse...)
}

// Get writes image i into x (CHW, scaled to [0, 1]) and returns its label.
// rng is unused: the dataset itself has no randomness.
func (d *Dataset) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	if i < 0 || i >= len(d.labels) {
		return 0, fmt.Errorf("cifar: index %d out of range [0, %d)", i, len(d.labels))
	}
	if len(x) != ImageBytes {
		return 0, fmt.Errorf("cifar: buffer holds %d values, want %d for shape [3 32 32]", len(x), ImageBytes)
	}
	for j, p := range d.pixels[i*ImageBytes : (i+1)*ImageBytes] {
		x[j] = toUnit[p]
	}
	return d.labels[i], nil
}
