package cuda

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Device is one GPU with its primary context, owned by an executor: every
// driver call for it runs on the executor's locked OS thread. Its memory
// comes from a caching Allocator.
type Device struct {
	Ordinal      int
	Name         string
	Major, Minor int    // compute capability, e.g. 9, 0 for an H100/H200
	SMs          int    // multiprocessors
	TotalMem     uint64 // bytes
	DriverVer    int    // e.g. 13000 for CUDA 13.0

	api   *driverAPI
	exec  *executor
	dev   int32
	ctx   uintptr
	alloc *Allocator

	modMu sync.Mutex
	mods  map[moduleKey]*Module
}

var (
	driverOnce sync.Once
	driverLib  *Library
	driverFns  *driverAPI
	driverErr  error
)

// LoadedDriver loads libcuda once per process and says where from; without
// a driver it returns the *NotFoundError naming every path tried.
func LoadedDriver() (path string, err error) {
	driverOnce.Do(func() { driverLib, driverFns, driverErr = loadDriver() })
	if driverErr != nil {
		return "", driverErr
	}
	return driverLib.Path, nil
}

// Open loads the driver, initialises it and takes device ordinal's primary
// context on a new executor thread. A negative ordinal picks one with
// ChooseOrdinal from the environment.
func Open(ordinal int) (*Device, error) {
	if _, err := LoadedDriver(); err != nil {
		return nil, err
	}
	api := driverFns
	d := &Device{Ordinal: ordinal, api: api, mods: map[moduleKey]*Module{}}
	init := func() error {
		if err := cuCheck("cuInit", api.cuInit(0)); err != nil {
			return err
		}
		var v, n int32
		if err := cuCheck("cuDriverGetVersion", api.cuDriverGetVersion(&v)); err != nil {
			return err
		}
		d.DriverVer = int(v)
		if err := cuCheck("cuDeviceGetCount", api.cuDeviceGetCount(&n)); err != nil {
			return err
		}
		if ordinal < 0 {
			var err error
			if ordinal, err = ChooseOrdinal(os.Getenv, int(n)); err != nil {
				return err
			}
			d.Ordinal = ordinal
		}
		if ordinal >= int(n) {
			return fmt.Errorf("cuda: device %d asked for, %d present", ordinal, n)
		}
		if err := cuCheck("cuDeviceGet", api.cuDeviceGet(&d.dev, int32(ordinal))); err != nil {
			return err
		}
		if err := d.describe(); err != nil {
			return err
		}
		if err := cuCheck("cuDevicePrimaryCtxRetain", api.cuDevicePrimaryCtxRetain(&d.ctx, d.dev)); err != nil {
			return err
		}
		return cuCheck("cuCtxSetCurrent", api.cuCtxSetCurrent(d.ctx))
	}
	fini := func() error {
		return cuCheck("cuDevicePrimaryCtxRelease", api.cuDevicePrimaryCtxRelease(d.dev))
	}
	e, err := newExecutor(init, fini)
	if err != nil {
		return nil, err
	}
	d.exec = e
	d.alloc = NewAllocator(driverMemory{d})
	return d, nil
}

// CUDA device attributes used (CUdevice_attribute in cuda.h).
const (
	attrMultiprocessorCount = 16
	attrComputeMajor        = 75
	attrComputeMinor        = 76
)

