package viz

// This file draws labelled scatter plots with gonum/plot. It leaves out
// density shading for very many points (every point is drawn, small and
// translucent, so crowded regions darken) and interactive or vector output.

import (
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ScatterOptions label a scatter plot; empty strings leave a label out and
// zero sizes take 7 x 5 inches.
type ScatterOptions struct {
	Title, XLabel, YLabel string
	Width, Height         vg.Length
}

// classColors is matplotlib's "tab10" palette, the one readers of
// embedding plots know; classes past ten reuse it with other glyphs.
var classColors = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xd6, 0x27, 0x28, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
	{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

var classGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}}

// ClassStyle returns the colour and glyph Scatter uses for class k, so that
// other figures can match them.
func ClassStyle(k int) (color.NRGBA, draw.GlyphDrawer) {
	return classColors[k%len(classColors)], classGlyphs[(k/len(classColors))%len(classGlyphs)]
}

// Scatter draws points coloured by class and writes the PNG to w. labels
// holds each point's class index into classNames, and the legend (to the
// right of the axes) lists the classes that occur; with nil labels every
// point takes the first colour and there is no legend. Points with a
// non-finite coordinate are left out.
func Scatter(w io.Writer, points [][2]float64, labels []int, classNames []string, opt ScatterOptions) error {
	if len(points) == 0 {
		return fmt.Errorf("viz: scatter of no points")
	}
	if labels != nil && len(labels) != len(points) {
		return fmt.Errorf("viz: scatter: %d labels for %d points", len(labels), len(points))
	}
	nc := max(len(classNames), 1)
	byClass := make([]plotter.XYs, nc)
	for i, p := range points {
		k := 0
		if labels != nil {
			k = labels[i]
			if k < 0 || k >= len(classNames) {
				return fmt.Errorf("viz: scatter: point %d has label %d, want 0 <= label < %d classes", i, k, len(classNames))
			}
		}
		if math.IsNaN(p[0]) || math.IsInf(p[0], 0) || math.IsNaN(p[1]) || math.IsInf(p[1], 0) {
			continue
		}
		byClass[k] = append(byClass[k], plotter.XY{X: p[0], Y: p[1]})
	}
	p := plot.New()
	p.Title.Text = opt.Title
	p.X.Label.Text = opt.XLabel
	p.Y.Label.Text = opt.YLabel
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	// Smaller points for bigger sets, so that classes stay distinguishable.
	radius := vg.Points(max(1.2, math.Min(3, 60/math.Sqrt(float64(len(points))))))
	for k, xys := range byClass {
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("viz: scatter: %w", err)
		}
		c, glyph := ClassStyle(k)
		c.A = 0xc0
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: radius, Shape: glyph}
		p.Add(s)
		if labels != nil {
			legend.Add(classNames[k], &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: classColors[k%len(classColors)], Radius: vg.Points(3.5), Shape: glyph}})
		}
	}
	width, height := opt.Width, opt.Height
	if width == 0 || height == 0 {
		width, height = 7*vg.Inch, 5*vg.Inch
	}
	canvas := vgimg.New(width, height)
	dc := draw.New(canvas)
	var legendW vg.Length
	if labels != nil {
		for _, name := range classNames {
			legendW = max(legendW, legend.ThumbnailWidth+legend.TextStyle.Width(" "+name))
		}
		legendW += vg.Points(12)
		legendW = min(legendW, width/2)
	}
	p.Draw(draw.Crop(dc, 0, -legendW, 0, 0))
	if labels != nil {
		ld := draw.Crop(dc, width-legendW+vg.Points(4), 0, 0, -vg.Points(30))
		legend.Draw(ld)
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, canvas.Image()); err != nil {
		return fmt.Errorf("viz: scatter png: %w", err)
	}
	return nil
}
