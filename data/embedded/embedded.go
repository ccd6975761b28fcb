// Package embedded carries a small default dataset inside the kiln binary,
// so that `kiln train` without --data works on a fresh machine with no
// network: 4,000 training and 1,000 test images of Fashion-MNIST, 10% of
// each class, as gzipped IDX files (about 2 MB).
//
// Fashion-MNIST is © 2017 Zalando SE under the MIT licence; the notice is in
// fashion-mnist/LICENSE and, in the binary, in Notice. This file leaves out
// any other embedded dataset; a subset this size is enough to see a model
// learn, not to benchmark one.
package embedded

//go:generate go run ./internal/mksubset -src /usr/share/datasets/fashion-mnist -out fashion-mnist -train 400 -test 100 -seed 1

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/idx"
)

//go:embed fashion-mnist/*.gz fashion-mnist/LICENSE
var files embed.FS

// FashionMNIST returns the embedded training (4,000 images) and test (1,000
// images) sets, shape [1, 28, 28], with the ten Fashion-MNIST class names.
// Both are *idx.Dataset, so Labels is there by type assertion. They are
// decoded once and shared; datasets are read-only, so that is safe.
func FashionMNIST() (train, test data.Dataset, err error) {
	s, err := decoded()
	if err != nil {
		return nil, nil, err
	}
	return s.train, s.test, nil
}

// Notice returns the Fashion-MNIST licence and provenance notice, which the
// MIT licence asks to travel with copies of the data.
func Notice() string {
	b, err := files.ReadFile("fashion-mnist/LICENSE")
	if err != nil {
		panic("embedded: LICENSE missing from the embedded files: " + err.Error())
	}
	return string(b)
}

type splits struct{ train, test *idx.Dataset }

var decoded = sync.OnceValues(func() (splits, error) {
	train, err := load("train")
	if err != nil {
		return splits{}, err
	}
	test, err := load("t10k")
	if err != nil {
		return splits{}, err
	}
	return splits{train, test}, nil
})

func load(prefix string) (*idx.Dataset, error) {
	var arrays [2]*idx.Array
	for i, name := range []string{prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz"} {
		b, err := files.ReadFile("fashion-mnist/" + name)
		if err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
		if arrays[i], err = idx.Read(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("embedded: %s: %w", name, err)
		}
	}
	d, err := idx.NewDataset(arrays[0], arrays[1], idx.FashionMNISTClasses())
	if err != nil {
		return nil, fmt.Errorf("embedded: %s split: %w", prefix, err)
	}
	return d, nil
}
