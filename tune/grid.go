package tune

// This file holds the grid sampler. It leaves out grids given point by
// point: a continuous parameter's grid is evenly spaced.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
)

// maxGrid bounds the grid so that its shuffled order fits in memory; a
// larger grid is a search nobody will finish.
const maxGrid = 1 << 20

// Grid visits every combination of parameter values once, in an order
// shuffled by the study's seed (so that a study stopped early has still
// spread over the space). Trial number n takes the n-th point of that
// order, which is what keeps workers sharing a study on distinct points.
//
// Categoricals contribute every choice; Int parameters every value when
// there are at most Points of them, else Points evenly spaced ones;
// floats Points evenly spaced values from low to high (in log space for
// loguniform).
type Grid struct {
	Points int // values per continuous parameter; 0 means 5

	mu    sync.Mutex
	key   string // seed and space of the cached order
	order []int32
}

// NewGrid returns a grid sampler with points values per continuous
// parameter (0 for the default of 5).
func NewGrid(points int) *Grid { return &Grid{Points: points} }

func (g *Grid) points() int {
	if g.Points < 2 {
		return 5
	}
	return g.Points
}

// values returns the grid values of one parameter, as internal numbers.
func (g *Grid) values(p *Param) []float64 {
	n := g.points()
	switch p.Kind {
	case Categorical:
		v := make([]float64, len(p.Choices))
		for i := range v {
			v[i] = float64(i)
		}
		return v
	case Int:
		if count := int64(p.High-p.Low)/p.Step + 1; count <= int64(n) {
			v := make([]float64, count)
			for i := range v {
				v[i] = p.Low + float64(int64(i)*p.Step)
			}
			return v
		}
	}
	lo, hi := p.Low, p.High
	if p.Log {
		lo, hi = math.Log(lo), math.Log(hi)
	}
	v := make([]float64, 0, n)
	for i := range n {
		x := lo + (hi-lo)*float64(i)/float64(n-1)
		if p.Log {
			x = math.Exp(x)
		}
		// Twelve significant digits turn exp(log(1e-4)) back into 1e-4,
		// so the grid shows the values a person would have written.
		x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
		switch i {
		case 0:
			x = p.Low
		case n - 1:
			x = p.High
		}
		x = p.snap(x)
		if len(v) == 0 || v[len(v)-1] != x { // Int rounding can repeat a value
			v = append(v, x)
		}
	}
	return v
}

// Size implements Sized: the number of grid points.
func (g *Grid) Size(s *Space) (int, error) {
	size := 1
	for i := range s.Params {
		size *= len(g.values(&s.Params[i]))
		if size > maxGrid {
			return 0, fmt.Errorf("tune: grid: more than %d points; use fewer points or parameters, or another sampler", maxGrid)
		}
	}
	return size, nil
}

// Sample implements Sampler.
func (g *Grid) Sample(req *SampleRequest) ([]float64, error) {
	size, err := g.Size(req.Space)
	if err != nil {
		return nil, err
	}
	if req.Number < 0 || req.Number >= size {
		return nil, fmt.Errorf("tune: grid: trial %d is past the grid's %d points", req.Number, size)
	}
	idx := int(g.orderFor(req.Space, req.Seed, size)[req.Number])
	x := make([]float64, req.Space.Len())
	for i := len(req.Space.Params) - 1; i >= 0; i-- {
		vals := g.values(&req.Space.Params[i])
		x[i] = vals[idx%len(vals)]
		idx /= len(vals)
	}
	return x, nil
}

// orderFor returns the shuffled visiting order, cached per seed and space.
func (g *Grid) orderFor(s *Space, seed uint64, size int) []int32 {
	key := fmt.Sprintf("%d/%d/%s", seed, g.points(), s.String())
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.key != key {
		rng := rand.New(rand.NewPCG(seed, 0x6772696400000000)) // "grid": a stream apart from the trials'
		g.order = make([]int32, size)
		for i := range g.order {
			g.order[i] = int32(i)
		}
		rng.Shuffle(size, func(i, j int) { g.order[i], g.order[j] = g.order[j], g.order[i] })
		g.key = key
	}
	return g.order
}
