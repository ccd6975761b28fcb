package serve

// This file holds dynamic batching: the requests for one model wait in a
// bounded queue, and one goroutine runs them in batches of at most
// maxBatch examples, the oldest waiting at most maxDelay for company. It
// leaves out running one model on several goroutines: a batch already uses
// every core through the kernels' own threads.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errQueueFull and errDraining are why a job was not queued.
var (
	errQueueFull = errors.New("serve: the queue is full")
	errDraining  = errors.New("serve: the server is shutting down")
)

// job is one request's examples.
type job struct {
	ctx      context.Context
	x        []float32 // n examples
	n        int
	enqueued time.Time
	done     chan result // buffered: the batcher never blocks on it
}

// result is a job's logits, n*classes of them, or why there are none.
type result struct {
	logits []float32
	err    error
}

// batcher runs one model's jobs.
type batcher struct {
	m        *Model
	maxBatch int
	maxDelay time.Duration
	met      *modelMetrics

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	queue  chan *job
	wg     sync.WaitGroup
}

// newBatcher starts the goroutine that runs m's jobs.
func newBatcher(m *Model, maxBatch int, maxDelay time.Duration, queue int, met *modelMetrics) *batcher {
	b := &batcher{m: m, maxBatch: maxBatch, maxDelay: maxDelay, met: met, queue: make(chan *job, queue)}
	b.wg.Add(1)
	go b.loop()
	return b
}

// submit queues j, or says why it cannot: the queue is full or closed.
func (b *batcher) submit(j *job) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errDraining
	}
	j.enqueued = time.Now()
	j.done = make(chan result, 1)
	select {
	case b.queue <- j:
		return nil
	default:
		return errQueueFull
	}
}

// depth returns the number of queued jobs.
func (b *batcher) depth() int { return len(b.queue) }

// close runs the jobs already queued and stops the goroutine.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// loop takes jobs in order and runs them in batches.
func (b *batcher) loop() {
	defer b.wg.Done()
	var next *job // a job that did not fit the last batch
	for {
		j, ok := next, true
		if j == nil {
			if j, ok = <-b.queue; !ok {
				return
			}
		}
		next = nil
		batch, n := []*job{j}, j.n
		if n < b.maxBatch {
			timer := time.NewTimer(time.Until(j.enqueued.Add(b.maxDelay)))
		collect:
			for n < b.maxBatch {
				var k *job
				select { // what is queued already joins, even past the delay
				case k, ok = <-b.queue:
				default:
					select {
					case k, ok = <-b.queue:
					case <-timer.C:
						break collect
					}
				}
				if !ok {
					break collect
				}
				if n+k.n > b.maxBatch {
					next = k
					break collect
				}
				batch, n = append(batch, k), n+k.n
			}
			timer.Stop()
		}
		b.run(batch)
	}
}

// run runs one batch and hands each job its logits. Jobs whose request
// has gone (timed out, client left) are dropped before the forward pass.
func (b *batcher) run(batch []*job) {
	live := batch[:0]
	n := 0
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- result{err: err}
			continue
		}
		live, n = append(live, j), n+j.n
	}
	if n == 0 {
		return
	}
	size := b.m.size()
	x := live[0].x
	if len(live) > 1 {
		x = make([]float32, 0, n*size)
		for _, j := range live {
			x = append(x, j.x...)
		}
	}
	start := time.Now()
	logits, err := b.forward(x)
	b.met.batch(n, time.Since(start))
	k := len(b.m.Classes)
	if err == nil && len(logits) != n*k {
		err = fmt.Errorf("serve: model %s gave %d outputs for %d examples of %d classes", b.m.Name, len(logits), n, k)
	}
	off := 0
	for _, j := range live {
		if err != nil {
			j.done <- result{err: err}
			continue
		}
		j.done <- result{logits: logits[off : off+j.n*k : off+j.n*k]}
		off += j.n * k
	}
}

// forward calls the model, turning a panic into an error so that one bad
// batch does not take the server down.
func (b *batcher) forward(x []float32) (logits []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("serve: model %s failed: %v", b.m.Name, r)
		}
	}()
	return b.m.Logits(x)
}
