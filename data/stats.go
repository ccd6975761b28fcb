package data

// This file holds ChannelStats. It leaves out per-pixel statistics and
// histograms.

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// statsChunk is how many examples one partial sum covers. Partial sums are
// added in chunk order, so the result does not depend on how many goroutines
// computed them.
const statsChunk = 64

// ChannelStats returns the per-channel mean and (population) standard
// deviation of every value of every example of ds, decoded with no
// augmentation. The first dimension of ds.Shape() is the channel. This is
// what to pass to Normalize, computed on the training split only.
func ChannelStats(ds Dataset) (mean, std []float64, err error) {
	shape := ds.Shape()
	if len(shape) < 1 || shape[0] < 1 {
		return nil, nil, fmt.Errorf("data: channel stats need a [C, ...] shape, got %v", shape)
	}
	c, size := shape[0], exampleSize(shape)
	per := size / c
	n := ds.Len()
	if n == 0 {
		return nil, nil, fmt.Errorf("data: channel stats of an empty dataset")
	}
	nChunks := (n + statsChunk - 1) / statsChunk
	sums := make([][2][]float64, nChunks) // per chunk: sum and sum of squares per channel
	errs := make([]error, nChunks)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), nChunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := make([]float32, size)
			for ch := range next {
				s, q := make([]float64, c), make([]float64, c)
				for i := ch * statsChunk; i < min(n, (ch+1)*statsChunk); i++ {
					if _, err := ds.Get(i, x, nil); err != nil {
						errs[ch] = fmt.Errorf("data: channel stats, example %d: %w", i, err)
						break
					}
					for k := 0; k < c; k++ {
						for _, v := range x[k*per : (k+1)*per] {
							s[k] += float64(v)
							q[k] += float64(v) * float64(v)
						}
					}
				}
				sums[ch] = [2][]float64{s, q}
			}
		}()
	}
	for ch := range nChunks {
		next <- ch
	}
	close(next)
	wg.Wait()
	mean, std = make([]float64, c), make([]float64, c)
	sq := make([]float64, c)
	for ch, p := range sums {
		if errs[ch] != nil {
			return nil, nil, errs[ch]
		}
		for k := range c {
			mean[k] += p[0][k]
			sq[k] += p[1][k]
		}
	}
	count := float64(n) * float64(per)
	for k := range c {
		mean[k] /= count
		std[k] = math.Sqrt(max(sq[k]/count-mean[k]*mean[k], 0))
	}
	return mean, std, nil
}
