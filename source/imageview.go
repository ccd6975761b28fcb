package source

// This file runs image transforms on datasets that store decoded pixels
// (IDX, CIFAR): each example goes back to an 8-bit image, exactly, since
// the pixels were bytes scaled by 1/255, and through a transform pipeline.
// That gives those formats --augment, and lets a model trained on one size
// or channel count be evaluated on another. It leaves out datasets whose
// values are not bytes/255 (normalised ones), which would not round-trip.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/transform"
)

// imageView is a [C, H, W] dataset with values in [0, 1], converted to
// channels and run through tf.
type imageView struct {
	src      data.Dataset
	c, h, w  int // the source's shape
	channels int // fed to tf
	tf       *transform.Compose
	shape    []int
	bufs     sync.Pool // *[]float32 of one source example
}

// NewImageView wraps d; channels 0 keeps d's, and a nil tf is ToTensor.
func NewImageView(d data.Dataset, channels int, tf *transform.Compose) (*imageView, error) {
	s := d.Shape()
	if len(s) != 3 || (s[0] != 1 && s[0] != 3) {
		return nil, fmt.Errorf("source: cannot treat examples of shape %v as images (want [1 or 3, H, W])", s)
	}
	if channels == 0 {
		channels = s[0]
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("source: %d channels: want 1 or 3", channels)
	}
	if err := tf.Check(channels); err != nil {
		return nil, fmt.Errorf("--augment %q: %w", tf, err)
	}
	c, h, w := tf.OutShape(s[2], s[1], channels)
	return &imageView{src: d, c: s[0], h: s[1], w: s[2], channels: channels, tf: tf, shape: []int{c, h, w}}, nil
}

// Len returns the source's length.
func (v *imageView) Len() int { return v.src.Len() }

// Shape returns the transformed shape.
func (v *imageView) Shape() []int { return append([]int(nil), v.shape...) }

// Classes returns the source's classes.
func (v *imageView) Classes() []string { return v.src.Classes() }

// Labels passes the source's labels through, when it knows them.
func (v *imageView) Labels() []int {
	if l, ok := v.src.(data.Labeler); ok {
		return l.Labels()
	}
	return nil
}

// Get decodes example i of the source without randomness, and transforms
// it drawing from rng.
func (v *imageView) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	bp, _ := v.bufs.Get().(*[]float32)
	if bp == nil {
		b := make([]float32, v.c*v.h*v.w)
		bp = &b
	}
	defer v.bufs.Put(bp)
	y, err := v.src.Get(i, *bp, nil)
	if err != nil {
		return 0, err
	}
	img := toImage(*bp, v.c, v.h, v.w)
	if img.C != v.channels {
		img = transform.ToGray(img, v.channels)
	}
	if err := v.tf.Tensor(img, x, rng); err != nil {
		return 0, fmt.Errorf("source: example %d: %w", i, err)
	}
	return y, nil
}

// toImage turns CHW values in [0, 1] into an interleaved 8-bit image.
func toImage(x []float32, c, h, w int) *transform.Image {
	img := transform.NewImage(w, h, c)
	plane := h * w
	for ch := range c {
		for p, val := range x[ch*plane : (ch+1)*plane] {
			img.Pix[p*c+ch] = uint8(math.Round(float64(min(max(val, 0), 1)) * 255))
		}
	}
	return img
}

// augmentTensors returns d with the training augmentation spec applied;
// the augmentation must keep the example shape, as the validation and
// test sets are not augmented.
func augmentTensors(d data.Dataset, spec string) (data.Dataset, error) {
	tf, err := transform.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("--augment %q: %w", spec, err)
	}
	v, err := NewImageView(d, 0, tf)
	if err != nil {
		return nil, err
	}
	if fmt.Sprint(v.shape) != fmt.Sprint(d.Shape()) {
		return nil, fmt.Errorf("--augment %q: turns %v images into %v; with this data the augmentation must keep the size (e.g. randomcrop=%d:4)",
			spec, d.Shape(), v.shape, d.Shape()[1])
	}
	return v, nil
}
