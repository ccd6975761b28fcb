// Package run holds a training run's directory and what it records.
//
// A run directory (NewRunDir, which never reuses one) holds the resolved
// Config (config.json, read back by ReadRunConfig; LoadConfig reads JSON
// or YAML config files with the same keys), RunInfo (run.json: classes,
// input shape, transform), the training State (state.safetensors: the
// model, the optimizer's buffers, the loop's Position and history, the
// dropout Generators, early stopping), the metrics files, TensorBoard
// scalars, plots and the test report. Every file is written atomically.
//
// The outputs written during training are train.Loop callbacks, one small
// type each: Metrics, Scalars, Curves, Best (the best model and early
// stopping) and PerClass. Anything that runs a train.Loop in a run
// directory (a task, a distributed or federated trainer, a reinforcement
// learning agent) can add the ones it wants.
//
// This package leaves out where the data come from (package source),
// which model a task trains and how it finishes (package task), and
// saving the training state at the right moments, which needs the whole
// run (task's checkpoint callback).
package run
