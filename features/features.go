// Package features runs a trained encoder over a dataset and keeps what it
// produces: one feature vector per example with its label. It writes them
// as CSV or safetensors and draws their two-dimensional PCA projection,
// coloured by class, for the unsupervised workflow (an autoencoder's
// bottleneck) or any model that can embed its inputs.
//
// It sits above the engine and the data packages (it joins the two) and
// below the trainer.
package features

// This file extracts features. It leaves out storing them in a dataset type
// that training could read back (a linear probe on frozen features would
// want one) and streaming sets that do not fit in memory.

import (
	"context"
	"fmt"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// Encoder maps a batch of inputs (N, ...) to features (N, D).
// models.ConvAutoencoder is one.
type Encoder interface {
	Encode(g *autograd.Tape, x *autograd.Var) *autograd.Var
}

// Set is a dataset's features in dataset order.
type Set struct {
	N, D    int
	Data    []float32 // N*D values, row i the features of example i
	Labels  []int     // each example's label, as the dataset returned it
	Classes []string  // the dataset's class names; empty for unlabelled data
}

// Options tune Extract. Zero values take the defaults.
type Options struct {
	BatchSize int // default 256
	Workers   int // loader goroutines decoding examples; default 0 (inline)
}

// trainingSwitch is what a module with train and eval behaviour offers.
type trainingSwitch interface {
	SetTraining(on bool)
	Training() bool
}

// Extract runs enc over every example of ds in order, without gradients
// and with enc (when it is an nn.Module) in evaluation mode, so that
// dropout, batch-norm statistics and denoising corruption are off; a model
// that reports Training() true beforehand is put back in training mode
// afterwards.
func Extract(ctx context.Context, enc Encoder, ds data.Dataset, opt Options) (*Set, error) {
	if opt.BatchSize == 0 {
		opt.BatchSize = 256
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: opt.BatchSize, Workers: opt.Workers})
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if m, ok := enc.(nn.Module); ok {
		if ts, ok := enc.(trainingSwitch); ok && ts.Training() {
			defer nn.SetTraining(m, true)
		}
		nn.SetTraining(m, false)
	}
	it, err := l.Epoch(ctx, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	defer it.Close()
	s := &Set{N: ds.Len(), Classes: append([]string(nil), ds.Classes()...)}
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	for it.Next() {
		b := it.Batch()
		g.Reset()
		z := enc.Encode(g, g.Const(tensor.FromSlice(b.X, b.Shape...)))
		shape := z.Shape()
		n := len(b.Y)
		if len(shape) != 2 || shape[0] != n {
			return nil, fmt.Errorf("features: encoder returned shape %v for a batch of %d, want (%d, D)", shape, n, n)
		}
		if s.Data == nil {
			s.D = shape[1]
			s.Data = make([]float32, 0, s.N*s.D)
			s.Labels = make([]int, 0, s.N)
		} else if shape[1] != s.D {
			return nil, fmt.Errorf("features: encoder returned %d features, earlier batches %d", shape[1], s.D)
		}
		s.Data = append(s.Data, z.Data()...)
		s.Labels = append(s.Labels, b.Y...)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if len(s.Labels) != s.N {
		return nil, fmt.Errorf("features: encoded %d of %d examples", len(s.Labels), s.N)
	}
	return s, nil
}

// Row returns the features of example i, aliasing the set.
func (s *Set) Row(i int) []float32 { return s.Data[i*s.D : (i+1)*s.D] }

// Rows returns the features as float64 rows, the form package stats takes.
func (s *Set) Rows() [][]float64 {
	out := make([][]float64, s.N)
	for i := range out {
		r := make([]float64, s.D)
		for j, v := range s.Row(i) {
			r[j] = float64(v)
		}
		out[i] = r
	}
	return out
}

// Labelled reports whether the labels mean something: the dataset named
// its classes and every label indexes one of them.
func (s *Set) Labelled() bool {
	if len(s.Classes) == 0 {
		return false
	}
	for _, y := range s.Labels {
		if y < 0 || y >= len(s.Classes) {
			return false
		}
	}
	return true
}
