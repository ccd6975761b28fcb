package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUpdatesSplitLeaveNoTrace runs every optimizer update over buffers
// of several blocks on 1, 2, 8, 11 and 16 goroutines and requires the same
// bits, and no allocation on the parallel path (from wideThreads).
func TestUpdatesSplitLeaveNoTrace(t *testing.T) {
	defer SetThreads(ThreadSetting())
	const n = 5*rangeBlock + 37
	r := rand.New(rand.NewPCG(3, 4))
	fill := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	abs := func(s []float32) []float32 {
		for i := range s {
			s[i] = float32(math.Abs(float64(s[i])))
		}
		return s
	}
	p0, g, m0, v0, b0 := fill(), fill(), fill(), abs(fill()), fill()
	adam := AdamCoef{B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, BC2Sqrt: 0.03, NegStep: -0.01, Eps: 1e-8, WD: 0.01, Decay: 0.999}
	adamMax := adam
	adamMax.Maximize = true
	sgd := SGDCoef{LR: 0.1, WD: 1e-3, Momentum: 0.9, Damp: 1, Nesterov: true}
	sgdMax := sgd
	sgdMax.Maximize = true
	rms := RMSpropCoef{LR: 0.01, Alpha: 0.99, C1: 0.01, Eps: 1e-8, WD: 1e-3, Momentum: 0.5}
	updates := []struct {
		name string
		run  func(p, m, v, b []float32)
	}{
		{"adam", func(p, m, v, _ []float32) { AdamStep(AdamL2, p, g, m, v, &adam) }},
		{"adamw maximize", func(p, m, v, _ []float32) { AdamStep(AdamDecoupled, p, g, m, v, &adamMax) }},
		{"adam amsgrad", func(p, m, v, b []float32) { AdamAMSGradStep(AdamPlain, p, g, m, v, b, &adam) }},
		{"sgd nesterov", func(p, m, _, _ []float32) { SGDStep(p, g, m, &sgd) }},
		{"sgd maximize", func(p, m, _, _ []float32) { SGDStep(p, g, m, &sgdMax) }},
		{"rmsprop centered momentum", func(p, m, v, b []float32) { RMSpropStep(p, g, abs(m), v, b, &rms) }},
		{"rmsprop plain", func(p, m, _, _ []float32) { RMSpropStep(p, g, abs(m), nil, nil, &rms) }},
	}
	for _, u := range updates {
		var want [][]float32
		for _, threads := range []int{1, 2, 8, 11, 16} {
			SetThreads(threads)
			p, m, v, b := slices.Clone(p0), slices.Clone(m0), slices.Clone(v0), slices.Clone(b0)
			u.run(p, m, v, b)
			u.run(p, m, v, b)
			got := [][]float32{p, m, v, b}
			if want == nil {
				want = got
				continue
			}
			for i := range got {
				if !slices.EqualFunc(got[i], want[i], func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
					t.Errorf("%s on %d goroutines: buffer %d differs from one goroutine's", u.name, threads, i)
				}
			}
			if a := testing.AllocsPerRun(3, func() { u.run(p, m, v, b) }); a != 0 && !raceEnabled {
				t.Errorf("%s on %d goroutines: %v allocations a call", u.name, threads, a)
			}
		}
	}
}

// TestZero clears buffers of every length around the block size on
// wideThreads+1 goroutines, -0 and NaN included, without allocating.
func TestZero(t *testing.T) {
	defer SetThreads(ThreadSetting())
	SetThreads(wideThreads + 1)
	for _, n := range []int{0, 1, rangeBlock - 1, 2 * rangeBlock, 5*rangeBlock + 3} {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(math.Copysign(float64(i%7), -1))
		}
		if n > 2 {
			s[n/2] = float32(math.NaN())
		}
		Zero(s)
		for i, v := range s {
			if math.Float32bits(v) != 0 {
				t.Fatalf("n %d: s[%d] = %v after Zero", n, i, v)
			}
		}
		if a := testing.AllocsPerRun(3, func() { Zero(s) }); a != 0 && !raceEnabled {
			t.Errorf("n %d: %v allocations", n, a)
		}
	}
}
