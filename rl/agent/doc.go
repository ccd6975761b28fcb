// Package agent holds kiln's reinforcement-learning agents, trained with
// kiln's own autograd and optimizers: PPO (clipped objective, GAE, value
// clipping, entropy bonus, minibatch epochs, advantage normalisation),
// A2C, REINFORCE with a learned baseline, and DQN (replay buffer, target
// network, epsilon schedule, Double DQN). Their defaults are
// Stable-Baselines3's (version 2) for the same algorithm; the rl-zoo's
// tuned settings for an environment are in Zoo.
//
// Every agent works on an rl.Vec through the Agent interface: Iterate
// collects experience and updates once; Act chooses actions. All
// randomness (action sampling, minibatch order, exploration) comes from
// the agent's own generator, seeded once, and an agent's whole state
// (parameters, optimizer, generator, replay buffer, counters) is saved
// between iterations for bit-identical resumption.
//
// This package leaves out continuous actions (Gaussian policies for
// Pendulum), recurrent policies, observation normalisation and run
// directories (package rl/rlrun).
package agent
