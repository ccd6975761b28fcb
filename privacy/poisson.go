package privacy

// This file holds Poisson sampling, the batch sampling the RDP accountant
// assumes: every example joins a batch independently with probability q,
// so batch sizes vary and may be zero. It leaves out shuffled fixed-size
// batches (data.Loader), whose privacy this accountant does not bound.

import (
	"fmt"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/data"
)

// PoissonSample returns the indices in [0, n), in increasing order, that
// independent draws from rng with probability q select.
func PoissonSample(n int, q float64, rng *rand.Rand) []int {
	if !(q >= 0 && q <= 1) {
		panic(fmt.Sprintf("privacy: sample rate %v", q))
	}
	out := make([]int, 0, int(float64(n)*q*1.2)+8)
	for i := range n {
		if rng.Float64() < q {
			out = append(out, i)
		}
	}
	return out
}

// PoissonBatch fills b with a Poisson-sampled batch of ds: X, Shape, Y and
// Indices, reusing b's slices. rng draws the sample and drives the
// dataset's augmentation. The batch may be empty (Shape[0] == 0).
func PoissonBatch(ds data.Dataset, q float64, rng *rand.Rand, b *data.Batch) error {
	if !(q > 0 && q <= 1) {
		return fmt.Errorf("privacy: sample rate %v: want 0 < q <= 1", q)
	}
	idx := PoissonSample(ds.Len(), q, rng)
	shape := ds.Shape()
	size := 1
	for _, d := range shape {
		size *= d
	}
	n := len(idx)
	if cap(b.X) < n*size {
		b.X = make([]float32, n*size)
	}
	b.X = b.X[:n*size]
	b.Y = append(b.Y[:0], make([]int, n)...)
	b.Indices = append(b.Indices[:0], idx...)
	b.Shape = append(append(b.Shape[:0], n), shape...)
	b.Global = n
	for k, i := range idx {
		y, err := ds.Get(i, b.X[k*size:(k+1)*size], rng)
		if err != nil {
			return fmt.Errorf("privacy: Poisson batch: example %d: %w", i, err)
		}
		b.Y[k] = y
	}
	return nil
}
