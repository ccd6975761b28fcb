package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/idx"
)

func TestPick(t *testing.T) {
	// 3 classes with 5, 4 and 6 examples, interleaved.
	labels := []int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 2}
	tests := []struct {
		name     string
		perClass int
		seed     uint64
		err      string
	}{
		{"one each", 1, 1, ""},
		{"all of the smallest class", 4, 7, ""},
		{"too many", 5, 1, "class 1 has 4 examples, fewer than 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keep, err := pick(labels, 3, tc.perClass, rand.New(rand.NewPCG(tc.seed, 0)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSorted(keep) || len(slices.Compact(slices.Clone(keep))) != len(keep) {
				t.Fatalf("indices %v not sorted and distinct", keep)
			}
			counts := make([]int, 3)
			for _, i := range keep {
				counts[labels[i]]++
			}
			for c, n := range counts {
				if n != tc.perClass {
					t.Errorf("class %d: %d picked, want %d", c, n, tc.perClass)
				}
			}
			again, _ := pick(labels, 3, tc.perClass, rand.New(rand.NewPCG(tc.seed, 0)))
			if !slices.Equal(keep, again) {
				t.Errorf("same seed picked %v then %v", keep, again)
			}
		})
	}
	// Different seeds should choose differently somewhere.
	a, _ := pick(labels, 3, 2, rand.New(rand.NewPCG(1, 0)))
	differs := false
	for seed := uint64(2); seed < 10; seed++ {
		b, _ := pick(labels, 3, 2, rand.New(rand.NewPCG(seed, 0)))
		differs = differs || !slices.Equal(a, b)
	}
	if !differs {
		t.Error("eight other seeds all picked the same subset")
	}
}

// TestReproducible regenerates the embedded subset from Debian's copy of
// Fashion-MNIST, where installed, and checks it holds the same images and
// labels as the committed files.
func TestReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes the full dataset (55 MB)")
	}
	const src = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(filepath.Join(src, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("dataset-fashion-mnist not installed")
	}
	out := t.TempDir()
	if err := run(src, out, 400, 100, 1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		got, err := idx.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := idx.Open(filepath.Join("..", "..", "fashion-mnist", name))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Dims, want.Dims) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: regenerated %v differs from the committed %v", name, got.Dims, want.Dims)
		}
	}
}
