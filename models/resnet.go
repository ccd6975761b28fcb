package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
)

// The CIFAR ResNets of He et al., "Deep Residual Learning for Image
// Recognition" (CVPR 2016), section 4.2. This file leaves out the ImageNet
// ResNets (7x7 stem, max pool, bottleneck blocks), the paper's option A
// (zero-padded identity) shortcut and zero_init_residual.

// BasicBlock is the two-convolution residual block: relu(bn2(conv2(relu(
// bn1(conv1(x))))) + shortcut(x)). Both convolutions are 3x3 without bias;
// the first carries the block's stride. When the block changes the shape
// (stride 2 or more channels) the shortcut is the paper's option B, a
// projection by a 1x1 convolution with the stride followed by BatchNorm2d,
// named shortcut.0 and shortcut.1 as in the common PyTorch CIFAR code;
// otherwise it is the identity and holds nothing.
type BasicBlock struct {
	Conv1    *nn.Conv2d
	BN1      *nn.BatchNorm
	Conv2    *nn.Conv2d
	BN2      *nn.BatchNorm
	Shortcut *nn.Sequential // nil for the identity
}

var (
	_ nn.Module    = (*BasicBlock)(nil)
	_ nn.Container = (*BasicBlock)(nil)
)

// NewBasicBlock returns a block from in to out channels whose first
// convolution has the given stride, with He initialisation drawn from rng.
func NewBasicBlock(in, out, stride int, rng *rand.Rand) *BasicBlock {
	b := &BasicBlock{
		Conv1: heConv(nn.Conv2dConfig{In: in, Out: out, Kernel: [2]int{3, 3}, Stride: [2]int{stride, stride}, Padding: [2]int{1, 1}, NoBias: true}, rng),
		BN1:   nn.NewBatchNorm2d(out),
		Conv2: heConv(nn.Conv2dConfig{In: out, Out: out, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}, NoBias: true}, rng),
		BN2:   nn.NewBatchNorm2d(out),
	}
	if stride != 1 || in != out {
		b.Shortcut = nn.NewSequential(
			heConv(nn.Conv2dConfig{In: in, Out: out, Kernel: [2]int{1, 1}, Stride: [2]int{stride, stride}, NoBias: true}, rng),
			nn.NewBatchNorm2d(out))
	}
	return b
}

// Forward applies the block to x (N, in, H, W).
func (b *BasicBlock) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	h := g.ReLU(b.BN1.Forward(g, b.Conv1.Forward(g, x)))
	h = b.BN2.Forward(g, b.Conv2.Forward(g, h))
	sc := x
	if b.Shortcut != nil {
		sc = b.Shortcut.Forward(g, x)
	}
	return g.ReLU(g.Add(h, sc))
}

// Children names the layers as the PyTorch block's attributes.
func (b *BasicBlock) Children() []nn.Child {
	cs := []nn.Child{{Name: "conv1", Module: b.Conv1}, {Name: "bn1", Module: b.BN1},
		{Name: "conv2", Module: b.Conv2}, {Name: "bn2", Module: b.BN2}}
	if b.Shortcut != nil {
		cs = append(cs, nn.Child{Name: "shortcut", Module: b.Shortcut})
	}
	return cs
}

// ResNet is a CIFAR ResNet of depth 6n+2: a 3x3 convolution to 16 channels
// with BatchNorm2d and ReLU, three stages of n BasicBlocks with 16, 32 and
// 64 channels (the second and third start with stride 2), global average
// pooling and a linear classifier. n = 1 is ResNet-8, n = 3 ResNet-20.
//
// Its state_dict names follow the torchvision-style CIFAR implementations:
// conv1, bn1, layer1.0.conv1, layer2.0.shortcut.0, ..., fc. Convolution
// weights are drawn as torchvision's ResNet does (kaiming_normal_ with
// mode "fan_out" for ReLU, the scheme of the paper's reference [13]);
// BatchNorm starts at weight 1, bias 0; fc keeps PyTorch's Linear default.
//
// Any image size works: each stride-2 stage halves it, rounding up, and the
// pooling averages whatever is left.
type ResNet struct {
	Shape  Shape
	Blocks int // n, blocks per stage
	Conv1  *nn.Conv2d
	BN1    *nn.BatchNorm
	Layers [3]*nn.Sequential // layer1..layer3, of *BasicBlock
	FC     *nn.Linear
	Params *nn.ParamSet
}

var (
	_ Model        = (*ResNet)(nil)
	_ nn.Container = (*ResNet)(nil)
)

// NewResNet builds the CIFAR ResNet of the given depth (6n+2: 8, 14, 20,
// 32, 44, 56, 110, ...) for inputs of shape s, initialised from rng, with
// parameters packed into one flat buffer.
func NewResNet(s Shape, depth int, rng *rand.Rand) (*ResNet, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("models: resnet depth %d, want 6n+2 with n >= 1 (8, 14, 20, 32, ...)", depth)
	}
	if s.Channels < 1 || s.Classes < 2 || s.Height < 1 || s.Width < 1 {
		return nil, fmt.Errorf("models: resnet%d needs at least 1 channel, a non-empty image and 2 classes, got %d channels, %dx%d, %d classes",
			depth, s.Channels, s.Height, s.Width, s.Classes)
	}
	n := (depth - 2) / 6
	m := &ResNet{
		Shape:  s,
		Blocks: n,
		Conv1:  heConv(nn.Conv2dConfig{In: s.Channels, Out: 16, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}, NoBias: true}, rng),
		BN1:    nn.NewBatchNorm2d(16),
	}
	in := 16
	for i, width := range []int{16, 32, 64} {
		stride := 2
		if i == 0 {
			stride = 1
		}
		blocks := make([]nn.Module, n)
		for j := range blocks {
			blocks[j] = NewBasicBlock(in, width, stride, rng)
			in, stride = width, 1
		}
		m.Layers[i] = nn.NewSequential(blocks...)
	}
	m.FC = nn.NewLinear(64, s.Classes, true, rng)
	m.Params = nn.Pack(m)
	return m, nil
}

// Forward maps images (N, C, H, W) to logits (N, classes).
func (m *ResNet) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	x = g.ReLU(m.BN1.Forward(g, m.Conv1.Forward(g, x)))
	for _, l := range m.Layers {
		x = l.Forward(g, x)
	}
	x = g.Flatten(g.AdaptiveAvgPool2d(x, 1, 1))
	return m.FC.Forward(g, x)
}

// Children names the stem, the stages and the classifier.
func (m *ResNet) Children() []nn.Child {
	return []nn.Child{{Name: "conv1", Module: m.Conv1}, {Name: "bn1", Module: m.BN1},
		{Name: "layer1", Module: m.Layers[0]}, {Name: "layer2", Module: m.Layers[1]}, {Name: "layer3", Module: m.Layers[2]},
		{Name: "fc", Module: m.FC}}
}

// ParamSet returns the packed parameters.
func (m *ResNet) ParamSet() *nn.ParamSet { return m.Params }

// heConv returns a convolution whose weight is drawn from
// N(0, 2/fan_out), PyTorch's kaiming_normal_(mode="fan_out",
// nonlinearity="relu").
func heConv(cfg nn.Conv2dConfig, rng *rand.Rand) *nn.Conv2d {
	c := nn.NewConv2d(cfg, rng)
	w := c.Weight.Value()
	w.Normal(rng, 0, float32(math.Sqrt(2/float64(nn.FanOut(w.Shape())))))
	return c
}
