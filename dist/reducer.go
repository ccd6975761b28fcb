package dist

// This file holds GradReducer: a model's gradients averaged over the ranks
// in buckets that are all-reduced while backward still runs. It leaves out
// the transports (Communicator) and the training step that calls it
// (package train's Update).

import (
	"fmt"
	"time"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// DDP's bucket sizes: a small first bucket, so that the first all-reduce
// starts early in backward, then large ones, few calls.
const (
	FirstBucketBytes = 1 << 20
	BucketBytes      = 25 << 20
)

// bucket is a contiguous range of the flat gradient buffer, a run of whole
// parameters.
type bucket struct {
	lo, hi  int
	leaves  int // parameters in it
	pending int // of those, not yet final in this step
	sent    bool
}

// GradReducer averages the gradients of one model over the ranks of a
// Communicator. Begin before backward, End after it; between them the
// tape's leaf hook hands each bucket to a goroutine that all-reduces it as
// soon as backward has finished every parameter in it. Buckets are
// all-reduced in the order backward finishes them, which is the same on
// every rank because every rank runs the same graph.
//
// A GradReducer is used by one goroutine; its reducing goroutine lives
// until Close.
type GradReducer struct {
	comm    Communicator
	grad    []float32
	buckets []bucket
	of      map[*autograd.Var]int // parameter -> its bucket
	tape    *autograd.Tape
	scale   float32

	jobs chan int
	done chan error
	sent int

	bnStats   []float64 // statistics to sum in the job queue (SumStats)
	statsDone chan error
	err       error // the first failure; every later call reports it

	// Stats since NewGradReducer.
	stats ReduceStats
	began time.Time
}

// ReduceStats says how much of the all-reduce time backward hid.
type ReduceStats struct {
	Steps    int
	Buckets  int
	Backward time.Duration // from Begin to End
	Reduce   time.Duration // inside the communicator's AllReduce, all buckets
	Wait     time.Duration // End waiting for all-reduces still running
}

// Overlap is the share of the all-reduce time spent while backward ran:
// 1 when End never waited, 0 when every all-reduce ran after backward.
func (s ReduceStats) Overlap() float64 {
	if s.Reduce <= 0 {
		return 0
	}
	return max(0, 1-float64(s.Wait)/float64(s.Reduce))
}

// NewGradReducer returns a reducer of ps's gradients over c, with the
// first bucket holding at least firstBytes of gradients and the others
// bucketBytes (0: DDP's 1 MiB and 25 MiB). Buckets are cut at parameter
// boundaries, from the last parameter to the first: backward's order.
func NewGradReducer(c Communicator, ps *nn.ParamSet, firstBytes, bucketBytes int) *GradReducer {
	if firstBytes <= 0 {
		firstBytes = FirstBucketBytes
	}
	if bucketBytes <= 0 {
		bucketBytes = BucketBytes
	}
	r := &GradReducer{comm: c, grad: ps.Grad, of: map[*autograd.Var]int{}}
	limit := firstBytes
	hi := len(ps.Grad)
	var cur *bucket
	for i := len(ps.Params) - 1; i >= 0; i-- {
		lo := ps.Offset[i]
		if cur == nil {
			r.buckets = append(r.buckets, bucket{lo: lo, hi: hi})
			cur = &r.buckets[len(r.buckets)-1]
		}
		cur.lo = lo
		cur.leaves++
		r.of[ps.Params[i].Var] = len(r.buckets) - 1
		if 4*(cur.hi-cur.lo) >= limit {
			hi, cur, limit = lo, nil, bucketBytes
		}
	}
	r.jobs, r.done, r.statsDone = make(chan int, len(r.buckets)+1), make(chan error, len(r.buckets)), make(chan error, 1)
	go r.reduce()
	return r
}

// Buckets returns each bucket's range of the flat gradient buffer, in the
// order they are all-reduced when backward reaches every parameter.
func (r *GradReducer) Buckets() [][2]int {
	out := make([][2]int, len(r.buckets))
	for i, b := range r.buckets {
		out[i] = [2]int{b.lo, b.hi}
	}
	return out
}

// reduce all-reduces the buckets it is handed, one at a time.
func (r *GradReducer) reduce() {
	for i := range r.jobs {
		if i < 0 {
			r.statsDone <- r.comm.AllReduce64(r.bnStats)
			continue
		}
		b := &r.buckets[i]
		g := r.grad[b.lo:b.hi]
		if r.scale != 1 {
			for j := range g {
				g[j] *= r.scale
			}
		}
		t := time.Now()
		err := r.comm.AllReduce(g)
		r.stats.Reduce += time.Since(t)
		if err != nil {
			err = fmt.Errorf("dist: all-reduce of gradients %d-%d: %w", b.lo, b.hi, err)
		}
		r.done <- err
	}
}

// Begin prepares a step whose batch shard holds local of the global
// batch's global examples: each rank's gradient (its shard's mean) is
// weighted by local/global before the sum. It installs the leaf hook on g,
// on which the step's backward must run.
func (r *GradReducer) Begin(g *autograd.Tape, local, global int) {
	r.prepare(local, global)
	r.tape = g
	g.SetLeafHook(r.leafDone)
}

// prepare readies every bucket for a step of a shard of local of global
// examples.
func (r *GradReducer) prepare(local, global int) {
	if global <= 0 || local < 0 || local > global {
		panic(fmt.Sprintf("dist: a shard of %d examples of a global batch of %d", local, global))
	}
	r.scale = float32(local) / float32(global)
	if r.comm.Size() == 1 {
		r.scale = 1
	}
	for i := range r.buckets {
		b := &r.buckets[i]
		b.pending, b.sent = b.leaves, false
	}
	r.sent = 0
	r.began = time.Now()
}

// ReduceAll combines a step's gradients, already whole in the flat
// buffer, with no tape to follow: a device's step, whose gradients were
// copied to the host after its backward pass. Every bucket is weighted and
// all-reduced as Begin and End do it, so the sums are the same to the bit.
func (r *GradReducer) ReduceAll(local, global int) error {
	r.prepare(local, global)
	return r.finish()
}

// leafDone is the tape's hook: one parameter's gradient is final.
func (r *GradReducer) leafDone(v *autograd.Var) {
	i, ok := r.of[v]
	if !ok {
		return // a leaf that is not one of the model's parameters
	}
	b := &r.buckets[i]
	if b.pending--; b.pending == 0 {
		r.send(i)
	}
}

func (r *GradReducer) send(i int) {
	r.buckets[i].sent = true
	r.sent++
	r.jobs <- i
}

// End all-reduces the buckets backward did not reach (parameters the
// loss does not depend on), waits for every bucket and removes the leaf
// hook. The gradients are then the global batch's mean on every rank.
func (r *GradReducer) End() error {
	r.tape.SetLeafHook(nil)
	return r.finish()
}

// finish all-reduces the buckets not sent yet and waits for every one.
func (r *GradReducer) finish() error {
	r.stats.Backward += time.Since(r.began)
	for i := range r.buckets {
		if !r.buckets[i].sent {
			r.send(i)
		}
	}
	t := time.Now()
	var first error
	for range r.sent {
		if err := <-r.done; err != nil && first == nil {
			first = err
		}
	}
	r.stats.Wait += time.Since(t)
	r.stats.Steps++
	r.stats.Buckets += r.sent
	if r.err == nil {
		r.err = first
	}
	return r.err
}

// Sum replaces vals with their sums over the ranks: a step's loss and
// counts, an evaluation's. It reports the reducer's first failure instead,
// once there has been one: the ranks no longer agree.
func (r *GradReducer) Sum(vals []float64) error {
	if r.err != nil {
		return r.err
	}
	if err := r.comm.AllReduce64(vals); err != nil {
		r.err = fmt.Errorf("dist: summing a step's figures: %w", err)
	}
	return r.err
}

// SumStats sums vals over the ranks in the order of the reducer's other
// all-reduces, which may be running: synchronised batch normalisation's
// statistics (autograd.Tape.SetStatsSum), computed in the middle of
// backward while gradient buckets are on their way. A failure leaves vals
// as they are and is reported by End and Sum.
func (r *GradReducer) SumStats(vals []float64) {
	if r.err != nil {
		return
	}
	r.bnStats = vals
	r.jobs <- -1
	if err := <-r.statsDone; err != nil {
		r.err = fmt.Errorf("dist: all-reduce of batch-norm statistics: %w", err)
	}
}

// Stats returns the time spent since NewGradReducer.
func (r *GradReducer) Stats() ReduceStats { return r.stats }

// Close stops the reducing goroutine.
func (r *GradReducer) Close() { close(r.jobs) }
