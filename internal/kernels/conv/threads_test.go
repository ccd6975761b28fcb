package conv

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// TestThreadCountLeavesNoTrace runs every convolution kernel with 1 to 7
// goroutines, and with a workspace cut down to one goroutine's share, and
// requires the same bits every time: outputs and data gradients depend on
// their image alone, and weight and bias gradients are added up over fixed
// chunks in a fixed order.
func TestThreadCountLeavesNoTrace(t *testing.T) {
	defer kernels.SetThreads(kernels.ThreadSetting())
	r := rand.New(rand.NewPCG(11, 0))
	defer func(c int) { chunkOverride = c }(chunkOverride)
	for _, tc := range []struct {
		p     Conv2dParams
		chunk int
	}{
		{cp(32, 3, 32, 32, 32, 5, 5), 0},                     // the seed CNN's conv1: 7 chunks
		{cp(32, 32, 14, 14, 64, 5, 5), 0},                    // its conv2: 6 chunks
		{cp(9, 4, 10, 10, 6, 3, 3, pad(1, 1), groups(2)), 2}, // grouped, padded
		{cp(5, 8, 6, 6, 4, 1, 1), 1},                         // pointwise, one image a chunk
	} {
		p := tc.p
		chunkOverride = tc.chunk
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		dy := randF32(r, p.N*p.OutC*p.OutH()*p.OutW())
		type result struct{ y, dx, dw, db []float32 }
		run := func(threads int, short bool) result {
			kernels.SetThreads(threads)
			n := p.WorkspaceLen()
			if short {
				n = p.workspaceLen(1)
			}
			ws := make([]float32, n)
			res := result{make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(b))}
			Conv2dForwardReLU(p, x, w, b, res.y, ws)
			Conv2dBackwardData(p, dy, w, res.dx, ws)
			Conv2dBackwardWeight(p, x, dy, res.dw, res.db, ws)
			return res
		}
		want := run(1, false)
		if p.chunks() < 2 {
			t.Fatalf("%+v: %d chunk; the test needs several", p, p.chunks())
		}
		for _, threads := range []int{2, 3, 4, 7, 16} {
			for _, short := range []bool{false, true} {
				got := run(threads, short)
				for _, c := range []struct {
					name      string
					got, want []float32
				}{{"y", got.y, want.y}, {"dx", got.dx, want.dx}, {"dw", got.dw, want.dw}, {"db", got.db, want.db}} {
					if !slices.EqualFunc(c.got, c.want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
						t.Errorf("%+v, %d threads (short workspace %v): %s differs from one thread's", p, threads, short, c.name)
					}
				}
			}
		}
	}
}

// TestPoolThreadsLeaveNoTrace runs max pooling of the seed CNN's first
// pooling layer, forward and backward, on 1 to 7 goroutines and requires
// the same outputs, indices and gradients.
func TestPoolThreadsLeaveNoTrace(t *testing.T) {
	defer kernels.SetThreads(kernels.ThreadSetting())
	r := rand.New(rand.NewPCG(12, 0))
	for _, p := range []MaxPool2dParams{
		mp(32, 32, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1, false),
		mp(64, 16, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, false),
	} {
		x := randF32(r, p.N*p.C*p.H*p.W)
		n := p.N * p.C * p.OutH() * p.OutW()
		dy := randF32(r, n)
		run := func(threads int) ([]float32, []int32, []float32) {
			kernels.SetThreads(threads)
			y, idx, dx := make([]float32, n), make([]int32, n), make([]float32, len(x))
			MaxPool2dForward(p, x, y, idx)
			MaxPool2dBackward(p, dy, idx, dx)
			return y, idx, dx
		}
		wy, wi, wdx := run(1)
		if c, _ := (&call{op: opMaxPoolForward, mp: p}).chunks(); c < 2 {
			t.Fatalf("%+v: %d chunk; the test needs several", p, c)
		}
		for _, threads := range []int{2, 3, 7, 16} {
			y, idx, dx := run(threads)
			if !slices.Equal(y, wy) || !slices.Equal(idx, wi) || !slices.Equal(dx, wdx) {
				t.Errorf("%+v on %d threads differs from one thread", p, threads)
			}
		}
	}
}

