package conv

import "fmt"

// This file holds the backward half of the fused bias+ReLU convolution. It
// leaves out the forward half, which lives with the plain forward pass
// (forward.go) because it is the same loop with one more instruction.

// ReLUMaskGrad zeroes dy wherever y <= 0, in place: the gradient of
// Conv2dForwardReLU's ReLU, to apply to the output gradient before
// Conv2dBackwardData and Conv2dBackwardWeight. y is the fused output and dy
// its gradient; they must have the same length. PyTorch's ReLU also passes
// no gradient at exactly zero. Long gradients are masked in blocks on
// every core: on one, the seed CNN's conv1 (800K floats) kept the others
// waiting for a tenth of a millisecond a step.
func ReLUMaskGrad(y, dy []float32) {
	if len(y) != len(dy) {
		panic(fmt.Sprintf("conv: ReLUMaskGrad: %d outputs and %d gradients", len(y), len(dy)))
	}
	runChunks(&call{op: opReLUMask, y: y, dy: dy})
}
