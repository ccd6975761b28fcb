package conv

// This file spreads a convolution's chunks of images (and max pooling's
// chunks of planes) over goroutines:
// each chunk runs im2col, its GEMMs and its epilogue on one goroutine, in
// that goroutine's slot of the workspace, so that the column matrix stays
// in that core's cache. It leaves out what a chunk computes (forward.go,
// backward.go).
//
// The goroutines are the kernels package's workers (kernels.Parallel), each
// given its workspace slot, finding the call in its pool, so a parallel
// call allocates nothing. A few concurrent calls (trials of kiln tune
// --jobs) each get a pool and workers; one more runs its chunks on its own
// goroutine instead of queueing. Results do not depend on which goroutine
// ran a chunk: outputs and input gradients depend on their image alone,
// and weight gradients are summed over fixed chunks in a fixed order.

import (
	"sync/atomic"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// op is which kernel a call runs.
type op uint8

const (
	opForward op = iota
	opBackwardData
	opBackwardWeight
	opReducePartials // the weight gradient's partial sums, added in chunk order
	opReLUMask       // a fused ReLU's gradient mask, in blocks
	opMaxPoolForward
	opMaxPoolBackward
)

// poolChunkFloats is about how many input floats one chunk of a pooling
// call covers: enough that handing it to a goroutine pays.
const poolChunkFloats = 1 << 15

// call is one kernel call: its operands and the chunk counter its
// goroutines share.
type call struct {
	op         op
	p          Conv2dParams
	x, w, bias []float32
	y, dy, dx  []float32
	dw, dbias  []float32 // the weight gradient's results
	ws         []float32
	relu       bool
	overwrite  bool            // max pooling's backward: write every element of dx
	pool       bool            // the forward pass: pool each chunk's output (Conv2dForwardReLUPool)
	unpool     bool            // the gradients: dy is the pooled output's (Conv2dBackward*Pooled)
	nb         int             // images per chunk (runChunks sets it)
	n, per     int             // chunks, and elements or planes in each (runChunks sets them)
	mp         MaxPool2dParams // the pooling ops'
	idx        []int32
}

// chunks is how many pieces of work c splits into, and per how many
// elements (the reduction, the mask) or planes (pooling) one holds.
func (c *call) chunks() (n, per int) {
	threads := kernels.Threads()
	switch c.op {
	case opReducePartials, opReLUMask:
		total, most := len(c.dy), maskBlock
		if c.op == opReducePartials {
			total, most = c.p.partialLen(), reduceBlock
		}
		per = (kernels.ChunkSize(total, most, 1, threads) + 15) &^ 15 // whole vectors
		return ceilDiv(total, per), per
	case opMaxPoolForward, opMaxPoolBackward:
		total, size := c.mp.N*c.mp.C, max(c.mp.H*c.mp.W, 1)
		per = kernels.ChunkSize(total, max(poolChunkFloats/size, 1), size, threads)
		return ceilDiv(total, per), per
	}
	return ceilDiv(c.p.N, c.nb), 0
}

// partials is the weight gradient's per-chunk region of the workspace,
// after every goroutine's slot.
func (c *call) partials() []float32 {
	p := &c.p
	off := p.slotsIn(len(c.ws)) * p.slotLen()
	return c.ws[off : off+p.weightChunks()*p.partialLen()]
}

// runChunks runs every chunk of c, on up to kernels.Threads() goroutines
// (the caller's included) when the workspace has room for them.
func runChunks(c *call) {
	switch c.op {
	case opForward, opBackwardData:
		c.nb = c.p.runChunk(kernels.Threads())
	case opBackwardWeight:
		c.nb = c.p.weightChunk()
	}
	c.n, c.per = c.chunks()
	threads := min(kernels.Threads(), c.n)
	if c.op < opReducePartials {
		threads = min(threads, c.p.slotsIn(len(c.ws)))
	}
	if !kernels.RunShared(&pools, c, threads, (*call).work) {
		c.work(0, nil)
	}
}

// work takes chunks until none is left, using workspace slot slot: from
// the shared counter next, or all of them in order when next is nil.
func (c *call) work(slot int, next *atomic.Int64) {
	if c.op >= opMaxPoolForward {
		c.poolWork(next)
		return
	}
	if c.op == opReducePartials {
		c.reduceWork(next)
		return
	}
	if c.op == opReLUMask {
		c.maskWork(next)
		return
	}
	p := &c.p
	nb, ohw := c.nb, p.OutH()*p.OutW()
	colLen, bufLen := p.workspaceSplit()
	ws := c.ws[slot*(colLen+bufLen):]
	l := lowering{p: *p, x: c.x, y: c.y, dy: c.dy, dx: c.dx, bias: c.bias, relu: c.relu,
		col: ws[:colLen], buf: ws[colLen : colLen+bufLen]}
	for k := kernels.Claim(next, -1); ; k = kernels.Claim(next, k) {
		if k*nb >= p.N {
			return
		}
		l.n0, l.cnt = k*nb, min(nb, p.N-k*nb)
		l.ld = l.cnt * ohw
		switch c.op {
		case opForward:
			c.forwardChunk(&l)
		case opBackwardData:
			c.backwardDataChunk(&l)
		case opBackwardWeight:
			c.backwardWeightChunk(&l, k)
		}
	}
}

// reduceBlock is how many floats of the partial sums one goroutine adds
// up at a time.
const reduceBlock = 1 << 14

// reduceWork adds the later chunks' partials into chunk 0's, one block of
// elements at a time, each element over the chunks in chunk order, so the
// blocks leave no trace in the bits.
func (c *call) reduceWork(next *atomic.Int64) {
	part, chunks := c.p.partialLen(), c.p.weightChunks()
	parts := c.partials()
	block := c.per
	for k := kernels.Claim(next, -1); ; k = kernels.Claim(next, k) {
		lo := k * block
		if lo >= part {
			return
		}
		hi := min(lo+block, part)
		for j := 1; j < chunks; j++ {
			kernels.AddRows(parts[lo:hi], parts[j*part+lo:j*part+hi], hi-lo, 1, 0, 0)
		}
		c.addPartials(parts, lo, hi)
	}
}

// addPartials adds elements [lo, hi) of the summed partials to the
// gradients: the transposed weight gradient's, group by group, back to
// dw's layout, and the bias gradient's (the last OutC) to dbias when it is
// not nil. Each element of dw and dbias gets exactly one of them.
func (c *call) addPartials(parts []float32, lo, hi int) {
	p := &c.p
	g := p.Groups
	ocg, kg := p.OutC/g, (p.C/g)*p.KH*p.KW
	nw := len(c.dw)
	gi, t := lo/(kg*ocg), lo%(kg*ocg)
	r, o := t/ocg, t%ocg // element e is row r, column o of group gi's
	for e := lo; e < min(hi, nw); e++ {
		c.dw[(gi*ocg+o)*kg+r] += parts[e]
		if o++; o == ocg {
			if o = 0; r+1 == kg {
				r, gi = 0, gi+1
			} else {
				r++
			}
		}
	}
	if c.dbias != nil {
		for e := max(lo, nw); e < hi; e++ {
			c.dbias[e-nw] += parts[e]
		}
	}
}

// maskBlock is how many floats of a gradient one goroutine masks at a time.
const maskBlock = 1 << 15

// maskWork masks blocks of c.dy until none is left.
func (c *call) maskWork(next *atomic.Int64) {
	block := c.per
	for k := kernels.Claim(next, -1); ; k = kernels.Claim(next, k) {
		lo := k * block
		if lo >= len(c.dy) {
			return
		}
		hi := min(lo+block, len(c.dy))
		kernels.ReLUMask(c.y[lo:hi], c.dy[lo:hi])
	}
}

// poolWork takes pooling chunks until none is left.
func (c *call) poolWork(next *atomic.Int64) {
	n, per := c.n, c.per
	total := c.mp.N * c.mp.C
	for k := kernels.Claim(next, -1); ; k = kernels.Claim(next, k) {
		if k >= n {
			return
		}
		lo, hi := k*per, min((k+1)*per, total)
		if c.op == opMaxPoolForward {
			c.maxPoolForwardPlanes(lo, hi)
		} else {
			c.maxPoolBackwardPlanes(lo, hi)
		}
	}
}

// pools are the states parallel calls share with their goroutines
// (kernels.RunShared), so that they allocate nothing; a few concurrent
// calls each take one (kernels.Slots).
var pools kernels.Slots[kernels.Shared[call]]
