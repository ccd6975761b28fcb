package cuda

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

// fakeMem is a device with a fixed capacity: cuMemAlloc past it answers
// CUDA_ERROR_OUT_OF_MEMORY, as the driver does.
type fakeMem struct {
	mu       sync.Mutex
	capacity uint64
	used     uint64
	next     DevicePtr
	live     map[DevicePtr]uint64
	allocs   int
	frees    int
}

func newFakeMem(capacity uint64) *fakeMem {
	return &fakeMem{capacity: capacity, next: 0x7f0000000000, live: map[DevicePtr]uint64{}}
}

func (f *fakeMem) memAlloc(n uint64) (DevicePtr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used+n > f.capacity {
		return 0, cuCheck("cuMemAlloc_v2", 2)
	}
	p := f.next
	f.next += DevicePtr(n)
	f.live[p] = n
	f.used += n
	f.allocs++
	return p, nil
}

func (f *fakeMem) memFree(p DevicePtr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.live[p]
	if !ok {
		return cuCheck("cuMemFree_v2", 1)
	}
	delete(f.live, p)
	f.used -= n
	f.frees++
	return nil
}

func TestSizeClass(t *testing.T) {
	for _, c := range []struct{ n, want uint64 }{
		{0, 512}, {1, 512}, {512, 512}, {513, 1024}, {4000, 4096}, {1 << 20, 1 << 20},
		{1<<20 + 1, 1<<20 + 1<<18}, {3 << 20, 3 << 20}, {3<<20 + 1, 3<<20 + 1<<19}, {100 << 20, 112 << 20},
	} {
		if got := SizeClass(c.n); got != c.want {
			t.Errorf("SizeClass(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		n := r.Uint64N(1<<32) + 1
		c := SizeClass(n)
		if c < n || (n > smallLimit && float64(c) > 1.25*float64(n)) || c%minBlock != 0 {
			t.Fatalf("SizeClass(%d) = %d: below the request, over 25%% above it or not 512-aligned", n, c)
		}
	}
}

func TestAllocReusesFreedBlocks(t *testing.T) {
	mem := newFakeMem(1 << 30)
	a := NewAllocator(mem)
	b1, err := a.Alloc(1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Free(b1); err != nil {
		t.Fatal(err)
	}
	b2, err := a.Alloc(900, 0) // same 1024-byte class
	if err != nil {
		t.Fatal(err)
	}
	if b2.Ptr != b1.Ptr || mem.allocs != 1 {
		t.Errorf("second alloc of the class: ptr %#x (first %#x), %d driver allocs; want reuse", b2.Ptr, b1.Ptr, mem.allocs)
	}
	// Another stream does not take a block that the first may still use.
	a.Free(b2)
	b3, _ := a.Alloc(1000, 0xabc)
	if b3.Ptr == b1.Ptr || mem.allocs != 2 {
		t.Errorf("block reused across streams: %#x", b3.Ptr)
	}
	st := a.Stats()
	want := AllocStats{Allocated: 1024, Reserved: 2048, PeakAllocated: 1024, PeakReserved: 2048,
		Allocs: 3, CacheHits: 1, DriverAllocs: 2}
	if st != want {
		t.Errorf("stats %+v\nwant  %+v", st, want)
	}
}

func TestAllocFreesCacheOnPressure(t *testing.T) {
	mem := newFakeMem(10 << 20)
	a := NewAllocator(mem)
	var held []*Block
	for range 4 {
		b, err := a.Alloc(2<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, b)
	}
	for _, b := range held {
		a.Free(b)
	}
	// 8 MiB cached of 10: a 6 MiB request only fits once the cache is gone.
	b, err := a.Alloc(6<<20, 0)
	if err != nil {
		t.Fatalf("alloc under pressure: %v", err)
	}
	st := a.Stats()
	if st.OOMRetries != 1 || st.DriverFrees != 4 || a.Cached() != 0 || st.Reserved != 6<<20 || mem.used != 6<<20 {
		t.Errorf("after the retry: %+v, cached %d, driver holds %d", st, a.Cached(), mem.used)
	}
	// A request that cannot fit even with nothing cached fails with the
	// driver's error, wrapped.
	_, err = a.Alloc(8<<20, 0)
	if !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("err = %v, want out of memory", err)
	}
	a.Free(b)
	if err := a.EmptyCache(); err != nil || mem.used != 0 || len(mem.live) != 0 {
		t.Errorf("EmptyCache: %v; driver still holds %d bytes", err, mem.used)
	}
}

func TestAllocCacheLimit(t *testing.T) {
	mem := newFakeMem(1 << 30)
	a := NewAllocator(mem)
	a.SetCacheLimit(4096)
	var bs []*Block
	for range 3 {
		b, _ := a.Alloc(2048, 0)
		bs = append(bs, b)
	}
	for _, b := range bs {
		a.Free(b)
	}
	if a.Cached() != 4096 || mem.frees != 1 {
		t.Errorf("cached %d, %d driver frees; want 4096 and 1", a.Cached(), mem.frees)
	}
}

func TestAllocDoubleFreePanics(t *testing.T) {
	a := NewAllocator(newFakeMem(1 << 20))
	b, _ := a.Alloc(10, 0)
	a.Free(b)
	defer func() {
		if recover() == nil {
			t.Error("second Free did not panic")
		}
	}()
	a.Free(b)
}

// TestAllocConcurrent hammers one allocator from several goroutines (run
// with -race) and checks that no block is handed to two holders at once
// and that the books balance at the end.
func TestAllocConcurrent(t *testing.T) {
	mem := newFakeMem(1 << 30)
	a := NewAllocator(mem)
	var mu sync.Mutex
	holders := map[DevicePtr]bool{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 500 {
				b, err := a.Alloc(r.Uint64N(1<<16)+1, uintptr(r.IntN(2)))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if holders[b.Ptr] {
					t.Errorf("%#x handed out twice", b.Ptr)
				}
				holders[b.Ptr] = true
				mu.Unlock()
				mu.Lock()
				delete(holders, b.Ptr)
				mu.Unlock()
				a.Free(b)
			}
		}()
	}
	wg.Wait()
	st := a.Stats()
	if st.Allocated != 0 || st.Reserved != a.Cached() || st.Reserved != mem.used || st.CacheHits == 0 {
		t.Errorf("books: %+v cached %d driver %d", st, a.Cached(), mem.used)
	}
}
