package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBatchNormThreads runs batch normalisation's passes on 1 to 4
// goroutines over a tensor big enough to split, and requires the same
// bits every time, and the statistics of the channel-by-channel loop.
func TestBatchNormThreads(t *testing.T) {
	defer SetThreads(ThreadSetting())
	rng := rand.New(rand.NewPCG(51, 0))
	n, c, spatial := 8, 12, 300 // 28,800 values: over bnMinFloats
	xs, dy := randSlice(rng, n*c*spatial), randSlice(rng, n*c*spatial)
	w, b := randSlice(rng, c), randSlice(rng, c)
	type result struct{ mean, invstd, rm, rv, y, dx, dw, db []float32 }
	run := func(threads int) result {
		SetThreads(threads)
		r := result{mean: make([]float32, c), invstd: make([]float32, c), rm: make([]float32, c), rv: make([]float32, c),
			y: make([]float32, len(xs)), dx: make([]float32, len(xs)), dw: make([]float32, c), db: make([]float32, c)}
		for i := range r.rv {
			r.rv[i] = 1
		}
		BatchNormTrainStats(xs, n, c, spatial, 1e-5, 0.1, r.mean, r.invstd, r.rm, r.rv)
		BatchNormNormalize(xs, r.y, n, c, spatial, r.mean, r.invstd, w, b)
		BatchNormBackward(xs, dy, r.dx, r.dw, r.db, w, n, c, spatial, r.mean, r.invstd, true, float64(n*spatial), nil, false)
		return r
	}
	want := run(1)
	// The serial loop the callers ran before.
	for ch := range c {
		mu, v := ChannelMoments(xs, n, c, spatial, ch)
		mean, invstd, rm, rv := make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c)
		for i := range rv {
			rv[i] = 1
		}
		BatchNormChannelStats(ch, mu, v, n*spatial, 1e-5, 0.1, mean, invstd, rm, rv)
		if mean[ch] != want.mean[ch] || invstd[ch] != want.invstd[ch] || rm[ch] != want.rm[ch] || rv[ch] != want.rv[ch] {
			t.Fatalf("channel %d: stats %v %v %v %v, one channel at a time %v %v %v %v", ch,
				want.mean[ch], want.invstd[ch], want.rm[ch], want.rv[ch], mean[ch], invstd[ch], rm[ch], rv[ch])
		}
	}
	for _, threads := range []int{2, 3, 4} {
		got := run(threads)
		for name, pair := range map[string][2][]float32{
			"mean": {got.mean, want.mean}, "invstd": {got.invstd, want.invstd}, "runMean": {got.rm, want.rm},
			"runVar": {got.rv, want.rv}, "y": {got.y, want.y}, "dx": {got.dx, want.dx}, "dw": {got.dw, want.dw}, "db": {got.db, want.db},
		} {
			for i := range pair[1] {
				if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
					t.Fatalf("%d threads: %s[%d] = %v, one thread %v", threads, name, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
}
