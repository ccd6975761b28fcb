package quantize

// This file describes an int8 model's layers for writers outside the
// package (the ONNX exporter): the stored integers and scales, and the
// float steps between them, in the order the int8 run takes them.

// Layer is one step of an int8 model. A weighted layer ("conv",
// "linear") computes, for each output channel o,
//
//	y[o] = InputScale*WeightScale[o] * sum_k Weight[o,k]*q[k] + Bias[o]
//
// (then max(y, 0) when ReLU), where q = round(x/InputScale), rounded half
// away from zero and clamped to [-127, 127], is its float input x
// quantised (symmetric, zero point 0), and the sum is exact in int32. The
// other kinds work on float32 values: "maxpool" (Kernel, Stride, no
// padding), "avgpool" (global average), "flatten" (to [N, rest]) and
// "residual" (Main and Shortcut, or the input itself when Shortcut is
// nil, added and rectified).
type Layer struct {
	Kind string
	Name string // a weighted layer's state_dict prefix ("conv1", "layer1.0.conv2")

	Out, K      int       // output channels; inputs per output (C*KH*KW for a convolution)
	Weight      []int8    // (Out, K), a convolution's K in (C, KH, KW) order
	WeightScale []float32 // (Out)
	InputScale  float32
	Bias        []float32 // (Out), batch normalisation folded in; zeros when the layer has none
	ReLU        bool

	Kernel, Stride, Padding [2]int // convolution and max pooling, (H, W)

	Main, Shortcut []Layer
}

// Layers returns the model's steps. The slices are the model's own: read
// them, do not change them.
func (m *Model) Layers() []Layer { return describe(m.prog.layers) }

// InputShape returns the shape [C, H, W] of one input.
func (m *Model) InputShape() []int { return append([]int(nil), m.prog.shape...) }

// describe returns the exported description of layers.
func describe(layers []*layer) []Layer {
	out := make([]Layer, 0, len(layers))
	for _, l := range layers {
		d := Layer{Kind: l.kind, Name: l.name, ReLU: l.relu}
		switch l.kind {
		case "conv", "linear":
			d.Out, d.K, d.Weight, d.WeightScale, d.InputScale, d.Bias = l.out, l.k, l.q, l.wScale, l.xScale, l.bias
			if d.Bias == nil {
				d.Bias = make([]float32, l.out)
			}
			if l.kind == "conv" {
				d.Kernel, d.Stride, d.Padding = [2]int{l.kh, l.kw}, [2]int{l.sh, l.sw}, [2]int{l.ph, l.pw}
			}
		case "maxpool":
			d.Kernel, d.Stride = [2]int{l.kh, l.kw}, [2]int{l.sh, l.sw}
		case "residual":
			d.Main = describe(l.main)
			if l.short != nil {
				d.Shortcut = describe(l.short)
			}
		}
		out = append(out, d)
	}
	return out
}
