// Package data holds kiln's datasets and the loader that batches them.
//
// A Dataset yields fixed-shape float32 examples with integer labels. It knows
// nothing about autograd: data sits below the engine's differentiation layer
// and only ever produces plain float32 buffers.
package data

import "math/rand/v2"

// Dataset is a finite, indexable collection of labelled examples.
//
// Get writes example i into x, whose length is the product of Shape, and
// returns its class label. rng drives any random augmentation of that one
// example; a Dataset without randomness ignores it, and rng may be nil for
// deterministic (evaluation) use. Get must be safe for concurrent calls with
// distinct x and rng, so that a Loader can decode with several workers.
type Dataset interface {
	Len() int
	Shape() []int
	Classes() []string
	Get(i int, x []float32, rng *rand.Rand) (label int, err error)
}
