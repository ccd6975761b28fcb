package data

// This file holds Concat, datasets one after the other. It leaves out
// interleaving and weighting them.

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Concat is several datasets of one example shape and one list of classes,
// one after the other, as torch.utils.data.ConcatDataset.
type Concat struct {
	parts []Dataset
	ends  []int // ends[i]: examples in parts[:i+1]
}

// NewConcat returns the datasets one after the other; they must share
// their example shape and classes.
func NewConcat(parts ...Dataset) (*Concat, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("data: concatenating no datasets")
	}
	c := &Concat{parts: parts}
	n := 0
	for i, p := range parts {
		if !slices.Equal(p.Shape(), parts[0].Shape()) || !slices.Equal(p.Classes(), parts[0].Classes()) {
			return nil, fmt.Errorf("data: dataset %d has examples %v and classes %v; dataset 0 has %v and %v", i, p.Shape(), p.Classes(), parts[0].Shape(), parts[0].Classes())
		}
		n += p.Len()
		c.ends = append(c.ends, n)
	}
	return c, nil
}

// Len returns the examples of every part.
func (c *Concat) Len() int { return c.ends[len(c.ends)-1] }

// Shape returns the parts' example shape.
func (c *Concat) Shape() []int { return c.parts[0].Shape() }

// Classes returns the parts' classes.
func (c *Concat) Classes() []string { return c.parts[0].Classes() }

// Get returns example i: the parts' examples in order.
func (c *Concat) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	k, _ := slices.BinarySearch(c.ends, i+1)
	if i < 0 || k == len(c.ends) {
		return 0, fmt.Errorf("data: example %d of %d", i, c.Len())
	}
	start := 0
	if k > 0 {
		start = c.ends[k-1]
	}
	return c.parts[k].Get(i-start, x, rng)
}

// Labels returns every example's label, part after part, when every part
// can say its own without decoding (Labeler); nil otherwise.
func (c *Concat) Labels() []int {
	var out []int
	for _, p := range c.parts {
		l, ok := p.(Labeler)
		if !ok {
			return nil
		}
		labels := l.Labels()
		if labels == nil {
			return nil
		}
		out = append(out, labels...)
	}
	return out
}
