//go:build cuda

package cuda

// This file is the backend's memory side: opening the GPU, buffers as
// allocator blocks with offsets, copies and the sticky error. The ops are
// in ops.go.

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/backend"
	cu "github.com/kiln-ml/kiln/internal/cuda"
)

func init() {
	backend.Register("cuda", func(opt backend.Options) (backend.Backend, error) {
		return Open(-1, opt.TF32) // the device the launcher's local rank points at (cuda.ChooseOrdinal)
	})
}

// Backend runs the ops on one GPU.
type Backend struct {
	d     *cu.Device
	s     *cu.Stream
	blas  *cu.Blas
	mod   *cu.Module
	funcs map[string]*cu.Function
	err   error
	ws    *cu.Block // scratch: column matrices, staging
	wsN   int
	cs    *cu.Stream // the stages' copy stream (stage.go), made by the first NewStage
}

var _ backend.Backend = (*Backend)(nil)

// Open opens GPU ordinal (negative: cuda.ChooseOrdinal's pick), its
// stream, cuBLAS (TF32 tensor cores for SGEMM
// when tf32) and the kernels, compiled by NVRTC. Without a GPU or a
// library it returns internal/cuda's error naming what was not found.
func Open(ordinal int, tf32 bool) (*Backend, error) {
	d, err := cu.Open(ordinal)
	if err != nil {
		return nil, err
	}
	b := &Backend{d: d, funcs: map[string]*cu.Function{}}
	if b.s, err = d.NewStream(); err != nil {
		d.Close()
		return nil, err
	}
	if b.blas, err = d.NewBlas(b.s, tf32); err != nil {
		b.s.Destroy()
		d.Close()
		return nil, err
	}
	if b.mod, err = d.Kernels(); err != nil {
		b.blas.Destroy()
		b.s.Destroy()
		d.Close()
		return nil, err
	}
	return b, nil
}

// Name returns "cuda".
func (*Backend) Name() string { return "cuda" }

// Device returns the GPU, for reports.
func (b *Backend) Device() *cu.Device { return b.d }

// Describe names the GPU and its compute capability, for kiln bench.
func (b *Backend) Describe() string {
	return fmt.Sprintf("%s, sm_%d%d", b.d.Name, b.d.Major, b.d.Minor)
}

// mem is what a Buffer's Mem holds.
type mem struct{ blk *cu.Block }

func (b *Backend) alloc(n int) (*cu.Block, error) {
	blk, err := b.d.Alloc(max(n, 1), b.s)
	if err != nil {
		return nil, err
	}
	if err := b.s.Zero(blk, max(n, 1)); err != nil {
		return nil, err
	}
	return blk, nil
}

// Alloc returns n zeroed floats on the GPU.
func (b *Backend) Alloc(n int) (backend.Buffer, error) {
	blk, err := b.alloc(n)
	if err != nil {
		return backend.Buffer{}, err
	}
	return backend.NewBuffer(mem{blk}, 0, n), nil
}

// AllocInts returns n zeroed int32s on the GPU.
func (b *Backend) AllocInts(n int) (backend.IntBuffer, error) {
	blk, err := b.alloc(n)
	if err != nil {
		return backend.IntBuffer{}, err
	}
	return backend.NewIntBuffer(mem{blk}, 0, n), nil
}

// Free returns x's block to the caching allocator.
func (b *Backend) Free(x backend.Buffer) {
	if m, ok := x.Mem().(mem); ok {
		b.keep(b.d.Free(m.blk))
	}
}

// FreeInts returns x's block to the caching allocator.
func (b *Backend) FreeInts(x backend.IntBuffer) {
	if m, ok := x.Mem().(mem); ok {
		b.keep(b.d.Free(m.blk))
	}
}

// ptr returns the device address of x's first element (0 for none).
func ptr(x backend.Buffer) cu.DevicePtr {
	if x.IsNil() {
		return 0
	}
	m, ok := x.Mem().(mem)
	if !ok {
		panic(fmt.Sprintf("backend/cuda: a buffer of another backend (%T)", x.Mem()))
	}
	return m.blk.Ptr + cu.DevicePtr(4*x.Off())
}

func iptr(x backend.IntBuffer) cu.DevicePtr {
	m, ok := x.Mem().(mem)
	if !ok {
		panic(fmt.Sprintf("backend/cuda: an int buffer of another backend (%T)", x.Mem()))
	}
	return m.blk.Ptr + cu.DevicePtr(4*x.Off())
}

// view is a block standing for n floats at p, for the calls that take
// blocks (copies, cuBLAS).
func view(p cu.DevicePtr, n int) *cu.Block { return &cu.Block{Ptr: p, Size: uint64(4 * max(n, 1))} }

// keep records the first error.
func (b *Backend) keep(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// Sync waits for the stream and returns the first error since the last
// Sync.
func (b *Backend) Sync() error {
	b.keep(b.s.Synchronize())
	err := b.err
	b.err = nil
	return err
}

// Upload copies src into dst once the queued ops are done.
func (b *Backend) Upload(dst backend.Buffer, src []float32) error {
	backend.MustLen("Upload", "source", len(src), dst.Len())
	if err := b.Sync(); err != nil {
		return err
	}
	return b.d.Upload(view(ptr(dst), dst.Len()), src)
}

// UploadInts copies src into dst once the queued ops are done.
func (b *Backend) UploadInts(dst backend.IntBuffer, src []int32) error {
	backend.MustLen("UploadInts", "source", len(src), dst.Len())
	if err := b.Sync(); err != nil {
		return err
	}
	return b.d.Upload(view(iptr(dst), dst.Len()), int32sAsFloats(src))
}

// Download copies src into dst once the queued ops are done.
func (b *Backend) Download(dst []float32, src backend.Buffer) error {
	backend.MustLen("Download", "destination", len(dst), src.Len())
	if err := b.Sync(); err != nil {
		return err
	}
	return b.d.Download(dst, view(ptr(src), src.Len()))
}

// DownloadInts copies src into dst once the queued ops are done.
func (b *Backend) DownloadInts(dst []int32, src backend.IntBuffer) error {
	backend.MustLen("DownloadInts", "destination", len(dst), src.Len())
	if err := b.Sync(); err != nil {
		return err
	}
	return b.d.Download(int32sAsFloats(dst), view(iptr(src), src.Len()))
}

// Close releases the GPU.
func (b *Backend) Close() error {
	err := b.Sync()
	if b.cs != nil {
		if cerr := b.cs.Synchronize(); err == nil {
			err = cerr
		}
		b.keep(b.cs.Destroy())
	}
	if b.blas != nil {
		b.keep(b.blas.Destroy())
	}
	if b.s != nil {
		// The compute stream: the primary context outlives this backend
		// while another holds it, and a stream not destroyed leaks there.
		b.keep(b.s.Destroy())
	}
	if b.err != nil && err == nil {
		err = b.err
	}
	if cerr := b.d.Close(); err == nil {
		err = cerr
	}
	return err
}

// workspace returns at least n floats of device scratch.
func (b *Backend) workspace(n int) cu.DevicePtr {
	if b.wsN < n {
		if b.ws != nil {
			b.keep(b.s.Synchronize())
			b.keep(b.d.Free(b.ws))
		}
		blk, err := b.d.Alloc(n, b.s)
		if err != nil {
			b.keep(err)
			b.ws, b.wsN = nil, 0
			return 0
		}
		b.ws, b.wsN = blk, n
	}
	return b.ws.Ptr
}
