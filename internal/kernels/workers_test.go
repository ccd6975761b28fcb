package kernels

import (
	"sync"
	"testing"
	"time"
)

// meetTask's part 0 (the caller's) waits for part 1 to have started,
// which happens only when part 1 runs on a worker at the same time; part
// 1 first waits until every call's part 1 has started, so that the calls
// are all inside Parallel at once.
type meetTask struct {
	all     *sync.WaitGroup
	started chan struct{}
	met     bool
}

func (m *meetTask) Run(part int) {
	if part == 1 {
		m.all.Done()
		waitTimeout(m.all, 5*time.Second)
		close(m.started)
		return
	}
	select {
	case <-m.started:
		m.met = true
	case <-time.After(10 * time.Second):
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// TestParallelConcurrentCalls runs as many calls of Parallel at once as
// there are sets of workers, and requires every one of them to have run
// on workers (a call that fell back to its own goroutine would run part 0
// before part 1 and never meet it).
func TestParallelConcurrentCalls(t *testing.T) {
	var all sync.WaitGroup
	all.Add(concurrentCalls)
	tasks := make([]*meetTask, concurrentCalls)
	var wg sync.WaitGroup
	for i := range tasks {
		tasks[i] = &meetTask{all: &all, started: make(chan struct{})}
		wg.Add(1)
		go func() {
			defer wg.Done()
			Parallel(tasks[i], 2)
		}()
	}
	wg.Wait()
	for i, m := range tasks {
		if !m.met {
			t.Errorf("call %d of %d at once ran on its own goroutine", i, concurrentCalls)
		}
	}
}

// TestSlots checks that Take hands each slot to one caller until it is
// released.
func TestSlots(t *testing.T) {
	var s Slots[int]
	seen := map[*int]bool{}
	var taken []int
	for range concurrentCalls {
		v, i := s.Take()
		if v == nil || seen[v] {
			t.Fatalf("Take gave %v (slot %d) with %d taken", v, i, len(taken))
		}
		seen[v] = true
		taken = append(taken, i)
	}
	if v, i := s.Take(); v != nil || i != -1 {
		t.Fatalf("Take with every slot taken gave slot %d", i)
	}
	s.Release(taken[1])
	if v, i := s.Take(); v == nil || i != taken[1] {
		t.Fatalf("after releasing slot %d, Take gave slot %d", taken[1], i)
	}
}
