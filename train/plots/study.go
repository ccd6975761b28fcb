package plots

// This file draws a tuning study's figures: the optimisation history and
// the parameters' importance. It leaves out Optuna's other study plots
// (contour, slice, parallel coordinates), which want many more trials than
// a CPU search runs.

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// History draws a study's completed trials, value against trial number,
// as points, with the best value so far as a step line over them, and
// writes the PNG to path atomically. The three slices are parallel;
// non-finite values are left out.
func History(path, title, ylabel string, trial, value, best []float64) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "trial"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = trialTicks{}
	var pts, run plotter.XYs
	for i := range min(len(trial), len(value), len(best)) {
		if finite(value[i]) {
			pts = append(pts, plotter.XY{X: trial[i], Y: value[i]})
		}
		if finite(best[i]) {
			run = append(run, plotter.XY{X: trial[i], Y: best[i]})
		}
	}
	if len(pts) > 0 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		s.Color, s.Shape, s.Radius = lineColors[0], draw.CircleGlyph{}, vg.Points(3)
		p.Add(s)
		p.Legend.Add("trial", s)
	}
	if len(run) > 0 {
		l, err := plotter.NewLine(run)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		l.Color, l.Width, l.StepStyle = lineColors[3], vg.Points(1.5), plotter.PostStep
		p.Add(l)
		p.Legend.Add("best so far", l)
	}
	if len(pts) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, xy := range pts {
			lo, hi = math.Min(lo, xy.Y), math.Max(hi, xy.Y)
		}
		// Headroom above the best value (no point goes there) holds
		// the legend.
		pad := math.Max((hi-lo)*0.05, 1e-3)
		p.Y.Min, p.Y.Max = lo-pad, hi+5*pad
		p.X.Min, p.X.Max = pts[0].X-0.5, pts[len(pts)-1].X+0.5
	}
	p.Legend.Top, p.Legend.Left = true, true
	return save(p, 6*vg.Inch, 4*vg.Inch, path)
}

// Importance draws one horizontal bar per name, the first on top, with
// the values (shares in [0, 1]) as percentages, and writes the PNG to path
// atomically.
func Importance(path, title string, names []string, values []float64) error {
	n := min(len(names), len(values))
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "share of the explained variance (%)"
	p.X.Min, p.X.Max = 0, 100
	vs := make(plotter.Values, n)
	labels := make([]string, n)
	for i := range n {
		// NominalY counts from the bottom: reverse, so the first is on top.
		v := values[i]
		if !finite(v) {
			v = 0
		}
		vs[n-1-i], labels[n-1-i] = 100*v, names[i]
	}
	if n > 0 {
		b, err := plotter.NewBarChart(vs, vg.Points(14))
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		b.Horizontal, b.Color, b.LineStyle.Width = true, lineColors[0], 0
		p.Add(b)
		p.NominalY(labels...)
		p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3
	}
	p.Add(plotter.NewGrid())
	return save(p, 6*vg.Inch, vg.Length(1.2+0.35*float64(max(n, 2)))*vg.Inch, path)
}

// trialTicks marks whole trial numbers, at most about ten of them.
type trialTicks struct{}

// Ticks implements plot.Ticker.
func (trialTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := integerTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Value == 0 { // not "-0" from rounding -0.5 up
			ts[i].Value, ts[i].Label = 0, "0"
		}
	}
	return ts
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
