//go:build mpi

package mpi

// This file holds the cgo binding: the MPI thread, the non-blocking
// collectives polled against the timeout, and the arrival ring that names
// a rank that never came.

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

static int kiln_init(int *rank, int *size, int *provided) {
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
	if (rc != MPI_SUCCESS) return rc;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}
static int kiln_iallreduce_f32(float *buf, int n, MPI_Request *req) {
	return MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, req);
}
static int kiln_iallreduce_f64(double *buf, int n, MPI_Request *req) {
	return MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, req);
}
static int kiln_ibcast(void *buf, int n, int root, MPI_Request *req) {
	return MPI_Ibcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD, req);
}
static int kiln_iallgather(void *send, int n, void *recv, MPI_Request *req) {
	return MPI_Iallgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD, req);
}
static int kiln_ibarrier(MPI_Request *req) { return MPI_Ibarrier(MPI_COMM_WORLD, req); }
static int kiln_test(MPI_Request *req, int *done) { return MPI_Test(req, done, MPI_STATUS_IGNORE); }
static int kiln_notify(long long *seq, int to, MPI_Request *req) {
	return MPI_Isend(seq, 1, MPI_LONG_LONG, to, 7701, MPI_COMM_WORLD, req);
}
static int kiln_listen(long long *seq, int from, MPI_Request *req) {
	return MPI_Irecv(seq, 1, MPI_LONG_LONG, from, 7701, MPI_COMM_WORLD, req);
}
static void kiln_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int kiln_finalize(void) { return MPI_Finalize(); }
static void kiln_error_string(int code, char *s) { int n; MPI_Error_string(code, s, &n); }
static void kiln_processor_name(char *s) { int n; MPI_Get_processor_name(s, &n); s[n] = 0; }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/kiln-ml/kiln/dist"
)

// Available reports whether this build can talk to Open MPI.
const Available = true

// ring is how many arrival notices may be in flight from one rank.
const ring = 256

// Comm is the communicator of the processes mpirun started: every rank of
// MPI_COMM_WORLD.
type Comm struct {
	rank, size int
	host       string
	hosts      []string
	timeout    time.Duration

	mu    sync.Mutex        // one collective at a time
	calls chan func() error // run on the MPI thread, one at a time
	done  chan error        // their results

	// The arrival ring, in C memory: MPI keeps these pointers after the
	// calls that start its messages return.
	sendSeq   *C.longlong // ring slots
	sendReq   *C.MPI_Request
	recvSeq   *C.longlong
	recvReq   *C.MPI_Request
	seq       int64     // collectives started by this rank
	predSeen  int64     // the newest collective the rank before this one started
	predHeard time.Time // when a notice from it last came
}

var _ dist.Communicator = (*Comm)(nil)

