package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kiln-ml/kiln/tensor"
)

// Parameter initialisation with PyTorch's formulas (torch.nn.init). Values
// cannot match PyTorch's bit for bit, since the generators differ; the
// distributions do. This file leaves out the normal-distribution schemes
// (kaiming_normal_, xavier_normal_, trunc_normal_) and orthogonal_, which no
// kiln layer uses by default.

// FanIn returns the fan-in of a weight of the given shape the way PyTorch's
// _calculate_fan_in_and_fan_out does: shape[1] times the product of the
// remaining (receptive field) axes. That is in_features for a Linear weight
// (out, in) and in_channels/groups*kh*kw for a Conv2d weight
// (out, in/groups, kh, kw). It panics for fewer than two axes, as PyTorch
// raises.
func FanIn(shape []int) int {
	fanIn, _ := fans(shape)
	return fanIn
}

// FanOut returns shape[0] times the receptive field size, PyTorch's fan_out.
func FanOut(shape []int) int {
	_, fanOut := fans(shape)
	return fanOut
}

func fans(shape []int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		panic(fmt.Sprintf("nn: fan in and fan out need a tensor of at least 2 dimensions, got shape %v", shape))
	}
	field := 1
	for _, d := range shape[2:] {
		field *= d
	}
	return shape[1] * field, shape[0] * field
}

// KaimingUniform fills t from U(-bound, bound) with bound =
// gain*sqrt(3/fanIn) and gain = sqrt(2/(1+a^2)), PyTorch's
// kaiming_uniform_(t, a, mode="fan_in", nonlinearity="leaky_relu"). PyTorch's
// default for Linear and Conv weights is a = sqrt(5), which makes the bound
// 1/sqrt(fanIn). It returns t.
func KaimingUniform(t *tensor.Tensor, fanIn int, a float64, rng *rand.Rand) *tensor.Tensor {
	if fanIn <= 0 {
		panic(fmt.Sprintf("nn: kaiming_uniform with fan in %d", fanIn))
	}
	gain := math.Sqrt(2 / (1 + a*a))
	bound := gain * math.Sqrt(3/float64(fanIn))
	return Uniform(t, -bound, bound, rng)
}

// Uniform fills t from U(lo, hi), PyTorch's uniform_(t, lo, hi). It returns t.
func Uniform(t *tensor.Tensor, lo, hi float64, rng *rand.Rand) *tensor.Tensor {
	return t.Uniform(rng, float32(lo), float32(hi))
}

// XavierUniform fills t from U(-bound, bound) with bound =
// gain*sqrt(6/(fan_in+fan_out)), PyTorch's xavier_uniform_(t, gain), fans
// taken from t's shape. It returns t.
func XavierUniform(t *tensor.Tensor, gain float64, rng *rand.Rand) *tensor.Tensor {
	fanIn, fanOut := fans(t.Shape())
	bound := gain * math.Sqrt(6/float64(fanIn+fanOut))
	return Uniform(t, -bound, bound, rng)
}

// Zeros fills t with 0 and returns it.
func Zeros(t *tensor.Tensor) *tensor.Tensor {
	t.Fill(0)
	return t
}

// Ones fills t with 1 and returns it.
func Ones(t *tensor.Tensor) *tensor.Tensor {
	t.Fill(1)
	return t
}

// InitDefault initialises a layer's weight and optional bias the way
// PyTorch's Linear and ConvNd reset_parameters do: the weight by
// kaiming_uniform_ with a = sqrt(5), the bias from U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)), fan_in taken from the weight's shape. The weight is drawn
// first, as in PyTorch.
func InitDefault(weight, bias *tensor.Tensor, rng *rand.Rand) {
	fanIn := FanIn(weight.Shape())
	KaimingUniform(weight, fanIn, math.Sqrt(5), rng)
	if bias != nil {
		bound := 1 / math.Sqrt(float64(fanIn))
		Uniform(bias, -bound, bound, rng)
	}
}
