package kernels

// This file splits large SGEMMs across goroutines, the package's workers
// (Parallel), so that a parallel call allocates nothing. It leaves
// out splitting K: that would change the order of the additions and so the
// bits of the result.

import (
	"runtime"
	"sync/atomic"
)

// threadSetting is the SetThreads value; 0 means runtime.GOMAXPROCS(0).
var threadSetting atomic.Int64

// SetThreads sets how many goroutines one Sgemm call may use. n < 1 restores
// the default, runtime.GOMAXPROCS(0). Results are bit-identical for every
// setting.
func SetThreads(n int) {
	threadSetting.Store(int64(max(n, 0)))
}

// ThreadSetting reports the SetThreads value in force, 0 for the default.
// A caller that changes the count for a while restores it with
// SetThreads(ThreadSetting()) taken before: restoring Threads() instead
// would pin the count to GOMAXPROCS as it was then.
func ThreadSetting() int { return int(threadSetting.Load()) }

// Threads reports how many goroutines one Sgemm call may use.
func Threads() int {
	if n := threadSetting.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// parallelMinFlops is the smallest m*n*k worth splitting; parallelMinRows
// and parallelMinCols are the fewest rows or columns of C each goroutine
// must own. They are variables only so that tests can force the parallel
// path on small inputs.
//
// On the 2-vCPU Zen 5 this was tuned on (shared with other work), the best
// of many runs gave a second goroutine 1.4-1.7x on 512^3 and 1000^3 split
// along M when the other vCPU was idle, 0.9-1.2x on the CNN's conv shapes
// split along N, and nothing below ~32 MFLOP, where waking a worker and
// packing A twice eat the gain. While other processes hold the second vCPU
// a split gains nothing and can lose ~5%.
var (
	parallelMinFlops = 1 << 25
	parallelMinRows  = 128
	parallelMinCols  = 512
)

// wideThreads is the thread count from which GEMMs of an eighth of
// parallelMinFlops, and a quarter of parallelMinCols a part, split too.
// The thresholds above were tuned on two vCPUs, where a second goroutine
// can at best halve a GEMM; on 16 cores the seed CNN's linear layers (6.5
// MFLOP each, 128 or 1,600 columns) would otherwise stay on one core while
// fifteen wait, about a sixth of a step. Below wideThreads nothing changes,
// and a split never touches the bits (K is not split).
const wideThreads = 8

// gemmTask is a GEMM split into parts, one a goroutine (Parallel).
type gemmTask struct {
	kn    *microKernel
	parts []gemmArgs
}

// Run computes part i with a workspace of its own.
func (t *gemmTask) Run(i int) {
	ws := workspaces.Get().(*workspace)
	sgemmBlocked(t.kn, ws, &t.parts[i])
	workspaces.Put(ws)
}

// sgemmParallel runs g with kernel kn on up to threads goroutines (the
// caller's included). It splits M on tile boundaries when there are rows
// enough, as then each goroutine packs only its own rows of A; otherwise it
// splits N, and each goroutine packs all of the (small) A.
func sgemmParallel(kn *microKernel, threads int, g *gemmArgs) {
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	minFlops, minCols := parallelMinFlops, parallelMinCols
	if threads >= wideThreads {
		minFlops, minCols = parallelMinFlops/8, max(parallelMinCols/4, 1)
	}
	if threads < 2 || g.m*g.n*g.k < minFlops {
		sgemmBlocked(kn, ws, g)
		return
	}
	tile, tiles := kn.mr, (g.m+kn.mr-1)/kn.mr
	parts := min(threads, g.m/parallelMinRows, tiles)
	splitM := parts >= 2
	if !splitM {
		tile, tiles = kn.nr, (g.n+kn.nr-1)/kn.nr
		parts = min(threads, g.n/minCols, tiles)
	}
	if parts < 2 {
		sgemmBlocked(kn, ws, g)
		return
	}
	t := &ws.task
	t.kn, t.parts = kn, t.parts[:0]
	for p := range parts {
		lo, hi := p*tiles/parts*tile, (p+1)*tiles/parts*tile
		sub := *g
		if splitM {
			hi = min(hi, g.m)
			sub.m = hi - lo
			sub.c = g.c[lo*g.ldc:]
			if g.transA {
				sub.a = g.a[lo:]
			} else {
				sub.a = g.a[lo*g.lda:]
			}
		} else {
			hi = min(hi, g.n)
			sub.n = hi - lo
			sub.c = g.c[lo:]
			if g.transB {
				sub.b = g.b[lo*g.ldb:]
			} else {
				sub.b = g.b[lo:]
			}
		}
		t.parts = append(t.parts, sub)
	}
	Parallel(t, parts)
	clear(t.parts) // let the operands go
}
