package conv

// This file describes a convolution's geometry and the scratch memory its
// kernels need. It leaves out the kernels themselves (forward.go,
// backward.go) and pooling geometry (pool_params.go).

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// Chunk sizing: images share one column matrix until it covers targetCols
// output pixels and its GEMMs reach targetWork multiply-adds, but never
// beyond maxColFloats unless one image alone needs more. Thin GEMMs run far
// from peak, and kernels.Sgemm only splits a GEMM across goroutines above a
// few million multiply-adds; the cap keeps the workspace in tens of MB.
const (
	targetCols   = 512
	targetWork   = 1 << 23
	maxColFloats = 1 << 22
)

// chunkOverride, when positive, replaces the chunk size; tests use it to
// reach every batching path with small shapes.
var chunkOverride int

// Conv2dParams is the geometry of a 2-D convolution with PyTorch semantics:
// input N x C x H x W, weight OutC x C/Groups x KH x KW, zero padding of PadH
// rows above and below and PadW columns left and right. Strides, dilations
// and Groups must be at least 1; the zero value is not a valid convolution.
type Conv2dParams struct {
	N, C, H, W       int
	OutC, KH, KW     int
	StrideH, StrideW int
	PadH, PadW       int
	DilH, DilW       int
	Groups           int
}

// OutH is the output height, floor((H+2*PadH-DilH*(KH-1)-1)/StrideH)+1.
func (p Conv2dParams) OutH() int { return convOut(p.H, p.KH, p.StrideH, p.PadH, p.DilH) }

// OutW is the output width, floor((W+2*PadW-DilW*(KW-1)-1)/StrideW)+1.
func (p Conv2dParams) OutW() int { return convOut(p.W, p.KW, p.StrideW, p.PadW, p.DilW) }

func convOut(in, k, s, pad, d int) int {
	if s < 1 {
		return 0
	}
	return floorDiv(in+2*pad-d*(k-1)-1, s) + 1
}

// floorDiv rounds toward negative infinity, as PyTorch's div_rtn does; Go's /
// truncates, which would turn a negative numerator into a spurious output row.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Validate reports whether p describes a convolution PyTorch would accept and
// that produces at least one output pixel.
func (p Conv2dParams) Validate() error {
	switch {
	case p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1:
		return fmt.Errorf("conv: input N=%d C=%d H=%d W=%d: want all >= 1", p.N, p.C, p.H, p.W)
	case p.OutC < 1 || p.KH < 1 || p.KW < 1:
		return fmt.Errorf("conv: OutC=%d KH=%d KW=%d: want all >= 1", p.OutC, p.KH, p.KW)
	case p.StrideH < 1 || p.StrideW < 1:
		return fmt.Errorf("conv: stride %dx%d: want >= 1", p.StrideH, p.StrideW)
	case p.DilH < 1 || p.DilW < 1:
		return fmt.Errorf("conv: dilation %dx%d: want >= 1", p.DilH, p.DilW)
	case p.PadH < 0 || p.PadW < 0:
		return fmt.Errorf("conv: padding %dx%d: want >= 0", p.PadH, p.PadW)
	case p.Groups < 1 || p.C%p.Groups != 0 || p.OutC%p.Groups != 0:
		return fmt.Errorf("conv: groups=%d: want >= 1 and dividing C=%d and OutC=%d", p.Groups, p.C, p.OutC)
	case p.OutH() < 1 || p.OutW() < 1:
		return fmt.Errorf("conv: output %dx%d: dilated kernel %dx%d larger than padded input %dx%d",
			p.OutH(), p.OutW(), p.DilH*(p.KH-1)+1, p.DilW*(p.KW-1)+1, p.H+2*p.PadH, p.W+2*p.PadW)
	}
	return nil
}

// WorkspaceLen is the number of float32s of scratch that Conv2dForward,
// Conv2dForwardReLU, Conv2dBackwardData and Conv2dBackwardWeight need for p
// to use kernels.Threads() goroutines. It may be zero. A shorter workspace,
// down to what one goroutine needs, makes the kernels use fewer; the results
// are the same to the bit.
func (p Conv2dParams) WorkspaceLen() int {
	t := kernels.Threads()
	most := max(ceilDiv(p.N, p.runChunk(t)), p.weightChunks())
	return p.workspaceLen(min(t, most))
}

// workspaceLen is the scratch for slots goroutines: a column matrix and a
// staging buffer each, then the weight gradient's per-chunk partial sums
// (the transposed weight gradient and the bias gradient of each chunk),
// which Conv2dBackwardWeight adds up in chunk order.
func (p Conv2dParams) workspaceLen(slots int) int {
	return max(slots, 1)*p.slotLen() + p.weightChunks()*p.partialLen()
}

