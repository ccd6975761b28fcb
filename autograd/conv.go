package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels/conv"
	"github.com/kiln-ml/kiln/tensor"
)

// Conv2dOptions are a 2-D convolution's hyperparameters with PyTorch's
// meaning, as (height, width) pairs. Zero strides and dilations mean 1 and
// zero Groups means 1.
type Conv2dOptions struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
	Groups   int
}

func (o Conv2dOptions) norm() Conv2dOptions {
	for i := range 2 {
		if o.Stride[i] == 0 {
			o.Stride[i] = 1
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return o
}

// conv2dParams builds the kernel geometry from the input and weight shapes.
func conv2dParams(x, w []int, o Conv2dOptions) (conv.Conv2dParams, error) {
	if len(x) != 4 || len(w) != 4 {
		return conv.Conv2dParams{}, fmt.Errorf("autograd: conv2d: input %v and weight %v, want 4-D (N, C, H, W) and (OutC, C/groups, KH, KW)", x, w)
	}
	p := conv.Conv2dParams{N: x[0], C: x[1], H: x[2], W: x[3], OutC: w[0], KH: w[2], KW: w[3],
		StrideH: o.Stride[0], StrideW: o.Stride[1], PadH: o.Padding[0], PadW: o.Padding[1],
		DilH: o.Dilation[0], DilW: o.Dilation[1], Groups: o.Groups}
	if w[1]*o.Groups != x[1] {
		return p, fmt.Errorf("autograd: conv2d: weight %v with groups=%d expects %d input channels, got input %v", w, o.Groups, w[1]*o.Groups, x)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("autograd: conv2d: input %v, weight %v: %w", x, w, err)
	}
	return p, nil
}

// Conv2d returns the 2-D cross-correlation of x (N, C, H, W) with w
// (OutC, C/groups, KH, KW) plus b (OutC) unless b is nil: PyTorch's
// F.conv2d with zero padding.
func (g *Tape) Conv2d(x, w, b *Var, o Conv2dOptions) *Var {
	return g.conv2d(x, w, b, o, false)
}

// Conv2dReLU returns ReLU(Conv2d(x, w, b)) as one primitive, like PyTorch's
// fused ConvReLU2d: the bias and the ReLU are applied while the output is
// still in cache, and the backward pass masks the incoming gradient in place
// instead of keeping the pre-activation tensor.
func (g *Tape) Conv2dReLU(x, w, b *Var, o Conv2dOptions) *Var {
	return g.conv2d(x, w, b, o, true)
}

func (g *Tape) conv2d(x, w, b *Var, o Conv2dOptions, relu bool) *Var {
	o = o.norm()
	p, err := conv2dParams(x.Shape(), w.Shape(), o)
	if err != nil {
		panic(err)
	}
	if b != nil && !b.value.ShapeIs(p.OutC) {
		panic(fmt.Sprintf("autograd: conv2d: bias %v, want [%d]", b.Shape(), p.OutC))
	}
	y := g.newVar(opConv2d, []int{p.N, p.OutC, p.OutH(), p.OutW()}, x, w, b)
	y.ints = [8]int{o.Stride[0], o.Stride[1], o.Padding[0], o.Padding[1], o.Dilation[0], o.Dilation[1], o.Groups}
	var bias []float32
	if b != nil {
		bias = b.Data()
	}
	ws := g.floats.get(p.WorkspaceLen())
	if relu {
		y.ints[7] = 1
		conv.Conv2dForwardReLU(p, x.Data(), w.Data(), bias, y.Data(), ws)
	} else {
		conv.Conv2dForward(p, x.Data(), w.Data(), bias, y.Data(), ws)
	}
	return y
}

// Conv2dReLUMaxPool is MaxPool2d(Conv2dReLU(x, w, b, o), po). With a 2x2
// window at stride 2 (no padding, dilation or ceil mode), as the seed CNN
// and LeNet-5 use it, it runs in one pass over each chunk of images: the
// convolution's output is pooled while it is in cache and never written
// whole (conv.Conv2dForwardReLUPool), and its backward pass masks and
// routes the pooled gradient, to the same bits as the two ops. Other
// pools, and shapes that do not allow it (one image a chunk, an output
// under 2x2), run the two ops.
func (g *Tape) Conv2dReLUMaxPool(x, w, b *Var, o Conv2dOptions, po PoolOptions) *Var {
	o = o.norm()
	p, err := conv2dParams(x.Shape(), w.Shape(), o)
	if err != nil || !po.is2x2() || !p.CanPool() || b != nil && !b.value.ShapeIs(p.OutC) {
		return g.MaxPool2d(g.Conv2dReLU(x, w, b, o), po)
	}
	y := g.newVar(opConv2dReLUPool, []int{p.N, p.OutC, p.OutH() / 2, p.OutW() / 2}, x, w, b)
	y.ints = [8]int{o.Stride[0], o.Stride[1], o.Padding[0], o.Padding[1], o.Dilation[0], o.Dilation[1], o.Groups}
	var bias []float32
	if b != nil {
		bias = b.Data()
	}
	var idx []int32
	if y.requiresGrad {
		idx = g.ints(y.value.Len())
		y.idx = idx
	}
	conv.Conv2dForwardReLUPool(p, x.Data(), w.Data(), bias, y.Data(), idx, g.floats.get(p.WorkspaceLen()))
	return y
}

// conv2dReLUPoolBackward masks the pooled gradient where the pooled
// output is not positive (the ReLU's rule at each window's maximum),
// and runs the convolution's backward pass on it, whose kernels route
// each chunk's share of the output's gradient to the windows' maxima as
// they go (conv.Conv2dBackwardDataPooled, Conv2dBackwardWeightPooled):
// the output's gradient is never written whole, except for a layer hook.
func conv2dReLUPoolBackward(g *Tape, n *Var) {
	x, w := n.in[0], n.in[1]
	p, o := savedConv(n, x, w)
	dp := n.grad.Data()
	conv.ReLUMaskGrad(n.Data(), dp) // read by nothing else: masked in place
	if g.layerHook != nil {
		// The hook takes the output's gradient whole.
		dy := g.Tensor(p.N, p.OutC, p.OutH(), p.OutW())
		mp := conv.MaxPool2dParams{N: p.N, C: p.OutC, H: p.OutH(), W: p.OutW(), KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
		conv.MaxPool2dBackwardInto(mp, dp, n.idx, dy.Data())
		convBackward(g, n, p, o, dy, nil)
		return
	}
	convBackward(g, n, p, o, nil, dp)
}

// paramGrads returns where a convolution node's weight and bias
// gradients accumulate: the weight's gradient, or zeroed scratch when the
// weight needs none (the kernels compute both in one pass), and the
// bias's, or nil when it needs none.
func paramGrads(g *Tape, n *Var) (dw, db []float32) {
	w, b := n.in[1], n.in[2]
	if n.needs(1) {
		dw = g.gradOf(w).Data()
	} else {
		dw = g.floats.get(w.value.Len())
		clear(dw)
	}
	if n.needs(2) {
		db = g.gradOf(b).Data()
	}
	return dw, db
}

// savedConv is the geometry and options a conv2d node saved.
func savedConv(n *Var, x, w *Var) (conv.Conv2dParams, Conv2dOptions) {
	s := n.ints
	o := Conv2dOptions{Stride: [2]int{s[0], s[1]}, Padding: [2]int{s[2], s[3]}, Dilation: [2]int{s[4], s[5]}, Groups: s[6]}
	p, _ := conv2dParams(x.Shape(), w.Shape(), o)
	return p, o
}

func conv2dBackward(g *Tape, n *Var) {
	p, o := savedConv(n, n.in[0], n.in[1])
	if n.ints[7] == 1 {
		// The fused ReLU: this node's gradient is read by nothing else,
		// so it is masked in place.
		conv.ReLUMaskGrad(n.Data(), n.grad.Data())
	}
	convBackward(g, n, p, o, &n.grad, nil)
}

// convBackward is a convolution's backward pass for node n (inputs x, w,
// b) given dyT, the gradient of its (pre-pooling) output, or, when dyT is
// nil, dp, the gradient of its 2x2 max pooled output, routed through the
// node's pooling indices.
func convBackward(g *Tape, n *Var, p conv.Conv2dParams, o Conv2dOptions, dyT *tensor.Tensor, dp []float32) {
	x, w, b := n.in[0], n.in[1], n.in[2]
	ws := g.floats.get(p.WorkspaceLen())
	data := func(dx []float32) {
		if dyT == nil {
			conv.Conv2dBackwardDataPooled(p, dp, n.idx, w.Data(), dx, ws)
		} else {
			conv.Conv2dBackwardData(p, dyT.Data(), w.Data(), dx, ws)
		}
	}
	if n.needs(0) {
		if dx := g.freshGrad(x); dx != nil {
			data(dx)
		} else {
			tmp := g.floats.get(x.value.Len())
			data(tmp)
			addScaled(g.gradOf(x).Data(), tmp, 1)
		}
	}
	if g.layerHook != nil && (n.needs(1) || n.needs(2)) {
		g.layerHook(LayerGrad{X: &x.value, DY: dyT, Weight: w, Bias: b, Conv: true, Opts: o, g: g})
		return
	}
	if n.needs(1) || n.needs(2) {
		dw, db := paramGrads(g, n)
		if dyT == nil {
			conv.Conv2dBackwardWeightPooled(p, x.Data(), dp, n.idx, dw, db, ws)
		} else {
			conv.Conv2dBackwardWeight(p, x.Data(), dyT.Data(), dw, db, ws)
		}
	}
}
