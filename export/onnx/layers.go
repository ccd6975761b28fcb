package onnx

// ONNX mappings of kiln's layers, except pooling (pool.go). Each checks the
// input shape the way the layer's Forward would, so a wrong model fails at
// export rather than in a runtime. This file leaves out layers kiln does not
// have (recurrent, attention, normalisations other than BatchNorm).

import (
	"math"
	"strconv"

	"github.com/kiln-ml/kiln/nn"
)

// layer exports one of kiln's layers; ok is false for other module types.
func (b *Builder) layer(m nn.Module, x string) (y string, ok bool, err error) {
	switch l := m.(type) {
	case *nn.Sequential:
		y, err = b.sequential(l, x)
	case *nn.Linear:
		y, err = b.linear(l, x)
	case *nn.Conv2d:
		y, err = b.conv2d(l, x)
	case *nn.MaxPool2d:
		y, err = b.maxPool2d(l, x)
	case *nn.AvgPool2d:
		y, err = b.avgPool2d(l, x)
	case *nn.AdaptiveAvgPool2d:
		y, err = b.adaptiveAvgPool2d(l, x)
	case *nn.BatchNorm:
		y, err = b.batchNorm(l, x)
	case *nn.Flatten:
		y, err = b.flatten(l, x)
	case *nn.Dropout:
		y = x // evaluation mode: the identity
	case *nn.ReLU:
		y = b.Relu(x)
	case *nn.LeakyReLU:
		y = b.unary("LeakyRelu", x, AttrFloat("alpha", l.NegativeSlope))
	case *nn.Sigmoid:
		y = b.unary("Sigmoid", x)
	case *nn.Tanh:
		y = b.unary("Tanh", x)
	case *nn.GELU:
		y = b.gelu(x, l.TanhApprox)
	case *nn.Softmax:
		y, err = b.softmax("Softmax", l, l.Dim, x)
	case *nn.LogSoftmax:
		y, err = b.softmax("LogSoftmax", l, l.Dim, x)
	default:
		return "", false, nil
	}
	return y, true, err
}

func (b *Builder) sequential(s *nn.Sequential, x string) (string, error) {
	var err error
	for i, l := range s.Layers {
		if x, err = b.Module(strconv.Itoa(i), l, x); err != nil {
			return "", err
		}
	}
	return x, nil
}

// linear is Gemm (with transB, so the weight keeps its state_dict layout)
// for 2-D inputs, and MatMul with the transposed weight plus Add otherwise.
func (b *Builder) linear(l *nn.Linear, x string) (string, error) {
	s := b.shapes[x]
	if len(s) == 0 || s[len(s)-1] != l.In {
		return "", b.Errorf(l, "input %s, want last dimension %d (in_features)", fmtShape(s), l.In)
	}
	w := b.Param("weight", l.Weight)
	out := append(append([]int(nil), s[:len(s)-1]...), l.Out)
	if len(s) == 2 {
		in := []string{x, w}
		if l.Bias != nil {
			in = append(in, b.Param("bias", l.Bias))
		}
		return b.Op("Gemm", in, out, AttrInt("transB", 1)), nil
	}
	wt := b.Op("Transpose", []string{w}, []int{l.In, l.Out}, AttrInts("perm", 1, 0))
	y := b.Op("MatMul", []string{x, wt}, out)
	if l.Bias != nil {
		y = b.Op("Add", []string{y, b.Param("bias", l.Bias)}, out)
	}
	return y, nil
}

func (b *Builder) conv2d(c *nn.Conv2d, x string) (string, error) {
	s := b.shapes[x]
	cfg := c.Config
	if len(s) != 4 || s[1] != cfg.In {
		return "", b.Errorf(c, "input %s, want (N, %d, H, W)", fmtShape(s), cfg.In)
	}
	if s[2] < 0 || s[3] < 0 {
		return "", b.Errorf(c, "input %s has a dynamic height or width", fmtShape(s))
	}
	oh, ow := c.OutSize(s[2], s[3])
	if oh < 1 || ow < 1 {
		return "", b.Errorf(c, "input %s is smaller than the kernel %v", fmtShape(s), cfg.Kernel)
	}
	one := func(v int) int { return max(v, 1) }
	in := []string{x, b.Param("weight", c.Weight)}
	if c.Bias != nil {
		in = append(in, b.Param("bias", c.Bias))
	}
	return b.Op("Conv", in, []int{s[0], cfg.Out, oh, ow},
		AttrInts("dilations", one(cfg.Dilation[0]), one(cfg.Dilation[1])),
		AttrInt("group", one(cfg.Groups)),
		AttrInts("kernel_shape", cfg.Kernel[0], cfg.Kernel[1]),
		AttrInts("pads", cfg.Padding[0], cfg.Padding[1], cfg.Padding[0], cfg.Padding[1]),
		AttrInts("strides", one(cfg.Stride[0]), one(cfg.Stride[1]))), nil
}

