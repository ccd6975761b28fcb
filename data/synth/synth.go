// Package synth generates small labelled image sets that a model can learn
// in seconds: stripes in three orientations, squares, rings and crosses,
// each drawn at a random position, scale and phase with pixel noise. Tests
// and demos use them where a real dataset would be too slow or too big.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Classes are the pattern names, in label order.
var Classes = []string{"hstripes", "vstripes", "dstripes", "square", "ring", "cross"}

// Shapes is a deterministic dataset of pattern images: example i is the same
// every time for a given seed.
type Shapes struct {
	N, C, H, W int
	Seed       uint64
	Noise      float32 // standard deviation of added pixel noise
}

// New returns n images of c channels and size h x w with a little noise.
func New(n, c, h, w int, seed uint64) *Shapes {
	return &Shapes{N: n, C: c, H: h, W: w, Seed: seed, Noise: 0.1}
}

// Len returns the number of images.
func (s *Shapes) Len() int { return s.N }

// Shape returns [C, H, W].
func (s *Shapes) Shape() []int { return []int{s.C, s.H, s.W} }

// Classes returns the pattern names.
func (s *Shapes) Classes() []string { return Classes }

// Labels returns every label without drawing images.
func (s *Shapes) Labels() []int {
	out := make([]int, s.N)
	for i := range out {
		out[i] = i % len(Classes)
	}
	return out
}

// Get draws image i into x; the rng argument is unused because the images
// are fixed by the seed.
func (s *Shapes) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	if i < 0 || i >= s.N {
		return 0, fmt.Errorf("synth: index %d out of range [0, %d)", i, s.N)
	}
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)))
	label := i % len(Classes)
	period := 3 + r.Float64()*3
	phase := r.Float64() * period
	cy, cx := float64(s.H)*(0.3+0.4*r.Float64()), float64(s.W)*(0.3+0.4*r.Float64())
	size := float64(min(s.H, s.W)) * (0.2 + 0.15*r.Float64())
	hw := s.H * s.W
	for y := 0; y < s.H; y++ {
		for xx := 0; xx < s.W; xx++ {
			fy, fx := float64(y), float64(xx)
			var v float64
			switch label {
			case 0:
				v = stripe(fy+phase, period)
			case 1:
				v = stripe(fx+phase, period)
			case 2:
				v = stripe((fx+fy)/math.Sqrt2+phase, period)
			case 3:
				if math.Abs(fy-cy) < size && math.Abs(fx-cx) < size {
					v = 1
				}
			case 4:
				if d := math.Hypot(fy-cy, fx-cx); d > size*0.6 && d < size*1.1 {
					v = 1
				}
			case 5:
				if (math.Abs(fy-cy) < 1.5 && math.Abs(fx-cx) < size) || (math.Abs(fx-cx) < 1.5 && math.Abs(fy-cy) < size) {
					v = 1
				}
			}
			for c := 0; c < s.C; c++ {
				x[c*hw+y*s.W+xx] = float32(v) + s.Noise*float32(r.NormFloat64())
			}
		}
	}
	return label, nil
}

func stripe(t, period float64) float64 {
	if math.Mod(t, period) < period/2 {
		return 1
	}
	return 0
}
