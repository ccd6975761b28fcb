package server

// This file draws per-round curves: the server's loss and accuracy plots
// and the simulation's accuracy of several strategies, with train/plots'
// curves over rounds instead of epochs.

import "github.com/kiln-ml/kiln/train/plots"

// PlotRounds draws series against the round under title, with ylabel
// along y, and writes the PNG to path atomically. Non-finite values are
// left out.
func PlotRounds(path, title, ylabel string, series ...plots.Series) error {
	return plots.CurvesOver(path, title, "round", ylabel, series...)
}
