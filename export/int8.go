package export

// This file writes kiln quantize's int8 models as ONNX in the QDQ form:
// every convolution and linear layer reads its input through
// QuantizeLinear and DequantizeLinear (int8, zero point 0, the calibrated
// per-tensor scale), its int8 weights through DequantizeLinear with the
// per-output-channel scales (axis 0), and its bias as int32 in units of
// input scale times weight scale. Where a layer's rectified output goes
// on to the next weighted layer through max pooling and flattening only,
// the output is quantised with that layer's input scale right after the
// product, so ONNX Runtime can fuse the group into QLinearConv or QGemm;
// elsewhere (residual additions, average pooling, the logits) values stay
// float32 as in kiln's int8 run.
//
// The graph computes kiln's arithmetic but for rounding: ONNX rounds
// halves to even where kiln rounds them away from zero, its requantisation
// multiplies in float by a rounded combined scale, and the int32 bias is
// the float bias rounded to its unit. So a quantised activation can differ
// by one step where kiln's value lies within float rounding of a half
// step. A Clip to ±127 steps before each quantisation of a value that can
// be negative keeps kiln's symmetric range (ONNX would saturate at -128).

import (
	"math"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/export/onnx"
	"github.com/kiln-ml/kiln/quantize"
)

// int8Graph is an int8 model as a module the ONNX exporter writes
// through onnx.Exporter.
type int8Graph struct{ m *quantize.Model }

// Forward runs the int8 model.
func (g int8Graph) Forward(t *autograd.Tape, x *autograd.Var) *autograd.Var { return g.m.Forward(t, x) }

// ExportONNX emits the QDQ graph of the model's layers.
func (g int8Graph) ExportONNX(b *onnx.Builder, x string) (string, error) {
	e := &qdq{b: b}
	e.zero = b.Int8s("zero_point", []int8{0})
	return e.seq(g.m.Layers(), x, false), nil
}

// qdq emits the graph of an int8 model's layers.
type qdq struct {
	b    *onnx.Builder
	zero string // the int8 zero point 0, a scalar
}

// seq emits layers applied to x; nonneg says x holds no negative values.
func (e *qdq) seq(layers []quantize.Layer, x string, nonneg bool) string {
	b := e.b
	for i, l := range layers {
		switch l.Kind {
		case "conv", "linear":
			x = e.weighted(l, x, nonneg)
			if next := requantNext(layers[i+1:]); l.ReLU && next != nil {
				x = e.quantDequant(x, next.InputScale)
			}
			if nonneg = l.ReLU; l.ReLU {
				x = b.Relu(x)
			}
		case "maxpool":
			s := b.Shape(x)
			oh, ow := (s[2]-l.Kernel[0])/l.Stride[0]+1, (s[3]-l.Kernel[1])/l.Stride[1]+1
			x = b.Op("MaxPool", []string{x}, []int{s[0], s[1], oh, ow},
				onnx.AttrInts("kernel_shape", l.Kernel[0], l.Kernel[1]), onnx.AttrInts("strides", l.Stride[0], l.Stride[1]))
		case "avgpool":
			s := b.Shape(x)
			x = b.Op("GlobalAveragePool", []string{x}, []int{s[0], s[1], 1, 1})
		case "flatten":
			x = b.Flatten(x)
		case "residual":
			y := e.seq(l.Main, x, nonneg)
			sc := x
			if l.Shortcut != nil {
				sc = e.seq(l.Shortcut, x, nonneg)
			}
			sum, err := b.Add(y, sc)
			if err != nil {
				panic(err) // the int8 program's shapes always agree
			}
			x, nonneg = b.Relu(sum), true
		default:
			panic("export: int8 layer kind " + l.Kind)
		}
	}
	return x
}

// requantNext returns the weighted layer that the layers after a
// rectified weighted one lead to through max pooling and flattening only,
// or nil.
func requantNext(rest []quantize.Layer) *quantize.Layer {
	for i := range rest {
		switch rest[i].Kind {
		case "maxpool", "flatten":
		case "conv", "linear":
			return &rest[i]
		default:
			return nil
		}
	}
	return nil
}

// quantDequant returns x quantised to int8 with scale s (zero point 0) and
// dequantised.
func (e *qdq) quantDequant(x string, s float32) string {
	b := e.b
	scale := b.Scalar(s)
	q := b.Op("QuantizeLinear", []string{x, scale, e.zero}, b.Shape(x))
	return b.Op("DequantizeLinear", []string{q, scale, e.zero}, b.Shape(x))
}

// weighted emits convolution or linear layer l applied to x.
func (e *qdq) weighted(l quantize.Layer, x string, nonneg bool) string {
	b := e.b
	xs := l.InputScale
	if !nonneg { // kiln clamps to -127 steps; QuantizeLinear would give -128
		x = b.Op("Clip", []string{x, b.Scalar(-127 * xs), b.Scalar(127 * xs)}, b.Shape(x))
	}
	x = e.quantDequant(x, xs)
	s := b.Shape(x)
	wShape := []int{l.Out, l.K}
	if l.Kind == "conv" {
		wShape = []int{l.Out, l.K / (l.Kernel[0] * l.Kernel[1]), l.Kernel[0], l.Kernel[1]}
	}
	w := b.Int8s(l.Name+".weight", l.Weight, wShape...)
	ws := b.Const(l.Name+".weight_scale", l.WeightScale, l.Out)
	wz := b.Int8s(l.Name+".weight_zero_point", make([]int8, l.Out), l.Out)
	wd := b.Op("DequantizeLinear", []string{w, ws, wz}, wShape, onnx.AttrInt("axis", 0))
	bq, bs := int32Bias(l.Bias, xs, l.WeightScale)
	bi := b.Int32s(l.Name+".bias", bq, l.Out)
	bsc := b.Const(l.Name+".bias_scale", bs, l.Out)
	bz := b.Int32s(l.Name+".bias_zero_point", make([]int32, l.Out), l.Out)
	bd := b.Op("DequantizeLinear", []string{bi, bsc, bz}, []int{l.Out}, onnx.AttrInt("axis", 0))
	if l.Kind == "linear" {
		return b.Op("Gemm", []string{x, wd, bd}, []int{s[0], l.Out}, onnx.AttrInt("transB", 1))
	}
	kh, kw := l.Kernel[0], l.Kernel[1]
	oh := (s[2]+2*l.Padding[0]-kh)/l.Stride[0] + 1
	ow := (s[3]+2*l.Padding[1]-kw)/l.Stride[1] + 1
	return b.Op("Conv", []string{x, wd, bd}, []int{s[0], l.Out, oh, ow},
		onnx.AttrInts("kernel_shape", kh, kw), onnx.AttrInts("strides", l.Stride[0], l.Stride[1]),
		onnx.AttrInts("pads", l.Padding[0], l.Padding[1], l.Padding[0], l.Padding[1]))
}

// int32Bias returns bias in units of its scale, xs*ws[o] (the float32
// product kiln's epilogue uses), rounded to the nearest int32, and those
// scales.
func int32Bias(bias []float32, xs float32, ws []float32) ([]int32, []float32) {
	q, s := make([]int32, len(bias)), make([]float32, len(bias))
	for o, v := range bias {
		s[o] = xs * ws[o]
		r := math.Round(float64(v) / float64(s[o]))
		q[o] = int32(min(max(r, math.MinInt32), math.MaxInt32))
	}
	return q, s
}
