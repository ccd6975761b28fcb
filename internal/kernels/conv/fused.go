package conv

import "github.com/kiln-ml/kiln/internal/kernels"

// This file holds the backward half of the fused bias+ReLU convolution. It
// leaves out the forward half, which lives with the plain forward pass
// (forward.go) because it is the same loop with one more instruction.

// ReLUMaskGrad zeroes dy wherever y <= 0, in place: the gradient of
// Conv2dForwardReLU's ReLU, to apply to the output gradient before
// Conv2dBackwardData and Conv2dBackwardWeight. y is the fused output and dy
// its gradient; they must have the same length (kernels.ReLUMask panics
// otherwise). PyTorch's ReLU also passes no gradient at exactly zero.
func ReLUMaskGrad(y, dy []float32) { kernels.ReLUMask(y, dy) }
