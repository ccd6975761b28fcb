package conv

import (
	"math/rand/v2"
	"testing"
)

// TestNoAllocations checks that every kernel runs without touching the heap
// once its buffers exist, on every batching path, serial and parallel.
// kernels.Sgemm must not allocate either for this to pass.
func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop objects, so pooled buffers allocate")
	}
	for s := range pathSettings {
		withPath(t, s, func() { testConvAllocs(t, pathSettings[s].name) })
	}
	testPoolAllocs(t)
}

func testConvAllocs(t *testing.T, path string) {
	r := rand.New(rand.NewPCG(9, 0))
	for _, p := range []Conv2dParams{
		cp(2, 3, 24, 24, 4, 3, 3, pad(1, 1)),          // one image per GEMM
		cp(5, 4, 8, 8, 6, 3, 3, pad(1, 1), groups(2)), // chunked, with remainder
		cp(1, 8, 6, 6, 4, 1, 1),                       // pointwise, no im2col
	} {
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		y := make([]float32, p.N*p.OutC*p.OutH()*p.OutW())
		ws := make([]float32, p.WorkspaceLen())
		dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(b))
		for name, f := range map[string]func(){
			"forward":         func() { Conv2dForward(p, x, w, b, y, ws) },
			"forward relu":    func() { Conv2dForwardReLU(p, x, w, b, y, ws) },
			"backward data":   func() { Conv2dBackwardData(p, y, w, dx, ws) },
			"backward weight": func() { Conv2dBackwardWeight(p, x, y, dw, db, ws) },
		} {
			if a := allocsPerRun(f); a != 0 {
				t.Errorf("%s, %s %+v: %v allocations per run", path, name, p, a)
			}
		}
	}
}

func testPoolAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 0))
	for _, p := range []MaxPool2dParams{
		mp(2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, false),
		mp(2, 3, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1, true),
	} {
		x := randF32(r, p.N*p.C*p.H*p.W)
		y := make([]float32, p.N*p.C*p.OutH()*p.OutW())
		idx := make([]int32, len(y))
		if a := allocsPerRun(func() { MaxPool2dForward(p, x, y, idx) }); a != 0 {
			t.Errorf("max pool forward: %v allocations", a)
		}
		if a := allocsPerRun(func() { MaxPool2dBackward(p, y, idx, x) }); a != 0 {
			t.Errorf("max pool backward: %v allocations", a)
		}
	}
	avg := ap(2, 3, 9, 8, 3, 2, 1, true, false, 0)
	x := randF32(r, 2*3*9*8)
	y := make([]float32, 2*3*avg.OutH()*avg.OutW())
	if a := allocsPerRun(func() { AvgPool2dForward(avg, x, y) }); a != 0 {
		t.Errorf("avg pool forward: %v allocations", a)
	}
	if a := allocsPerRun(func() { AvgPool2dBackward(avg, y, x) }); a != 0 {
		t.Errorf("avg pool backward: %v allocations", a)
	}
	ad := AdaptiveAvgPool2dParams{N: 2, C: 3, H: 9, W: 8, OutH: 3, OutW: 3}
	ya := make([]float32, 2*3*3*3)
	if a := allocsPerRun(func() { AdaptiveAvgPool2dForward(ad, x, ya) }); a != 0 {
		t.Errorf("adaptive pool forward: %v allocations", a)
	}
	if a := allocsPerRun(func() { AdaptiveAvgPool2dBackward(ad, ya, x) }); a != 0 {
		t.Errorf("adaptive pool backward: %v allocations", a)
	}
}

// allocsPerRun is testing.AllocsPerRun(3, f), the least of three tries: a
// goroutine that parks in a parallel call may make the runtime refill its
// cache of wait records (sudogs) from the heap when the machine is busy,
// which is the scheduler's allocation, not the kernel's. A kernel that
// allocates does so on every try.
func allocsPerRun(f func()) float64 {
	least := testing.AllocsPerRun(3, f)
	for range 2 {
		least = min(least, testing.AllocsPerRun(3, f))
	}
	return least
}