// TestSixteenWays: at the seed CNN's batch of 32, each of its
// convolutions splits into 16 chunks on 16 goroutines, forward, data and
// weight gradient alike, while two goroutines keep chunk()'s larger
// chunks for the forward pass and the data gradient.
func TestSixteenWays(t *testing.T) {
	for _, p := range []Conv2dParams{cp(32, 3, 32, 32, 32, 5, 5), cp(32, 32, 14, 14, 64, 5, 5)} {
		if got := ceilDiv(p.N, p.runChunk(16)); got != 16 {
			t.Errorf("%+v: %d forward chunks on 16 goroutines, want 16", p, got)
		}
		if got := p.weightChunks(); got != 16 {
			t.Errorf("%+v: %d weight-gradient chunks, want 16", p, got)
		}
		if got := p.runChunk(2); got != p.chunk() || p.chunks() >= 16 {
			t.Errorf("%+v: %d images a chunk on 2 goroutines, want chunk()'s %d (of %d chunks)", p, got, p.chunk(), p.chunks())
		}
	}
	// The work around the convolutions: both max poolings, the ReLU
	// masks and conv2's partial sums, at 16 goroutines and at 2 (where
	// the chunks stay as large as before).
	defer kernels.SetThreads(kernels.ThreadSetting())
	for _, tc := range []struct {
		name    string
		c       call
		n16, n2 int
	}{
		{"pool1", call{op: opMaxPoolForward, mp: mp(32, 32, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1, false)}, 25, 25},
		{"pool2 backward", call{op: opMaxPoolBackward, mp: mp(32, 64, 10, 10, 2, 2, 2, 2, 0, 0, 1, 1, false)}, 16, 7},
		{"conv1 mask", call{op: opReLUMask, dy: make([]float32, 32*32*28*28)}, 25, 25},
		{"conv2 mask", call{op: opReLUMask, dy: make([]float32, 32*64*10*10)}, 16, 7},
		{"conv2 partials", call{op: opReducePartials, p: cp(32, 32, 14, 14, 64, 5, 5)}, 13, 4},
	} {
		for _, want := range []struct{ threads, n int }{{16, tc.n16}, {2, tc.n2}} {
			kernels.SetThreads(want.threads)
			if got, _ := tc.c.chunks(); got != want.n {
				t.Errorf("%s on %d goroutines: %d chunks, want %d", tc.name, want.threads, got, want.n)
			}
		}
	}
}

// TestReLUMaskThreads masks a gradient of several blocks on 1 to 16
// goroutines and requires kernels.ReLUMask's result on the whole of it.
func TestReLUMaskThreads(t *testing.T) {
	defer kernels.SetThreads(kernels.ThreadSetting())
	r := rand.New(rand.NewPCG(12, 0))
	n := 3*maskBlock + 77
	y, dy := randF32(r, n), randF32(r, n)
	for i := 0; i < n; i += 97 {
		y[i] = 0 // exactly zero passes no gradient either
	}
	want := slices.Clone(dy)
	kernels.ReLUMask(y, want)
	for _, threads := range []int{1, 2, 3, 16} {
		kernels.SetThreads(threads)
		got := slices.Clone(dy)
		ReLUMaskGrad(y, got)
		if !slices.Equal(got, want) {
			t.Errorf("%d goroutines: the mask differs from one call's", threads)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("lengths 3 and 2: no panic")
		}
	}()
	ReLUMaskGrad(make([]float32, 3), make([]float32, 2))
}

// TestConvReLUPool requires Conv2dForwardReLUPool to give the bits of
// Conv2dForwardReLU then MaxPool2dForward, on shapes with odd outputs,
// groups, a pointwise convolution and single-image chunks, on 1 to 16
// goroutines, with a workspace of garbage; and refuses what it cannot do.
func TestConvReLUPool(t *testing.T) {
	defer kernels.SetThreads(kernels.ThreadSetting())
	r := rand.New(rand.NewPCG(13, 0))
	for _, p := range []Conv2dParams{
		cp(32, 3, 32, 32, 32, 5, 5),  // the seed CNN's conv1
		cp(32, 32, 14, 14, 64, 5, 5), // its conv2
		cp(5, 4, 11, 10, 6, 3, 3, pad(1, 1), groups(2)),
		cp(3, 8, 7, 9, 4, 1, 1),
	} {
		if !p.CanPool() {
			t.Fatalf("%+v: CanPool false", p)
		}
		x := randF32(r, p.N*p.C*p.H*p.W)
		w := randF32(r, p.OutC*(p.C/p.Groups)*p.KH*p.KW)
		b := randF32(r, p.OutC)
		full := make([]float32, p.N*p.OutC*p.OutH()*p.OutW())
		Conv2dForwardReLU(p, x, w, b, full, make([]float32, p.WorkspaceLen()))
		mp := MaxPool2dParams{N: p.N, C: p.OutC, H: p.OutH(), W: p.OutW(), KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
		want := make([]float32, p.N*p.OutC*mp.OutH()*mp.OutW())
		wantIdx := make([]int32, len(want))
		MaxPool2dForward(mp, full, want, wantIdx)
		for _, threads := range []int{1, 2, 3, 16} {
			kernels.SetThreads(threads)
			ws := make([]float32, p.WorkspaceLen())
			for i := range ws {
				ws[i] = float32(math.NaN())
			}
			got, idx := make([]float32, len(want)), make([]int32, len(want))
			Conv2dForwardReLUPool(p, x, w, b, got, idx, ws)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || idx[i] != wantIdx[i] {
					t.Fatalf("%+v on %d goroutines: y[%d] = %v at %d, unfused %v at %d", p, threads, i, got[i], idx[i], want[i], wantIdx[i])
				}
			}
			clear(got)
			Conv2dForwardReLUPool(p, x, w, b, got, nil, ws) // no indices wanted
			if !slices.Equal(got, want) {
				t.Fatalf("%+v on %d goroutines, no indices: the outputs differ", p, threads)
			}
		}
	}
	for _, p := range []Conv2dParams{cp(2, 3, 9, 9, 4, 9, 9), cp(1, 2, 6, 6, 3, 3, 3)} {
		if p.CanPool() {
			t.Errorf("%+v: CanPool true for a 1x1 output or one image a chunk", p)
		}
	}
}
