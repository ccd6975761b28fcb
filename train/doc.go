// Package train holds kiln's training core: the step and the loop.
//
// A Learner is one task's training step: Classifier (step.go) trains with
// cross-entropy on class labels; the autoencoder's and the language
// model's steps live in package task and call the same Update (backward,
// clip, optimizer step). Loop trains any Learner epoch by epoch, keeps its
// resumable Position and History, steps the schedule, validates, and tells
// its Callbacks of every step, every epoch and an interrupt. Evaluate
// scores a Learner on a loader; Confusion holds per-class counts and
// precision, recall and F1.
//
// What a training run does around the loop (metrics files, TensorBoard,
// plots, checkpoints, early stopping, progress bars) is callbacks, owned
// by the packages that own those outputs: run for the run directory's,
// cmd/kiln for progress. Distributed training, reinforcement learning and
// federated clients are meant to reuse the step and the loop without the
// rest.
//
// This package leaves out run directories and configuration (package
// run), data sets (source), the tasks and the training of a run (task),
// and prediction (predict). It imports nothing above optim and data.
//
// A steady-state training step allocates nothing: the step reuses one
// tape and its buffers.
package train
