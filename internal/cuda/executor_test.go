package cuda

import (
	"errors"
	"sync"
	"testing"
)

// TestExecutorOneThread checks the property the CUDA context relies on:
// init, every call from any goroutine, and fini all run on one OS thread,
// one at a time, in the order each caller submitted them.
func TestExecutorOneThread(t *testing.T) {
	var initTid, finiTid int
	e, err := newExecutor(func() error { initTid = gettid(); return nil }, func() error { finiTid = gettid(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	tids := map[int]int{}
	inside := 0
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			for i := range 200 {
				err := e.Do(func() error {
					inside++ // racy unless calls are serialised (run with -race)
					if inside != 1 {
						t.Errorf("%d calls at once", inside)
					}
					mu.Lock()
					tids[gettid()]++
					mu.Unlock()
					if i <= last {
						t.Errorf("goroutine %d: call %d after %d", g, i, last)
					}
					last = i
					inside--
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tids) != 1 || tids[initTid] != 1600 || finiTid != initTid {
		t.Errorf("calls ran on threads %v; init on %d, fini on %d", tids, initTid, finiTid)
	}
	if err := e.Do(func() error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("Do after Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestExecutorErrors(t *testing.T) {
	boom := cuCheck("cuInit", 100)
	if _, err := newExecutor(func() error { return boom }, nil); !errors.Is(err, ErrNoDevice) {
		t.Errorf("init error: %v", err)
	}
	e, err := newExecutor(func() error { return nil }, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Do(func() error { return boom }); err != boom {
		t.Errorf("Do returned %v, want the call's error", err)
	}
	// A call that calls Do again runs inline instead of deadlocking.
	ran := false
	if err := e.Do(func() error { return e.Do(func() error { ran = true; return nil }) }); err != nil || !ran {
		t.Errorf("nested Do: %v, ran %v", err, ran)
	}
}

// TestExecutorRun: Run puts fn on the executor's thread, where Do runs
// inline; a panic in fn comes back to the caller and the executor goes on;
// after Close, Run reports the closed executor.
func TestExecutorRun(t *testing.T) {
	e, err := newExecutor(func() error { return nil }, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	calls, threads := 0, map[int]bool{}
	if err := e.Run(func() {
		for range 100 {
			if err := e.Do(func() error { calls++; threads[gettid()] = true; return nil }); err != nil {
				t.Error(err)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if calls != 100 || len(threads) != 1 || e.tid != 0 && !threads[e.tid] {
		t.Errorf("%d calls on threads %v, want 100 on the executor's %d", calls, threads, e.tid)
	}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		e.Run(func() { panic("boom") })
		t.Error("Run returned after fn panicked")
	}()
	if err := e.Do(func() error { return nil }); err != nil {
		t.Errorf("Do after a panicking Run: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e.tid != 0 {
		if err := e.Run(func() { t.Error("ran after Close") }); !errors.Is(err, errClosed) {
			t.Errorf("Run after Close: %v", err)
		}
	}
}
