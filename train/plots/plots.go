// Package plots draws a run's PNG figures with gonum/plot: learning curves
// (loss and accuracy per epoch) and the confusion matrix.
//
// It takes plain numbers, not the trainer's types, so that it sits below
// package train. It leaves out interactive and vector output (SVG, PDF),
// which gonum/plot could write but nobody has asked for.
package plots

import (
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/kiln-ml/kiln/checkpoint"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named curve: Y[i] at X[i].
type Series struct {
	Name string
	X, Y []float64
}

// palette of the curves: matplotlib's "tab10", whose first colours
// readers of training plots know.
var lineColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

// Curves draws series as lines with points under title, with "epoch" along
// x and ylabel along y, and writes the PNG to path atomically. Series with
// no points are left out; a non-finite value breaks its line there.
func Curves(path, title, ylabel string, series ...Series) error {
	return CurvesOver(path, title, "epoch", ylabel, series...)
}

// CurvesOver is Curves with xlabel along x (whole numbers: epochs, rounds).
func CurvesOver(path, title, xlabel, ylabel string, series ...Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = integerTicks{}
	lo, hi, end := math.Inf(1), math.Inf(-1), math.NaN()
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
		for _, xy := range xys {
			lo, hi = math.Min(lo, xy.Y), math.Max(hi, xy.Y)
		}
		if math.IsNaN(end) {
			end = xys[len(xys)-1].Y
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		c := lineColors[i%len(lineColors)]
		l.Color, pts.Color = c, c
		l.Width = vg.Points(1.5)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2.5)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	if hi > lo {
		pad := (hi - lo) * 0.05
		p.Y.Min, p.Y.Max = lo-pad, hi+pad
	}
	// The legend goes to the corner the curves leave free: the top when
	// the first curve ends low (a falling loss), the bottom when it ends
	// high (a rising accuracy).
	p.Legend.Top = !(end > (lo+hi)/2)
	p.Legend.Left = false
	return save(p, 6*vg.Inch, 4*vg.Inch, path)
}

// integerTicks marks whole epochs only, at most about ten of them.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	step := math.Max(1, math.Ceil((last-first)/10))
	var ts []plot.Tick
	for v := first; v <= last; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ts
}

// save renders p as a PNG and writes it to path atomically.
func save(p *plot.Plot, w, h vg.Length, path string) error {
	c := vgimg.New(w, h)
	p.Draw(draw.New(c))
	// Fast compression: the plots are redrawn after every epoch, and
	// the default level costs several times more for a few percent.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return checkpoint.WriteFileAtomic(path, func(out io.Writer) error {
		return enc.Encode(out, c.Image())
	})
}
