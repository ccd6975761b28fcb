package kernels

// This file splits large SGEMMs across goroutines. Workers are long-lived and
// fed through a channel so that a parallel call allocates nothing. It leaves
// out splitting K: that would change the order of the additions and so the
// bits of the result.

import (
	"runtime"
	"sync"
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

// Threads reports how many goroutines one Sgemm call may use.
func Threads() int {
	if n := threadSetting.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// parallelMinFlops is the smallest m*n*k worth splitting. Below it, handing
// work to another goroutine (a few microseconds to wake it) and packing A or
// B twice costs more than the second core gives back.
const parallelMinFlops = 1 << 21

// parallelMinTiles is how many tiles each goroutine must at least own along
// the split dimension.
const parallelMinTiles = 2

// gemmJob is one goroutine's share of a call.
type gemmJob struct {
	kn   *microKernel
	args gemmArgs
	wg   *sync.WaitGroup
}

var (
	jobs        = make(chan gemmJob, 64)
	workerMu    sync.Mutex
	workerCount int
)

// ensureWorkers starts background workers until there are at least n.
func ensureWorkers(n int) {
	workerMu.Lock()
	defer workerMu.Unlock()
	for ; workerCount < n; workerCount++ {
		go gemmWorker()
	}
}

func gemmWorker() {
	for j := range jobs {
		ws := workspaces.Get().(*workspace)
		sgemmBlocked(j.kn, ws, &j.args)
		workspaces.Put(ws)
		j.wg.Done()
	}
}

// sgemmParallel runs g with kernel kn on up to threads goroutines (the
// caller's included), splitting the longer of M and N on tile boundaries.
func sgemmParallel(kn *microKernel, threads int, g *gemmArgs) {
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	mTiles := (g.m + kn.mr - 1) / kn.mr
	nTiles := (g.n + kn.nr - 1) / kn.nr
	splitN := nTiles*kn.nr >= mTiles*kn.mr
	tiles := mTiles
	if splitN {
		tiles = nTiles
	}
	parts := min(threads, tiles/parallelMinTiles)
	if parts < 2 || g.m*g.n*g.k < parallelMinFlops {
		sgemmBlocked(kn, ws, g)
		return
	}
	ensureWorkers(parts - 1)
	ws.wg.Add(parts - 1)
	for p := parts - 1; p >= 0; p-- {
		lo, hi := p*tiles/parts, (p+1)*tiles/parts
		sub := *g
		if splitN {
			j0, j1 := lo*kn.nr, min(hi*kn.nr, g.n)
			sub.n = j1 - j0
			sub.c = g.c[j0:]
			if g.transB {
				sub.b = g.b[j0*g.ldb:]
			} else {
				sub.b = g.b[j0:]
			}
		} else {
			i0, i1 := lo*kn.mr, min(hi*kn.mr, g.m)
			sub.m = i1 - i0
			sub.c = g.c[i0*g.ldc:]
			if g.transA {
				sub.a = g.a[i0:]
			} else {
				sub.a = g.a[i0*g.lda:]
			}
		}
		if p == 0 {
			sgemmBlocked(kn, ws, &sub)
			break
		}
		jobs <- gemmJob{kn, sub, &ws.wg}
	}
	ws.wg.Wait()
}
