package conv

import "math"

// This file holds the backward half of the fused bias+ReLU convolution. It
// leaves out the forward half, which lives with the plain forward pass
// (forward.go) because it is the same loop with one more instruction.

// ReLUMaskGrad zeroes dy wherever y <= 0, in place: the gradient of
// Conv2dForwardReLU's ReLU, to apply to the output gradient before
// Conv2dBackwardData and Conv2dBackwardWeight. y is the fused output and dy
// its gradient; they must have the same length. PyTorch's ReLU also passes no
// gradient at exactly zero.
func ReLUMaskGrad(y, dy []float32) {
	if len(y) != len(dy) {
		panic("conv: ReLUMaskGrad: y and dy differ in length")
	}
	dy = dy[:len(y)]
	for i, v := range y {
		// Branch-free: y > 0 (not zero, negative or NaN) keeps the
		// gradient. A branch here mispredicts on half the activations and
		// cost more than the convolution's own bookkeeping.
		b := math.Float32bits(v)
		keep := ^uint32(int32(b-1)>>31) & ^uint32(int32(0x7f800000-b)>>31)
		dy[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
}
