package idx

// This file turns IDX arrays into a data.Dataset. It leaves out augmentation
// (see data/transform) and any dataset other than single-channel u8 images.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Dataset is a set of single-channel u8 images with integer labels, such as
// MNIST or Fashion-MNIST. It implements data.Dataset; Get scales pixels to
// [0, 1] and writes them as [1, H, W]. A Dataset is read-only after
// construction, so concurrent Gets are safe.
type Dataset struct {
	pixels  []byte
	labels  []int
	h, w    int
	classes []string
}

// FashionMNISTClasses returns the ten Fashion-MNIST class names in label order.
func FashionMNISTClasses() []string {
	return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
}

// DigitClasses returns "0" to "9", MNIST's class names.
func DigitClasses() []string {
	c := make([]string, 10)
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}

// NewDataset pairs an [N, H, W] u8 images array with an [N] labels array of
// any integer type. Every label must index classes.
func NewDataset(images, labels *Array, classes []string) (*Dataset, error) {
	if images.Type != U8 || len(images.Dims) != 3 {
		return nil, fmt.Errorf("idx: images are %v %v: want u8 [N H W]", images.Type, images.Dims)
	}
	if len(labels.Dims) != 1 || labels.Type == F32 || labels.Type == F64 {
		return nil, fmt.Errorf("idx: labels are %v %v: want an integer type with shape [N]", labels.Type, labels.Dims)
	}
	n, h, w := images.Dims[0], images.Dims[1], images.Dims[2]
	if labels.Dims[0] != n {
		return nil, fmt.Errorf("idx: %d images but %d labels", n, labels.Dims[0])
	}
	if len(images.Data) != n*h*w || len(labels.Data) != n*labels.Type.Size() {
		return nil, fmt.Errorf("idx: array data does not match its dimensions")
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("idx: no class names given")
	}
	ls := make([]int, n)
	for i := range ls {
		l := labels.Float64(i)
		if l < 0 || l >= float64(len(classes)) {
			return nil, fmt.Errorf("idx: label %d is %v: want 0 to %d (%d classes)", i, l, len(classes)-1, len(classes))
		}
		ls[i] = int(l)
	}
	return &Dataset{pixels: images.Data, labels: ls, h: h, w: w, classes: append([]string(nil), classes...)}, nil
}

// Load reads an images file and a labels file (gzipped or raw) into a
// Dataset; classes names the labels (see DigitClasses, FashionMNISTClasses).
func Load(imagesPath, labelsPath string, classes []string) (*Dataset, error) {
	images, err := Open(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := Open(labelsPath)
	if err != nil {
		return nil, err
	}
	d, err := NewDataset(images, labels, classes)
	if err != nil {
		return nil, fmt.Errorf("%w (files %s, %s)", err, imagesPath, labelsPath)
	}
	return d, nil
}

// LoadSplit loads the training or test split from dir using the standard
// MNIST file names (train-images-idx3-ubyte, t10k-labels-idx1-ubyte, ...),
// preferring the .gz form, which is how the files are distributed.
func LoadSplit(dir string, train bool, classes []string) (*Dataset, error) {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	images, err := findFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labels, err := findFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	return Load(images, labels, classes)
}

// findFile returns dir/name.gz or dir/name, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("idx: neither %s.gz nor %s in %s", name, name, dir)
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

// Shape returns [1, H, W].
func (d *Dataset) Shape() []int { return []int{1, d.h, d.w} }

// Classes returns a copy of the class names.
func (d *Dataset) Classes() []string { return append([]string(nil), d.classes...) }

// Labels returns a copy of all labels, without decoding any image.
func (d *Dataset) Labels() []int { return append([]int(nil), d.labels...) }

// Get writes image i into x scaled to [0, 1] and returns its label. rng is
// unused: the dataset itself has no randomness.
func (d *Dataset) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	if i < 0 || i >= len(d.labels) {
		return 0, fmt.Errorf("idx: index %d out of range [0, %d)", i, len(d.labels))
	}
	size := d.h * d.w
	if len(x) != size {
		return 0, fmt.Errorf("idx: buffer holds %d values, want %d for shape %v", len(x), size, d.Shape())
	}
	for j, p := range d.pixels[i*size : (i+1)*size] {
		x[j] = toUnit[p]
	}
	return d.labels[i], nil
}
