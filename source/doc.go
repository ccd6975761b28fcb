// Package source resolves a run's --data into its training, validation
// and test sets.
//
// DetectSource recognises what a folder or file holds: image files with
// or without class folders (and train/ and test/ splits), IDX files,
// CIFAR binaries, text folders and tab-separated lines files. LoadDatasets
// opens them for a run.Config: the embedded Fashion-MNIST subset when
// --data is empty; images decoded, converted and resized (every file is
// checked once, and the bad ones are reported and skipped, or refused
// with --strict), augmentation on the training set only; the stratified
// validation split or one cross-validation fold, drawn from the seed; text
// tokenised with a vocabulary built from the training texts alone
// (LoadText); a language model's text cut into windows (LoadLM).
//
// This package leaves out decoding and transforms (data/imagefolder,
// data/transform), tokenisers (data/text), models and training.
package source
