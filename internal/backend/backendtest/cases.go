package backendtest

// This file holds the op cases: inputs, and how to run each op's forward
// and backward on a backend. The checks that use them are in check.go.

import (
	"math/rand/v2"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// Bufs are one case's buffers on the backend under test: the inputs, the
// int inputs, the output and the scratch the forward keeps for the
// backward.
type Bufs struct {
	In      []backend.Buffer
	Ints    []backend.IntBuffer
	Out     backend.Buffer
	Tmp     backend.Buffer
	TmpInts backend.IntBuffer
}

// Case is one op (or a forward/backward pair) under test.
type Case struct {
	Name    string
	In      [][]float32 // float inputs
	NoGrad  []bool      // inputs without a gradient (a dropout mask); nil: all have one
	Ints    [][]int32   // int inputs (labels)
	Out     int         // output length
	Tmp     int         // scratch floats, TmpInts scratch ints
	TmpInts int
	// Cot, when set, is the cotangent of the output (a loss's [1, 0]: the
	// correct count has no gradient); otherwise a random one is drawn.
	Cot []float32
	// Forward writes x.Out (and may keep x.Tmp, x.TmpInts for Backward).
	Forward func(b backend.Backend, x *Bufs)
	// Backward accumulates into dx (zeroed, one per input; NoGrad inputs
	// get a buffer too) the gradient of sum(out*dy); it may clobber dy.
	Backward func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer)
}

// randn returns n values uniform in [-1, 1) from rng, none within 0.05 of
// zero, so that ReLU kinks stay out of reach of the finite differences.
func randn(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		x := float32(rng.Float64()*1.9 + 0.1)
		if rng.IntN(2) == 0 {
			x = -x
		}
		v[i] = x / 2
	}
	return v
}

// distinct returns n values 0.1 apart, shuffled: max pooling's winners
// then stay put under a step of 0.01.
func distinct(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i, j := range rng.Perm(n) {
		v[i] = float32(j)*0.1 - float32(n)*0.05
	}
	return v
}

// Cases returns the op cases, drawn from seed.
func Cases(seed uint64) []Case {
	rng := rand.New(rand.NewPCG(seed, 19))
	var cs []Case
	for _, relu := range []bool{false, true} {
		for _, p := range []conv.Conv2dParams{
			{N: 2, C: 3, H: 6, W: 5, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 0, DilH: 1, DilW: 1, Groups: 1},
			{N: 3, C: 4, H: 7, W: 7, OutC: 2, KH: 2, KW: 3, StrideH: 2, StrideW: 1, PadH: 0, PadW: 1, DilH: 1, DilW: 2, Groups: 2},
		} {
			cs = append(cs, convCase(rng, p, relu))
		}
	}
	for _, p := range []conv.MaxPool2dParams{
		{N: 2, C: 3, H: 6, W: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1},
		{N: 1, C: 2, H: 7, W: 5, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1},
	} {
		cs = append(cs, poolCase(rng, p))
	}
	cs = append(cs, linearCase(rng, 5, 7, 3), reluCase(rng, 37), dropoutCase(rng, 41), crossEntropyCase(rng, 6, 5))
	cs = append(cs, addCase(rng, 29),
		batchNormCase(rng, backend.BatchNormParams{N: 3, C: 2, Spatial: 5, Training: true, Momentum: 0.1, Eps: 1e-5}, true, true),
		batchNormCase(rng, backend.BatchNormParams{N: 2, C: 3, Spatial: 4, Momentum: 0.1, Eps: 1e-5}, true, true),
		batchNormCase(rng, backend.BatchNormParams{N: 6, C: 4, Spatial: 1, Training: true, Eps: 1e-3}, false, false),
		adaptiveCase(rng, conv.AdaptiveAvgPool2dParams{N: 2, C: 3, H: 5, W: 3, OutH: 2, OutW: 1}),
		adaptiveCase(rng, conv.AdaptiveAvgPool2dParams{N: 2, C: 2, H: 4, W: 4, OutH: 1, OutW: 1}))
	cs = append(cs, activationCase(rng, "sigmoid", 31), activationCase(rng, "tanh", 33))
	for _, p := range []conv.AvgPool2dParams{
		{N: 2, C: 3, H: 6, W: 5, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{N: 1, C: 2, H: 7, W: 6, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1, CeilMode: true},
		{N: 2, C: 1, H: 5, W: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, ExcludePad: true, CeilMode: true},
		{N: 1, C: 2, H: 4, W: 6, KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadH: 1, DivisorOverride: 5},
	} {
		cs = append(cs, avgPoolCase(rng, p))
	}
	return cs
}

// activationCase is sigmoid or tanh, whose backward reads the output.
func activationCase(rng *rand.Rand, name string, n int) Case {
	in := randn(rng, n)
	for i := range in {
		in[i] *= 4 // reach the flat tails too
	}
	return Case{Name: name, In: [][]float32{in}, Out: n,
		Forward: func(b backend.Backend, x *Bufs) {
			if name == "sigmoid" {
				b.Sigmoid(x.In[0], x.Out)
			} else {
				b.Tanh(x.In[0], x.Out)
			}
		},
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			if name == "sigmoid" {
				b.SigmoidGrad(x.Out, dy, dx[0])
			} else {
				b.TanhGrad(x.Out, dy, dx[0])
			}
		}}
}

