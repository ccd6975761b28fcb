package kernels

// This file is how the workers (workers.go) wait for their next job and a
// parallel call for its workers: spinning a while before they sleep. It
// leaves out the workers themselves.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long a worker keeps looking for its next job, and a
// caller for its workers to finish, before it sleeps. A training step hands
// its workers a job every few hundred microseconds, and on the 2-vCPU Zen 5
// a sleeping worker started 130 us after it was handed one on average (its
// vCPU had halted, and the hypervisor must run it again): one core idle for
// 14% of the seed CNN's step (docs/PERFORMANCE.md). OpenMP runtimes spin
// the same way before they block (KMP_BLOCKTIME, GOMP_SPINCOUNT).
const spinFor = 2 * time.Millisecond

// yieldEvery is how many tries a spin makes between yields of the
// processor, which let goroutines with work to do (a data loader's
// decoders, a worker not yet started) run meanwhile.
const yieldEvery = 64

// looksPerTry is how many times a try of receive looks at len(ch).
const looksPerTry = 64

// spin paces a spin-wait: each call of more is one try, every yieldEvery
// tries it yields the processor, and once spinFor has passed it reports
// false: time to block.
type spin struct {
	tries int
	start time.Time
}

func (s *spin) more() bool {
	if s.tries%yieldEvery == 0 {
		if s.tries == 0 {
			s.start = time.Now()
		} else if time.Since(s.start) > spinFor {
			return false
		}
		runtime.Gosched()
	}
	s.tries++
	return true
}

// receive takes the next value from ch, trying for up to spinFor before it
// blocks. Between tries it watches len(ch), which takes no lock, with the
// spin-wait hint (PAUSE) between looks.
func receive[T any](ch <-chan T) T {
	var s spin
	for {
		select {
		case v := <-ch:
			return v
		default:
		}
		if !s.more() {
			return <-ch
		}
		for range looksPerTry {
			if len(ch) > 0 {
				break
			}
			spinPause()
		}
	}
}

// join counts the workers a parallel call is waiting for. Its caller
// spins in Wait before it sleeps: a caller that sleeps hands its thread
// to the last worker when that one finishes, and the worker's next spin
// then needs another thread woken, which on the 2-vCPU machine made one
// inference in a hundred wait a whole 4 ms scheduler tick.
type join struct {
	left atomic.Int32
	wg   sync.WaitGroup
}

// Add expects n more calls of Done.
func (j *join) Add(n int) {
	j.left.Add(int32(n))
	j.wg.Add(n)
}

// Done says one worker has finished; it must touch nothing of the call
// after.
func (j *join) Done() {
	j.left.Add(-1)
	j.wg.Done()
}

// Wait returns once every worker has called Done.
func (j *join) Wait() {
	var s spin
	for j.left.Load() > 0 {
		spinPause()
		if !s.more() {
			j.wg.Wait()
			return
		}
	}
}
