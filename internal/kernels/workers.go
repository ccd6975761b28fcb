package kernels

// This file is the worker goroutines that every parallel call of the
// package and of package conv runs on: the GEMMs' parts, the optimizer
// updates' blocks, batch normalisation's channels and the convolutions'
// chunks. The workers are shared by every kind of call, not kept per kind,
// because a worker spins for a while after its last job (spin.go): with a
// set per kind, one kind's idle worker would spin on a core another kind's
// call wants, and a call of a kind that had been idle found its workers
// asleep (130 us to wake on the 2-vCPU Zen 5). There are a few sets, one
// per concurrent call (Slots).

import (
	"sync"
	"sync/atomic"
)

// Task is work that Parallel splits among goroutines: Run(i) does part i.
// Parts must be safe to run at once, and the whole must be done when
// every part has run, in any order or all on one goroutine.
type Task interface {
	Run(part int)
}

// Slots holds a few values of T, each taken by one caller at a time: the
// shared state of a kind of parallel call, so that concurrent calls (trials
// of kiln tune --jobs, requests to a server) each get their own without
// allocating. A call that finds every slot taken runs on its own
// goroutine.
type Slots[T any] struct {
	s [concurrentCalls]struct {
		mu sync.Mutex
		v  T
	}
}

// concurrentCalls is how many calls of one kind run on workers at once.
const concurrentCalls = 4

// Take returns a free slot's value and its index, or nil and -1 when
// every slot is taken; Release(i) gives slot i back.
func (s *Slots[T]) Take() (*T, int) {
	for i := range s.s {
		if s.s[i].mu.TryLock() {
			return &s.s[i].v, i
		}
	}
	return nil, -1
}

// Release gives back slot i, taken by Take.
func (s *Slots[T]) Release(i int) { s.s[i].mu.Unlock() }

// Shared is the state a split call's goroutines share: a copy of its
// arguments and the counter they take work from.
type Shared[A any] struct {
	args A
	next atomic.Int64
	work func(a *A, part int, next *atomic.Int64)
}

// Run runs part part of the call.
func (s *Shared[A]) Run(part int) { s.work(&s.args, part, &s.next) }

// RunShared runs work(a, part, next) for parts 0 to threads-1, part 0 on
// the caller and the rest on workers, sharing a copy of *a and a counter
// from zero (Claim) in one of slots, so that the call allocates nothing,
// and reports true. When threads < 2 or every slot is taken it runs
// nothing and reports false: the caller then calls work(a, 0, nil) itself,
// directly, which keeps a on its stack (a call through a func value here
// would move it to the heap).
func RunShared[A any](slots *Slots[Shared[A]], a *A, threads int, work func(a *A, part int, next *atomic.Int64)) bool {
	var s *Shared[A]
	slot := -1
	if threads >= 2 {
		s, slot = slots.Take()
	}
	if s == nil {
		return false
	}
	defer slots.Release(slot)
	s.args, s.work = *a, work
	s.next.Store(0)
	Parallel(s, threads)
	var zero A
	s.args = zero // let the call's operands go
	return true
}

// Claim returns the piece of work a goroutine takes after piece k (-1 at
// the start): the next one from the shared counter next, or k+1 when it
// runs them all (next nil).
func Claim(next *atomic.Int64, k int) int {
	if next == nil {
		return k + 1
	}
	return int(next.Add(1) - 1)
}

// workers is a set of worker goroutines and the one call they work on;
// jobs carries each worker's part.
type workers struct {
	task  Task
	jobs  chan int
	wg    join
	count int
}

// workerSets are the package's workers: one set a concurrent call.
var workerSets Slots[workers]

// parallelCalls counts the calls that ran on workers, for tests.
var parallelCalls atomic.Int64

// Parallel runs t.Run(0) on the calling goroutine and t.Run(1) to
// t.Run(parts-1) on one of the package's sets of workers, and returns
// when every part has. When every set is busy (more concurrent callers
// than sets, or a part that itself calls Parallel while the others are
// busy), it runs every part on the calling goroutine, in order. It
// allocates nothing once the workers exist.
func Parallel(t Task, parts int) {
	if parts < 2 {
		for i := range parts {
			t.Run(i)
		}
		return
	}
	w, slot := workerSets.Take()
	if w == nil {
		for i := range parts {
			t.Run(i)
		}
		return
	}
	defer workerSets.Release(slot)
	if w.jobs == nil {
		w.jobs = make(chan int, 64)
	}
	for ; w.count < parts-1; w.count++ {
		go w.work()
	}
	w.task = t
	parallelCalls.Add(1)
	w.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		w.jobs <- i
	}
	t.Run(0)
	w.wg.Wait()
	w.task = nil // let the call's operands go
}

func (w *workers) work() {
	for {
		part := receive(w.jobs)
		w.task.Run(part)
		w.wg.Done()
	}
}
