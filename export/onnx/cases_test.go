package onnx

// The models the tests export: the zoo's models and Sequentials that
// between them use every layer and option the exporter maps, with kiln's
// own evaluation-mode outputs on a random batch for the external checkers.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"github.com/kiln-ml/kiln/data/embedded"
	"github.com/kiln-ml/kiln/optim"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

type exportCase struct {
	name  string
	m     nn.Module
	shape []int // one sample, without the batch dimension
	ops   []string
	// mergesBatch is set when the output's first dimension is not the
	// batch size (a Flatten over the batch), so it cannot be named N.
	mergesBatch bool
	// input, when set, is the batch the runtime checks use instead of
	// random numbers.
	input *tensor.Tensor
}

// trainedFashion returns a seed CNN trained for 40 Adam steps on kiln's
// embedded Fashion-MNIST subset and 8 of that set's test images, so that
// the runtime checks cover a trained network on real images, not only
// random weights on noise.
func trainedFashion(t testing.TB) exportCase {
	tr, te, err := embedded.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.NewSeedCNN(models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}, 0.2, rand.New(rand.NewPCG(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	opt := optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 1e-3})
	loss := nn.NewCrossEntropyLoss()
	nn.SetTraining(m, true)
	g := autograd.NewTape()
	x := tensor.New(32, 1, 28, 28)
	y := make([]int, 32)
	for step := range 40 {
		for i := range 32 {
			k := (step*32 + i) % tr.Len()
			if y[i], err = tr.Get(k, x.Data()[i*784:(i+1)*784], nil); err != nil {
				t.Fatal(err)
			}
		}
		g.Reset()
		m.Params.ZeroGrad()
		g.Backward(loss.Forward(g, m.Forward(g, g.Const(x)), y))
		opt.Step()
	}
	nn.SetTraining(m, false)
	in := tensor.New(8, 1, 28, 28)
	for i := range 8 {
		if _, err := te.Get(i*125, in.Data()[i*784:(i+1)*784], nil); err != nil {
			t.Fatal(err)
		}
	}
	return exportCase{name: "seedcnn_trained_fashion", m: m, shape: []int{1, 28, 28}, input: in}
}

func pool(k [2]int, s, p int, ceil, excludePad bool, divisor int) autograd.PoolOptions {
	return autograd.PoolOptions{Kernel: k, Stride: [2]int{s, s}, Padding: [2]int{p, p}, CeilMode: ceil, ExcludePad: excludePad, Divisor: divisor}
}

// randomBN gives a BatchNorm non-trivial statistics and affine parameters,
// as if trained.
func randomBN(bn *nn.BatchNorm, rng *rand.Rand) *nn.BatchNorm {
	for i := range bn.NumFeatures {
		bn.RunningMean.Data()[i] = float32(rng.NormFloat64() * 0.5)
		bn.RunningVar.Data()[i] = float32(0.5 + rng.Float64()*1.5)
		if bn.Weight != nil {
			bn.Weight.Data()[i] = float32(1 + rng.NormFloat64()*0.2)
			bn.Bias.Data()[i] = float32(rng.NormFloat64() * 0.2)
		}
	}
	bn.Eps = 1e-3
	return bn
}