func (d *Device) describe() error {
	name := make([]byte, 256)
	if err := cuCheck("cuDeviceGetName", d.api.cuDeviceGetName(&name[0], int32(len(name)), d.dev)); err != nil {
		return err
	}
	d.Name = cString(name)
	for _, a := range []struct {
		attr int32
		dst  *int
	}{{attrComputeMajor, &d.Major}, {attrComputeMinor, &d.Minor}, {attrMultiprocessorCount, &d.SMs}} {
		var v int32
		if err := cuCheck("cuDeviceGetAttribute", d.api.cuDeviceGetAttribute(&v, a.attr, d.dev)); err != nil {
			return err
		}
		*a.dst = int(v)
	}
	return cuCheck("cuDeviceTotalMem", d.api.cuDeviceTotalMem(&d.TotalMem, d.dev))
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Close gives back cached memory, unloads modules and releases the context.
func (d *Device) Close() error {
	err := d.alloc.EmptyCache()
	d.modMu.Lock()
	for k, m := range d.mods {
		m.unload()
		delete(d.mods, k)
	}
	d.modMu.Unlock()
	if cerr := d.exec.Close(); err == nil {
		err = cerr
	}
	return err
}

// Synchronize waits for all work on the device (cuCtxSynchronize).
func (d *Device) Synchronize() error {
	return d.exec.Do(func() error { return cuCheck("cuCtxSynchronize", d.api.cuCtxSynchronize()) })
}

// MemInfo returns the device's free and total memory as the driver sees it.
func (d *Device) MemInfo() (free, total uint64, err error) {
	err = d.exec.Do(func() error { return cuCheck("cuMemGetInfo", d.api.cuMemGetInfo(&free, &total)) })
	return free, total, err
}

// Allocator returns the device's caching allocator (for its stats).
func (d *Device) Allocator() *Allocator { return d.alloc }

// Alloc returns device memory for n float32s, for use on s (nil: the
// default stream).
func (d *Device) Alloc(n int, s *Stream) (*Block, error) {
	return d.alloc.Alloc(uint64(n)*4, s.handle())
}

// Free returns b to the cache.
func (d *Device) Free(b *Block) error { return d.alloc.Free(b) }

// driverMemory is the allocator's view of the driver.
type driverMemory struct{ d *Device }

func (m driverMemory) memAlloc(n uint64) (DevicePtr, error) {
	var p DevicePtr
	err := m.d.exec.Do(func() error { return cuCheck("cuMemAlloc", m.d.api.cuMemAlloc(&p, n)) })
	return p, err
}

func (m driverMemory) memFree(p DevicePtr) error {
	return m.d.exec.Do(func() error { return cuCheck("cuMemFree", m.d.api.cuMemFree(p)) })
}

// Upload copies src into b, synchronously: the host side is Go memory, so
// the copy must be done before the call returns. cuMemcpyHtoD from pageable
// memory may return once src is staged, before the DMA lands, and streams
// made by NewStream do not wait for the legacy default stream, so Upload
// also waits for that stream. Work queued on other streams must be
// finished (Stream.Synchronize) before Download reads what it wrote.
func (d *Device) Upload(b *Block, src []float32) error {
	if uint64(len(src))*4 > b.Size {
		panic(fmt.Sprintf("cuda: upload of %d floats into a %d-byte block", len(src), b.Size))
	}
	if len(src) == 0 {
		return nil
	}
	return d.exec.Do(func() error {
		if err := cuCheck("cuMemcpyHtoD", d.api.cuMemcpyHtoD(b.Ptr, unsafe.Pointer(&src[0]), uint64(len(src))*4)); err != nil {
			return err
		}
		return cuCheck("cuStreamSynchronize", d.api.cuStreamSynchronize(0))
	})
}

// Download copies len(dst) floats from b into dst, synchronously.
func (d *Device) Download(dst []float32, b *Block) error {
	if uint64(len(dst))*4 > b.Size {
		panic(fmt.Sprintf("cuda: download of %d floats from a %d-byte block", len(dst), b.Size))
	}
	if len(dst) == 0 {
		return nil
	}
	return d.exec.Do(func() error {
		return cuCheck("cuMemcpyDtoH", d.api.cuMemcpyDtoH(unsafe.Pointer(&dst[0]), b.Ptr, uint64(len(dst))*4))
	})
}

// Run runs fn on the thread that owns the device's context, so that the
// driver calls fn makes are direct calls (executor.Run).
func (d *Device) Run(fn func()) error { return d.exec.Run(fn) }
