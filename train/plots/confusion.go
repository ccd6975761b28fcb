package plots

// This file draws the confusion matrix. It leaves out normalising the
// printed numbers: cells show counts, and only their colour is the row's
// fraction (the class's recall), so that rare classes are as readable as
// common ones.

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// blues runs from white to a dark blue, as matplotlib's "Blues".
type blues struct{}

// Colors implements palette.Palette.
func (blues) Colors() []color.Color {
	const n = 64
	out := make([]color.Color, n)
	for i := range out {
		t := float64(i) / (n - 1)
		mix := func(a, b float64) uint8 { return uint8(math.Round(a + (b-a)*t)) }
		out[i] = color.RGBA{mix(0xf7, 0x08), mix(0xfb, 0x30), mix(0xff, 0x6b), 0xff}
	}
	return out
}

// matrix is the confusion matrix as a grid: column c is the predicted
// class, row r the true class counted from the top, coloured by the
// fraction of row r's examples in cell c.
type matrix struct {
	counts [][]int
	rows   []int
}

func (m matrix) Dims() (c, r int) { return len(m.counts), len(m.counts) }
func (m matrix) X(c int) float64  { return float64(c) }
func (m matrix) Y(r int) float64  { return float64(len(m.counts) - 1 - r) }
func (m matrix) Min() float64     { return 0 }
func (m matrix) Max() float64     { return 1 }

func (m matrix) Z(c, r int) float64 {
	if m.rows[r] == 0 {
		return 0
	}
	return float64(m.counts[r][c]) / float64(m.rows[r])
}

// Confusion draws a confusion matrix (counts[true][predicted]) with the
// class names along both axes and each cell's count, and writes the PNG to
// path atomically.
func Confusion(path, title string, classes []string, counts [][]int) error {
	n := len(classes)
	if n == 0 || len(counts) != n {
		return fmt.Errorf("plots: %s: %d classes but %d rows of counts", path, n, len(counts))
	}
	m := matrix{counts: counts, rows: make([]int, n)}
	for r, row := range counts {
		if len(row) != n {
			return fmt.Errorf("plots: %s: row %d has %d counts, want %d", path, r, len(row), n)
		}
		for _, v := range row {
			m.rows[r] += v
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	p.Add(plotter.NewHeatMap(m, blues{}))

	var xticks, yticks []plot.Tick
	for i, name := range classes {
		xticks = append(xticks, plot.Tick{Value: float64(i), Label: name})
		yticks = append(yticks, plot.Tick{Value: float64(n - 1 - i), Label: name})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xticks), plot.ConstantTicks(yticks)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5

	size := vg.Points(max(7, 11-float64(n)/10))
	labels := plotter.XYLabels{}
	var styles []text.Style
	for r := range n {
		for c := range n {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(n - 1 - r)})
			labels.Labels = append(labels.Labels, fmt.Sprint(counts[r][c]))
			col := color.Color(color.Black)
			if m.Z(c, r) > 0.5 {
				col = color.White
			}
			styles = append(styles, text.Style{Font: font.From(plotter.DefaultFont, size), Color: col,
				XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler})
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	l.TextStyle = styles
	p.Add(l)
	side := vg.Length(3+0.45*float64(n)) * vg.Inch
	return save(p, side+vg.Inch, side, path)
}
