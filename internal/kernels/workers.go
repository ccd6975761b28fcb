package kernels

// This file is the one set of worker goroutines that every parallel call
// of the package and of package conv runs on: the GEMMs' parts, the
// optimizer updates' blocks and the convolutions' chunks. One set, not one
// per kind of call, because a worker spins for a while after its last job
// (spin.go): with a set per kind, one kind's idle worker would spin on a
// core another kind's call wants, and a call of a kind that had been idle
// found its workers asleep (130 us to wake on the 2-vCPU Zen 5).

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

// workers is the package's worker goroutines and the one call they work
// on; jobs carries each worker's part.
type workers struct {
	mu    sync.Mutex // held by the call that owns the workers
	task  Task
	jobs  chan int
	wg    Join
	count int
	calls atomic.Int64 // calls that ran on the workers, for tests
}

var pool workers

// Parallel runs t.Run(0) on the calling goroutine and t.Run(1) to
// t.Run(parts-1) on the package's workers, and returns when every part
// has. When another call holds the workers (a concurrent caller, or a
// part that itself calls Parallel), it runs every part on the calling
// goroutine, in order. It allocates nothing once the workers exist.
func Parallel(t Task, parts int) {
	if parts < 2 || !pool.mu.TryLock() {
		for i := range parts {
			t.Run(i)
		}
		return
	}
	defer pool.mu.Unlock()
	if pool.jobs == nil {
		pool.jobs = make(chan int, 64)
	}
	for ; pool.count < parts-1; pool.count++ {
		go pool.work()
	}
	pool.task = t
	pool.calls.Add(1)
	pool.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		pool.jobs <- i
	}
	t.Run(0)
	pool.wg.Wait()
	pool.task = nil // let the call's operands go
}

func (w *workers) work() {
	for {
		part := Receive(w.jobs)
		w.task.Run(part)
		w.wg.Done()
	}
}
