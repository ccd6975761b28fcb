package data

// This file holds the Loader: batching, shuffling, and decoding in worker
// goroutines with a bounded queue of ready batches. It leaves out samplers
// other than sequential and shuffled (weighted or distributed sampling) and
// collation of variable-size examples.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
)

// LoaderOptions configures a Loader.
type LoaderOptions struct {
	BatchSize int    // examples per batch, >= 1
	Shuffle   bool   // a new order every epoch, drawn from Seed and the epoch
	Seed      uint64 // seeds the order and every example's augmentation
	DropLast  bool   // leave out the last batch if it is short
	Workers   int    // goroutines decoding batches; 0 decodes in Next's caller
	Prefetch  int    // batches decoded ahead of the consumer; 0 means 2 per worker

	// Shards > 1 makes the loader one rank's part of data-parallel
	// training: BatchSize is then the global batch, and each batch holds
	// only shard Shard (from 0) of it, positions [Shard*m/Shards,
	// (Shard+1)*m/Shards) of a global batch of m examples. Order and
	// augmentation are those of the global batches, so the shards of all
	// ranks together are exactly the one-process loader's batch. A last
	// batch with fewer examples than Shards is left out of every epoch.
	Shard, Shards int
}

// Loader cuts a Dataset into batches, as torch.utils.data.DataLoader.
//
// What a run sees is a function of (Seed, epoch) alone: the order of the
// examples, and the *rand.Rand each example's Get receives, which is seeded
// from Seed, the epoch and the example's position in the epoch. So the same
// batches come out whatever the number of workers, and a run resumed at a
// given batch (Epoch's start) sees exactly what it would have seen.
//
// Batch buffers are allocated once per Loader and reused, so a steady-state
// epoch allocates nothing per batch beyond what the dataset's Get does.
type Loader struct {
	ds    Dataset
	opt   LoaderOptions
	shape []int
	size  int // floats per example

	mu    sync.Mutex
	spare []*slot // buffers of finished epochs, for the next one
}

// NewLoader returns a Loader over ds.
func NewLoader(ds Dataset, opt LoaderOptions) (*Loader, error) {
	if opt.BatchSize < 1 {
		return nil, fmt.Errorf("data: batch size %d, want >= 1", opt.BatchSize)
	}
	if opt.Workers < 0 || opt.Prefetch < 0 {
		return nil, fmt.Errorf("data: workers %d and prefetch %d must not be negative", opt.Workers, opt.Prefetch)
	}
	if opt.Prefetch == 0 {
		opt.Prefetch = 2 * max(opt.Workers, 1)
	}
	if opt.Shards == 0 {
		opt.Shards = 1
	}
	if opt.Shards < 1 || opt.Shard < 0 || opt.Shard >= opt.Shards {
		return nil, fmt.Errorf("data: shard %d of %d", opt.Shard, opt.Shards)
	}
	shape := append([]int(nil), ds.Shape()...)
	size := exampleSize(shape)
	if len(shape) == 0 || size <= 0 {
		return nil, fmt.Errorf("data: dataset example shape %v is empty", shape)
	}
	return &Loader{ds: ds, opt: opt, shape: shape, size: size}, nil
}

// NumBatches returns the number of batches in one epoch.
func (l *Loader) NumBatches() int {
	n, b := l.ds.Len(), l.opt.BatchSize
	if l.opt.DropLast || n%b != 0 && n%b < l.opt.Shards {
		return n / b
	}
	return (n + b - 1) / b
}

// shardOf returns the positions [lo, hi) of this loader's shard of a
// global batch at positions [lo, lo+m).
func (l *Loader) shardOf(lo, m int) (int, int) {
	k, r := l.opt.Shards, l.opt.Shard
	return lo + r*m/k, lo + (r+1)*m/k
}

// Order returns the dataset indices in the order epoch visits them.
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	if !l.opt.Shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	return rand.New(rand.NewPCG(l.opt.Seed, mix64(uint64(epoch)^0x6f726465725f5f5f))).Perm(n)
}

