package server

// This file draws per-round curves: the server's loss and accuracy plots
// and the simulation's accuracy of several strategies. It leaves out
// per-epoch plots (train/plots, whose x axis is the epoch and whose
// palette has four colours; a comparison of seven strategies needs more).

import (
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/train/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// palette is matplotlib's tab10.
var palette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

// PlotRounds draws series against the round under title, with ylabel
// along y, and writes the PNG to path atomically. Non-finite values are
// left out.
func PlotRounds(path, title, ylabel string, series ...plots.Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "round"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = wholeTicks{}
	for i, s := range series {
		var xys plotter.XYs
		for j := range min(len(s.X), len(s.Y)) {
			if !math.IsNaN(s.Y[j]) && !math.IsInf(s.Y[j], 0) {
				xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("server: %s: %w", path, err)
		}
		c := palette[i%len(palette)]
		l.Color, pts.Color = c, c
		l.Width = vg.Points(1.5)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	p.Legend.Top = false
	c := vgimg.New(6*vg.Inch, 4*vg.Inch)
	p.Draw(draw.New(c))
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error { return enc.Encode(w, c.Image()) })
}

// wholeTicks marks whole rounds, about ten at most.
type wholeTicks struct{}

// Ticks implements plot.Ticker.
func (wholeTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	step := math.Max(1, math.Ceil((last-first)/10))
	var ts []plot.Tick
	for v := first; v <= last; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ts
}
