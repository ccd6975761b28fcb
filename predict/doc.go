// Package predict uses finished runs: LoadTrained rebuilds a run's model
// from its run.json, config.json and a checkpoint (best or last), and
// then Predict, PredictFile and PredictText give class probabilities,
// TopK the most likely classes, Evaluate a run's accuracy, loss and
// confusion matrix on its own test set or on other data (classes matched
// by name), and Sample continues a text with a language model.
//
// This package leaves out training (package task) and serving over a
// network.
package predict