func avgPoolCase(rng *rand.Rand, p conv.AvgPool2dParams) Case {
	return Case{Name: "avgpool2d", In: [][]float32{randn(rng, p.N*p.C*p.H*p.W)}, Out: p.N * p.C * p.OutH() * p.OutW(),
		Forward: func(b backend.Backend, x *Bufs) { b.AvgPool2dForward(p, x.In[0], x.Out) },
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.AvgPool2dBackward(p, dy, dx[0])
		}}
}

func addCase(rng *rand.Rand, n int) Case {
	return Case{Name: "add", In: [][]float32{randn(rng, n), randn(rng, n)}, Out: n,
		Forward: func(b backend.Backend, x *Bufs) { b.Add(x.In[0], x.In[1], x.Out) },
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.Axpy(1, dy, dx[0])
			b.Axpy(1, dy, dx[1])
		}}
}

// batchNormCase normalises N x C x Spatial values: with affine, inputs x,
// weight, bias; with running statistics also the running mean and
// variance (no gradient; training moves them).
func batchNormCase(rng *rand.Rand, p backend.BatchNormParams, affine, running bool) Case {
	in := [][]float32{randn(rng, p.Len())}
	noGrad := []bool{false}
	if affine {
		w := randn(rng, p.C)
		for i := range w {
			w[i] += 1.5
		}
		in, noGrad = append(in, w, randn(rng, p.C)), append(noGrad, false, false)
	}
	if running {
		rv := randn(rng, p.C)
		for i := range rv {
			rv[i] = rv[i]*rv[i] + 0.5
		}
		in, noGrad = append(in, randn(rng, p.C), rv), append(noGrad, true, true)
	}
	name := "batchnorm-eval"
	if p.Training {
		name = "batchnorm-train"
	}
	if !affine {
		name += "-plain"
	}
	// arg returns input i, or none when the case lacks it.
	arg := func(x *Bufs, i int, has bool) backend.Buffer {
		if !has {
			return backend.Buffer{}
		}
		if !affine {
			i -= 2
		}
		return x.In[i]
	}
	return Case{Name: name, In: in, NoGrad: noGrad, Out: p.Len(), Tmp: 2 * p.C,
		Forward: func(b backend.Backend, x *Bufs) {
			b.BatchNormForward(p, x.In[0], arg(x, 1, affine), arg(x, 2, affine), arg(x, 3, running), arg(x, 4, running), x.Out, x.Tmp)
		},
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			var dw, db backend.Buffer
			if affine {
				dw, db = dx[1], dx[2]
			}
			b.BatchNormBackward(p, x.In[0], dy, arg(x, 1, affine), x.Tmp, dx[0], dw, db)
		}}
}

func adaptiveCase(rng *rand.Rand, p conv.AdaptiveAvgPool2dParams) Case {
	return Case{Name: "adaptiveavgpool2d", In: [][]float32{randn(rng, p.N*p.C*p.H*p.W)}, Out: p.N * p.C * p.OutH * p.OutW,
		Forward: func(b backend.Backend, x *Bufs) { b.AdaptiveAvgPool2dForward(p, x.In[0], x.Out) },
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.AdaptiveAvgPool2dBackward(p, dy, dx[0])
		}}
}

