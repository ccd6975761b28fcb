package autograd_test

import (
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

type V = autograd.Var
type T = autograd.Tape

func rnd(seed uint64, shape ...int) *tensor.Tensor {
	return autogradtest.Rand(seed, -1, 1, shape...)
}

func pos(seed uint64, shape ...int) *tensor.Tensor {
	return autogradtest.Rand(seed, 0.5, 2, shape...)
}

// TestGradients checks every primitive op, and the composites, against
// finite differences, including broadcast operands.
func TestGradients(t *testing.T) {
	targets := []int{2, 0, 1, 2}
	cases := []struct {
		name string
		f    autogradtest.Func
		in   []*tensor.Tensor
	}{
		{"add", func(g *T, x []*V) *V { return g.Add(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3), rnd(2, 2, 3)}},
		{"add/broadcast", func(g *T, x []*V) *V { return g.Add(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3, 4), rnd(2, 3, 1)}},
		{"add/scalar", func(g *T, x []*V) *V { return g.Add(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3), rnd(2)}},
		{"sub/broadcast", func(g *T, x []*V) *V { return g.Sub(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 1, 4), rnd(2, 3, 1)}},
		{"mul/broadcast", func(g *T, x []*V) *V { return g.Mul(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3, 4), rnd(2, 4)}},
		{"div/broadcast", func(g *T, x []*V) *V { return g.Div(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3), pos(2, 3)}},
		{"neg", func(g *T, x []*V) *V { return g.Neg(x[0]) }, []*tensor.Tensor{rnd(1, 5)}},
		{"exp", func(g *T, x []*V) *V { return g.Exp(x[0]) }, []*tensor.Tensor{rnd(1, 5)}},
		{"log", func(g *T, x []*V) *V { return g.Log(x[0]) }, []*tensor.Tensor{pos(1, 5)}},
		{"sqrt", func(g *T, x []*V) *V { return g.Sqrt(x[0]) }, []*tensor.Tensor{pos(1, 5)}},
		{"abs", func(g *T, x []*V) *V { return g.Abs(x[0]) }, []*tensor.Tensor{rnd(1, 7)}},
		{"tanh", func(g *T, x []*V) *V { return g.Tanh(x[0]) }, []*tensor.Tensor{rnd(1, 7)}},
		{"sigmoid", func(g *T, x []*V) *V { return g.Sigmoid(x[0]) }, []*tensor.Tensor{rnd(1, 7)}},
		{"relu", func(g *T, x []*V) *V { return g.ReLU(x[0]) }, []*tensor.Tensor{rnd(1, 9)}},
		{"leakyrelu", func(g *T, x []*V) *V { return g.LeakyReLU(x[0], 0.1) }, []*tensor.Tensor{rnd(1, 9)}},
		{"gelu", func(g *T, x []*V) *V { return g.GELU(x[0], false) }, []*tensor.Tensor{rnd(1, 9)}},
		{"gelu/tanh", func(g *T, x []*V) *V { return g.GELU(x[0], true) }, []*tensor.Tensor{rnd(1, 9)}},
		{"pow", func(g *T, x []*V) *V { return g.Pow(x[0], 2.5) }, []*tensor.Tensor{pos(1, 6)}},
		{"addscalar", func(g *T, x []*V) *V { return g.AddScalar(x[0], 3) }, []*tensor.Tensor{rnd(1, 6)}},
		{"mulscalar", func(g *T, x []*V) *V { return g.MulScalar(x[0], -2) }, []*tensor.Tensor{rnd(1, 6)}},
		{"matmul", func(g *T, x []*V) *V { return g.MatMul(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 3, 4), rnd(2, 4, 5)}},
		{"matmul/batched", func(g *T, x []*V) *V { return g.MatMul(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3, 4), rnd(2, 2, 4, 2)}},
		{"matmul/broadcast", func(g *T, x []*V) *V { return g.MatMul(x[0], x[1]) }, []*tensor.Tensor{rnd(1, 2, 3, 4), rnd(2, 4, 2)}},
		{"linear", func(g *T, x []*V) *V { return g.Linear(x[0], x[1], x[2]) }, []*tensor.Tensor{rnd(1, 3, 4), rnd(2, 5, 4), rnd(3, 5)}},
		{"linear/3d-nobias", func(g *T, x []*V) *V { return g.Linear(x[0], x[1], nil) }, []*tensor.Tensor{rnd(1, 2, 3, 4), rnd(2, 5, 4)}},
		{"sum/axis0", func(g *T, x []*V) *V { return g.Sum(x[0], 0, false) }, []*tensor.Tensor{rnd(1, 3, 4)}},
		{"sum/axis1-keep", func(g *T, x []*V) *V { return g.Sum(x[0], 1, true) }, []*tensor.Tensor{rnd(1, 2, 3, 4)}},
		{"sumall", func(g *T, x []*V) *V { return g.SumAll(x[0]) }, []*tensor.Tensor{rnd(1, 2, 3)}},
		{"mean", func(g *T, x []*V) *V { return g.Mean(x[0], -1, false) }, []*tensor.Tensor{rnd(1, 2, 3)}},
		{"meanall", func(g *T, x []*V) *V { return g.MeanAll(x[0]) }, []*tensor.Tensor{rnd(1, 2, 3)}},
		{"max", func(g *T, x []*V) *V { return g.Max(x[0], 1, false) }, []*tensor.Tensor{rnd(1, 2, 5, 3)}},
		{"reshape", func(g *T, x []*V) *V { return g.Mul(g.Reshape(x[0], 3, -1), x[1]) }, []*tensor.Tensor{rnd(1, 2, 3, 2), rnd(2, 3, 4)}},
		{"flatten", func(g *T, x []*V) *V { return g.Flatten(x[0]) }, []*tensor.Tensor{rnd(1, 2, 3, 2)}},
		{"permute", func(g *T, x []*V) *V { return g.Permute(x[0], 2, 0, 1) }, []*tensor.Tensor{rnd(1, 2, 3, 4)}},
		{"transpose", func(g *T, x []*V) *V { return g.Transpose(x[0], 0, -1) }, []*tensor.Tensor{rnd(1, 2, 3, 4)}},
		{"softmax", func(g *T, x []*V) *V { return g.Softmax(x[0], 1) }, []*tensor.Tensor{rnd(1, 2, 4, 3)}},
		{"logsoftmax", func(g *T, x []*V) *V { return g.LogSoftmax(x[0], -1) }, []*tensor.Tensor{rnd(1, 3, 5)}},
		{"logsumexp", func(g *T, x []*V) *V { return g.LogSumExp(x[0], 1, false) }, []*tensor.Tensor{rnd(1, 2, 4, 3)}},
		{"nll/mean", func(g *T, x []*V) *V {
			return g.NLL(g.LogSoftmax(x[0], 1), targets, autograd.NLLOptions{IgnoreIndex: -100})
		}, []*tensor.Tensor{rnd(1, 4, 3)}},
		{"nll/weighted-ignore", func(g *T, x []*V) *V {
			return g.NLL(g.LogSoftmax(x[0], 1), targets, autograd.NLLOptions{Weight: []float32{0.5, 2, 1}, IgnoreIndex: 0})
		}, []*tensor.Tensor{rnd(1, 4, 3)}},
		{"nll/sum-spatial", func(g *T, x []*V) *V {
			return g.NLL(g.LogSoftmax(x[0], 1), targets, autograd.NLLOptions{Reduction: autograd.ReduceSum, IgnoreIndex: -100})
		}, []*tensor.Tensor{rnd(1, 2, 3, 2)}},
		{"nll/none", func(g *T, x []*V) *V {
			return g.NLL(x[0], targets, autograd.NLLOptions{Reduction: autograd.ReduceNone, IgnoreIndex: -100})
		}, []*tensor.Tensor{rnd(1, 4, 3)}},
		{"reuse-input", func(g *T, x []*V) *V { return g.Mul(g.Tanh(x[0]), g.Exp(x[0])) }, []*tensor.Tensor{rnd(1, 6)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			autogradtest.Check(t, c.f, c.in, autogradtest.Options{})
		})
	}
}
