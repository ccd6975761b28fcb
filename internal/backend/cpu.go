package backend

// This file is the CPU backend's memory: buffers are Go slices, Upload and
// Download copy, and Wrap aliases host memory. The ops are in cpu_ops.go.

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// CPU is the reference Backend: host memory and the engine's own kernels.
// Its ops run at once on the calling goroutine (and the kernels' worker
// goroutines), so Sync has nothing to wait for. The zero value is not
// usable; make one with NewCPU.
type CPU struct {
	ws     []float32     // the convolutions' scratch, grown on demand
	argmax []int         // CrossEntropy's arg-maxes, grown on demand
	x, y   tensor.Tensor // CrossEntropy's views of its buffers (fields, so they do not escape to the heap each call)
}

var _ Backend = (*CPU)(nil)

// NewCPU returns the CPU backend.
func NewCPU() *CPU { return &CPU{} }

// Name returns "cpu".
func (*CPU) Name() string { return "cpu" }

// Alloc returns n zeroed float32s.
func (*CPU) Alloc(n int) (Buffer, error) {
	if n < 0 {
		return Buffer{}, fmt.Errorf("backend: cpu: allocating %d floats", n)
	}
	return Wrap(make([]float32, n)), nil
}

// AllocInts returns n zeroed int32s.
func (*CPU) AllocInts(n int) (IntBuffer, error) {
	if n < 0 {
		return IntBuffer{}, fmt.Errorf("backend: cpu: allocating %d ints", n)
	}
	return WrapInts(make([]int32, n)), nil
}

// Free does nothing: the garbage collector reclaims the slice.
func (*CPU) Free(Buffer) {}

// FreeInts does nothing.
func (*CPU) FreeInts(IntBuffer) {}

// Wrap returns s as a CPU buffer without copying: ops on the buffer read
// and write s.
func Wrap(s []float32) Buffer { return NewBuffer(s, 0, len(s)) }

// WrapInts returns s as a CPU int buffer without copying.
func WrapInts(s []int32) IntBuffer { return NewIntBuffer(s, 0, len(s)) }

// Floats returns the host slice behind a CPU buffer (nil for none). It
// panics when b belongs to another backend.
func Floats(b Buffer) []float32 {
	if b.mem == nil {
		return nil
	}
	s, ok := b.mem.([]float32)
	if !ok {
		panic(fmt.Sprintf("backend: cpu: a buffer of another backend (%T)", b.mem))
	}
	return s[b.off : b.off+b.n]
}

// Int32s returns the host slice behind a CPU int buffer.
func Int32s(b IntBuffer) []int32 {
	s, ok := b.mem.([]int32)
	if !ok {
		panic(fmt.Sprintf("backend: cpu: an int buffer of another backend (%T)", b.mem))
	}
	return s[b.off : b.off+b.n]
}

// Upload copies src into dst.
func (*CPU) Upload(dst Buffer, src []float32) error {
	MustLen("Upload", "source", len(src), dst.Len())
	copy(Floats(dst), src)
	return nil
}

// UploadInts copies src into dst.
func (*CPU) UploadInts(dst IntBuffer, src []int32) error {
	MustLen("UploadInts", "source", len(src), dst.Len())
	copy(Int32s(dst), src)
	return nil
}

// Download copies src into dst.
func (*CPU) Download(dst []float32, src Buffer) error {
	MustLen("Download", "destination", len(dst), src.Len())
	copy(dst, Floats(src))
	return nil
}

// DownloadInts copies src into dst.
func (*CPU) DownloadInts(dst []int32, src IntBuffer) error {
	MustLen("DownloadInts", "destination", len(dst), src.Len())
	copy(dst, Int32s(src))
	return nil
}

// Sync returns nil: every op has finished when it returns.
func (*CPU) Sync() error { return nil }

// Close drops the scratch memory.
func (c *CPU) Close() error {
	c.ws = nil
	return nil
}

// workspace returns at least n floats of scratch.
func (c *CPU) workspace(n int) []float32 {
	if len(c.ws) < n {
		c.ws = make([]float32, n)
	}
	return c.ws[:n]
}