func convCase(rng *rand.Rand, p conv.Conv2dParams, relu bool) Case {
	nx, nw, ny := p.N*p.C*p.H*p.W, p.OutC*(p.C/p.Groups)*p.KH*p.KW, p.N*p.OutC*p.OutH()*p.OutW()
	name := "conv2d"
	if relu {
		name = "conv2d+relu"
	}
	return Case{Name: name, In: [][]float32{randn(rng, nx), randn(rng, nw), randn(rng, p.OutC)}, Out: ny,
		Forward: func(b backend.Backend, x *Bufs) {
			b.Conv2dForward(p, x.In[0], x.In[1], x.In[2], x.Out, relu)
		},
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			if relu {
				b.ReLUMask(x.Out, dy)
			}
			b.Conv2dBackwardData(p, dy, x.In[1], dx[0])
			b.Conv2dBackwardWeight(p, x.In[0], dy, dx[1], dx[2])
		}}
}

func poolCase(rng *rand.Rand, p conv.MaxPool2dParams) Case {
	ny := p.N * p.C * p.OutH() * p.OutW()
	return Case{Name: "maxpool2d", In: [][]float32{distinct(rng, p.N*p.C*p.H*p.W)}, Out: ny, TmpInts: ny,
		Forward: func(b backend.Backend, x *Bufs) { b.MaxPool2dForward(p, x.In[0], x.Out, x.TmpInts) },
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.MaxPool2dBackward(p, dy, x.TmpInts, dx[0])
		}}
}

// linearCase is autograd's Linear as backend ops: a transposed GEMM and a
// bias forward; two GEMMs and the bias gradient backward.
func linearCase(rng *rand.Rand, rows, in, out int) Case {
	return Case{Name: "linear", In: [][]float32{randn(rng, rows*in), randn(rng, out*in), randn(rng, out)}, Out: rows * out,
		Forward: func(b backend.Backend, x *Bufs) {
			b.Sgemm(false, true, rows, out, in, 1, x.In[0], in, x.In[1], in, 0, x.Out, out)
			b.BiasAdd(x.Out, x.In[2], rows, out)
		},
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.Sgemm(false, false, rows, in, out, 1, dy, out, x.In[1], in, 1, dx[0], in)
			b.Sgemm(true, false, out, in, rows, 1, dy, out, x.In[0], in, 1, dx[1], in)
			b.BiasGrad(dy, dx[2], rows, out)
		}}
}

func reluCase(rng *rand.Rand, n int) Case {
	return Case{Name: "relu", In: [][]float32{randn(rng, n)}, Out: n,
		Forward: func(b backend.Backend, x *Bufs) { b.ReLU(x.In[0], x.Out) },
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.ReLUGrad(x.Out, dy, dx[0])
		}}
}

func dropoutCase(rng *rand.Rand, n int) Case {
	mask := make([]float32, n)
	for i := range mask {
		if rng.IntN(3) > 0 {
			mask[i] = 1.5
		}
	}
	return Case{Name: "dropout", In: [][]float32{randn(rng, n), mask}, NoGrad: []bool{false, true}, Out: n,
		Forward: func(b backend.Backend, x *Bufs) { b.Dropout(x.In[0], x.In[1], x.Out) },
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			b.DropoutGrad(dy, x.In[1], dx[0])
		}}
}

func crossEntropyCase(rng *rand.Rand, n, c int) Case {
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(c))
	}
	logits := randn(rng, n*c)
	for i := range logits {
		logits[i] *= 4
	}
	return Case{Name: "cross-entropy", In: [][]float32{logits}, Ints: [][]int32{labels}, Out: 2, Tmp: n * c, TmpInts: n,
		Cot: []float32{1, 0},
		Forward: func(b backend.Backend, x *Bufs) {
			b.CrossEntropy(x.In[0], x.Ints[0], n, c, x.Tmp, x.TmpInts, x.Out)
		},
		Backward: func(b backend.Backend, x *Bufs, dy backend.Buffer, dx []backend.Buffer) {
			// The loss's cotangent is dy[0] = 1 (Cot), so the scale is 1/n.
			b.CrossEntropyGrad(x.Tmp, x.Ints[0], n, c, float32(1/float64(n)), dx[0])
		}}
}
