// Package task trains a run: one of kiln's tasks, in its run directory.
//
// The tasks are image and text classification (train.Classifier),
// reconstruction by a convolutional autoencoder (Reconstructor, with
// reconstruction grids and exported features) and a character-level
// language model (LanguageModel, with bits per character and a text
// sample). Each is a small type (kind.go) that supplies its training step,
// its figures and its final report; everything else is shared: Run builds
// the data (package source), the model, the optimizer and schedule, and a
// train.Loop whose callbacks write the run directory (package run) and
// save the training state. Resume continues an interrupted run bit for
// bit; Continue trains, resumes or reads back a run by name (cross-
// validation folds and tuning trials use it); Import makes a run directory
// from weights trained elsewhere.
//
// A run resumes exactly because everything random is either saved or a
// pure function of the seed: the loader's order and augmentation depend
// only on (seed, epoch, position), the dropout generators are PCGs whose
// state the training state records, and the loop's Position carries the
// epoch's running sums.
//
// This package leaves out the command line (cmd/kiln), prediction and
// evaluation of finished runs (package predict), and cross-validation
// and tuning (package selection).
package task
