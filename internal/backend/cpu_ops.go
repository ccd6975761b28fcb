package backend

// This file is the CPU backend's ops. Each calls the kernel the engine
// calls for the same step, or repeats autograd's loop for it expression for
// expression (bias, dropout, the activations' backward, the loss), so the
// bits are the engine's. The updates are in cpu_optim.go.

import (
	"math"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
	"github.com/kiln-ml/kiln/tensor"
)

// Fill sets every element of x to v.
func (*CPU) Fill(x Buffer, v float32) {
	s := Floats(x)
	if v == 0 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = v
	}
}

// Axpy computes y += alpha*x with kernels.Axpy.
func (*CPU) Axpy(alpha float32, x, y Buffer) {
	MustLen("Axpy", "y", y.Len(), x.Len())
	kernels.Axpy(alpha, Floats(x), Floats(y))
}

// Sgemm calls kernels.Sgemm.
func (*CPU) Sgemm(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, b Buffer, ldb int, beta float32, c Buffer, ldc int) {
	kernels.Sgemm(transA, transB, m, n, k, alpha, Floats(a), lda, Floats(b), ldb, beta, Floats(c), ldc)
}

// Conv2dForward calls conv.Conv2dForward or conv.Conv2dForwardReLU.
func (c *CPU) Conv2dForward(p conv.Conv2dParams, x, w, bias, y Buffer, relu bool) {
	ws := c.workspace(p.WorkspaceLen())
	if relu {
		conv.Conv2dForwardReLU(p, Floats(x), Floats(w), Floats(bias), Floats(y), ws)
		return
	}
	conv.Conv2dForward(p, Floats(x), Floats(w), Floats(bias), Floats(y), ws)
}

// Conv2dBackwardData calls conv.Conv2dBackwardData.
func (c *CPU) Conv2dBackwardData(p conv.Conv2dParams, dy, w, dx Buffer) {
	conv.Conv2dBackwardData(p, Floats(dy), Floats(w), Floats(dx), c.workspace(p.WorkspaceLen()))
}

// Conv2dBackwardWeight calls conv.Conv2dBackwardWeight.
func (c *CPU) Conv2dBackwardWeight(p conv.Conv2dParams, x, dy, dw, dbias Buffer) {
	conv.Conv2dBackwardWeight(p, Floats(x), Floats(dy), Floats(dw), Floats(dbias), c.workspace(p.WorkspaceLen()))
}

// ReLUMask calls conv.ReLUMaskGrad.
func (*CPU) ReLUMask(y, dy Buffer) { conv.ReLUMaskGrad(Floats(y), Floats(dy)) }

// MaxPool2dForward calls conv.MaxPool2dForward.
func (*CPU) MaxPool2dForward(p conv.MaxPool2dParams, x, y Buffer, idx IntBuffer) {
	conv.MaxPool2dForward(p, Floats(x), Floats(y), Int32s(idx))
}

// MaxPool2dBackward calls conv.MaxPool2dBackward.
func (*CPU) MaxPool2dBackward(p conv.MaxPool2dParams, dy Buffer, idx IntBuffer, dx Buffer) {
	conv.MaxPool2dBackward(p, Floats(dy), Int32s(idx), Floats(dx))
}

// BiasAdd adds bias to each row of y, as autograd's Linear does.
func (*CPU) BiasAdd(y, bias Buffer, rows, cols int) {
	MustLen("BiasAdd", "y", y.Len(), rows*cols)
	MustLen("BiasAdd", "bias", bias.Len(), cols)
	yd, bd := Floats(y), Floats(bias)
	for r := 0; r < rows; r++ {
		row := yd[r*cols : (r+1)*cols]
		for j := range row {
			row[j] += bd[j]
		}
	}
}

// BiasGrad adds dy's column sums into db, row after row, as autograd's
// Linear backward does.
func (*CPU) BiasGrad(dy, db Buffer, rows, cols int) {
	MustLen("BiasGrad", "dy", dy.Len(), rows*cols)
	MustLen("BiasGrad", "db", db.Len(), cols)
	d, g := Floats(dy), Floats(db)
	for r := 0; r < rows; r++ {
		for j, v := range d[r*cols : (r+1)*cols] {
			g[j] += v
		}
	}
}

// ReLU calls tensor.ReLUSlice, the loop of autograd's ReLU.
func (*CPU) ReLU(x, y Buffer) {
	MustLen("ReLU", "y", y.Len(), x.Len())
	tensor.ReLUSlice(Floats(y), Floats(x))
}

// ReLUGrad calls tensor.ReLUGradSlice.
func (*CPU) ReLUGrad(y, dy, dx Buffer) {
	MustLen("ReLUGrad", "dy", dy.Len(), y.Len())
	MustLen("ReLUGrad", "dx", dx.Len(), y.Len())
	tensor.ReLUGradSlice(Floats(dx), Floats(dy), Floats(y))
}

