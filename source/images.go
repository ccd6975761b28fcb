package source

// This file holds a folder of image files without class folders: the
// unlabelled data an autoencoder trains on. It leaves out subfolders (a
// folder with subfolders is an image folder of classes) and checking files
// in parallel: header checks are quick, and such folders are small.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
)

// imageFiles is a folder of unlabelled images; every label is 0 and there
// are no class names.
type imageFiles struct {
	paths    []string
	labels   []int
	shape    []int
	channels int
	tf       *transform.Compose
	mode     imagefolder.Mode
}

// openImageFiles lists dir's image files (sorted by name, hidden ones
// skipped), checks each one's header (or decodes it with opt.FullCheck),
// and reports what it kept and skipped as imagefolder.Open does.
func openImageFiles(dir string, opt OpenOptions) (*imageFiles, *imagefolder.Report, error) {
	if opt.Channels == 0 {
		opt.Channels = 3
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	rep := &imagefolder.Report{Root: dir}
	d := &imageFiles{channels: opt.Channels, tf: opt.Transform, mode: opt.Decode}
	var names []string
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasPrefix(name, "."):
			rep.Hidden++
		case e.IsDir() || !isImageName(name):
			rep.Ignored++
		default:
			names = append(names, name)
		}
	}
	sort.Strings(names)
	rep.Found = len(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		w, h, err := imageSize(path, opt.Channels, opt.FullCheck, opt.Decode)
		if err != nil {
			rep.Skipped = append(rep.Skipped, imagefolder.Skipped{Path: path, Reason: err.Error()})
			continue
		}
		c, oh, ow := opt.Transform.OutShape(w, h, opt.Channels)
		shape := []int{c, oh, ow}
		if d.shape == nil {
			d.shape = shape
		} else if !slices.Equal(shape, d.shape) {
			return nil, nil, fmt.Errorf("source: %s gives examples of shape %v but %s gives %v; set --image-size", d.paths[0], d.shape, path, shape)
		}
		d.paths = append(d.paths, path)
	}
	rep.Kept = len(d.paths)
	if rep.Kept == 0 {
		return nil, nil, fmt.Errorf("source: %s has no readable image files (%s)", dir, rep)
	}
	d.labels = make([]int, len(d.paths))
	return d, rep, nil
}

// imageSize returns an image file's width and height, from its header or,
// with full, by decoding it.
func imageSize(path string, channels int, full bool, mode imagefolder.Mode) (w, h int, err error) {
	if full {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, 0, err
		}
		img, err := imagefolder.DecodeMode(b, channels, 0, mode)
		if err != nil {
			return 0, 0, err
		}
		return img.W, img.H, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, err := imagefolder.DecodeConfig(f, 0)
	return cfg.Width, cfg.Height, err
}

// Len returns the number of images.
func (d *imageFiles) Len() int { return len(d.paths) }

// Shape returns [C, H, W] after the transform.
func (d *imageFiles) Shape() []int { return slices.Clone(d.shape) }

// Classes returns nil: the images have no classes.
func (d *imageFiles) Classes() []string { return nil }

// Labels returns all zeros.
func (d *imageFiles) Labels() []int { return d.labels }

// Path returns the file of example i.
func (d *imageFiles) Path(i int) string { return d.paths[i] }

// Get decodes image i and transforms it drawing from rng; its label is 0.
func (d *imageFiles) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	b, err := os.ReadFile(d.paths[i])
	if err != nil {
		return 0, fmt.Errorf("source: %w", err)
	}
	img, err := imagefolder.DecodeMode(b, d.channels, 0, d.mode)
	if err != nil {
		return 0, fmt.Errorf("source: %s: %w", d.paths[i], err)
	}
	if err := d.tf.Tensor(img, x, rng); err != nil {
		return 0, fmt.Errorf("source: %s: %w", d.paths[i], err)
	}
	return 0, nil
}
