// Package rl holds what reinforcement learning in kiln shares: the Env
// interface an environment implements, its Spec (observation and action
// spaces, the step limit), and Vec, N copies of an environment stepped
// together with automatic resets and episode bookkeeping.
//
// Everything random about an environment happens at reset and comes from a
// *rand.Rand that the caller owns (Vec keeps one per copy, seeded from one
// seed), so an episode is a pure function of that generator and the
// actions. Environments keep their state in float64, as Gymnasium's do, and
// hand out float32 observations.
//
// This package leaves out the environments themselves (rl/classic), the
// agents that learn in them (rl/agent) and run directories (rl/rlrun).
package rl