// unary runs one of tensor's elementwise ops (the engine's forward loop)
// from x into y, as flat tensors.
func unary(op string, f func(dst, src *tensor.Tensor) *tensor.Tensor, x, y Buffer) {
	MustLen(op, "y", y.Len(), x.Len())
	var xt, yt tensor.Tensor
	xt.Init(Floats(x), x.Len())
	yt.Init(Floats(y), y.Len())
	f(&yt, &xt)
}

// Sigmoid calls tensor.Sigmoid, autograd's forward.
func (*CPU) Sigmoid(x, y Buffer) { unary("Sigmoid", tensor.Sigmoid, x, y) }

// SigmoidGrad is autograd's sigmoid backward: dx += dy*y*(1-y).
func (*CPU) SigmoidGrad(y, dy, dx Buffer) {
	MustLen("SigmoidGrad", "dy", dy.Len(), y.Len())
	MustLen("SigmoidGrad", "dx", dx.Len(), y.Len())
	ys, g := Floats(y), Floats(dx)
	for i, d := range Floats(dy) {
		g[i] += d * ys[i] * (1 - ys[i])
	}
}

// Tanh calls tensor.Tanh, autograd's forward.
func (*CPU) Tanh(x, y Buffer) { unary("Tanh", tensor.Tanh, x, y) }

// TanhGrad is autograd's tanh backward: dx += dy*(1-y*y).
func (*CPU) TanhGrad(y, dy, dx Buffer) {
	MustLen("TanhGrad", "dy", dy.Len(), y.Len())
	MustLen("TanhGrad", "dx", dx.Len(), y.Len())
	ys, g := Floats(y), Floats(dx)
	for i, d := range Floats(dy) {
		g[i] += d * (1 - ys[i]*ys[i])
	}
}

// Dropout writes y = x*mask.
func (*CPU) Dropout(x, mask, y Buffer) {
	MustLen("Dropout", "mask", mask.Len(), x.Len())
	MustLen("Dropout", "y", y.Len(), x.Len())
	xs, ys := Floats(x), Floats(y)
	for i, k := range Floats(mask) {
		ys[i] = xs[i] * k
	}
}

// DropoutGrad adds dy*mask to dx.
func (*CPU) DropoutGrad(dy, mask, dx Buffer) {
	MustLen("DropoutGrad", "mask", mask.Len(), dy.Len())
	MustLen("DropoutGrad", "dx", dx.Len(), dy.Len())
	d, g := Floats(dy), Floats(dx)
	for i, k := range Floats(mask) {
		g[i] += d[i] * k
	}
}

// CrossEntropy is nn.CrossEntropyLoss's forward (tensor.LogSoftmax, then
// autograd's NLL loop with its float64 sum) and the classifier's arg-max
// (tensor.ArgMaxInto).
func (b *CPU) CrossEntropy(logits Buffer, labels IntBuffer, n, c int, logp Buffer, preds IntBuffer, out Buffer) {
	MustLen("CrossEntropy", "logits", logits.Len(), n*c)
	MustLen("CrossEntropy", "logp", logp.Len(), n*c)
	MustLen("CrossEntropy", "labels", labels.Len(), n)
	MustLen("CrossEntropy", "preds", preds.Len(), n)
	MustLen("CrossEntropy", "out", out.Len(), 2)
	x, y := &b.x, &b.y
	x.Init(Floats(logits), n, c)
	y.Init(Floats(logp), n, c)
	tensor.LogSoftmax(y, x, 1)
	lp, ts := Floats(logp), Int32s(labels)
	var sum, wsum float64
	for i, t := range ts {
		if t < 0 || int(t) >= c {
			panic("backend: CrossEntropy: label out of range")
		}
		w := float32(1)
		l := -w * lp[i*c+int(t)]
		sum += float64(l)
		wsum += float64(w)
	}
	if cap(b.argmax) < n {
		b.argmax = make([]int, n)
	}
	am := b.argmax[:n]
	tensor.ArgMaxInto(am, x, 1)
	pd := Int32s(preds)
	correct := 0
	for i, p := range am {
		pd[i] = int32(p)
		if int32(p) == ts[i] {
			correct++
		}
	}
	o := Floats(out)
	o[0], o[1] = float32(sum/wsum), float32(correct)
}

// CrossEntropyGrad is autograd's NLL backward (minus scale at each label)
// followed by its log-softmax backward, dx += dl - exp(logp)*sum(dl), in
// the same float64 arithmetic.
func (*CPU) CrossEntropyGrad(logp Buffer, labels IntBuffer, n, c int, scale float32, dx Buffer) {
	MustLen("CrossEntropyGrad", "logp", logp.Len(), n*c)
	MustLen("CrossEntropyGrad", "dx", dx.Len(), n*c)
	MustLen("CrossEntropyGrad", "labels", labels.Len(), n)
	y, g := Floats(logp), Floats(dx)
	for i, t := range Int32s(labels) {
		dt := float32(0) - 1*scale
		s := float64(dt)
		for k := 0; k < c; k++ {
			dl := float32(0)
			if k == int(t) {
				dl = dt
			}
			j := i*c + k
			g[j] += dl - float32(math.Exp(float64(y[j]))*s)
		}
	}
}
