package agent

// This file holds DQN's replay buffer (SB3's ReplayBuffer with
// handle_timeout_termination): the last Capacity transitions, sampled
// uniformly with replacement. A transition's next observation is the
// episode's real last one where it ended, and done is set only for
// terminal states, not for the time limit.

import (
	"fmt"
	"math/rand/v2"
)

// replay is a ring of transitions.
type replay struct {
	capacity, dim int
	pos, size     int
	obs, next     []float32 // (capacity, dim)
	actions       []float32
	rewards       []float32
	dones         []float32
}

func newReplay(capacity, dim int) *replay {
	return &replay{capacity: capacity, dim: dim}
}

// add stores one transition.
func (r *replay) add(obs, next []float32, action int, reward float32, done bool) {
	d := r.dim
	if r.size < r.capacity { // grow until full, then overwrite the oldest
		r.obs = append(r.obs, obs...)
		r.next = append(r.next, next...)
		r.actions = append(r.actions, 0)
		r.rewards = append(r.rewards, 0)
		r.dones = append(r.dones, 0)
		r.size++
	}
	i := r.pos
	copy(r.obs[i*d:(i+1)*d], obs)
	copy(r.next[i*d:(i+1)*d], next)
	r.actions[i] = float32(action)
	r.rewards[i] = reward
	r.dones[i] = 0
	if done {
		r.dones[i] = 1
	}
	r.pos = (r.pos + 1) % r.capacity
}

// sample fills the batch with n transitions drawn uniformly.
func (r *replay) sample(n int, rng *rand.Rand, obs, next []float32, actions []int, rewards, dones []float32) {
	d := r.dim
	for k := range n {
		i := rng.IntN(r.size)
		copy(obs[k*d:(k+1)*d], r.obs[i*d:(i+1)*d])
		copy(next[k*d:(k+1)*d], r.next[i*d:(i+1)*d])
		actions[k] = int(r.actions[i])
		rewards[k] = r.rewards[i]
		dones[k] = r.dones[i]
	}
}

// save adds the buffer to a state.
func (r *replay) save(s *State) {
	s.Tensors["replay.obs"] = r.obs
	s.Tensors["replay.next_obs"] = r.next
	s.Tensors["replay.actions"] = r.actions
	s.Tensors["replay.rewards"] = r.rewards
	s.Tensors["replay.dones"] = r.dones
	s.Counters["replay_pos"] = r.pos
	s.Counters["replay_size"] = r.size
}

// load restores the buffer from a state.
func (r *replay) load(s State) error {
	size, pos := s.Counters["replay_size"], s.Counters["replay_pos"]
	if size < 0 || size > r.capacity || pos < 0 || pos >= r.capacity || (size < r.capacity && pos != size) {
		return fmt.Errorf("agent: replay buffer of %d transitions at %d, capacity %d", size, pos, r.capacity)
	}
	want := map[string]int{"replay.obs": size * r.dim, "replay.next_obs": size * r.dim, "replay.actions": size, "replay.rewards": size, "replay.dones": size}
	for name, n := range want {
		if len(s.Tensors[name]) != n {
			return fmt.Errorf("agent: saved %q has %d values, want %d", name, len(s.Tensors[name]), n)
		}
	}
	r.size, r.pos = size, pos
	r.obs = append([]float32(nil), s.Tensors["replay.obs"]...)
	r.next = append([]float32(nil), s.Tensors["replay.next_obs"]...)
	r.actions = append([]float32(nil), s.Tensors["replay.actions"]...)
	r.rewards = append([]float32(nil), s.Tensors["replay.rewards"]...)
	r.dones = append([]float32(nil), s.Tensors["replay.dones"]...)
	return nil
}
