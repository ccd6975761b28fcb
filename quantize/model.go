package quantize

// This file holds the int8 model: quantising the weights, calibrating the
// activation scales, and the models.Model that runs the int8 layers.

import (
	"fmt"
	"math"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// Model is a model quantised to int8. It runs in inference only: its
// Forward records no gradients and its output is a constant.
type Model struct {
	float models.Model
	prog  *program
}

var _ models.Model = (*Model)(nil)

// Forward maps inputs (N, C, H, W) to logits (N, classes) through the int8
// layers.
func (m *Model) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	v := x.Value()
	n := v.Shape()[0]
	var in []float32
	if v.IsContiguous() {
		in = v.Data() // read only
	} else {
		in = v.Values()
	}
	y := m.prog.run(in, n, true, nil)
	return g.Const(tensor.FromSlice(y, n, len(y)/n))
}

// ParamSet returns the float model's parameters, which the int8 layers
// were made from (and hold the biases they use).
func (m *Model) ParamSet() *nn.ParamSet { return m.float.ParamSet() }

// Float returns the float model it was made from.
func (m *Model) Float() models.Model { return m.float }

// ForwardFloat runs the same layers in float32; with the model's own
// Forward it is the reference the int8 run is measured against.
func (m *Model) ForwardFloat(x []float32, n int) []float32 { return m.prog.run(x, n, false, nil) }

// Quantize returns the int8 model of m (inputs of shape [C, H, W]): each
// weighted layer's weights per output channel, and its input's scale from
// the largest magnitude it sees over calib, n examples packed one after
// another.
func Quantize(m models.Model, shape []int, calib []float32, n int) (*Model, error) {
	if len(shape) != 3 {
		return nil, fmt.Errorf("quantize: input shape %v: want [C, H, W] images", shape)
	}
	size := shape[0] * shape[1] * shape[2]
	if n < 1 || len(calib) != n*size {
		return nil, fmt.Errorf("quantize: %d calibration values for %d examples of %v", len(calib), n, shape)
	}
	p, err := build(m, shape)
	if err != nil {
		return nil, err
	}
	peak := map[*layer]float32{}
	const batch = 64
	for i := 0; i < n; i += batch {
		j := min(i+batch, n)
		p.run(calib[i*size:j*size], j-i, false, func(l *layer, x []float32) {
			for _, v := range x {
				peak[l] = max(peak[l], float32(math.Abs(float64(v))))
			}
		})
	}
	for _, l := range p.weighted() {
		if peak[l] == 0 || math.IsInf(float64(peak[l]), 0) || math.IsNaN(float64(peak[l])) {
			return nil, fmt.Errorf("quantize: layer %s saw inputs of largest magnitude %g over %d calibration examples; want a finite, non-zero range", l.name, peak[l], n)
		}
		l.xScale = peak[l] / 127
		l.quantizeWeights()
		l.pack()
	}
	return &Model{float: m, prog: p}, nil
}

// quantizeWeights sets q and wScale from w: per output channel, the
// largest magnitude maps to ±127.
func (l *layer) quantizeWeights() {
	l.q = make([]int8, len(l.w))
	l.wScale = make([]float32, l.out)
	for o := range l.out {
		row := l.w[o*l.k : (o+1)*l.k]
		var hi float32
		for _, v := range row {
			hi = max(hi, float32(math.Abs(float64(v))))
		}
		s := hi / 127
		if s == 0 {
			s = 1 // an all-zero channel: any scale gives zeros
		}
		l.wScale[o] = s
		quantizeInto(l.q[o*l.k:(o+1)*l.k], row, s)
	}
}