// Init initialises MPI and returns the communicator of every process of
// the job. A collective that has not finished after timeout (0: never
// give up) fails with an error naming, when it can, the rank that never
// joined it. Call Close at the end, or Abort to end the whole job.
func Init(timeout time.Duration) (*Comm, error) {
	c := &Comm{timeout: timeout, calls: make(chan func() error), done: make(chan error, 1)}
	ready := make(chan error)
	go c.thread(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	hosts, err := dist.Hosts(c)
	if err != nil {
		return nil, err
	}
	c.hosts = hosts
	return c, nil
}

// thread initialises MPI and then runs every MPI call, on one OS thread.
func (c *Comm) thread(ready chan<- error) {
	runtime.LockOSThread()
	var rank, size, provided C.int
	if rc := C.kiln_init(&rank, &size, &provided); rc != C.MPI_SUCCESS {
		ready <- fmt.Errorf("mpi: MPI_Init_thread: %s", errorString(rc))
		return
	}
	if provided < C.MPI_THREAD_FUNNELED {
		ready <- errors.New("mpi: this MPI library does not support MPI_THREAD_FUNNELED")
		return
	}
	c.rank, c.size = int(rank), int(size)
	name := (*C.char)(C.malloc(C.MPI_MAX_PROCESSOR_NAME + 1))
	C.kiln_processor_name(name)
	c.host = C.GoString(name)
	C.free(unsafe.Pointer(name))
	c.sendSeq = (*C.longlong)(C.calloc(ring, C.size_t(unsafe.Sizeof(C.longlong(0)))))
	c.sendReq = (*C.MPI_Request)(C.calloc(ring, C.size_t(unsafe.Sizeof(C.MPI_Request(nil)))))
	c.recvSeq = (*C.longlong)(C.calloc(1, C.size_t(unsafe.Sizeof(C.longlong(0)))))
	c.recvReq = (*C.MPI_Request)(C.calloc(1, C.size_t(unsafe.Sizeof(C.MPI_Request(nil)))))
	if c.size > 1 {
		if rc := C.kiln_listen(c.recvSeq, C.int(c.pred()), c.recvReq); rc != C.MPI_SUCCESS {
			ready <- fmt.Errorf("mpi: MPI_Irecv: %s", errorString(rc))
			return
		}
	}
	ready <- nil
	for f := range c.calls {
		c.done <- f()
	}
}

func (c *Comm) pred() int { return (c.rank - 1 + c.size) % c.size }
func (c *Comm) succ() int { return (c.rank + 1) % c.size }

// Rank returns this process's rank in MPI_COMM_WORLD.
func (c *Comm) Rank() int { return c.rank }

// Size returns the number of processes in the job.
func (c *Comm) Size() int { return c.size }

// Host returns the name of this rank's machine.
func (c *Comm) Host() string { return c.host }

// call runs f on the MPI thread and waits for it.
func (c *Comm) call(f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls <- f
	return <-c.done
}

// collective starts a non-blocking collective with start, tells the next
// rank it has arrived, and polls it until it ends or the timeout passes.
func (c *Comm) collective(what string, start func(req *C.MPI_Request) C.int) error {
	return c.call(func() error {
		c.seq++
		c.notify()
		var req C.MPI_Request
		if rc := start(&req); rc != C.MPI_SUCCESS {
			return fmt.Errorf("mpi: %s #%d on rank %d (%s): %s", what, c.seq, c.rank, c.host, errorString(rc))
		}
		begin := time.Now()
		beat := begin
		for spins := 0; ; spins++ {
			var done C.int
			if rc := C.kiln_test(&req, &done); rc != C.MPI_SUCCESS {
				return fmt.Errorf("mpi: %s #%d on rank %d (%s): %s", what, c.seq, c.rank, c.host, errorString(rc))
			}
			if done != 0 {
				return nil
			}
			c.listen()
			if spins%64 != 0 {
				// Open MPI progresses a collective only inside MPI calls on
				// every rank, so poll hard, but let the training goroutine
				// have the processor whenever it wants it.
				runtime.Gosched()
				continue
			}
			now := time.Now()
			if c.timeout > 0 && now.Sub(begin) > c.timeout {
				return c.timedOut(what)
			}
			if now.Sub(beat) > c.heartbeat() {
				c.notify() // still here, still waiting
				beat = now
			}
			if now.Sub(begin) > spinFor {
				// A long wait (a slow or stopped rank): poll less often.
				time.Sleep(200 * time.Microsecond)
			}
		}
	})
}

// spinFor is how long a collective is polled without sleeping: longer than
// the usual lag between ranks in a step, short against a timeout.
const spinFor = 100 * time.Millisecond

// heartbeat is how often a rank waiting in a collective tells the next
// one it is still alive: often enough that a rank stopped inside the
// collective is told from one that waits there.
func (c *Comm) heartbeat() time.Duration {
	if c.timeout <= 0 {
		return time.Second
	}
	return min(time.Second, max(5*time.Millisecond, c.timeout/8))
}

// notify tells the next rank in the ring that this one has started
// collective c.seq. The send of the notice as many collectives ago as the
// ring has slots must have finished; if it has not, the next rank has not
// listened for that long and this notice is left out.
func (c *Comm) notify() {
	if c.size == 1 {
		return
	}
	slot := int(c.seq % ring)
	req := (*C.MPI_Request)(unsafe.Add(unsafe.Pointer(c.sendReq), slot*int(unsafe.Sizeof(*c.sendReq))))
	if *req != nil {
		var done C.int
		if C.kiln_test(req, &done); done == 0 {
			return
		}
	}
	v := (*C.longlong)(unsafe.Add(unsafe.Pointer(c.sendSeq), slot*int(unsafe.Sizeof(*c.sendSeq))))
	*v = C.longlong(c.seq)
	C.kiln_notify(v, C.int(c.succ()), req)
}

// listen takes in the notices the previous rank has sent.
func (c *Comm) listen() {
	if c.size == 1 {
		return
	}
	for {
		var done C.int
		if C.kiln_test(c.recvReq, &done); done == 0 {
			return
		}
		c.predSeen, c.predHeard = max(c.predSeen, int64(*c.recvSeq)), time.Now()
		if C.kiln_listen(c.recvSeq, C.int(c.pred()), c.recvReq) != C.MPI_SUCCESS {
			return
		}
	}
}

// timedOut is the error of a collective that did not end in time. When
// the previous rank never started it, or started it and then fell silent,
// that rank is named; otherwise some other rank is late, and its
// successor names it, so this rank waits a little for that rank's report
// (and its abort) to come first.
func (c *Comm) timedOut(what string) error {
	c.listen()
	p := c.pred()
	if c.predSeen < c.seq {
		return fmt.Errorf("mpi: %s #%d timed out after %v on rank %d (%s): rank %d (%s) never started it; it has died or hangs (the last collective it started was #%d)",
			what, c.seq, c.timeout, c.rank, c.host, p, c.hostOf(p), c.predSeen)
	}
	if silent := time.Since(c.predHeard); silent > 4*c.heartbeat() {
		return fmt.Errorf("mpi: %s #%d timed out after %v on rank %d (%s): rank %d (%s) started it and has said nothing for %v; it hangs",
			what, c.seq, c.timeout, c.rank, c.host, p, c.hostOf(p), silent.Round(time.Millisecond))
	}
	time.Sleep(3 * time.Second)
	return fmt.Errorf("mpi: %s #%d timed out after %v on rank %d (%s), waiting for another rank",
		what, c.seq, c.timeout, c.rank, c.host)
}

func (c *Comm) hostOf(r int) string {
	if r < len(c.hosts) {
		return c.hosts[r]
	}
	return "unknown host"
}

// pinned runs the collective what on buffers that MPI keeps using after
// the call that starts it returns: they are pinned until it ends. An empty
// first buffer makes it a barrier, so that every rank still meets.
func (c *Comm) pinned(what string, bufs []unsafe.Pointer, n int, start func(req *C.MPI_Request) C.int) error {
	if n == 0 {
		return c.Barrier()
	}
	var pin runtime.Pinner
	for _, b := range bufs {
		pin.Pin(b)
	}
	defer pin.Unpin()
	return c.collective(what, start)
}

// AllReduce sums buf over the ranks, in place (MPI_Iallreduce, MPI_SUM).
func (c *Comm) AllReduce(buf []float32) error {
	p := unsafe.Pointer(unsafe.SliceData(buf))
	return c.pinned("all-reduce", []unsafe.Pointer{p}, len(buf), func(req *C.MPI_Request) C.int {
		return C.kiln_iallreduce_f32((*C.float)(p), C.int(len(buf)), req)
	})
}

// AllReduce64 sums buf over the ranks, in place.
func (c *Comm) AllReduce64(buf []float64) error {
	p := unsafe.Pointer(unsafe.SliceData(buf))
	return c.pinned("all-reduce", []unsafe.Pointer{p}, len(buf), func(req *C.MPI_Request) C.int {
		return C.kiln_iallreduce_f64((*C.double)(p), C.int(len(buf)), req)
	})
}

// Broadcast copies root's buf to every rank.
func (c *Comm) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= c.size {
		return fmt.Errorf("mpi: broadcast from rank %d of %d", root, c.size)
	}
	p := unsafe.Pointer(unsafe.SliceData(buf))
	return c.pinned("broadcast", []unsafe.Pointer{p}, len(buf), func(req *C.MPI_Request) C.int {
		return C.kiln_ibcast(p, C.int(len(buf)), C.int(root), req)
	})
}

