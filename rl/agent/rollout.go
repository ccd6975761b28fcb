package agent

// This file holds the on-policy rollout: collecting NSteps steps of every
// environment with the current policy, and returns and advantages by
// generalised advantage estimation (SB3's RolloutBuffer). It leaves out
// the update (onpolicy.go).

import "github.com/kiln-ml/kiln/rl"

// rollout holds one rollout, time-major: index t*envs + i.
type rollout struct {
	steps, envs, dim int
	obs              []float32 // (T, N, D)
	actions          []int
	rewards          []float32
	starts           []float32 // 1 where the observation began an episode
	values           []float32
	logProbs         []float32
	advantages       []float32
	returns          []float32
	lastStarts       []float32 // (N): whether each environment's next observation starts an episode
}

func (b *rollout) init(steps, envs, dim int) {
	n := steps * envs
	*b = rollout{steps: steps, envs: envs, dim: dim, obs: make([]float32, n*dim), actions: make([]int, n),
		rewards: make([]float32, n), starts: make([]float32, n), values: make([]float32, n), logProbs: make([]float32, n),
		advantages: make([]float32, n), returns: make([]float32, n), lastStarts: make([]float32, envs)}
	for i := range b.lastStarts {
		b.lastStarts[i] = 1 // a fresh vector's observations all start episodes
	}
}

// collect runs the policy for a rollout and computes its advantages.
func (a *OnPolicy) collect(v *rl.Vec) {
	b := &a.buf
	n, d, k := b.envs, b.dim, a.spec.Actions
	acts := make([]float32, n)
	gamma := float32(a.Cfg.Gamma)
	for t := range b.steps {
		off := t * n
		copy(b.obs[off*d:(off+n)*d], v.Obs)
		logp, values := a.forward(v.Obs, n)
		for i := range n {
			act := sample(logp[i*k:(i+1)*k], a.gen.rng)
			acts[i] = float32(act)
			b.actions[off+i] = act
			b.logProbs[off+i] = logp[i*k+act]
			b.values[off+i] = values[i]
		}
		copy(b.starts[off:off+n], b.lastStarts)
		v.Step(acts)
		for i := range n {
			r := v.Reward[i]
			// A truncated episode did not end: bootstrap from the value
			// of its last observation, as SB3 does.
			if v.Truncated[i] && !v.Terminated[i] {
				_, tv := a.forward(v.FinalObs[i*d:(i+1)*d], 1)
				r += gamma * tv[0]
			}
			b.rewards[off+i] = r
			b.lastStarts[i] = 0
			if v.Terminated[i] || v.Truncated[i] {
				b.lastStarts[i] = 1
			}
		}
	}
	_, last := a.forward(v.Obs, n)
	b.gae(last, gamma, float32(a.Cfg.GAELambda))
}

// gae fills advantages and returns from the values of the observations
// after the rollout: delta_t = r_t + gamma V(s_t+1) nonterminal - V(s_t),
// A_t = delta_t + gamma lambda nonterminal A_t+1, R_t = A_t + V(s_t).
func (b *rollout) gae(lastValues []float32, gamma, lambda float32) {
	n := b.envs
	for i := range n {
		var last float32
		for t := b.steps - 1; t >= 0; t-- {
			var nextNonTerminal, nextValue float32
			if t == b.steps-1 {
				nextNonTerminal, nextValue = 1-b.lastStarts[i], lastValues[i]
			} else {
				nextNonTerminal, nextValue = 1-b.starts[(t+1)*n+i], b.values[(t+1)*n+i]
			}
			j := t*n + i
			delta := b.rewards[j] + gamma*nextValue*nextNonTerminal - b.values[j]
			last = delta + gamma*lambda*nextNonTerminal*last
			b.advantages[j] = last
			b.returns[j] = last + b.values[j]
		}
	}
}

// gather copies the examples idx into obs and the batch, reusing mb's
// slices.
func (b *rollout) gather(idx []int, obs []float32, mb PGBatch) PGBatch {
	n, d := len(idx), b.dim
	mb.Actions = resize(mb.Actions, n)
	mb.OldLogProb = resize(mb.OldLogProb, n)
	mb.OldValues = resize(mb.OldValues, n)
	mb.Advantages = resize(mb.Advantages, n)
	mb.Returns = resize(mb.Returns, n)
	for k, j := range idx {
		copy(obs[k*d:(k+1)*d], b.obs[j*d:(j+1)*d])
		mb.Actions[k] = b.actions[j]
		mb.OldLogProb[k] = b.logProbs[j]
		mb.OldValues[k] = b.values[j]
		mb.Advantages[k] = b.advantages[j]
		mb.Returns[k] = b.returns[j]
	}
	return mb
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// explainedVariance is 1 - Var(R - V) / Var(R) over the rollout.
func (b *rollout) explainedVariance() float64 {
	var mr, md float64
	for j, r := range b.returns {
		mr += float64(r)
		md += float64(r - b.values[j])
	}
	n := float64(len(b.returns))
	mr /= n
	md /= n
	var vr, vd float64
	for j, r := range b.returns {
		vr += (float64(r) - mr) * (float64(r) - mr)
		e := float64(r-b.values[j]) - md
		vd += e * e
	}
	if vr == 0 {
		return 0
	}
	return 1 - vd/vr
}
