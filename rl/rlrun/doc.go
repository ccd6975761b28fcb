// Package rlrun trains reinforcement-learning agents in run directories,
// as package task does for supervised models: Train makes the directory
// (run.NewRunDir), writes config.json, and runs an agent's iterations,
// recording metrics.csv, TensorBoard scalars (train/tfevents) and
// returns.png (episode return against environment steps). Every
// CheckpointEvery steps, at the end and on interruption it saves
// state.safetensors: the agent's parameters, optimizer, generator and
// buffers, the environments' states and generators, and the metrics so
// far; Resume continues from it with the same bits as a run that was
// never stopped. Evaluate and Play use a finished run's model.safetensors.
//
// This package leaves out flags and progress display (cmd/kiln) and the
// agents themselves (rl/agent).
package rlrun
