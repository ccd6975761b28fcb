// Package conv holds kiln's convolution and pooling kernels on raw float32
// slices. Nothing here knows about tensors or autograd: the engine wraps each
// kernel as a primitive op and owns shapes, gradient bookkeeping and buffers.
//
// # Layouts
//
// Every activation is NCHW, contiguous, row-major: element (n, c, h, w) of an
// N x C x H x W batch sits at ((n*C+c)*H+h)*W+w. Convolution weights are
// (OutC, C/Groups, KH, KW), exactly as PyTorch stores them, and a bias has
// OutC entries. Max-pool argmax indices are int32 offsets h*W+w into their own
// (n, c) input plane, as PyTorch returns them.
//
// # Conventions
//
// Parameters travel in small structs (Conv2dParams, MaxPool2dParams,
// AvgPool2dParams, AdaptiveAvgPool2dParams) whose Validate method returns an
// error for configurations PyTorch would reject; the engine calls it once when
// it builds a layer. The kernels themselves panic on invalid parameters or
// wrongly sized slices, because by then that is a bug in the caller.
//
// No kernel allocates. Convolution needs scratch memory, whose size
// Conv2dParams.WorkspaceLen reports; the caller owns it and may reuse one
// buffer across layers (its contents need not be zeroed and are clobbered).
//
// Whether a kernel overwrites or accumulates its output is part of its
// contract and stated on each function: forward passes and
// Conv2dBackwardData overwrite; Conv2dBackwardWeight and every pooling
// backward accumulate, so that the engine can sum gradients without an extra
// buffer. Conv2dBackwardData overwrites because col2im has to zero its target
// anyway and an accumulating caller can fold that into one add.
//
// # Algorithm
//
// Convolution is im2col followed by kernels.Sgemm, one sub-GEMM per group.
// Several images share one column matrix until its GEMMs are wide and big
// enough to run near peak on every core (see chunk in params.go); the chunk
// size depends on the parameters alone, never on the thread count. A 1x1,
// stride-1, unpadded convolution over one image at a time skips im2col and
// hands the input to Sgemm as is. Most layers skip the column matrix
// where the CPU has the kernels for it (AVX-512), and every such path
// gives the bits of the GEMM on the written-out matrix, because each
// output is the same chain of FMAs over the taps in the same order:
//
//   - few taps and wide rows (the first layer of an image model): a direct
//     convolution, output rows read as shifted input rows (direct.go);
//   - other unpadded layers: the output computed transposed, pixels as
//     rows, by a GEMM that reads the column matrix's transpose in place
//     (kernels.SgemmConvAT), then transposed (transposedForward);
//   - padded layers with wide outputs: the GEMM's panels packed straight
//     from the images through kernels.ConvColumns (implicitForward).
//
// The data gradient is a transposed GEMM into columns followed by col2im.
// The weight gradient is computed transposed, as the column matrix times
// the transposed output gradient, and added to dw transposed back; with a
// horizontal stride of 1 or 2 the GEMM reads the column matrix in place,
// from a zero-padded copy of the chunk's images when the layer pads
// (implicitWeight).
//
// The chunks run on up to kernels.Threads() goroutines (parallel.go), each
// chunk's im2col, GEMMs (kernels.SgemmSerial) and epilogue on one of them,
// in its own slot of the workspace. Outputs and data gradients depend on
// their image alone; weight and bias gradients are summed per chunk and
// the partials added in chunk order, so every kernel gives the same bits
// for every thread count. Conv2dForwardReLU fuses bias and ReLU into the pass
// that already writes the output; ReLUMaskGrad is the matching backward
// helper.
//
// # Left out
//
// There is no Winograd or FFT path, no direct depthwise kernel (depthwise
// convolution runs as Groups tiny GEMMs and is slow), no NHWC layout, no
// float64 or half precision, no transposed convolution, no 1-D or 3-D
// variants, no padding modes other than zeros, and no adaptive max pooling.
// The pooling kernels and the bias gradient run on the calling goroutine.
package conv
