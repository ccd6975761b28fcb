package nn

import "github.com/kiln-ml/kiln/autograd"

// Pooling layers. This file leaves out fractional, LP and 1-D/3-D pooling.

// MaxPool2d is PyTorch's nn.MaxPool2d. A zero Stride means the kernel size.
type MaxPool2d struct {
	Options autograd.PoolOptions
}

// AvgPool2d is PyTorch's nn.AvgPool2d. A zero Stride means the kernel size.
type AvgPool2d struct {
	Options autograd.PoolOptions
}

// AdaptiveAvgPool2d is PyTorch's nn.AdaptiveAvgPool2d with output (H, W).
type AdaptiveAvgPool2d struct {
	OutH, OutW int
}

var (
	_ Module = (*MaxPool2d)(nil)
	_ Module = (*AvgPool2d)(nil)
	_ Module = (*AdaptiveAvgPool2d)(nil)
)

// NewMaxPool2d returns a square max pool with the given kernel and stride
// (0 for the kernel size) and no padding: the common nn.MaxPool2d(k, s).
func NewMaxPool2d(kernel, stride int) *MaxPool2d {
	return &MaxPool2d{Options: autograd.PoolOptions{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}}}
}

// NewAvgPool2d returns a square average pool with the given kernel and
// stride (0 for the kernel size) and no padding.
func NewAvgPool2d(kernel, stride int) *AvgPool2d {
	return &AvgPool2d{Options: autograd.PoolOptions{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}}}
}

// Forward pools x of shape (N, C, H, W).
func (m *MaxPool2d) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.MaxPool2d(x, m.Options)
}

// Forward pools x of shape (N, C, H, W).
func (m *AvgPool2d) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.AvgPool2d(x, m.Options)
}

// Forward pools x of shape (N, C, H, W) to (N, C, OutH, OutW).
func (m *AdaptiveAvgPool2d) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.AdaptiveAvgPool2d(x, m.OutH, m.OutW)
}
