package nn

import "github.com/kiln-ml/kiln/autograd"

// The upsampling layer. This file leaves out the modes autograd.Upsample
// lacks (nearest-exact, bicubic, area) and UpsamplingNearest2d /
// UpsamplingBilinear2d, which are this layer with fixed options (the latter
// with AlignCorners set).

// Upsample is PyTorch's nn.Upsample on (N, C, H, W) inputs: nearest or
// bilinear resizing to Options.Size or by Options.Scale. It has no
// parameters.
type Upsample struct {
	Options autograd.UpsampleOptions
}

var _ Module = (*Upsample)(nil)

// NewUpsample returns nn.Upsample(scale_factor=scale, mode=...) with the
// same integer factor on both axes, the usual decoder layer.
func NewUpsample(scale int, mode autograd.UpsampleMode) *Upsample {
	s := float64(scale)
	return &Upsample{Options: autograd.UpsampleOptions{Mode: mode, Scale: [2]float64{s, s}}}
}

// Forward resizes x of shape (N, C, H, W).
func (u *Upsample) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.Upsample(x, u.Options)
}
