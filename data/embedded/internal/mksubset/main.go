// Command mksubset writes the class-balanced Fashion-MNIST subset that
// package embedded carries, from a full copy of the dataset (Debian's
// dataset-fashion-mnist package installs one in
// /usr/share/datasets/fashion-mnist). Run it through `go generate` in
// data/embedded.
//
// The choice of images depends only on the labels and the seed, so the
// output is the same on every machine; the gzip bytes are the same for a
// given Go version (no timestamp or name in the header). It leaves out any
// dataset but Fashion-MNIST and any selection but a per-class uniform draw.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/kiln-ml/kiln/data/idx"
)

func main() {
	src := flag.String("src", "/usr/share/datasets/fashion-mnist", "directory with the full Fashion-MNIST IDX files")
	out := flag.String("out", "fashion-mnist", "directory to write the subset to")
	train := flag.Int("train", 400, "training images per class")
	test := flag.Int("test", 100, "test images per class")
	seed := flag.Uint64("seed", 1, "seed of the selection")
	flag.Parse()
	if err := run(*src, *out, *train, *test, *seed); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run writes both splits of the subset.
func run(src, out string, train, test int, seed uint64) error {
	// One stream for both splits, so each seed names one whole subset.
	r := rand.New(rand.NewPCG(seed, 0))
	for _, s := range []struct {
		prefix   string
		perClass int
	}{{"train", train}, {"t10k", test}} {
		if err := subset(src, out, s.prefix, s.perClass, r); err != nil {
			return err
		}
	}
	return nil
}

// subset selects perClass images of each class from one split and writes
// them as prefix-images-idx3-ubyte.gz and prefix-labels-idx1-ubyte.gz.
func subset(src, out, prefix string, perClass int, r *rand.Rand) error {
	images, err := idx.Open(filepath.Join(src, prefix+"-images-idx3-ubyte.gz"))
	if err != nil {
		return err
	}
	labels, err := idx.Open(filepath.Join(src, prefix+"-labels-idx1-ubyte.gz"))
	if err != nil {
		return err
	}
	d, err := idx.NewDataset(images, labels, idx.FashionMNISTClasses())
	if err != nil {
		return err
	}
	keep, err := pick(d.Labels(), len(idx.FashionMNISTClasses()), perClass, r)
	if err != nil {
		return fmt.Errorf("mksubset: %s: %w", prefix, err)
	}
	size := images.Dims[1] * images.Dims[2]
	subImages := &idx.Array{Type: idx.U8, Dims: []int{len(keep), images.Dims[1], images.Dims[2]}}
	subLabels := &idx.Array{Type: idx.U8, Dims: []int{len(keep)}}
	for _, i := range keep {
		subImages.Data = append(subImages.Data, images.Data[i*size:(i+1)*size]...)
		subLabels.Data = append(subLabels.Data, labels.Data[i])
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("mksubset: %w", err)
	}
	if err := writeGz(filepath.Join(out, prefix+"-images-idx3-ubyte.gz"), subImages); err != nil {
		return err
	}
	return writeGz(filepath.Join(out, prefix+"-labels-idx1-ubyte.gz"), subLabels)
}

// pick returns perClass indices of each class, chosen uniformly at random,
// in ascending order (the source order, which keeps the files reviewable).
func pick(labels []int, nclass, perClass int, r *rand.Rand) ([]int, error) {
	byClass := make([][]int, nclass)
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	var keep []int
	for c, is := range byClass {
		if len(is) < perClass {
			return nil, fmt.Errorf("class %d has %d examples, fewer than %d", c, len(is), perClass)
		}
		r.Shuffle(len(is), func(a, b int) { is[a], is[b] = is[b], is[a] })
		keep = append(keep, is[:perClass]...)
	}
	slices.Sort(keep)
	return keep, nil
}

func writeGz(path string, a *idx.Array) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mksubset: %w", err)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return fmt.Errorf("mksubset: %w", err)
	}
	if err := idx.Write(zw, a); err != nil {
		f.Close()
		return fmt.Errorf("mksubset: %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("mksubset: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mksubset: %w", err)
	}
	return nil
}
