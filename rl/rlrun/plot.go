package rlrun

import (
	"fmt"
	"image/color"
	"image/png"
	"io"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/rl"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// plotReturns draws every episode's return (points) and the mean of the
// last 100 (line) against environment steps, and writes the PNG
// atomically. (train/plots draws against epochs; runs here have none.)
func plotReturns(path string, cfg Config, eps []rl.Episode) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s on %s (seed %d)", cfg.Algo, cfg.Env, cfg.Seed)
	p.X.Label.Text = "environment steps"
	p.Y.Label.Text = "episode return"
	p.Add(plotter.NewGrid())
	if len(eps) > 0 {
		pts := make(plotter.XYs, len(eps))
		mean := make(plotter.XYs, len(eps))
		var sum float64
		for i, e := range eps {
			pts[i] = plotter.XY{X: float64(e.Step), Y: e.Return}
			sum += e.Return
			if i >= 100 {
				sum -= eps[i-100].Return
			}
			mean[i] = plotter.XY{X: float64(e.Step), Y: sum / float64(min(i+1, 100))}
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("rlrun: %s: %w", path, err)
		}
		sc.Color = color.RGBA{0x1f, 0x77, 0xb4, 0x60}
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(1.2)
		l, err := plotter.NewLine(mean)
		if err != nil {
			return fmt.Errorf("rlrun: %s: %w", path, err)
		}
		l.Color = color.RGBA{0xff, 0x7f, 0x0e, 0xff}
		l.Width = vg.Points(1.8)
		p.Add(sc, l)
		p.Legend.Add("episode", sc)
		p.Legend.Add("mean of last 100", l)
		p.Legend.Top = false // returns rise: the bottom right is free
	}
	c := vgimg.New(6*vg.Inch, 4*vg.Inch)
	p.Draw(draw.New(c))
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error { return enc.Encode(w, c.Image()) })
}