// AllGather concatenates every rank's send into recv, in rank order.
func (c *Comm) AllGather(send, recv []byte) error {
	if len(recv) != len(send)*c.size {
		return fmt.Errorf("mpi: all-gather of %d bytes from %d ranks into %d bytes", len(send), c.size, len(recv))
	}
	ps, pr := unsafe.Pointer(unsafe.SliceData(send)), unsafe.Pointer(unsafe.SliceData(recv))
	return c.pinned("all-gather", []unsafe.Pointer{ps, pr}, len(send), func(req *C.MPI_Request) C.int {
		return C.kiln_iallgather(ps, C.int(len(send)), pr, req)
	})
}

// Barrier returns when every rank has called it.
func (c *Comm) Barrier() error {
	return c.collective("barrier", func(req *C.MPI_Request) C.int { return C.kiln_ibarrier(req) })
}

// Abort ends every process of the job (MPI_Abort) with the exit code.
func (c *Comm) Abort(code int) {
	c.calls <- func() error {
		C.kiln_abort(C.int(code))
		return nil
	}
	select {} // MPI_Abort does not return
}

// Close finalises MPI after a barrier, so that no rank leaves while
// another still needs it.
func (c *Comm) Close() error {
	c.Barrier()
	return c.call(func() error {
		if rc := C.kiln_finalize(); rc != C.MPI_SUCCESS {
			return fmt.Errorf("mpi: MPI_Finalize: %s", errorString(rc))
		}
		return nil
	})
}

func errorString(code C.int) string {
	s := (*C.char)(C.malloc(C.MPI_MAX_ERROR_STRING + 1))
	defer C.free(unsafe.Pointer(s))
	C.kiln_error_string(code, s)
	return C.GoString(s)
}
