package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// Stream is a CUDA stream: work queued on it runs in order, and work on two
// streams may overlap (the next batch's upload on one, this step's kernels
// on another). A nil *Stream is the default stream.
type Stream struct {
	d *Device
	h uintptr
}

func (s *Stream) handle() uintptr {
	if s == nil {
		return 0
	}
	return s.h
}

// CU_STREAM_NON_BLOCKING: no implicit synchronisation with the default
// stream.
const streamNonBlocking = 1

// NewStream creates a non-blocking stream.
func (d *Device) NewStream() (*Stream, error) {
	s := &Stream{d: d}
	err := d.exec.Do(func() error { return cuCheck("cuStreamCreate", d.api.cuStreamCreate(&s.h, streamNonBlocking)) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Destroy releases the stream once its queued work is done.
func (s *Stream) Destroy() error {
	return s.d.exec.Do(func() error { return cuCheck("cuStreamDestroy", s.d.api.cuStreamDestroy(s.h)) })
}

// Synchronize waits for everything queued on s.
func (s *Stream) Synchronize() error {
	return s.d.exec.Do(func() error { return cuCheck("cuStreamSynchronize", s.d.api.cuStreamSynchronize(s.h)) })
}

// Wait makes later work on s wait for e (cuStreamWaitEvent); the host does
// not wait.
func (s *Stream) Wait(e *Event) error {
	return s.d.exec.Do(func() error { return cuCheck("cuStreamWaitEvent", s.d.api.cuStreamWaitEvent(s.h, e.h, 0)) })
}

// Event marks a point in a stream: to order two streams, to wait on the
// host, or to time the GPU.
type Event struct {
	d *Device
	h uintptr
}

// CUevent_flags from cuda.h.
const (
	eventDefault       = 0
	eventDisableTiming = 2
)

// NewEvent creates an event; timing=false makes it cheaper to record.
func (d *Device) NewEvent(timing bool) (*Event, error) {
	flags := uint32(eventDefault)
	if !timing {
		flags = eventDisableTiming
	}
	e := &Event{d: d}
	if err := d.exec.Do(func() error { return cuCheck("cuEventCreate", d.api.cuEventCreate(&e.h, flags)) }); err != nil {
		return nil, err
	}
	return e, nil
}

// Record marks e at the current end of s's queue.
func (e *Event) Record(s *Stream) error {
	return e.d.exec.Do(func() error { return cuCheck("cuEventRecord", e.d.api.cuEventRecord(e.h, s.handle())) })
}

// Synchronize waits on the host until e has happened.
func (e *Event) Synchronize() error {
	return e.d.exec.Do(func() error { return cuCheck("cuEventSynchronize", e.d.api.cuEventSynchronize(e.h)) })
}

// Done reports whether e has happened, without waiting.
func (e *Event) Done() (bool, error) {
	var code int32
	err := e.d.exec.Do(func() error { code = e.d.api.cuEventQuery(e.h); return nil })
	if err != nil {
		return false, err
	}
	if code == ErrNotReady.Code {
		return false, nil
	}
	return code == 0, cuCheck("cuEventQuery", code)
}

// Since returns the GPU time in milliseconds from start to e (both
// recorded with timing on, e complete).
func (e *Event) Since(start *Event) (float32, error) {
	var ms float32
	err := e.d.exec.Do(func() error { return cuCheck("cuEventElapsedTime", e.d.api.cuEventElapsedTime(&ms, start.h, e.h)) })
	return ms, err
}

// Destroy releases the event.
func (e *Event) Destroy() error {
	return e.d.exec.Do(func() error { return cuCheck("cuEventDestroy", e.d.api.cuEventDestroy(e.h)) })
}

// HostBuffer is page-locked host memory (cuMemAllocHost): the only host
// memory an asynchronous copy may use, since the copy runs after the call
// returns and the DMA engine needs pages that stay put.
type HostBuffer struct {
	d    *Device
	p    unsafe.Pointer
	Data []float32 // the buffer, to fill before an upload or read after a download
}

// NewHostBuffer allocates n pinned float32s.
func (d *Device) NewHostBuffer(n int) (*HostBuffer, error) {
	h := &HostBuffer{d: d}
	if err := d.exec.Do(func() error { return cuCheck("cuMemAllocHost", d.api.cuMemAllocHost(&h.p, uint64(n)*4)) }); err != nil {
		return nil, err
	}
	h.Data = unsafe.Slice((*float32)(h.p), n)
	return h, nil
}

// Free releases the pinned memory; Data must not be used after.
func (h *HostBuffer) Free() error {
	h.Data = nil
	return h.d.exec.Do(func() error { return cuCheck("cuMemFreeHost", h.d.api.cuMemFreeHost(h.p)) })
}

// UploadAsync queues a copy of h.Data[:n] into b on s.
func (s *Stream) UploadAsync(b *Block, h *HostBuffer, n int) error {
	if uint64(n)*4 > b.Size || n > len(h.Data) {
		panic(fmt.Sprintf("cuda: async upload of %d floats: block %d bytes, buffer %d floats", n, b.Size, len(h.Data)))
	}
	return s.d.exec.Do(func() error {
		return cuCheck("cuMemcpyHtoDAsync", s.d.api.cuMemcpyHtoDAsync(b.Ptr, h.p, uint64(n)*4, s.h))
	})
}

// DownloadAsync queues a copy of n floats from b into h.Data on s.
func (s *Stream) DownloadAsync(h *HostBuffer, b *Block, n int) error {
	if uint64(n)*4 > b.Size || n > len(h.Data) {
		panic(fmt.Sprintf("cuda: async download of %d floats: block %d bytes, buffer %d floats", n, b.Size, len(h.Data)))
	}
	return s.d.exec.Do(func() error {
		return cuCheck("cuMemcpyDtoHAsync", s.d.api.cuMemcpyDtoHAsync(h.p, b.Ptr, uint64(n)*4, s.h))
	})
}

// Zero queues filling the first n floats of b with +0.0 on s.
func (s *Stream) Zero(b *Block, n int) error {
	return s.d.exec.Do(func() error {
		return cuCheck("cuMemsetD32Async", s.d.api.cuMemsetD32Async(b.Ptr, 0, uint64(n), s.handle()))
	})
}

// Dim3 is a grid or block shape.
type Dim3 struct{ X, Y, Z uint32 }

// Grid1D returns the one-dimensional grid that covers n threads in blocks
// of block threads.
func Grid1D(n, block int) Dim3 {
	return Dim3{uint32((n + block - 1) / block), 1, 1}
}

// Launch queues f on s with the given kernel arguments, which must match
// the kernel's C parameters one for one: *Block or DevicePtr for pointers,
// int32, uint32 or float32 for scalars (an int is passed as int32). Any
// other type is a programmer error and panics; so is a mismatch with the
// parameters of a kernelsrc kernel, which would otherwise have the kernel
// read garbage.
func (s *Stream) Launch(f *Function, grid, block Dim3, shared uint32, args ...any) error {
	if f.params != nil {
		if err := checkArgs(f.params, args); err != nil {
			panic(fmt.Sprintf("cuda: launch %s: %v", f.Name, err))
		}
	}
	vals := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		vals[i] = argBits(a)
		params[i] = unsafe.Pointer(&vals[i])
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	var pp unsafe.Pointer
	if len(args) > 0 {
		pin.Pin(&vals[0])
		pin.Pin(&params[0])
		pp = unsafe.Pointer(&params[0])
	}
	// The function's device, not the stream's: a nil *Stream (the default
	// stream) has none.
	d := f.d
	if s != nil && s.d != d {
		panic(fmt.Sprintf("cuda: launch %s on a stream of another device", f.Name))
	}
	return d.exec.Do(func() error {
		return cuCheck("cuLaunchKernel("+f.Name+")", d.api.cuLaunchKernel(f.h, grid.X, grid.Y, grid.Z,
			block.X, block.Y, block.Z, shared, s.handle(), pp, nil))
	})
}

// argBits lays an argument out as the kernel reads it: a 4-byte scalar in
// the low bytes (x86-64 and arm64 are little-endian), a pointer in all 8.
func argBits(a any) uint64 {
	switch v := a.(type) {
	case *Block:
		return uint64(v.Ptr)
	case DevicePtr:
		return uint64(v)
	case int32:
		return uint64(uint32(v))
	case uint32:
		return uint64(v)
	case int:
		if v < math.MinInt32 || v > math.MaxInt32 {
			panic(fmt.Sprintf("cuda: kernel argument %d overflows int32", v))
		}
		return uint64(uint32(int32(v)))
	case float32:
		return uint64(math.Float32bits(v))
	}
	panic(fmt.Sprintf("cuda: kernel argument of type %T", a))
}

// checkArgs matches Go arguments against a kernel's C parameter types.
func checkArgs(params []string, args []any) error {
	if len(args) != len(params) {
		return fmt.Errorf("%d arguments for %d parameters", len(args), len(params))
	}
	for i, a := range args {
		var ok bool
		switch params[i] {
		case "float*", "const float*", "int*", "const int*":
			switch a.(type) {
			case *Block, DevicePtr:
				ok = true
			}
		case "int":
			switch a.(type) {
			case int, int32, uint32:
				ok = true
			}
		case "float":
			_, ok = a.(float32)
		}
		if !ok {
			return fmt.Errorf("argument %d is a %T, parameter is %s", i, a, params[i])
		}
	}
	return nil
}
