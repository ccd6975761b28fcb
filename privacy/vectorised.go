package privacy

// This file holds DP-SGD's vectorised path, as Opacus's grad samplers and
// its fast gradient clipping compute it: one batched forward and backward,
// during which the tape hands every Linear and Conv2d node to us
// (autograd.Tape.SetLayerGradHook) instead of summing their gradients;
// each example's gradient norm from those nodes (for a Linear without
// sequence positions, |dy_n|^2 |x_n|^2 without building the gradient at
// all), the clipping factors, and then the clipped sum in one batched
// weight-gradient pass per layer with the output gradients scaled by the
// factors. It leaves out every other layer with parameters: models with
// one are trained by the per-example loop (classifier.go).

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// Vectorisable reports why model's per-example gradients cannot be
// computed from one batched backward pass, or nil when they can: every
// trainable parameter must belong to an nn.Linear or nn.Conv2d, and the
// loss must be cross-entropy without class weights (whose per-example
// mean would divide each example's loss by its own class weight).
func Vectorisable(model nn.Module, loss *nn.CrossEntropyLoss) error {
	if loss != nil && loss.Weight != nil {
		return fmt.Errorf("privacy: cross-entropy with class weights")
	}
	return vectorisableModule("", model)
}

func vectorisableModule(name string, m nn.Module) error {
	if h, ok := m.(nn.ParamHolder); ok {
		switch m.(type) {
		case *nn.Linear, *nn.Conv2d:
		default:
			for _, p := range h.OwnParams() {
				if !p.Buffer {
					return fmt.Errorf("privacy: %s%s: a %T has no vectorised per-sample gradient (Linear and Conv2d have)", name, p.Name, m)
				}
			}
		}
	}
	if c, ok := m.(nn.Container); ok {
		for _, ch := range c.Children() {
			if err := vectorisableModule(name+ch.Name+".", ch.Module); err != nil {
				return err
			}
		}
	}
	return nil
}

// layerRec is one hooked node and where its parameters sit in the
// ParamSet's flat buffers (bias -1 without one).
type layerRec struct {
	autograd.LayerGrad
	w, b int
	// kept holds, when norms built them and they fit keepLimit, every
	// example's weight and bias gradients (N rows of both, weight first),
	// so that the clipped sum is a weighted sum of rows rather than a
	// second weight-gradient pass.
	kept []float32
}

// keepLimit bounds the per-example gradients kept between the norms and
// the clipped sum (64 MiB of float32s).
const keepLimit = 16 << 20

// vectorised computes per-example gradients, their norms and clipped sums
// for one model from batched backward passes.
type vectorised struct {
	model   nn.Module
	ps      *nn.ParamSet
	loss    nn.CrossEntropyLoss // the classifier's, with sum reduction: each example's own loss
	tape    *autograd.Tape
	x       tensor.Tensor
	offset  map[*autograd.Var]int
	layers  []layerRec
	bad     error // set by the hook: a node whose parameters are not in ps, or shared
	normSq  []float64
	scale   []float32
	scratch [][]float32 // per worker: a convolution's workspace, then one example's gradient
	store   []float32   // backs the layers' kept gradients
	preds   []int
}

func newVectorised(model nn.Module, ps *nn.ParamSet, loss *nn.CrossEntropyLoss) *vectorised {
	v := &vectorised{model: model, ps: ps, loss: *loss, tape: autograd.NewTape(), offset: map[*autograd.Var]int{}}
	v.loss.Reduction = nn.Sum
	for i, p := range ps.Params {
		v.offset[p.Var] = ps.Offset[i]
	}
	v.tape.SetLayerGradHook(v.record)
	return v
}

// record is the tape's layer-gradient hook.
func (v *vectorised) record(l autograd.LayerGrad) {
	r := layerRec{LayerGrad: l, w: -1, b: -1}
	var ok bool
	if r.w, ok = v.offset[l.Weight]; !ok {
		v.bad = fmt.Errorf("privacy: a layer's weight %v is not among the model's parameters", l.Weight.Shape())
	}
	if l.Bias != nil {
		if r.b, ok = v.offset[l.Bias]; !ok {
			v.bad = fmt.Errorf("privacy: a layer's bias %v is not among the model's parameters", l.Bias.Shape())
		}
	}
	for _, o := range v.layers {
		if o.Weight == l.Weight {
			v.bad = fmt.Errorf("privacy: a weight %v is used by two layers; its per-example gradient is their sum", l.Weight.Shape())
		}
	}
	v.layers = append(v.layers, r)
}

// backward runs the batch forward and backward with the hook, leaving the
// hooked layers in v.layers. It returns the summed loss and the correct
// count, or an error when some gradient escaped the hook: the caller must
// then fall back to the per-example loop.
func (v *vectorised) backward(b *data.Batch) (lossSum float64, correct int, err error) {
	g := v.tape
	g.Reset()
	g.SetGradEnabled(true)
	clear(v.layers) // drop the last step's kept rows and tensors
	v.layers, v.bad = v.layers[:0], nil
	v.x.Init(b.X, b.Shape...)
	logits := v.model.Forward(g, g.Const(&v.x))
	l := v.loss.Forward(g, logits, b.Y)
	v.ps.ZeroGrad()
	g.Backward(l)
	if v.bad != nil {
		return 0, 0, v.bad
	}
	for i, x := range v.ps.Grad {
		if x != 0 {
			return 0, 0, fmt.Errorf("privacy: parameter value %d got a gradient from an op without per-sample gradients", i)
		}
	}
	n := len(b.Y)
	v.preds = append(v.preds[:0], make([]int, n)...)
	tensor.ArgMaxInto(v.preds, logits.Value(), 1)
	for i, p := range v.preds {
		if p == b.Y[i] {
			correct++
		}
	}
	return float64(l.Item()), correct, nil
}

