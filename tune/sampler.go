package tune

// This file holds the Sampler contract and the random sampler. It leaves
// out the grid (grid.go) and TPE (tpe.go) samplers.

import (
	"math"
	"math/rand/v2"
)

// SampleRequest is what a sampler sees when it picks a trial's parameters.
type SampleRequest struct {
	Space     *Space
	Number    int           // the trial's number in the study
	Direction Direction     //
	History   []TrialRecord // the study's other trials, any state, in number order
	Rand      *rand.Rand    // seeded from the study's seed and Number, so a trial's draw is reproducible
	Seed      uint64        // the study's seed, for samplers that need a study-wide order
}

// Sampler picks a trial's parameters. Sample returns one internal number
// per parameter of req.Space, in order (see Param.External). Samplers are
// shared by a study's concurrent workers, so they must be safe for
// concurrent use; keeping all randomness in req.Rand makes that easy.
type Sampler interface {
	Sample(req *SampleRequest) ([]float64, error)
}

// Sized is implemented by samplers that can give only so many distinct
// trials (a grid); Optimize stops the study there.
type Sized interface {
	Size(s *Space) (int, error)
}

// Random draws every parameter independently and uniformly: uniform in
// log space for log parameters, uniform over steps for Int, uniform over
// choices for Categorical.
type Random struct{}

// NewRandom returns the random sampler.
func NewRandom() Random { return Random{} }

// Sample implements Sampler.
func (Random) Sample(req *SampleRequest) ([]float64, error) {
	x := make([]float64, req.Space.Len())
	for i := range req.Space.Params {
		x[i] = sampleUniform(&req.Space.Params[i], req.Rand)
	}
	return x, nil
}

// sampleUniform draws one parameter uniformly over its values.
func sampleUniform(p *Param, rng *rand.Rand) float64 {
	switch p.Kind {
	case Categorical:
		return float64(rng.IntN(len(p.Choices)))
	case Int:
		if p.Log {
			// Uniform in log space over [low-0.5, high+0.5) so that each
			// integer gets the log-width of its rounding cell.
			lo, hi := math.Log(p.Low-0.5), math.Log(p.High+0.5)
			return p.snap(math.Round(math.Exp(lo + rng.Float64()*(hi-lo))))
		}
		n := int64(p.High-p.Low)/p.Step + 1
		return p.Low + float64(rng.Int64N(n)*p.Step)
	case LogUniform:
		lo, hi := math.Log(p.Low), math.Log(p.High)
		return p.snap(math.Exp(lo + rng.Float64()*(hi-lo)))
	}
	return p.Low + rng.Float64()*(p.High-p.Low)
}
