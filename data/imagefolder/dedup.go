package imagefolder

// This file holds exact-duplicate detection by content hash. It leaves out
// near-duplicates (re-encoded or resized copies), which need perceptual
// hashing.

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
)

// DuplicateFiles groups the paths whose contents are byte-for-byte equal
// (by SHA-256). Each group lists indices into paths in increasing order;
// groups are ordered by their first index, and files without a copy are
// left out.
func DuplicateFiles(paths []string, workers int) ([][]int, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sums := make([][sha256.Size]byte, len(paths))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := sha256.New()
			for i := range next {
				h.Reset()
				sums[i], errs[i] = hashFile(paths[i], h)
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	groups := map[[sha256.Size]byte][]int{}
	for i, s := range sums {
		if errs[i] != nil {
			return nil, fmt.Errorf("imagefolder: %w", errs[i])
		}
		groups[s] = append(groups[s], i)
	}
	var out [][]int
	for _, g := range groups {
		if len(g) > 1 {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a][0] < out[b][0] })
	return out, nil
}

func hashFile(path string, h interface {
	io.Writer
	Sum([]byte) []byte
}) (sum [sha256.Size]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("hash %s: %w", path, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// Duplicates groups the examples whose files are identical, as indices into
// the dataset: a copy of one image in two classes is a labelling error, and
// one in both the training and the validation split inflates the score.
func (f *Folder) Duplicates() ([][]int, error) {
	return DuplicateFiles(f.paths, f.opt.Workers)
}
