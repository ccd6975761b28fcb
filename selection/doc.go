// Package selection chooses models: CrossValidate trains one ordinary run
// per fold of a stratified k-fold split and summarises them (cv.json,
// cv.csv), and a Tuner searches hyperparameters over a tune.Study, each
// trial a run directory (or a cross-validation), with pruning, reports and
// plots, then retrains the best settings and tests them once.
//
// Runs that select a model never see the test set (run.Config.NoTest);
// only the selected model is tested. This package leaves out the search
// algorithms and study storage (package tune) and training itself
// (package task).
package selection