// mix64 is SplitMix64's finalizer: nearby inputs give unrelated outputs.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// exampleSeed returns the PCG seed of the example at position pos of epoch.
func (l *Loader) exampleSeed(epoch, pos int) (uint64, uint64) {
	hi := mix64(l.opt.Seed ^ mix64(uint64(epoch)))
	return hi, mix64(hi ^ uint64(pos))
}

// Batch is one batch of examples. Its slices belong to the Loader and stay
// valid only until the next call to Next or Close.
type Batch struct {
	X       []float32 // Shape[0] examples of the dataset's shape, contiguous
	Shape   []int     // [N, example shape...], e.g. [N, C, H, W]
	Y       []int     // label of each example
	Indices []int     // dataset index of each example
	Pos     int       // this batch's position in the epoch, from 0
	// Global is the number of examples in the global batch this one is a
	// shard of (LoaderOptions.Shards); len(Y) when the loader is unsharded.
	Global int
}

// slot is one reusable batch buffer travelling between the dispatcher, a
// worker and the consumer.
type slot struct {
	b    Batch
	x    []float32
	y    []int
	idx  []int
	err  error
	done chan struct{}
}

// Iter walks one epoch. Use it as
//
//	it, err := loader.Epoch(ctx, epoch, 0)
//	...
//	defer it.Close()
//	for it.Next() {
//		b := it.Batch()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iter struct {
	l       *Loader
	epoch   int
	order   []int
	next    int // next batch to fill when decoding inline
	end     int
	cur     *slot
	err     error
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	slots   []*slot
	free    chan *slot
	ordered chan *slot
	wg      sync.WaitGroup
	pcg     *rand.PCG // inline decoding
	rng     *rand.Rand
}

// Epoch starts epoch number epoch at batch start (0 for a fresh epoch, or
// the number of batches already consumed when resuming). Cancelling ctx
// stops the workers; Next then returns false and Err reports ctx's error.
// The caller must Close the Iter.
func (l *Loader) Epoch(ctx context.Context, epoch, start int) (*Iter, error) {
	nb := l.NumBatches()
	if start < 0 || start > nb {
		return nil, fmt.Errorf("data: start batch %d is outside the epoch's %d batches", start, nb)
	}
	if epoch < 0 {
		return nil, fmt.Errorf("data: epoch %d is negative", epoch)
	}
	it := &Iter{l: l, epoch: epoch, order: l.Order(epoch), next: start, end: nb}
	it.ctx, it.cancel = context.WithCancel(ctx)
	nSlots := 1
	if l.opt.Workers > 0 {
		nSlots = l.opt.Workers + l.opt.Prefetch + 1
	}
	it.slots = l.takeSlots(nSlots)
	if l.opt.Workers == 0 {
		it.pcg = rand.NewPCG(0, 0)
		it.rng = rand.New(it.pcg)
		return it, nil
	}
	it.free = make(chan *slot, nSlots)
	for _, s := range it.slots {
		it.free <- s
	}
	it.ordered = make(chan *slot, nSlots)
	jobs := make(chan *slot)
	it.wg.Add(1 + l.opt.Workers)
	go it.dispatch(jobs, start, nb)
	for range l.opt.Workers {
		go it.work(jobs)
	}
	return it, nil
}

func (l *Loader) takeSlots(n int) []*slot {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*slot, 0, n)
	for len(out) < n && len(l.spare) > 0 {
		out = append(out, l.spare[len(l.spare)-1])
		l.spare = l.spare[:len(l.spare)-1]
	}
	bs := (l.opt.BatchSize + l.opt.Shards - 1) / l.opt.Shards
	for len(out) < n {
		s := &slot{
			x:    make([]float32, bs*l.size),
			y:    make([]int, bs),
			idx:  make([]int, bs),
			done: make(chan struct{}, 1),
		}
		s.b.Shape = append([]int{bs}, l.shape...)
		out = append(out, s)
	}
	return out
}

// dispatch hands batch positions to the workers in order, each in a free
// slot, and queues the slots in the same order for the consumer.
func (it *Iter) dispatch(jobs chan<- *slot, start, end int) {
	defer it.wg.Done()
	defer close(jobs)
	defer close(it.ordered)
	for k := start; k < end; k++ {
		var s *slot
		select {
		case s = <-it.free:
		case <-it.ctx.Done():
			return
		}
		s.b.Pos = k
		it.ordered <- s // never blocks: it holds every slot
		select {
		case jobs <- s:
		case <-it.ctx.Done():
			return
		}
	}
}

