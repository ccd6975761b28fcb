package quantize

// This file holds a model as a list of layers the int8 path knows:
// convolution and linear (quantised), max pooling, ReLU and flatten
// (float). It builds that list from the zoo's sequential models and runs
// it in float32 (for calibration, and to check it against the model) or
// int8.

import (
	"fmt"
	"math"
	"sync"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// layer is one step of a program.
type layer struct {
	name string // the state_dict prefix, for weighted layers ("conv1")
	kind string // "conv", "linear", "maxpool", "relu", "flatten"

	// conv and linear: float weights (O, K) as trained, the int8 copy,
	// its per-output scales, the bias, and the input's scale.
	w      []float32
	q      []int8               // (O, K), K in the float weights' order
	packed *kernels.Int8Weights // q for the kernel; a convolution's K in (KH, KW, C) order
	epi    kernels.Int8Epilogue // the sums' scales (the input's times the weights'), bias and ReLU
	wScale []float32
	bias   []float32
	xScale float32
	out    int // O
	k      int // K: In*KH*KW, or In
	relu   bool

	// conv geometry and pooling window (square stride and padding
	// allowed per axis).
	kh, kw, sh, sw, ph, pw int

	// residual: the main branch and the shortcut (nil: identity), added
	// and rectified.
	main, short []*layer
	id          int // the layer's index in walk order: its arena slot
}

// program is a model's layers and its input shape.
type program struct {
	model  string
	shape  []int // [C, H, W]
	layers []*layer
	arenas sync.Pool // *arena: the int8 run's buffers
}

// build returns the program of a zoo model: seed-cnn, lenet5 or mlp.
func build(m models.Model, shape []int) (*program, error) {
	p := &program{shape: shape}
	switch m := m.(type) {
	case *models.SeedCNN:
		p.model = "seed-cnn"
		p.conv("conv1", m.Conv1, true).pool(m.Pool).conv("conv2", m.Conv2, true).pool(m.Pool)
		p.flat().linear("fc1", m.FC1, true).linear("fc2", m.FC2, false)
	case *models.LeNet5:
		p.model = "lenet5"
		p.conv("conv1", m.Conv1, true).pool(m.Pool).conv("conv2", m.Conv2, true).pool(m.Pool)
		p.flat().linear("fc1", m.FC1, true).linear("fc2", m.FC2, true).linear("fc3", m.FC3, false)
	case *models.MLP:
		p.model = "mlp"
		p.flat()
		for i, l := range m.Layers.Layers {
			switch l := l.(type) {
			case *nn.Linear:
				p.linear(fmt.Sprintf("layers.%d", i), l, false)
			case *nn.ReLU:
				if n := len(p.layers); n > 0 && p.layers[n-1].kind == "linear" {
					p.layers[n-1].relu = true
				}
			case *nn.Dropout:
			default:
				return nil, fmt.Errorf("quantize: mlp layer %d is a %T; the int8 path knows Linear, ReLU and Dropout", i, l)
			}
		}
	case *models.ResNet:
		p.model = fmt.Sprintf("resnet%d", 6*m.Blocks+2)
		p.resnet(m)
	default:
		return nil, fmt.Errorf("quantize: %T: int8 models are built for seed-cnn, lenet5, mlp and the CIFAR resnets", m)
	}
	id := 0
	for _, l := range walk(p.layers) {
		if l.kind == "maxpool" && l.ph < 0 {
			return nil, fmt.Errorf("quantize: %s: max pooling with padding, dilation or ceil mode is not in the int8 path", p.model)
		}
		l.id, id = id, id+1
	}
	return p, nil
}

// walk returns layers and those nested in residual blocks, depth first.
func walk(layers []*layer) []*layer {
	var out []*layer
	for _, l := range layers {
		out = append(out, l)
		out = append(out, walk(l.main)...)
		out = append(out, walk(l.short)...)
	}
	return out
}

// weighted returns the program's convolutions and linear layers.
func (p *program) weighted() []*layer {
	var out []*layer
	for _, l := range walk(p.layers) {
		if l.kind == "conv" || l.kind == "linear" {
			out = append(out, l)
		}
	}
	return out
}

func (p *program) conv(name string, c *nn.Conv2d, relu bool) *program {
	cfg := c.Config
	w := c.Weight.Value().Values()
	l := &layer{name: name, kind: "conv", w: w, out: cfg.Out, k: len(w) / cfg.Out, relu: relu, kh: cfg.Kernel[0], kw: cfg.Kernel[1],
		sh: max(cfg.Stride[0], 1), sw: max(cfg.Stride[1], 1), ph: cfg.Padding[0], pw: cfg.Padding[1]}
	if max(cfg.Groups, 1) != 1 || max(cfg.Dilation[0], 1) != 1 || max(cfg.Dilation[1], 1) != 1 {
		panic(fmt.Sprintf("quantize: %s: grouped or dilated convolution", name)) // no zoo model has one
	}
	if c.Bias != nil {
		l.bias = c.Bias.Value().Values()
	}
	p.layers = append(p.layers, l)
	return p
}

func (p *program) linear(name string, f *nn.Linear, relu bool) *program {
	l := &layer{name: name, kind: "linear", w: f.Weight.Value().Values(), out: f.Out, k: f.In, relu: relu}
	if f.Bias != nil {
		l.bias = f.Bias.Value().Values()
	}
	p.layers = append(p.layers, l)
	return p
}

func (p *program) pool(m *nn.MaxPool2d) *program {
	o := m.Options
	l := &layer{kind: "maxpool", kh: o.Kernel[0], kw: o.Kernel[1], sh: o.Stride[0], sw: o.Stride[1]}
	if l.sh == 0 {
		l.sh, l.sw = l.kh, l.kw
	}
	if o.Padding != [2]int{} || max(o.Dilation[0], 1) != 1 || max(o.Dilation[1], 1) != 1 || o.CeilMode {
		l.ph = -1
	}
	p.layers = append(p.layers, l)
	return p
}

func (p *program) flat() *program {
	p.layers = append(p.layers, &layer{kind: "flatten"})
	return p
}

// observer sees each quantised layer's float input (calibration).
type observer func(l *layer, x []float32)

// run runs n examples x through the program, in int8 when quantised is
// set, and returns the logits; obs (may be nil) sees every weighted
// layer's input in the float run.
func (p *program) run(x []float32, n int, quantised bool, obs observer) []float32 {
	if quantised {
		return p.runInt8(x, n)
	}
	x, _, _, _ = runFloat(p.layers, x, n, p.shape[0], p.shape[1], p.shape[2], obs)
	return x
}

// runFloat runs layers in float32 over n examples (C, H, W) and returns
// the output and its shape.
func runFloat(layers []*layer, x []float32, n, c, h, w int, obs observer) ([]float32, int, int, int) {
	for _, l := range layers {
		switch l.kind {
		case "conv":
			if obs != nil {
				obs(l, x)
			}
			oh, ow := l.outSize(h, w)
			x = l.convolve(x, n, c, h, w, oh, ow)
			c, h, w = l.out, oh, ow
		case "linear":
			if obs != nil {
				obs(l, x)
			}
			x = l.dense(x, n)
			c, h, w = l.out, 1, 1
		case "maxpool":
			oh, ow := (h-l.kh)/l.sh+1, (w-l.kw)/l.sw+1
			x = maxPool(x, n*c, h, w, oh, ow, l)
			h, w = oh, ow
		case "avgpool":
			x = avgPool(x, n*c, h*w)
			h, w = 1, 1
		case "flatten":
			c, h, w = c*h*w, 1, 1
		case "residual":
			y, yc, yh, yw := runFloat(l.main, x, n, c, h, w, obs)
			sc := x
			if l.short != nil {
				sc, _, _, _ = runFloat(l.short, x, n, c, h, w, obs)
			}
			for i := range y {
				y[i] = max(y[i]+sc[i], 0)
			}
			x, c, h, w = y, yc, yh, yw
		}
	}
	return x, c, h, w
}

// avgPool averages planes of hw values each.
func avgPool(x []float32, planes, hw int) []float32 {
	y := make([]float32, planes)
	for p := range planes {
		var s float32
		for _, v := range x[p*hw : (p+1)*hw] {
			s += v
		}
		y[p] = s / float32(hw)
	}
	return y
}

// outSize returns a convolution's output height and width.
func (l *layer) outSize(h, w int) (int, int) {
	return (h+2*l.ph-l.kh)/l.sh + 1, (w+2*l.pw-l.kw)/l.sw + 1
}

// quantizeInto writes round(x/scale) clamped to ±127 into q.
func quantizeInto(q []int8, x []float32, scale float32) {
	inv := 1 / scale
	for i, v := range x {
		r := math.Round(float64(v * inv))
		q[i] = int8(min(max(r, -127), 127))
	}
}

// finish turns the float sum of output channel o into its output: biased,
// rectified.
func (l *layer) finish(o int, v float32) float32 {
	if l.bias != nil {
		v += l.bias[o]
	}
	if l.relu && v < 0 {
		v = 0
	}
	return v
}

// dense is a linear layer over n rows of K inputs.
func (l *layer) dense(x []float32, n int) []float32 {
	y := make([]float32, n*l.out)
	for r := range n {
		xr := x[r*l.k : (r+1)*l.k]
		for o := range l.out {
			y[r*l.out+o] = l.finish(o, dotF(l.w[o*l.k:(o+1)*l.k], xr))
		}
	}
	return y
}

// convolve is a convolution of n images (C, H, W) into (O, OH, OW): each
// output pixel's patch gathered into a row, then a dot product per output.
func (l *layer) convolve(x []float32, n, c, h, w, oh, ow int) []float32 {
	y := make([]float32, n*l.out*oh*ow)
	pix := oh * ow
	colF := make([]float32, pix*l.k)
	for img := range n {
		xi := x[img*c*h*w : (img+1)*c*h*w]
		yi := y[img*l.out*pix : (img+1)*l.out*pix]
		patches(colF, xi, c, h, w, oh, ow, l)
		for o := range l.out {
			wo := l.w[o*l.k : (o+1)*l.k]
			for j := range pix {
				yi[o*pix+j] = l.finish(o, dotF(wo, colF[j*l.k:(j+1)*l.k]))
			}
		}
	}
	return y
}

// patches writes each output pixel's receptive field (C, KH, KW order, the
// weights' order; zeros outside the image) as one row of col.
func patches(col, x []float32, c, h, w, oh, ow int, l *layer) {
	k := 0
	for oy := range oh {
		for ox := range ow {
			row := col[k : k+l.k]
			k += l.k
			i := 0
			for ch := range c {
				for ky := range l.kh {
					yy := oy*l.sh + ky - l.ph
					for kx := range l.kw {
						xx := ox*l.sw + kx - l.pw
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							row[i] = 0
						} else {
							row[i] = x[(ch*h+yy)*w+xx]
						}
						i++
					}
				}
			}
		}
	}
}

// maxPool pools planes of (H, W) into (OH, OW) with the engine's kernel.
func maxPool(x []float32, planes, h, w, oh, ow int, l *layer) []float32 {
	y := make([]float32, planes*oh*ow)
	maxPoolInto(y, make([]int32, len(y)), x, planes, h, w, oh, ow, l)
	return y
}

// maxPoolInto is maxPool into y, with idx for the kernel's argmax.
func maxPoolInto(y []float32, idx []int32, x []float32, planes, h, w, oh, ow int, l *layer) {
	conv.MaxPool2dForward(conv.MaxPool2dParams{N: 1, C: planes, H: h, W: w, KH: l.kh, KW: l.kw, StrideH: l.sh, StrideW: l.sw, DilH: 1, DilW: 1}, x, y, idx)
}

// dotF is a float32 dot product.
func dotF(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
