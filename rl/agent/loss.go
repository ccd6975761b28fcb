package agent

// This file holds the agents' losses as compositions of autograd's
// primitive ops (no backward rules of their own): the policy-gradient
// losses of PPO, A2C and REINFORCE, and DQN's Huber loss. It leaves out
// continuous-action log-likelihoods.

import (
	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// clamp returns x limited to [lo, hi]: lo + relu(x - lo) - relu(x - hi).
func clamp(g *autograd.Tape, x *autograd.Var, lo, hi float32) *autograd.Var {
	return g.AddScalar(g.Sub(g.ReLU(g.AddScalar(x, -lo)), g.ReLU(g.AddScalar(x, -hi))), lo)
}

// minimum returns the elementwise min(a, b) = a - relu(a - b).
func minimum(g *autograd.Tape, a, b *autograd.Var) *autograd.Var {
	return g.Sub(a, g.ReLU(g.Sub(a, b)))
}

// vec wraps a float32 slice as a constant of shape (len).
func vec(g *autograd.Tape, x []float32) *autograd.Var {
	return g.Const(tensor.FromSlice(x, len(x)))
}

// PGBatch is what a policy-gradient loss needs beside the networks'
// outputs: per example, the action taken, its log-probability and value
// when it was collected, its advantage and its return.
type PGBatch struct {
	Actions    []int
	OldLogProb []float32
	OldValues  []float32
	Advantages []float32 // already normalised when the algorithm asks for it
	Returns    []float32
}

// PGCoefs weighs a policy-gradient loss's terms.
type PGCoefs struct {
	Clip    float32 // PPO's ratio clipping; 0 for the plain policy gradient of A2C and REINFORCE
	ClipVF  float32 // PPO's value clipping around the old values; 0 for none
	EntCoef float32
	VFCoef  float32
}

// PGParts are the terms of a policy-gradient loss, for logging.
type PGParts struct {
	Policy, Value, Entropy float32 // entropy is the mean entropy, not its loss
	ClipFraction           float32 // the share of ratios outside [1-clip, 1+clip]
}

// PGLoss returns SB3's on-policy loss for logits (B, A) and values (B, 1):
//
//	policy  = -mean(min(A r, A clamp(r, 1-clip, 1+clip))),  r = exp(log pi(a) - old)   (clip > 0)
//	policy  = -mean(A log pi(a))                                                    (clip = 0)
//	value   = mean((R - v')^2),  v' = old + clamp(v - old, -clipVF, clipVF), or v'= v
//	loss    = policy - entCoef mean(H(pi)) + vfCoef value
func PGLoss(g *autograd.Tape, logits, values *autograd.Var, b PGBatch, c PGCoefs) (*autograd.Var, PGParts) {
	n := len(b.Actions)
	logp := g.LogSoftmax(logits, 1)
	logpA := g.Neg(g.NLL(logp, b.Actions, autograd.NLLOptions{IgnoreIndex: -100, Reduction: autograd.ReduceNone}))
	adv := vec(g, b.Advantages)
	var policy *autograd.Var
	var parts PGParts
	if c.Clip > 0 {
		ratio := g.Exp(g.Sub(logpA, vec(g, b.OldLogProb)))
		surr1 := g.Mul(ratio, adv)
		surr2 := g.Mul(clamp(g, ratio, 1-c.Clip, 1+c.Clip), adv)
		policy = g.Neg(g.MeanAll(minimum(g, surr1, surr2)))
		out := 0
		for _, r := range ratio.Data() {
			if r > 1+c.Clip || r < 1-c.Clip {
				out++
			}
		}
		parts.ClipFraction = float32(out) / float32(n)
	} else {
		policy = g.Neg(g.MeanAll(g.Mul(logpA, adv)))
	}
	v := g.Reshape(values, n)
	if c.ClipVF > 0 {
		old := vec(g, b.OldValues)
		v = g.Add(old, clamp(g, g.Sub(v, old), -c.ClipVF, c.ClipVF))
	}
	diff := g.Sub(vec(g, b.Returns), v)
	value := g.MeanAll(g.Mul(diff, diff))
	entropy := g.Neg(g.Sum(g.Mul(g.Exp(logp), logp), 1, false))
	meanEnt := g.MeanAll(entropy)
	loss := g.Add(g.Add(policy, g.MulScalar(meanEnt, -c.EntCoef)), g.MulScalar(value, c.VFCoef))
	parts.Policy, parts.Value, parts.Entropy = policy.Item(), value.Item(), meanEnt.Item()
	return loss, parts
}

// HuberLoss returns mean(huber(x - target)) with delta 1, PyTorch's
// smooth_l1_loss: 0.5 d^2 where |d| < 1, |d| - 0.5 elsewhere, written as
// 0.5 m^2 + (|d| - m) with m = min(|d|, 1).
func HuberLoss(g *autograd.Tape, x *autograd.Var, target []float32) *autograd.Var {
	d := g.Abs(g.Sub(x, vec(g, target)))
	m := g.AddScalar(g.Neg(g.ReLU(g.AddScalar(g.Neg(d), 1))), 1) // 1 - relu(1 - |d|)
	return g.MeanAll(g.Add(g.MulScalar(g.Mul(m, m), 0.5), g.Sub(d, m)))
}