func (it *Iter) work(jobs <-chan *slot) {
	defer it.wg.Done()
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	for s := range jobs {
		it.fill(s, pcg, rng)
		s.done <- struct{}{}
	}
}

// fill decodes batch s.b.Pos into s.
func (it *Iter) fill(s *slot, pcg *rand.PCG, rng *rand.Rand) {
	l := it.l
	bs := l.opt.BatchSize
	lo := s.b.Pos * bs
	hi := min(lo+bs, len(it.order))
	global := hi - lo
	if l.opt.Shards > 1 {
		lo, hi = l.shardOf(lo, global)
	}
	n := hi - lo
	s.err = nil
	for j := 0; j < n; j++ {
		if it.ctx.Err() != nil {
			s.err = it.ctx.Err()
			return
		}
		pos := lo + j
		idx := it.order[pos]
		pcg.Seed(l.exampleSeed(it.epoch, pos))
		y, err := l.ds.Get(idx, s.x[j*l.size:(j+1)*l.size], rng)
		if err != nil {
			s.err = fmt.Errorf("data: example %d (position %d of epoch %d): %w", idx, pos, it.epoch, err)
			return
		}
		s.y[j], s.idx[j] = y, idx
	}
	s.b.X, s.b.Y, s.b.Indices = s.x[:n*l.size], s.y[:n], s.idx[:n]
	s.b.Shape[0], s.b.Global = n, global
}

// Next decodes or waits for the next batch and reports whether there is one.
// It returns false at the end of the epoch (releasing the workers, as Close
// does), on an error and after Close.
func (it *Iter) Next() bool {
	if it.closed || it.err != nil {
		return false
	}
	if it.l.opt.Workers == 0 {
		if it.next >= it.end {
			it.stop()
			return false
		}
		s := it.slots[0]
		s.b.Pos = it.next
		it.next++
		it.fill(s, it.pcg, it.rng)
		if s.err != nil {
			it.fail(s.err)
			return false
		}
		it.cur = s
		return true
	}
	if it.cur != nil {
		it.free <- it.cur // never blocks: free holds every slot
		it.cur = nil
	}
	var s *slot
	var ok bool
	select {
	case s, ok = <-it.ordered:
	case <-it.ctx.Done():
		it.fail(it.ctx.Err())
		return false
	}
	if !ok {
		if err := it.ctx.Err(); err != nil {
			it.fail(err)
		}
		it.stop()
		return false
	}
	select {
	case <-s.done:
	case <-it.ctx.Done():
		it.fail(it.ctx.Err())
		return false
	}
	if s.err != nil {
		it.fail(s.err)
		return false
	}
	it.cur = s
	return true
}

func (it *Iter) fail(err error) {
	if it.err == nil {
		it.err = err
	}
	it.stop()
}

// Batch returns the batch Next produced.
func (it *Iter) Batch() *Batch {
	if it.cur == nil {
		return nil
	}
	return &it.cur.b
}

// Err returns the first error that stopped the epoch: a failing Get or a
// cancelled context. It is nil after a complete epoch or a Close.
func (it *Iter) Err() error { return it.err }

// stop cancels the workers, waits for them, and returns the buffers to the
// Loader for the next epoch.
func (it *Iter) stop() {
	if it.closed {
		return
	}
	it.closed = true
	it.cancel()
	it.wg.Wait()
	it.cur = nil
	// A worker may have finished a slot nobody will read; drain done signals
	// so the slot is clean for reuse.
	for _, s := range it.slots {
		select {
		case <-s.done:
		default:
		}
	}
	it.l.mu.Lock()
	it.l.spare = append(it.l.spare, it.slots...)
	it.l.mu.Unlock()
	it.slots = nil
}

// Close stops the epoch early (or releases it after the last batch). It is
// safe to call more than once.
func (it *Iter) Close() { it.stop() }
