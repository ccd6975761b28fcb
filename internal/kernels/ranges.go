package kernels

// This file spreads the optimizer updates (and clearing long buffers) over goroutines: each element's
// update reads and writes that element alone, so cutting the flat buffers
// into ranges leaves no trace in the bits. Workers are long-lived and find
// the call in the pool, as the GEMM's and the convolutions' do, so a
// parallel update allocates nothing. It leaves out the updates themselves
// (step.go, update.go).

import (
	"sync/atomic"
)

// rangeBlock is how many elements one goroutine takes at a time: enough
// that waking a worker pays (an Adam update of 32K floats touches 512 KB).
const rangeBlock = 1 << 15

// minChunkFloats is the least work, in floats, worth handing to another
// goroutine.
const minChunkFloats = 1 << 12

// ChunkSize is how many of n items of size floats each a chunk of parallel
// work holds: at most most, and fewer when that leaves some of threads
// goroutines without a chunk, down to minChunkFloats' worth. At most
// alone, the seed CNN's second max pooling made 7 chunks, its weight
// gradients' sums 4 or 1 and Adam's parameters 8, so on 16 cores most
// goroutines watched. Only for work whose bits do not depend on where the
// chunks are cut.
func ChunkSize(n, most, size, threads int) int {
	even := max((n+max(threads, 1)-1)/max(threads, 1), (minChunkFloats+size-1)/size)
	return max(min(most, even), 1)
}

// updateKind is which update a rangeTask runs.
type updateKind uint8

const (
	updateAdam updateKind = iota
	updateAdamFull
	updateSGD
	updateRMSprop
	updateZero
)

// rangeTask is one update call over whole buffers; run does elements
// [lo, hi).
type rangeTask struct {
	kind             updateKind
	mode             AdamMode
	p, g, m, v, vmax []float32 // Adam's; SGD's buffer in m; RMSprop's sq, avg, buf in m, v, vmax
	adam             AdamCoef
	sgd              SGDCoef
	rms              RMSpropCoef
}

// part is s[lo:hi], or nil for an optional buffer that is nil.
func part(s []float32, lo, hi int) []float32 {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

func (t *rangeTask) run(lo, hi int) {
	p, g := t.p[lo:hi], part(t.g, lo, hi)
	switch t.kind {
	case updateAdam:
		adamStep(t.mode, p, g, t.m[lo:hi], t.v[lo:hi], &t.adam)
	case updateAdamFull:
		adamStepFull(t.mode, p, g, t.m[lo:hi], t.v[lo:hi], part(t.vmax, lo, hi), &t.adam)
	case updateSGD:
		if t.sgd.Maximize {
			sgdStepGo(p, g, t.m[lo:hi], &t.sgd)
		} else {
			sgdStep(p, g, t.m[lo:hi], &t.sgd)
		}
	case updateRMSprop:
		rmspropStep(p, g, t.m[lo:hi], part(t.v, lo, hi), part(t.vmax, lo, hi), &t.rms)
	case updateZero:
		clear(p)
	}
}

// Zero sets every element of s to +0, on every core when s is long (a
// megabyte of gradients, an activation's gradient buffer).
func Zero(s []float32) {
	runUpdate(rangeTask{kind: updateZero, p: s}, len(s))
}

// rangeCall is one update over n elements, split in blocks of block.
type rangeCall struct {
	task     rangeTask
	n, block int
}

// updates are the states split updates use (RunShared).
var updates Slots[Shared[rangeCall]]

// runUpdate runs t over n elements: in blocks on up to Threads()
// goroutines when there are wideThreads of them or more and blocks
// enough; else at once on the caller's.
// These passes are bound by memory, not arithmetic: on the 2-vCPU
// machine one core already streams them as fast as the memory allows (an
// Adam step over 260K parameters took 68 us on one goroutine, 82 us on
// two; clearing a megabyte 10 and 16 us), while a many-core server's
// memory outruns one core several times over.
func runUpdate(t rangeTask, n int) {
	if Threads() < wideThreads {
		t.run(0, n)
		return
	}
	// Blocks of rangeBlock, or smaller so that every goroutine gets one:
	// the seed CNN's 260K parameters made 8 blocks, for 16 cores.
	block := (ChunkSize(n, rangeBlock, 1, Threads()) + 15) &^ 15
	threads := min(Threads(), (n+block-1)/block)
	u := rangeCall{task: t, n: n, block: block}
	if !RunShared(&updates, &u, threads, rangeBlocks) {
		rangeBlocks(&u, 0, nil)
	}
}

// rangeBlocks takes blocks of u until none is left.
func rangeBlocks(u *rangeCall, _ int, next *atomic.Int64) {
	for k := Claim(next, -1); k*u.block < u.n; k = Claim(next, k) {
		lo := k * u.block
		u.task.run(lo, min(lo+u.block, u.n))
	}
}
