package train

// This file turns a run's history and confusion matrix into the plots of
// package plots. It leaves out the drawing itself.

import (
	"path/filepath"

	"github.com/kiln-ml/kiln/train/plots"
)

// plotCurves redraws loss.png and accuracy.png from the history.
func (s *session) plotCurves() error {
	n := len(s.history)
	x := make([]float64, n)
	tl, vl, ta, va := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, h := range s.history {
		x[i], tl[i], vl[i], ta[i], va[i] = float64(h.Epoch), h.TrainLoss, h.ValLoss, 100*h.TrainAcc, 100*h.ValAcc
	}
	loss := []plots.Series{{Name: "training", X: x, Y: tl}}
	acc := []plots.Series{{Name: "training", X: x, Y: ta}}
	if s.valL != nil {
		loss = append(loss, plots.Series{Name: "validation", X: x, Y: vl})
		acc = append(acc, plots.Series{Name: "validation", X: x, Y: va})
	}
	ylabel := "cross-entropy loss"
	if s.ae != nil {
		ylabel = lossName(s.ae)
	}
	if s.lm != nil {
		ylabel = "cross-entropy loss (nats per character)"
	}
	if err := plots.Curves(filepath.Join(s.dir, LossPlot), s.cfg.Model+": loss", ylabel, loss...); err != nil {
		return err
	}
	if s.ae != nil || s.lm != nil { // no accuracy to plot
		return nil
	}
	return plots.Curves(filepath.Join(s.dir, AccPlot), s.cfg.Model+": accuracy", "accuracy (%)", acc...)
}

func plotConfusion(path, title string, c *Confusion) error {
	return plots.Confusion(path, title, c.Classes, c.Counts)
}
