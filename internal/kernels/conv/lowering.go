package conv

// This file runs the memory-bound stages around the GEMMs (im2col, col2im,
// and the copies between NCHW and the chunk matrices) across goroutines. It
// leaves out the stages' loops (im2col.go) and the GEMMs, which
// kernels.Sgemm parallelises itself.
//
// Workers are long-lived and fed through a channel, and a call hands them
// its state by value, so a parallel stage allocates nothing. One call at a
// time owns the workers; a concurrent call runs its stages on its own
// goroutine instead of queueing.

import (
	"sync"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// stage is one memory-bound pass over a chunk of images. Each splits into
// units that write disjoint memory: a (image, channel) or (image, output
// channel) pair.
type stage uint8

const (
	stageIm2col  stage = iota // x -> col; units (image, input channel)
	stageCol2im               // col -> dx, overwriting; units (image, input channel)
	stageGather               // dy -> buf; units (image, output channel)
	stageScatter              // buf (or y itself) + bias, ReLU -> y; units (image, output channel)
)

// parallelMinFloats is the least number of floats a stage's buffers must hold
// before it is worth waking a worker. On the 2-vCPU development machine the
// copies of im2col/col2im are memory-bound and the second vCPU adds little,
// so splitting them cost more than it saved at every seed-CNN shape:
// training ran at 1173-1279 images/s with the split and 1578-1644 without
// (docs/PERFORMANCE.md). The threshold therefore leaves every realistic
// stage serial; the GEMMs themselves still use kernels.Threads(). Tests
// lower it to reach the parallel path with small shapes.
var parallelMinFloats = 1 << 28

// lowering is one chunk of images n0..n0+cnt-1 and the buffers its stages
// read and write. col and buf are the chunk matrices; their columns are the
// chunk's output pixels, ld of them, image j's starting at j*OutH*OutW.
type lowering struct {
	p           Conv2dParams
	n0, cnt, ld int
	relu        bool
	x, dx       []float32
	y, dy       []float32
	col, buf    []float32
	bias        []float32
}

// perImage is how many units one image contributes to stage s.
func (l *lowering) perImage(s stage) int {
	switch s {
	case stageIm2col, stageCol2im:
		return l.p.C
	}
	return l.p.OutC
}

// do runs stage s over the whole chunk, split across kernels.Threads()
// goroutines when it is big enough.
func (l *lowering) do(s stage) {
	n := l.cnt * l.perImage(s)
	threads := min(kernels.Threads(), n)
	if threads < 2 || len(l.col)+len(l.buf) < parallelMinFloats || !workers.mu.TryLock() {
		l.run(s, 0, n)
		return
	}
	defer workers.mu.Unlock()
	workers.start(threads - 1)
	workers.wg.Add(threads - 1)
	for t := 1; t < threads; t++ {
		workers.jobs <- lowerJob{l: *l, s: s, u0: t * n / threads, u1: (t + 1) * n / threads}
	}
	l.run(s, 0, n/threads)
	workers.wg.Wait()
}

// run executes units [u0, u1) of stage s, grouping consecutive units of one
// image into one call.
func (l *lowering) run(s stage, u0, u1 int) {
	per := l.perImage(s)
	for u := u0; u < u1; {
		j, k0 := u/per, u%per
		k1 := min(per, k0+u1-u)
		l.runImage(s, j, k0, k1)
		u += k1 - k0
	}
}

// runImage executes units [k0, k1) of chunk image j.
func (l *lowering) runImage(s stage, j, k0, k1 int) {
	p := &l.p
	hw, ohw := p.H*p.W, p.OutH()*p.OutW()
	n := l.n0 + j
	inImg, outImg := p.C*hw, p.OutC*ohw
	switch s {
	case stageIm2col:
		im2col(p, l.x[n*inImg:(n+1)*inImg], l.col[j*ohw:], l.ld, k0, k1)
	case stageCol2im:
		dxi := l.dx[n*inImg : (n+1)*inImg]
		clear(dxi[k0*hw : k1*hw])
		col2im(p, l.col[j*ohw:], l.ld, dxi, k0, k1)
	case stageGather:
		img := l.dy[n*outImg : (n+1)*outImg]
		for o := k0; o < k1; o++ {
			copy(l.buf[o*l.ld+j*ohw:o*l.ld+(j+1)*ohw], img[o*ohw:(o+1)*ohw])
		}
	case stageScatter:
		img := l.y[n*outImg : (n+1)*outImg]
		for o := k0; o < k1; o++ {
			out := img[o*ohw : (o+1)*ohw]
			in := out
			if l.cnt > 1 {
				in = l.buf[o*l.ld+j*ohw : o*l.ld+(j+1)*ohw]
			}
			var b float32
			if l.bias != nil {
				b = l.bias[o]
			}
			epilogue(out, in, b, l.relu)
		}
	}
}

// lowerJob is a worker's share of one stage.
type lowerJob struct {
	l      lowering
	s      stage
	u0, u1 int
}

// workerPool is the package's set of stage goroutines.
type workerPool struct {
	mu    sync.Mutex // held by the call that owns the pool
	wg    sync.WaitGroup
	jobs  chan lowerJob
	count int
}

var workers workerPool

// start makes sure at least n workers exist; the caller holds w.mu.
func (w *workerPool) start(n int) {
	if w.jobs == nil {
		w.jobs = make(chan lowerJob, 16)
	}
	for ; w.count < n; w.count++ {
		go w.work()
	}
}

func (w *workerPool) work() {
	for j := range w.jobs {
		j.l.run(j.s, j.u0, j.u1)
		w.wg.Done()
	}
}
