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

// workers is a set of worker goroutines and the one call they work on;
// jobs carries each worker's part.
type workers struct {
	task  Task
	jobs  chan int
	wg    Join
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
		part := Receive(w.jobs)
		w.task.Run(part)
		w.wg.Done()
	}
}
