// Package classic holds Gymnasium's classic-control environments with
// their exact dynamics, constants, termination and truncation rules and
// spaces: CartPole-v1, Acrobot-v1, MountainCar-v0 and Pendulum-v1
// (gymnasium/envs/classic_control, version 1.0). Each is an rl.Env; Make
// finds one by name.
//
// States are float64 and observations float32, as in Gymnasium, and the
// tests replay golden trajectories that testdata/golden.py computed with
// numpy from the same equations. Initial states are drawn from the
// caller's *rand.Rand with the distributions Gymnasium uses, but not its
// numpy stream: the same seed gives the same episode in kiln, not the same
// one as in Gymnasium.
//
// This package leaves out rendering to pixels (Render draws text frames),
// the continuous MountainCar and the Box2D and MuJoCo environments.
package classic
