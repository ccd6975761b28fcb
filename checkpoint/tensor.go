package checkpoint

// This file holds the in-memory form of a checkpoint. It leaves out views,
// memory mapping and lazy loading: kiln's models are small enough to read
// whole, and a plain struct is what the trainer and tests want to build.

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// MetadataKey is the header key that holds the file's string metadata; no
// tensor may use it as its name.
const MetadataKey = "__metadata__"

// Tensor is one named array in a checkpoint, row-major like PyTorch.
//
// Float dtypes keep their values in Data, converted to float32; integer
// dtypes and BOOL keep theirs in Ints, exactly. The other slice is empty.
// A scalar has an empty Shape and one element.
type Tensor struct {
	DType DType
	Shape []int
	Data  []float32
	Ints  []int64
}

// File is the whole content of a safetensors file.
type File struct {
	Tensors  map[string]*Tensor
	Metadata map[string]string // nil when the file has no "__metadata__"
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// NumElements returns the product of the shape, 1 for a scalar. It panics
// on a negative dimension, which is a programmer bug here: files with one
// are rejected when read.
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			panic(fmt.Sprintf("checkpoint: negative dimension in shape %v", t.Shape))
		}
		n *= d
	}
	return n
}

// numBytes returns the tensor's element count and byte length, failing on
// negative dimensions and on overflow instead of wrapping around.
func numBytes(d DType, shape []int) (n, size uint64, err error) {
	n = 1
	for _, dim := range shape {
		if dim < 0 {
			return 0, 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(dim))
		if hi != 0 {
			return 0, 0, fmt.Errorf("shape %v has more elements than fit in 64 bits", shape)
		}
		n = lo
	}
	hi, size := bits.Mul64(n, uint64(d.Size()))
	if hi != 0 || size > math.MaxInt64 {
		return 0, 0, fmt.Errorf("%s shape %v needs more than 2^63 bytes", d, shape)
	}
	return n, size, nil
}

// check validates a tensor for writing and returns its byte length.
func (t *Tensor) check() (int64, error) {
	if t == nil {
		return 0, fmt.Errorf("nil tensor")
	}
	info, ok := dtypes[t.DType]
	if !ok {
		return 0, fmt.Errorf("unsupported dtype %q", t.DType)
	}
	if !info.writable {
		return 0, fmt.Errorf("writing dtype %s is not supported", t.DType)
	}
	n, size, err := numBytes(t.DType, t.Shape)
	if err != nil {
		return 0, err
	}
	if info.float {
		if uint64(len(t.Data)) != n || len(t.Ints) != 0 {
			return 0, fmt.Errorf("%s shape %v needs %d values in Data and none in Ints, have %d and %d",
				t.DType, t.Shape, n, len(t.Data), len(t.Ints))
		}
		return int64(size), nil
	}
	if uint64(len(t.Ints)) != n || len(t.Data) != 0 {
		return 0, fmt.Errorf("%s shape %v needs %d values in Ints and none in Data, have %d and %d",
			t.DType, t.Shape, n, len(t.Ints), len(t.Data))
	}
	for i, v := range t.Ints {
		if v < info.min || v > info.max {
			return 0, fmt.Errorf("element %d is %d, outside the %s range [%d, %d]", i, v, t.DType, info.min, info.max)
		}
	}
	return int64(size), nil
}

// checkString rejects strings that cannot appear in a UTF-8 JSON header.
func checkString(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	return nil
}
