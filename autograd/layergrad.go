package autograd

// This file holds the layer-gradient hook: a way for DP-SGD (package
// privacy) to see, during one batched Backward, each Linear and Conv2d
// node's input and output gradient, and to compute from them each
// example's weight and bias gradients (Opacus's grad samplers) or any
// per-example weighting of their sum. It leaves out the other ops with
// parameters (embeddings, recurrent layers, normalisation), whose
// per-example gradients callers get by running backward per example.

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
	"github.com/kiln-ml/kiln/tensor"
)

// LayerGrad is one Linear or Conv2d node as a layer-gradient hook sees it
// during Backward. Its tensors belong to the tape: they and the methods
// below are valid until the tape's next Reset.
type LayerGrad struct {
	X      *tensor.Tensor // the op's input: (N, ..., In) for Linear, (N, C, H, W) for Conv2d
	DY     *tensor.Tensor // the gradient of the op's output (Conv2dReLU's already masked by its ReLU)
	Weight *Var
	Bias   *Var // nil without a bias
	Conv   bool // a Conv2d with options Opts; otherwise a Linear
	Opts   Conv2dOptions

	g *Tape
}

// SetLayerGradHook makes every later Backward hand each Linear and Conv2d
// node whose weight or bias requires grad to hook, instead of adding that
// node's weight and bias gradients to theirs; the input's gradient flows
// on as usual. With the hook, the parameters' gradients are the caller's
// to compute from the LayerGrads (after Backward returns, until Reset).
// nil restores ordinary backward.
func (g *Tape) SetLayerGradHook(hook func(LayerGrad)) { g.layerHook = hook }

// Examples returns N, the number of examples in the batch (1 for an
// unbatched Linear input).
func (l *LayerGrad) Examples() int {
	if !l.Conv && l.X.NDim() == 1 {
		return 1
	}
	return l.X.Dim(0)
}

// Positions returns how many rows of a Linear's input each example holds
// (1 for (N, In) inputs, T for sequences (N, T, In)); 1 for a Conv2d.
func (l *LayerGrad) Positions() int {
	if l.Conv {
		return 1
	}
	return l.X.Len() / l.Weight.value.Dim(1) / l.Examples()
}

// convParams returns the kernel geometry of the Conv2d over n images.
func (l *LayerGrad) convParams(n int) conv.Conv2dParams {
	xs := l.X.Shape()
	p, err := conv2dParams([]int{n, xs[1], xs[2], xs[3]}, l.Weight.Shape(), l.Opts)
	if err != nil {
		panic(err) // the forward pass accepted these shapes
	}
	return p
}

// WorkspaceLen returns the scratch ExampleGrad needs.
func (l *LayerGrad) WorkspaceLen() int {
	if !l.Conv {
		return 0
	}
	return l.convParams(1).WorkspaceLen()
}

// ExampleGrad adds example n's gradient of the weight to dw and, when db
// is not nil, of the bias to db: for a Linear, dy_n^T x_n summed over the
// example's positions; for a Conv2d, the weight gradient of the example's
// own convolution. ws needs WorkspaceLen values and is clobbered.
func (l *LayerGrad) ExampleGrad(n int, dw, db, ws []float32) {
	if N := l.Examples(); n < 0 || n >= N {
		panic(fmt.Sprintf("autograd: example %d of %d", n, N))
	}
	x, dy := l.X.Data(), l.DY.Data()
	xn, yn := len(x)/l.Examples(), len(dy)/l.Examples()
	x, dy = x[n*xn:(n+1)*xn], dy[n*yn:(n+1)*yn]
	if l.Conv {
		conv.Conv2dBackwardWeight(l.convParams(1), x, dy, dw, db, ws)
		return
	}
	linearParamGrad(l.Weight, x, dy, dw, db)
}

// linearParamGrad adds dy^T x to dw and dy's column sums to db (unless
// nil), for rows of x (..., in) and dy (..., out).
func linearParamGrad(w *Var, x, dy, dw, db []float32) {
	in, outF := w.value.Dim(1), w.value.Dim(0)
	rows := len(x) / in
	kernels.Sgemm(true, false, outF, in, rows, 1, dy, outF, x, in, 1, dw, in)
	if db != nil {
		for r := range rows {
			for j, d := range dy[r*outF : (r+1)*outF] {
				db[j] += d
			}
		}
	}
}

// ScaledGrad adds sum_n scale[n] * (example n's gradient) of the weight
// to dw and of the bias to db (unless nil), in one batched pass: DP-SGD's
// sum of clipped per-example gradients, with scale the clipping factors.
func (l *LayerGrad) ScaledGrad(scale, dw, db []float32) {
	N := l.Examples()
	if len(scale) != N {
		panic(fmt.Sprintf("autograd: %d scales for %d examples", len(scale), N))
	}
	src := l.DY.Data()
	dy := l.g.floats.get(len(src))
	per := len(src) / N
	for n, s := range scale {
		for i, v := range src[n*per : (n+1)*per] {
			dy[n*per+i] = s * v
		}
	}
	if l.Conv {
		p := l.convParams(N)
		conv.Conv2dBackwardWeight(p, l.X.Data(), dy, dw, db, l.g.floats.get(p.WorkspaceLen()))
		return
	}
	linearParamGrad(l.Weight, l.X.Data(), dy, dw, db)
}
