package cuda

import (
	"errors"
	"runtime"
	"sync"
)

// errClosed is returned by calls made after the executor stopped.
var errClosed = errors.New("cuda: device closed")

// executor runs functions one at a time on one goroutine locked to one OS
// thread. A CUDA context is current per OS thread, and the Go scheduler
// moves goroutines between threads at will, so every driver call for a
// context goes through the executor that made it current: a small call
// queue, like a single-threaded executor.
type executor struct {
	calls chan call
	tid   int // the locked thread's id, 0 where gettid is unknown
	once  sync.Once
	done  chan struct{}
	mu    sync.RWMutex
	shut  bool
}

type call struct {
	fn  func() error
	err chan error
}

// newExecutor starts the goroutine, locks it to its thread and runs init
// there (cuInit, making the context current). If init fails the goroutine
// ends and the error is returned. fini runs on the thread when Close is
// called, after every queued call.
func newExecutor(init, fini func() error) (*executor, error) {
	e := &executor{calls: make(chan call), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer close(e.done)
		e.tid = gettid()
		if err := init(); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for c := range e.calls {
			if c.fn == nil { // Close's marker
				c.err <- fini()
				return
			}
			c.err <- c.fn()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return e, nil
}

// Do runs fn on the executor's thread and returns its error. Called from
// the executor's own thread (fn calling Do) it runs fn at once rather than
// deadlock.
func (e *executor) Do(fn func() error) error {
	if e.tid != 0 && gettid() == e.tid {
		return fn()
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.shut {
		return errClosed
	}
	c := call{fn: fn, err: make(chan error, 1)}
	e.calls <- c
	return <-c.err
}

// Close runs fini on the thread and stops the goroutine; later calls get
// errClosed. Closing twice is a no-op.
func (e *executor) Close() error {
	var err error
	e.once.Do(func() {
		e.mu.Lock()
		e.shut = true
		e.mu.Unlock()
		c := call{err: make(chan error, 1)}
		e.calls <- c
		err = <-c.err
		<-e.done
	})
	return err
}

// Run runs fn on the executor's thread, where every Do it makes is a plain
// call: a stretch of many driver calls (a training step's launches) then
// costs one hop to the thread instead of one each. A panic in fn is raised
// again in the caller, and the executor goes on. Where the thread's id is
// unknown, nested calls could not be told apart, so fn runs in the caller
// and each call hops as before.
func (e *executor) Run(fn func()) error {
	if e.tid == 0 || gettid() == e.tid {
		fn()
		return nil
	}
	var p any
	panicked := false
	err := e.Do(func() error {
		panicked = true
		defer func() {
			if panicked {
				p = recover()
			}
		}()
		fn()
		panicked = false
		return nil
	})
	if panicked {
		panic(p)
	}
	return err
}