func exportCases(t testing.TB) []exportCase {
	rng := rand.New(rand.NewPCG(7, 11))
	seed, err := models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 0.2, rng)
	if err != nil {
		t.Fatal(err)
	}
	mnist, err := models.NewSeedCNN(models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}, 0.2, rng)
	if err != nil {
		t.Fatal(err)
	}
	mlp, err := models.NewMLP(models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}, []int{64, 32}, rng)
	if err != nil {
		t.Fatal(err)
	}
	lenet, err := models.NewLeNet5(models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}, rng)
	if err != nil {
		t.Fatal(err)
	}
	resnet, err := models.NewResNet(models.Shape{Channels: 3, Height: 16, Width: 16, Classes: 10}, 8, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.NamedParams(resnet) { // non-trivial running statistics
		switch {
		case strings.HasSuffix(p.Name, "running_mean"):
			for i := range p.Var.Data() {
				p.Var.Data()[i] = float32(rng.NormFloat64() * 0.1)
			}
		case strings.HasSuffix(p.Name, "running_var"):
			for i := range p.Var.Data() {
				p.Var.Data()[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	conv := func(cfg nn.Conv2dConfig) *nn.Conv2d { return nn.NewConv2d(cfg, rng) }
	lin := func(in, out int, bias bool) *nn.Linear { return nn.NewLinear(in, out, bias, rng) }
	return []exportCase{
		{name: "seedcnn", m: seed, shape: []int{3, 32, 32},
			ops: []string{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"}},
		{name: "seedcnn_mnist", m: mnist, shape: []int{1, 28, 28}},
		{name: "lenet5", m: lenet, shape: []int{1, 28, 28},
			ops: []string{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm"}},
		{name: "resnet8", m: resnet, shape: []int{3, 16, 16}},
		{name: "mlp", m: mlp, shape: []int{1, 28, 28},
			ops: []string{"Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm"}},
		{name: "convnet", shape: []int{3, 18, 18}, m: nn.NewSequential(
			conv(nn.Conv2dConfig{In: 3, Out: 8, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}), // 9x9
			randomBN(nn.NewBatchNorm2d(8), rng),
			nn.NewLeakyReLU(0.1),
			conv(nn.Conv2dConfig{In: 8, Out: 8, Kernel: [2]int{3, 3}, Padding: [2]int{2, 2}, Dilation: [2]int{2, 2}, Groups: 4, NoBias: true}),
			randomBN(nn.NewBatchNorm2d(8, nn.BatchNormOptions{NoAffine: true}), rng),
			nn.NewReLU(),
			&nn.MaxPool2d{Options: pool([2]int{2, 2}, 2, 1, true, false, 0)},                 // ceil mode drops a window: 5x5
			conv(nn.Conv2dConfig{In: 8, Out: 6, Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}}), // 4x2
			&nn.AdaptiveAvgPool2d{OutH: 2, OutW: 1},
			nn.NewFlatten(1, -1),
			lin(12, 16, true),
			randomBN(nn.NewBatchNorm1d(16), rng),
			nn.NewGELU("none"),
			nn.NewDropout(0.5, rng),
			lin(16, 5, false),
			nn.NewSoftmax(1),
		), ops: []string{"Conv", "BatchNormalization", "LeakyRelu", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv",
			"AveragePool", "Flatten", "Gemm", "BatchNormalization", "Mul", "Erf", "Add", "Mul", "Mul", "Gemm", "Softmax"}},
		{name: "maxpool_ceil", shape: []int{2, 5, 6}, m: nn.NewSequential(
			&nn.MaxPool2d{Options: pool([2]int{2, 3}, 2, 1, true, false, 0)})}, // 3x4: a dropped window and an extra one
		{name: "maxpool_dilated", shape: []int{2, 9, 8}, m: nn.NewSequential(
			&nn.MaxPool2d{Options: autograd.PoolOptions{Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{2, 3}, CeilMode: true}})},
		{name: "avgpool_ceil_include", shape: []int{2, 5, 6}, m: nn.NewSequential(
			&nn.AvgPool2d{Options: pool([2]int{2, 3}, 2, 1, true, false, 0)})},
		{name: "avgpool_ceil_exclude", shape: []int{2, 5, 6}, m: nn.NewSequential(
			&nn.AvgPool2d{Options: pool([2]int{2, 3}, 2, 1, true, true, 0)})},
		{name: "avgpool_divisor", shape: []int{2, 6, 6}, m: nn.NewSequential(
			&nn.AvgPool2d{Options: pool([2]int{3, 3}, 2, 1, true, false, 5)})},
		{name: "avgpool_plain", shape: []int{2, 6, 6}, m: nn.NewSequential(nn.NewAvgPool2d(2, 0)),
			ops: []string{"AveragePool"}},
		{name: "global_pool", shape: []int{4, 5, 7}, m: nn.NewSequential(
			&nn.AdaptiveAvgPool2d{OutH: 1, OutW: 1}, nn.NewFlatten(1, -1), nn.NewLogSoftmax(-1)),
			ops: []string{"GlobalAveragePool", "Flatten", "LogSoftmax"}},
		{name: "dense_3d", shape: []int{3, 4, 5}, m: nn.NewSequential(
			nn.NewFlatten(2, 3),                 // (N, 3, 20) by Reshape
			lin(20, 6, true),                    // MatMul path
			nn.NewGELU("tanh"),                  //
			randomBN(nn.NewBatchNorm1d(3), rng), // 3-D batch norm
			nn.NewSigmoid(),
			nn.NewFlatten(1, -1),
			lin(18, 7, true),
			nn.NewTanh(),
			lin(7, 4, true),
			nn.NewLogSoftmax(1),
		)},
		{name: "flatten_batch", shape: []int{2, 3}, m: nn.NewSequential(nn.NewFlatten(0, -1), nn.NewSoftmax(0)),
			ops: []string{"Reshape", "Softmax"}, mergesBatch: true},
		{name: "residual", shape: []int{3, 8, 8}, m: nn.NewSequential(
			conv(nn.Conv2dConfig{In: 3, Out: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}),
			&residual{Conv: conv(nn.Conv2dConfig{In: 4, Out: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}, NoBias: true}), BN: randomBN(nn.NewBatchNorm2d(4), rng)},
			&nn.AdaptiveAvgPool2d{OutH: 1, OutW: 1},
			nn.NewFlatten(1, -1),
			lin(4, 3, true),
		), ops: []string{"Conv", "Conv", "BatchNormalization", "Add", "Relu", "GlobalAveragePool", "Flatten", "Gemm"}},
		{name: "identity", shape: []int{3}, m: nn.NewSequential(nn.NewDropout(0.3, rng)), ops: []string{"Identity"}},
	}
}

// residual is relu(bn(conv(x)) + x): a module kiln's exporter does not
// know, which describes its own graph as a ResNet block would.
type residual struct {
	Conv *nn.Conv2d
	BN   *nn.BatchNorm
}

func (r *residual) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.ReLU(g.Add(r.BN.Forward(g, r.Conv.Forward(g, x)), x))
}

func (r *residual) Children() []nn.Child {
	return []nn.Child{{Name: "conv", Module: r.Conv}, {Name: "bn", Module: r.BN}}
}

func (r *residual) ExportONNX(b *Builder, x string) (string, error) {
	y, err := b.Module("conv", r.Conv, x)
	if err != nil {
		return "", err
	}
	if y, err = b.Module("bn", r.BN, y); err != nil {
		return "", err
	}
	if y, err = b.Add(y, x); err != nil {
		return "", err
	}
	return b.Relu(y), nil
}

// forward runs m in evaluation mode on x.
func forward(m nn.Module, x *tensor.Tensor) *tensor.Tensor {
	nn.SetTraining(m, false)
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	return m.Forward(g, g.Const(x)).Value()
}

// writeCases exports every case to dir with a batch of inputs and kiln's
// outputs for them, and the manifest check.py and ort_check.js read.
func writeCases(t *testing.T, dir string, batch int) {
	type entry struct {
		Name          string `json:"name"`
		Model         string `json:"model"`
		Input         string `json:"input"`
		InputShape    []int  `json:"input_shape"`
		Expected      string `json:"expected"`
		OutputShape   []int  `json:"output_shape"`
		SymbolicBatch bool   `json:"symbolic_batch"`
	}
	var manifest []entry
	rng := rand.New(rand.NewPCG(3, 5))
	for _, c := range append(exportCases(t), trainedFashion(t)) {
		var buf bytes.Buffer
		if err := Export(&buf, c.m, append([]int{1}, c.shape...), Options{}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := c.input
		if x == nil {
			x = tensor.New(append([]int{batch}, c.shape...)...)
			x.Normal(rng, 0, 1)
		}
		y := forward(c.m, x)
		e := entry{Name: c.name, Model: c.name + ".onnx", Input: c.name + ".input.f32", InputShape: x.Shape(),
			Expected: c.name + ".kiln.f32", OutputShape: y.Shape(), SymbolicBatch: !c.mergesBatch}
		for file, data := range map[string][]byte{e.Model: buf.Bytes(), e.Input: f32Bytes(x.Values()), e.Expected: f32Bytes(y.Values())} {
			if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		manifest = append(manifest, e)
	}
	js, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}