// norms fills v.normSq with each example's squared gradient norm over
// every hooked layer.
func (v *vectorised) norms(n int) {
	v.normSq = append(v.normSq[:0], make([]float64, n)...)
	keep := 0
	for i := range v.layers {
		if l := &v.layers[i]; l.Conv || l.Positions() > 1 {
			keep += n * v.layerLen(l)
		}
	}
	if keep <= keepLimit {
		v.store = grow(v.store, keep)
	} else {
		v.store = v.store[:0]
	}
	for i := range v.layers {
		l := &v.layers[i]
		if !l.Conv && l.Positions() == 1 {
			// dW_n = dy_n x_n^T, so |dW_n|^2 = |dy_n|^2 |x_n|^2.
			x, dy := l.X.Data(), l.DY.Data()
			xs, ys := len(x)/n, len(dy)/n
			for k := range n {
				gy := sumSq(dy[k*ys : (k+1)*ys])
				s := gy * sumSq(x[k*xs:(k+1)*xs])
				if l.b >= 0 {
					s += gy
				}
				v.normSq[k] += s
			}
			continue
		}
		size := v.layerLen(l)
		if len(v.store) > 0 {
			l.kept, v.store = v.store[:n*size], v.store[n*size:]
		}
		v.exampleGrads(l, n, size)
	}
}

// exampleGrads adds each example's squared gradient norm of layer l to
// v.normSq, keeping the gradients in l.kept when it has room. The examples
// are shared among the cores, each with its own scratch; every example's
// gradient is computed alone, so the bits do not depend on the count.
func (v *vectorised) exampleGrads(l *layerRec, n, size int) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	wl, wsLen := l.Weight.Value().Len(), l.WorkspaceLen()
	for len(v.scratch) < workers {
		v.scratch = append(v.scratch, nil)
	}
	var wg sync.WaitGroup
	for w := range workers {
		buf := grow(v.scratch[w], wsLen+size)
		v.scratch[w] = buf
		ws, own := buf[:wsLen], buf[wsLen:]
		wg.Go(func() {
			for k := w; k < n; k += workers {
				dw := own
				if l.kept != nil {
					dw = l.kept[k*size : (k+1)*size]
				}
				clear(dw)
				var db []float32
				if size > wl {
					db = dw[wl:]
				}
				l.ExampleGrad(k, dw[:wl], db, ws)
				v.normSq[k] += sumSq(dw)
			}
		})
	}
	wg.Wait()
}

// layerLen returns the number of weight and bias values of l.
func (v *vectorised) layerLen(l *layerRec) int {
	n := l.Weight.Value().Len()
	if l.b >= 0 {
		n += l.Bias.Value().Len()
	}
	return n
}

// clippedSum adds to sum, laid out as the ParamSet, every example's
// gradient scaled by v.scale.
func (v *vectorised) clippedSum(sum []float32) {
	for i := range v.layers {
		l := &v.layers[i]
		dw := sum[l.w : l.w+l.Weight.Value().Len()]
		var db []float32
		if l.b >= 0 {
			db = sum[l.b : l.b+l.Bias.Value().Len()]
		}
		if l.kept == nil {
			l.ScaledGrad(v.scale, dw, db)
			continue
		}
		size := len(dw) + len(db)
		for k, f := range v.scale {
			row := l.kept[k*size : (k+1)*size]
			kernels.Axpy(f, row[:len(dw)], dw)
			kernels.Axpy(f, row[len(dw):], db)
		}
	}
}

// clipped leaves in sum (cleared first) the sum of batch b's per-example
// gradients, each clipped to maxNorm, and returns the batch's mean loss
// and correct count; an error means the caller must use the loop.
func (v *vectorised) clipped(b *data.Batch, sum []float32, maxNorm float64) (float32, int, error) {
	lossSum, correct, err := v.backward(b)
	if err != nil {
		return 0, 0, err
	}
	n := len(b.Y)
	v.norms(n)
	v.scale = append(v.scale[:0], make([]float32, n)...)
	for k, s := range v.normSq {
		v.scale[k] = float32(ClipFactor(math.Sqrt(s), maxNorm))
	}
	clear(sum)
	v.clippedSum(sum)
	return float32(lossSum / float64(n)), correct, nil
}

// PerSampleGrads returns each example's gradient of its own cross-entropy
// loss (default settings), laid out as params' flat buffer, computed from
// one batched backward pass: what the vectorised DP-SGD step clips. It
// fails for models that Vectorisable refuses. params.Grad is clobbered.
func PerSampleGrads(model nn.Module, params *nn.ParamSet, b *data.Batch) ([][]float32, error) {
	if err := Vectorisable(model, nil); err != nil {
		return nil, err
	}
	v := newVectorised(model, params, nn.NewCrossEntropyLoss())
	if len(b.Y) == 0 {
		return nil, nil
	}
	if _, _, err := v.backward(b); err != nil {
		return nil, err
	}
	n := len(b.Y)
	out := make([][]float32, n)
	for k := range out {
		out[k] = make([]float32, params.Len())
	}
	for i := range v.layers {
		l := &v.layers[i]
		ws := make([]float32, l.WorkspaceLen())
		wl := l.Weight.Value().Len()
		for k, row := range out {
			var db []float32
			if l.b >= 0 {
				db = row[l.b : l.b+l.Bias.Value().Len()]
			}
			l.ExampleGrad(k, row[l.w:l.w+wl], db, ws)
		}
	}
	return out, nil
}

func sumSq(s []float32) float64 {
	var t float64
	for _, x := range s {
		t += float64(x) * float64(x)
	}
	return t
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
