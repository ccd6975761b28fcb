//go:build cuda

package cuda

// This file is the backend's batch normalisation, residual sum, average
// and adaptive average pooling and gradient clipping, over kernelsrc's
// norm and pool kernels.

import (
	"github.com/kiln-ml/kiln/internal/backend"
	cu "github.com/kiln-ml/kiln/internal/cuda"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// Add writes y = a + b.
func (b *Backend) Add(a, bb, y backend.Buffer) {
	backend.MustLen("Add", "b", bb.Len(), a.Len())
	backend.MustLen("Add", "y", y.Len(), a.Len())
	b.launch("add_f32", a.Len(), ptr(y), ptr(a), ptr(bb), a.Len())
}

// or returns p, or alt (a valid address the kernel does not read) when p
// is none.
func or(p, alt cu.DevicePtr) cu.DevicePtr {
	if p == 0 {
		return alt
	}
	return p
}

// normBlock is the threads of a per-channel reduction (the kernels'
// shared arrays hold 256).
var normBlock = cu.Dim3{X: 256, Y: 1, Z: 1}

// BatchNormForward: bn_stats per channel (the batch's moments and the
// running statistics, or the running statistics), then bn_apply.
func (b *Backend) BatchNormForward(p backend.BatchNormParams, x, weight, bias, runMean, runVar, y, saved backend.Buffer) {
	backend.MustLen("BatchNormForward", "x", x.Len(), p.Len())
	backend.MustLen("BatchNormForward", "y", y.Len(), p.Len())
	backend.MustLen("BatchNormForward", "saved", saved.Len(), 2*p.C)
	if p.Training && p.N*p.Spatial <= 1 {
		panic("backend/cuda: BatchNormForward: expected more than 1 value per channel when training")
	}
	if !p.Training && runMean.IsNil() {
		panic("backend/cuda: BatchNormForward: evaluation mode needs running statistics")
	}
	sp := ptr(saved)
	b.launchGrid("bn_stats", cu.Dim3{X: uint32(p.C), Y: 1, Z: 1}, normBlock, sp, or(ptr(runMean), sp), or(ptr(runVar), sp), ptr(x),
		p.N, p.C, p.Spatial, boolArg(p.Training), boolArg(!runMean.IsNil()), p.Momentum, p.Eps)
	b.launch("bn_apply", p.Len(), ptr(y), ptr(x), sp, or(ptr(weight), sp), or(ptr(bias), sp),
		boolArg(!weight.IsNil()), boolArg(!bias.IsNil()), p.N, p.C, p.Spatial)
}

// BatchNormBackward: bn_grad_sums per channel (adding into dw and db,
// leaving the input gradient's coefficients in scratch), then bn_dx_acc.
func (b *Backend) BatchNormBackward(p backend.BatchNormParams, x, dy, weight, saved, dx, dw, db backend.Buffer) {
	backend.MustLen("BatchNormBackward", "x", x.Len(), p.Len())
	backend.MustLen("BatchNormBackward", "dy", dy.Len(), p.Len())
	coef := b.workspace(3 * p.C)
	if coef == 0 {
		return
	}
	sp := ptr(saved)
	b.launchGrid("bn_grad_sums", cu.Dim3{X: uint32(p.C), Y: 1, Z: 1}, normBlock, coef, or(ptr(dw), coef), or(ptr(db), coef),
		ptr(x), ptr(dy), sp, or(ptr(weight), sp), boolArg(!weight.IsNil()), boolArg(!dw.IsNil()), boolArg(!db.IsNil()),
		boolArg(p.Training), p.N, p.C, p.Spatial)
	if !dx.IsNil() {
		backend.MustLen("BatchNormBackward", "dx", dx.Len(), p.Len())
		b.launch("bn_dx_acc", p.Len(), ptr(dx), ptr(x), ptr(dy), sp, coef, p.N, p.C, p.Spatial)
	}
}

// AdaptiveAvgPool2dForward averages each output's window.
func (b *Backend) AdaptiveAvgPool2dForward(p conv.AdaptiveAvgPool2dParams, x, y backend.Buffer) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	backend.MustLen("AdaptiveAvgPool2dForward", "y", y.Len(), p.N*p.C*p.OutH*p.OutW)
	b.launch("adaptive_avgpool_fwd", y.Len(), ptr(y), ptr(x), p.N*p.C, p.H, p.W, p.OutH, p.OutW)
}

// AdaptiveAvgPool2dBackward adds each input's share of its windows'
// gradients into dx.
func (b *Backend) AdaptiveAvgPool2dBackward(p conv.AdaptiveAvgPool2dParams, dy, dx backend.Buffer) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	backend.MustLen("AdaptiveAvgPool2dBackward", "dx", dx.Len(), p.N*p.C*p.H*p.W)
	b.launch("adaptive_avgpool_bwd_acc", dx.Len(), ptr(dx), ptr(dy), p.N*p.C, p.H, p.W, p.OutH, p.OutW)
}

// avgArgs are the geometry avgpool_fwd and avgpool_bwd_acc take.
func avgArgs(p *conv.AvgPool2dParams) []any {
	return []any{p.N * p.C, p.H, p.W, p.OutH(), p.OutW(), p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW,
		boolArg(p.ExcludePad), p.DivisorOverride}
}

// AvgPool2dForward averages each output's window.
func (b *Backend) AvgPool2dForward(p conv.AvgPool2dParams, x, y backend.Buffer) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	backend.MustLen("AvgPool2dForward", "x", x.Len(), p.N*p.C*p.H*p.W)
	backend.MustLen("AvgPool2dForward", "y", y.Len(), p.N*p.C*p.OutH()*p.OutW())
	b.launch("avgpool_fwd", y.Len(), append([]any{ptr(y), ptr(x)}, avgArgs(&p)...)...)
}

// AvgPool2dBackward adds each input's share of its windows' gradients
// into dx.
func (b *Backend) AvgPool2dBackward(p conv.AvgPool2dParams, dy, dx backend.Buffer) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	backend.MustLen("AvgPool2dBackward", "dy", dy.Len(), p.N*p.C*p.OutH()*p.OutW())
	backend.MustLen("AvgPool2dBackward", "dx", dx.Len(), p.N*p.C*p.H*p.W)
	b.launch("avgpool_bwd_acc", dx.Len(), append([]any{ptr(dx), ptr(dy)}, avgArgs(&p)...)...)
}

// ClipGradNorm: sumsq_partial over up to 256 blocks, then clip_scale,
// whose every block sums the partials and scales its part of g; the norm
// never leaves the device.
func (b *Backend) ClipGradNorm(g backend.Buffer, maxNorm float64) {
	if g.Len() == 0 {
		return
	}
	part := b.workspace(256)
	if part == 0 {
		return
	}
	blocks := min((g.Len()+255)/256, 256)
	grid := cu.Dim3{X: uint32(blocks), Y: 1, Z: 1}
	b.launchGrid("sumsq_partial", grid, normBlock, part, ptr(g), g.Len())
	b.launchGrid("clip_scale", grid, normBlock, ptr(g), part, blocks, float32(maxNorm), g.Len())
}