// batchNorm is BatchNormalization in inference mode, with the running
// statistics; a layer without them normalises with batch statistics even
// in evaluation, which that operator cannot do.
func (b *Builder) batchNorm(l *nn.BatchNorm, x string) (string, error) {
	s := b.shapes[x]
	if len(s) < 2 || s[1] != l.NumFeatures {
		return "", b.Errorf(l, "input %s, want (N, %d, ...)", fmtShape(s), l.NumFeatures)
	}
	if l.RunningMean == nil {
		return "", b.Errorf(l, "it has no running statistics (track_running_stats=False), so it normalises with batch statistics, which ONNX BatchNormalization does not do")
	}
	var scale, bias string
	if l.Weight != nil {
		scale, bias = b.Param("weight", l.Weight), b.Param("bias", l.Bias)
	} else {
		ones := make([]float32, l.NumFeatures)
		for i := range ones {
			ones[i] = 1
		}
		scale = b.Const("scale", ones, l.NumFeatures)
		bias = b.Const("bias", make([]float32, l.NumFeatures), l.NumFeatures)
	}
	in := []string{x, scale, bias, b.Param("running_mean", l.RunningMean), b.Param("running_var", l.RunningVar)}
	return b.Op("BatchNormalization", in, s, AttrFloat("epsilon", l.Eps)), nil
}

// flatten maps nn.Flatten: ONNX Flatten when it makes (N, rest), a Reshape
// otherwise (a 0 in the target shape copies the input's dimension, which
// keeps the batch size symbolic).
func (b *Builder) flatten(f *nn.Flatten, x string) (string, error) {
	s := b.shapes[x]
	nd := len(s)
	start, end := f.StartDim, f.EndDim
	if start < 0 {
		start += nd
	}
	if end < 0 {
		end += nd
	}
	if start < 0 || start >= nd || end < 0 || end >= nd || start > end {
		return "", b.Errorf(f, "flatten(start_dim=%d, end_dim=%d) of a %dD input", f.StartDim, f.EndDim, nd)
	}
	if start == end {
		return x, nil
	}
	if start == 1 && end == nd-1 {
		return b.Flatten(x), nil
	}
	merged := 1
	for _, d := range s[start : end+1] {
		if d < 0 {
			merged = unknownDim
			break
		}
		merged *= d
	}
	out := append(append(append([]int(nil), s[:start]...), merged), s[end+1:]...)
	target := make([]int, len(out))
	for i, d := range out {
		switch {
		case i < start:
			target[i] = 0
		case d < 0:
			target[i] = -1
		default:
			target[i] = d
		}
	}
	dynamic := 0
	for _, d := range target {
		if d == -1 {
			dynamic++
		}
	}
	if dynamic > 1 {
		return "", b.Errorf(f, "input %s leaves more than one unknown size", fmtShape(s))
	}
	return b.Op("Reshape", []string{x, b.ints("shape", target...)}, out), nil
}

// gelu composes GELU from opset-13 operators (Gelu itself came in opset
// 20): 0.5*x*(1+erf(x/sqrt 2)), or PyTorch's tanh form
// 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))).
func (b *Builder) gelu(x string, tanhApprox bool) string {
	s := b.shapes[x]
	mul := func(p, q string) string { return b.Op("Mul", []string{p, q}, s) }
	add := func(p, q string) string { return b.Op("Add", []string{p, q}, s) }
	var t string
	if tanhApprox {
		x3 := mul(mul(x, x), x)
		inner := mul(add(x, mul(x3, b.Scalar(0.044715))), b.Scalar(float32(math.Sqrt(2/math.Pi))))
		t = b.unary("Tanh", inner)
	} else {
		t = b.unary("Erf", mul(x, b.Scalar(float32(1/math.Sqrt2))))
	}
	return mul(mul(x, add(t, b.Scalar(1))), b.Scalar(0.5))
}

func (b *Builder) softmax(op string, m nn.Module, dim int, x string) (string, error) {
	nd := len(b.shapes[x])
	if dim < -nd || dim >= nd {
		return "", b.Errorf(m, "dim %d of a %dD input", dim, nd)
	}
	return b.unary(op, x, AttrInt("axis", dim)), nil
}
