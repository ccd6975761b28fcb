package data

// This file holds Subset and the label fast path. It leaves out
// concatenation of datasets, which would need matching class lists.

import (
	"fmt"
	"math/rand/v2"
)

// Labeler is implemented by datasets that know every label without decoding
// an example (an image folder knows them from its directory names). Labels
// returns one label per example, or nil when it cannot do so cheaply; the
// caller must not modify the slice.
type Labeler interface {
	Labels() []int
}

// Labels returns the label of every example of ds: from its Labeler if it
// has one, else by decoding each example in turn with no augmentation.
func Labels(ds Dataset) ([]int, error) {
	if l, ok := ds.(Labeler); ok {
		if labels := l.Labels(); labels != nil {
			if len(labels) != ds.Len() {
				return nil, fmt.Errorf("data: dataset reports %d labels for %d examples", len(labels), ds.Len())
			}
			return labels, nil
		}
	}
	x := make([]float32, exampleSize(ds.Shape()))
	labels := make([]int, ds.Len())
	for i := range labels {
		y, err := ds.Get(i, x, nil)
		if err != nil {
			return nil, fmt.Errorf("data: label of example %d: %w", i, err)
		}
		labels[i] = y
	}
	return labels, nil
}

// ClassCounts returns how many labels fall in each of numClasses classes.
func ClassCounts(labels []int, numClasses int) ([]int, error) {
	counts := make([]int, numClasses)
	for i, y := range labels {
		if y < 0 || y >= numClasses {
			return nil, fmt.Errorf("data: label %d of example %d is outside [0, %d)", y, i, numClasses)
		}
		counts[y]++
	}
	return counts, nil
}

func exampleSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Subset is the examples of a parent dataset at the given indices, in that
// order, as torch.utils.data.Subset.
type Subset struct {
	parent  Dataset
	indices []int
	labels  []int
}

// NewSubset returns the subset of ds at indices, which must lie in
// [0, ds.Len()); repeats are allowed. It keeps indices, which the caller must
// not modify afterwards.
func NewSubset(ds Dataset, indices []int) (*Subset, error) {
	n := ds.Len()
	for i, j := range indices {
		if j < 0 || j >= n {
			return nil, fmt.Errorf("data: subset index %d (at %d) is outside the dataset's %d examples", j, i, n)
		}
	}
	s := &Subset{parent: ds, indices: indices}
	if l, ok := ds.(Labeler); ok {
		if all := l.Labels(); all != nil {
			s.labels = make([]int, len(indices))
			for i, j := range indices {
				s.labels[i] = all[j]
			}
		}
	}
	return s, nil
}

// Len implements Dataset.
func (s *Subset) Len() int { return len(s.indices) }

// Shape implements Dataset.
func (s *Subset) Shape() []int { return s.parent.Shape() }

// Classes implements Dataset.
func (s *Subset) Classes() []string { return s.parent.Classes() }

// Get implements Dataset.
func (s *Subset) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	return s.parent.Get(s.indices[i], x, rng)
}

// Labels implements Labeler when the parent does; otherwise it returns nil.
func (s *Subset) Labels() []int { return s.labels }

// Indices returns the parent indices of the subset's examples.
func (s *Subset) Indices() []int { return s.indices }

// Parent returns the dataset the subset selects from.
func (s *Subset) Parent() Dataset { return s.parent }
