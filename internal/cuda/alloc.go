package cuda

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// deviceMemory is what the caching allocator needs from a device: the
// driver in production (cuMemAlloc/cuMemFree through the executor), a fake
// with a capacity in tests.
type deviceMemory interface {
	memAlloc(bytes uint64) (DevicePtr, error)
	memFree(p DevicePtr) error
}

// Block is a piece of device memory handed out by an Allocator. Size is the
// size class it was cut to; the caller asked for Req bytes.
type Block struct {
	Ptr    DevicePtr
	Size   uint64
	Req    uint64
	stream uintptr
	live   bool
}

// AllocStats counts what an Allocator did. Allocated is what callers hold
// (in size-class bytes), Reserved what the driver has given and not taken
// back (held plus cached).
type AllocStats struct {
	Allocated, Reserved         uint64
	PeakAllocated, PeakReserved uint64
	Allocs, CacheHits           int64 // requests; requests served from the cache
	DriverAllocs, DriverFrees   int64 // cuMemAlloc and cuMemFree calls
	OOMRetries                  int64 // cuMemAlloc failures answered by emptying the cache
}

// Allocator is a caching device allocator in the manner of PyTorch's
// CUDACachingAllocator: a request is rounded up to a size class, a freed
// block goes back to its (stream, class) bin and the next request of that
// class on that stream takes it without a driver call (cuMemAlloc and
// cuMemFree synchronise the device; a training step asks for the same sizes
// every step). When cuMemAlloc reports out of memory the allocator frees
// every cached block and tries once more. Unlike PyTorch's it never splits
// or merges blocks: classes are coarse enough (at most 25% over) that a
// step's working set settles after the first step.
//
// A block is only reused on the stream it was allocated for, so a kernel
// still running on one stream never sees its memory handed to another.
// It is safe for concurrent use.
type Allocator struct {
	mem deviceMemory

	mu         sync.Mutex
	bins       map[binKey][]*Block
	cached     uint64 // bytes in bins
	cacheLimit uint64 // 0: unlimited
	st         AllocStats
}

type binKey struct {
	stream uintptr
	size   uint64
}

// NewAllocator returns an allocator drawing from mem.
func NewAllocator(mem deviceMemory) *Allocator {
	return &Allocator{mem: mem, bins: map[binKey][]*Block{}}
}

// Size classes: requests up to 1 MiB round up to 512 bytes (PyTorch's
// kMinBlockSize); larger ones to a quarter of their power of two (PyTorch's
// roundup_power2_divisions=4), so a class is at most 25% above the request.
const (
	minBlock   = 512
	smallLimit = 1 << 20
)

// SizeClass returns the class a request of n bytes is served from.
func SizeClass(n uint64) uint64 {
	if n == 0 {
		n = 1
	}
	if n <= smallLimit {
		return (n + minBlock - 1) / minBlock * minBlock
	}
	p := uint64(1) << (63 - bits.LeadingZeros64(n)) // largest power of two <= n
	step := p / 4
	return (n + step - 1) / step * step
}

// SetCacheLimit caps the bytes kept cached after frees; a free past the cap
// goes straight back to the driver. 0 means no cap.
func (a *Allocator) SetCacheLimit(bytes uint64) {
	a.mu.Lock()
	a.cacheLimit = bytes
	a.mu.Unlock()
}

// Alloc returns a block of at least n bytes for use on stream (0: the
// default stream).
func (a *Allocator) Alloc(n uint64, stream uintptr) (*Block, error) {
	size := SizeClass(n)
	key := binKey{stream, size}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st.Allocs++
	if bin := a.bins[key]; len(bin) > 0 {
		b := bin[len(bin)-1]
		a.bins[key] = bin[:len(bin)-1]
		a.cached -= size
		a.st.CacheHits++
		b.Req, b.live = n, true
		a.took(size, false)
		return b, nil
	}
	p, err := a.mem.memAlloc(size)
	if errors.Is(err, ErrOutOfMemory) && a.cached > 0 {
		a.st.OOMRetries++
		if ferr := a.emptyLocked(); ferr != nil {
			return nil, fmt.Errorf("cuda: alloc %d bytes: emptying the cache after out of memory: %w", size, ferr)
		}
		p, err = a.mem.memAlloc(size)
	}
	if err != nil {
		return nil, fmt.Errorf("cuda: alloc %d bytes (%d held, %d cached): %w", size, a.st.Allocated, a.cached, err)
	}
	a.st.DriverAllocs++
	a.took(size, true)
	return &Block{Ptr: p, Size: size, Req: n, stream: stream, live: true}, nil
}

func (a *Allocator) took(size uint64, fresh bool) {
	a.st.Allocated += size
	a.st.PeakAllocated = max(a.st.PeakAllocated, a.st.Allocated)
	if fresh {
		a.st.Reserved += size
		a.st.PeakReserved = max(a.st.PeakReserved, a.st.Reserved)
	}
}

// Free returns b to its bin (or to the driver past the cache limit).
// Freeing a block twice is a programmer error and panics.
func (a *Allocator) Free(b *Block) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !b.live {
		panic(fmt.Sprintf("cuda: block %#x freed twice", b.Ptr))
	}
	b.live = false
	a.st.Allocated -= b.Size
	if a.cacheLimit > 0 && a.cached+b.Size > a.cacheLimit {
		return a.release(b)
	}
	key := binKey{b.stream, b.Size}
	a.bins[key] = append(a.bins[key], b)
	a.cached += b.Size
	return nil
}

func (a *Allocator) release(b *Block) error {
	a.st.DriverFrees++
	a.st.Reserved -= b.Size
	if err := a.mem.memFree(b.Ptr); err != nil {
		return fmt.Errorf("cuda: free %d bytes: %w", b.Size, err)
	}
	return nil
}

// EmptyCache gives every cached block back to the driver
// (torch.cuda.empty_cache).
func (a *Allocator) EmptyCache() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.emptyLocked()
}

func (a *Allocator) emptyLocked() error {
	var errs []error
	for k, bin := range a.bins {
		for _, b := range bin {
			a.cached -= b.Size
			if err := a.release(b); err != nil {
				errs = append(errs, err)
			}
		}
		delete(a.bins, k)
	}
	return errors.Join(errs...)
}

// Stats returns a copy of the counters.
func (a *Allocator) Stats() AllocStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st
}

// Cached returns the bytes held in bins, ready for reuse.
func (a *Allocator) Cached() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cached
}