// slotLen is one goroutine's share of the workspace.
func (p Conv2dParams) slotLen() int {
	col, buf := p.workspaceSplit()
	return col + buf
}

// partialLen is one chunk's partial weight and bias gradient.
func (p Conv2dParams) partialLen() int {
	return p.OutC*(p.C/p.Groups)*p.KH*p.KW + p.OutC
}

// slotsIn is how many goroutines a workspace of n floats has room for.
func (p Conv2dParams) slotsIn(n int) int {
	per := p.slotLen()
	if per == 0 {
		return p.N
	}
	return max((n-p.weightChunks()*p.partialLen())/per, 1)
}

// chunks is how many chunks of chunk() images a batch of p.N makes.
func (p Conv2dParams) chunks() int { return ceilDiv(p.N, p.chunk()) }

// minWeightChunks is how many chunks, at the least, a weight gradient
// splits a batch of that many images or more into, so that as many
// goroutines share it: at chunk() alone the seed CNN's layers make 6 and 7
// chunks of a batch of 32, which leaves most of a 16-core machine idle.
const minWeightChunks = 16

// weightChunk is how many images each chunk of a weight gradient holds:
// chunk(), or fewer so that the batch makes minWeightChunks chunks. Like
// chunk() it depends on p alone, never on the thread count: the partial
// sums are added in chunk order, so the chunks fix the bits.
func (p Conv2dParams) weightChunk() int {
	if chunkOverride > 0 {
		return p.chunk()
	}
	return max(min(p.chunk(), ceilDiv(p.N, minWeightChunks)), 1)
}

// weightChunks is how many chunks a weight gradient makes.
func (p Conv2dParams) weightChunks() int { return ceilDiv(p.N, p.weightChunk()) }

// runChunk is how many images each chunk of a forward pass or data
// gradient on threads goroutines holds: chunk(), or fewer so that every
// goroutine gets one. An output and an input gradient depend on their own
// image alone, so the chunk size leaves no trace in their bits.
func (p Conv2dParams) runChunk(threads int) int {
	return max(min(p.chunk(), ceilDiv(p.N, max(threads, 1))), 1)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// workspaceSplit sizes the two scratch regions: the column matrix, and a
// channel-major staging buffer for outputs or output gradients of a chunk of
// several images (single images use y or dy in place).
func (p Conv2dParams) workspaceSplit() (col, buf int) {
	nb := p.chunk()
	cols := nb * p.OutH() * p.OutW()
	if !(p.pointwise() && nb == 1) {
		col = p.C * p.KH * p.KW * cols
	}
	if nb > 1 {
		buf = p.OutC * cols
	}
	return col, buf
}

// chunk is how many images share one column matrix. It depends on p alone,
// never on the thread count, so that WorkspaceLen stays fixed.
func (p Conv2dParams) chunk() int {
	if chunkOverride > 0 {
		return min(chunkOverride, p.N)
	}
	ohw := p.OutH() * p.OutW()
	taps := p.C * p.KH * p.KW
	work := (p.OutC / p.Groups) * (taps / p.Groups) * ohw
	nb := max((targetCols+ohw-1)/ohw, (targetWork+work-1)/work, 1)
	nb = min(nb, maxColFloats/(ohw*taps))
	return min(max(nb, 1), p.N)
}

// pointwise reports a 1x1, stride-1, unpadded convolution, whose column
// matrix for one image is the image itself.
func (p Conv2dParams) pointwise() bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadH == 0 && p.PadW == 0
}

// mustCheck panics unless p is valid and the slices have exactly the sizes p
// implies; ws only needs to be long enough.
func (p Conv2dParams) mustCheck(x, w, y, bias, ws []float32, xName, yName string) {
	p.mustCheckLen(x, w, bias, ws, xName, yName, len(y), p.N*p.OutC*p.OutH()*p.OutW())
}

// mustCheckLen is mustCheck with y's length and the length it must have.
func (p Conv2dParams) mustCheckLen(x, w, bias, ws []float32, xName, yName string, yLen, yWant int) {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	check := func(name string, got, want int) {
		if got != want {
			panic(fmt.Sprintf("conv: %s has %d elements, want %d for %+v", name, got, want, p))
		}
	}
	check(xName, len(x), p.N*p.C*p.H*p.W)
	check("weight", len(w), p.OutC*(p.C/p.Groups)*p.KH*p.KW)
	check(yName, yLen, yWant)
	if bias != nil {
		check("bias", len(bias), p.OutC)
	}
	if n := p.workspaceLen(1); len(ws) < n {
		panic(fmt.Sprintf("conv: workspace has %d elements, want at least %d for %+v", len(ws), n, p))
	}
}
