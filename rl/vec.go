package rl

// This file holds Vec, N copies of one environment stepped together, as
// Gymnasium's SyncVectorEnv with SB3's Monitor: a copy whose episode ends
// is reset at once, its last observation kept in FinalObs, and the
// episode's return and length recorded. It leaves out running copies in
// parallel: classic-control steps take nanoseconds, so goroutines would
// cost more than they save.

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
)

// Episode is one finished episode.
type Episode struct {
	Return float64 `json:"return"`
	Length int     `json:"length"`
	Step   int     `json:"step"` // the vector's step count when it ended
}

// Vec steps N copies of an environment together.
type Vec struct {
	Spec   Spec
	N      int
	ObsDim int

	Obs        []float32 // (N, ObsDim): the observation each copy acts on next
	Reward     []float32 // (N): the rewards of the last Step
	Terminated []bool    // (N)
	Truncated  []bool    // (N)
	FinalObs   []float32 // (N, ObsDim): where a copy's episode ended at the last Step, its last observation

	Steps    int       // environment steps so far, all copies together
	Episodes []Episode // finished episodes not yet taken by TakeEpisodes

	envs     []Env
	pcgs     []*rand.PCG
	rngs     []*rand.Rand
	epReturn []float64
	epLen    []int
}

// NewVec makes n copies of an environment with newEnv and resets copy i
// with the generator NewRand(seed + i).
func NewVec(newEnv func() Env, n int, seed uint64) *Vec {
	if n <= 0 {
		panic(fmt.Sprintf("rl: a vector of %d environments", n))
	}
	v := &Vec{N: n}
	for i := range n {
		e := newEnv()
		v.envs = append(v.envs, e)
		pcg := rand.NewPCG(seed+uint64(i), 0x9e3779b97f4a7c15)
		v.pcgs = append(v.pcgs, pcg)
		v.rngs = append(v.rngs, rand.New(pcg))
	}
	v.Spec = v.envs[0].Spec()
	v.ObsDim = v.Spec.Obs.Dim()
	v.Obs = make([]float32, n*v.ObsDim)
	v.FinalObs = make([]float32, n*v.ObsDim)
	v.Reward = make([]float32, n)
	v.Terminated = make([]bool, n)
	v.Truncated = make([]bool, n)
	v.epReturn = make([]float64, n)
	v.epLen = make([]int, n)
	for i, e := range v.envs {
		copy(v.Obs[i*v.ObsDim:], e.Reset(v.rngs[i]))
	}
	return v
}

// Env returns copy i.
func (v *Vec) Env(i int) Env { return v.envs[i] }

// Step applies actions, (N, ActionDim), to every copy, and resets the
// copies whose episode ended.
func (v *Vec) Step(actions []float32) {
	ad := v.Spec.ActionDim()
	if len(actions) != v.N*ad {
		panic(fmt.Sprintf("rl: %d actions for %d environments of action dimension %d", len(actions), v.N, ad))
	}
	d := v.ObsDim
	for i, e := range v.envs {
		obs, r, term, trunc := e.Step(actions[i*ad : (i+1)*ad])
		v.Steps++
		v.Reward[i], v.Terminated[i], v.Truncated[i] = float32(r), term, trunc
		v.epReturn[i] += r
		v.epLen[i]++
		if term || trunc {
			copy(v.FinalObs[i*d:(i+1)*d], obs)
			v.Episodes = append(v.Episodes, Episode{Return: v.epReturn[i], Length: v.epLen[i], Step: v.Steps})
			v.epReturn[i], v.epLen[i] = 0, 0
			obs = e.Reset(v.rngs[i])
		}
		copy(v.Obs[i*d:(i+1)*d], obs)
	}
}

// TakeEpisodes returns the episodes finished since the last call and
// forgets them.
func (v *Vec) TakeEpisodes() []Episode {
	eps := v.Episodes
	v.Episodes = nil
	return eps
}

// VecState is everything a Vec needs to continue exactly where it was: a
// JSON value for checkpoints (float64 values survive encoding/json exactly).
type VecState struct {
	Envs     [][]float64 `json:"envs"`
	RNG      []string    `json:"rng"` // each copy's PCG, MarshalBinary in hex
	Obs      []float32   `json:"obs"`
	EpReturn []float64   `json:"ep_return"`
	EpLen    []int       `json:"ep_len"`
	Steps    int         `json:"steps"`
	Episodes []Episode   `json:"episodes"`
}

// State returns the vector's state.
func (v *Vec) State() VecState {
	s := VecState{Obs: append([]float32(nil), v.Obs...), EpReturn: append([]float64(nil), v.epReturn...),
		EpLen: append([]int(nil), v.epLen...), Steps: v.Steps, Episodes: append([]Episode(nil), v.Episodes...)}
	for i, e := range v.envs {
		s.Envs = append(s.Envs, e.State())
		b, err := v.pcgs[i].MarshalBinary()
		if err != nil {
			panic("rl: a PCG failed to marshal: " + err.Error()) // it never does
		}
		s.RNG = append(s.RNG, hex.EncodeToString(b))
	}
	return s
}

// SetState restores a state that State returned from a vector of the same
// environment and size.
func (v *Vec) SetState(s VecState) error {
	if len(s.Envs) != v.N || len(s.RNG) != v.N || len(s.Obs) != v.N*v.ObsDim || len(s.EpReturn) != v.N || len(s.EpLen) != v.N {
		return fmt.Errorf("rl: saved state of %d environments (%d observations), want %d of %s", len(s.Envs), len(s.Obs), v.N, v.Spec.ID)
	}
	for i, e := range v.envs {
		if err := e.SetState(s.Envs[i]); err != nil {
			return fmt.Errorf("rl: environment %d: %w", i, err)
		}
		b, err := hex.DecodeString(s.RNG[i])
		if err != nil {
			return fmt.Errorf("rl: generator of environment %d: %w", i, err)
		}
		if err := v.pcgs[i].UnmarshalBinary(b); err != nil {
			return fmt.Errorf("rl: generator of environment %d: %w", i, err)
		}
	}
	copy(v.Obs, s.Obs)
	copy(v.epReturn, s.EpReturn)
	copy(v.epLen, s.EpLen)
	v.Steps = s.Steps
	v.Episodes = append([]Episode(nil), s.Episodes...)
	return nil
}
