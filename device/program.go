package device

// This file runs the compiled layers on the backend: the activation and
// gradient buffers, the forward pass and the backward pass, each layer's
// ops in the order and with the accumulation autograd's backward rules
// use. It leaves out the loss, the update and the host side
// (classifier.go).

import (
	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/internal/backend"
)

// program is a compiled model's layers and their device buffers, sized
// for up to cap examples.
type program struct {
	b      backend.Backend
	layers []*layer
	bufs   []layerBufs
	cap    int
	needDx []bool // layer i passes a gradient to its input (src)
	need2  []bool // a sum passes one to src2
	infer  bool   // forward only: no gradient buffers
	stats  []bnState
	tmp    backend.Buffer // a convolution's input gradient, when it must be added
	moved  bool           // a training-mode batch normalisation moved running statistics since the last download
}

// bnState is a batch normalisation layer's device state: its running
// statistics (none when it does not track them) and the per-channel mean
// and inverse deviation the forward saves for the backward.
type bnState struct {
	mean, vr, saved backend.Buffer
	p               backend.BatchNormParams // the last forward's
}

// layerBufs are one layer's buffers (for cap examples) and, during a step,
// the views of this batch.
type layerBufs struct {
	y, dy backend.Buffer
	idx   backend.IntBuffer
	mask  backend.Buffer
	host  []float32 // the dropout mask, drawn on the host

	x, ay, ady backend.Buffer // this batch: input, output, output gradient
	owner      int            // the layer whose buffer ady is
	active     bool           // the layer computes (false: dropout off, flatten)
}

func newProgram(b backend.Backend, layers []*layer, infer bool) (*program, error) {
	n := len(layers)
	p := &program{b: b, layers: layers, bufs: make([]layerBufs, n), needDx: make([]bool, n), need2: make([]bool, n),
		infer: infer, stats: make([]bnState, n)}
	req := make([]bool, n) // layer i's output depends on parameters
	for i, l := range layers {
		req[i] = l.params
		if l.src >= 0 {
			p.needDx[i] = req[l.src]
			req[i] = req[i] || req[l.src]
		}
		if l.kind == opAdd && l.src2 >= 0 {
			p.need2[i] = req[l.src2]
			req[i] = req[i] || req[l.src2]
		}
		if l.kind != opBN {
			continue
		}
		st := &p.stats[i]
		var err error
		if st.saved, err = b.Alloc(2 * l.bnC); err != nil {
			return nil, err
		}
		if l.bn.RunningMean != nil {
			if st.mean, err = b.Alloc(l.bnC); err != nil {
				return nil, err
			}
			if st.vr, err = b.Alloc(l.bnC); err != nil {
				return nil, err
			}
		}
	}
	return p, p.uploadStats()
}

// reserve makes the buffers hold n examples.
func (p *program) reserve(n int) error {
	if n <= p.cap {
		return nil
	}
	p.free()
	tmp := 0
	for i, l := range p.layers {
		lb := &p.bufs[i]
		var err error
		if lb.y, err = p.b.Alloc(n * l.out); err != nil {
			return err
		}
		if !p.infer {
			if lb.dy, err = p.b.Alloc(n * l.out); err != nil {
				return err
			}
			if l.kind == opConv {
				tmp = max(tmp, n*l.in)
			}
		}
		switch l.kind {
		case opPool:
			if lb.idx, err = p.b.AllocInts(n * l.out); err != nil {
				return err
			}
		case opDropout:
			if lb.mask, err = p.b.Alloc(n * l.out); err != nil {
				return err
			}
			lb.host = make([]float32, n*l.out)
		}
	}
	if tmp > 0 {
		var err error
		if p.tmp, err = p.b.Alloc(tmp); err != nil {
			return err
		}
	}
	p.cap = n
	return nil
}

func (p *program) free() {
	for i := range p.bufs {
		lb := &p.bufs[i]
		for _, b := range []backend.Buffer{lb.y, lb.dy, lb.mask} {
			if !b.IsNil() {
				p.b.Free(b)
			}
		}
		if lb.idx.Mem() != nil {
			p.b.FreeInts(lb.idx)
		}
		p.bufs[i] = layerBufs{}
	}
	if !p.tmp.IsNil() {
		p.b.Free(p.tmp)
		p.tmp = backend.Buffer{}
	}
	p.cap = 0
}

// input returns layer src's output of this batch, or the batch x.
func (p *program) input(src int, x backend.Buffer) backend.Buffer {
	if src < 0 {
		return x
	}
	return p.bufs[src].ay
}

// forward runs the layers on x (n examples) with parameters w and returns
// the output. Dropout layers in training mode draw their masks from their
// own generators, as nn.Dropout does; batch normalisation in training mode
// counts the batch on the host and moves its running statistics on the
// device, as nn.BatchNorm does.
func (p *program) forward(n int, x, w backend.Buffer) (backend.Buffer, error) {
	for i, l := range p.layers {
		lb := &p.bufs[i]
		in := p.input(l.src, x)
		lb.x = in
		lb.active = true
		y := lb.y.Slice(0, n*l.out)
		switch l.kind {
		case opConv:
			cp := l.cp
			cp.N = n
			p.b.Conv2dForward(cp, in, slice(w, l.w), slice(w, l.b), y, l.relu)
		case opPool:
			mp := l.mp
			mp.N = n
			p.b.MaxPool2dForward(mp, in, y, lb.idx.Slice(0, n*l.out))
		case opLinear:
			rows := n * l.in / l.inF
			p.b.Sgemm(false, true, rows, l.outF, l.inF, 1, in, l.inF, slice(w, l.w), l.inF, 0, y, l.outF)
			if l.b.n > 0 {
				p.b.BiasAdd(y, slice(w, l.b), rows, l.outF)
			}
		case opReLU:
			p.b.ReLU(in, y)
		case opSigmoid:
			p.b.Sigmoid(in, y)
		case opTanh:
			p.b.Tanh(in, y)
		case opAvgPool:
			ap := l.avg
			ap.N = n
			p.b.AvgPool2dForward(ap, in, y)
		case opFlatten:
			lb.active = false
		case opDropout:
			d := l.drop
			if !d.Training() || d.P == 0 {
				lb.active = false
				break
			}
			m := lb.host[:n*l.out]
			autograd.FillDropoutMask(m, d.P, d.Rng)
			mask := lb.mask.Slice(0, n*l.out)
			if err := p.b.Upload(mask, m); err != nil {
				return backend.Buffer{}, err
			}
			p.b.Dropout(in, mask, y)
		case opBN:
			p.batchNorm(i, n, in, w, y)
		case opAdaptive:
			ap := l.ap
			ap.N = n
			p.b.AdaptiveAvgPool2dForward(ap, in, y)
		case opAdd:
			p.b.Add(in, p.input(l.src2, x), y)
		}
		if !lb.active {
			y = in
		}
		lb.ay = y
	}
	return p.bufs[len(p.layers)-1].ay, nil
}

// batchNorm runs layer i's batch normalisation, as nn.BatchNorm.Forward
// calls autograd's: training mode counts the batch (and, for a cumulative
// average, sets the momentum from the count); without running statistics
// the batch's are used in evaluation too.
func (p *program) batchNorm(i, n int, x, w, y backend.Buffer) {
	l, st := p.layers[i], &p.stats[i]
	bn := l.bn
	st.p = backend.BatchNormParams{N: n, C: l.bnC, Spatial: l.bnS, Training: bn.Training() || bn.RunningMean == nil,
		Momentum: bn.Momentum, Eps: bn.Eps}
	if bn.Training() && bn.RunningMean != nil {
		nbt := bn.NumBatchesTracked.Data()
		nbt[0]++
		if bn.CumulativeAverage {
			st.p.Momentum = 1 / nbt[0]
		}
		p.moved = true
	}
	p.b.BatchNormForward(st.p, x, slice(w, l.w), slice(w, l.b), st.mean, st.vr, y, st.saved)
}

// gradients sets each layer's output-gradient view for n examples and
// zeroes the ones that are not aliases, as autograd hands out zeroed
// gradients; it returns the output's.
func (p *program) gradients(n int) backend.Buffer {
	for i, l := range p.layers {
		lb := &p.bufs[i]
		if !lb.active && l.src >= 0 {
			src := &p.bufs[l.src]
			lb.ady, lb.owner = src.ady, src.owner
			continue
		}
		lb.ady, lb.owner = lb.dy.Slice(0, n*l.out), i
		p.b.Fill(lb.ady, 0)
	}
	return p.bufs[len(p.layers)-1].ady
}

// backward runs the layers backwards from the output gradient (set up by
// gradients and filled by the loss), adding parameter gradients into g.
// Every input gradient is added, as autograd's are, so a layer read by
// two others (a residual block's input) gets both; a convolution writes
// its input gradient straight into the buffer only while nothing has been
// added there yet.
func (p *program) backward(n int, w, g backend.Buffer) {
	added := make([]bool, len(p.layers)) // by owner: a gradient was added
	target := func(src int) backend.Buffer {
		lb := &p.bufs[src]
		added[lb.owner] = true
		return lb.ady
	}
	for i := len(p.layers) - 1; i >= 0; i-- {
		l, lb := p.layers[i], &p.bufs[i]
		if !lb.active {
			continue
		}
		dy := lb.ady
		switch l.kind {
		case opConv:
			cp := l.cp
			cp.N = n
			if l.relu {
				p.b.ReLUMask(lb.ay, dy)
			}
			if p.needDx[i] {
				if added[p.bufs[l.src].owner] {
					tmp := p.tmp.Slice(0, n*l.in)
					p.b.Conv2dBackwardData(cp, dy, slice(w, l.w), tmp)
					p.b.Axpy(1, tmp, target(l.src))
				} else {
					p.b.Conv2dBackwardData(cp, dy, slice(w, l.w), target(l.src))
				}
			}
			p.b.Conv2dBackwardWeight(cp, lb.x, dy, slice(g, l.w), slice(g, l.b))
		case opPool:
			if p.needDx[i] {
				mp := l.mp
				mp.N = n
				p.b.MaxPool2dBackward(mp, dy, lb.idx.Slice(0, n*l.out), target(l.src))
			}
		case opLinear:
			rows := n * l.in / l.inF
			if p.needDx[i] {
				p.b.Sgemm(false, false, rows, l.inF, l.outF, 1, dy, l.outF, slice(w, l.w), l.inF, 1, target(l.src), l.inF)
			}
			p.b.Sgemm(true, false, l.outF, l.inF, rows, 1, dy, l.outF, lb.x, l.inF, 1, slice(g, l.w), l.inF)
			if l.b.n > 0 {
				p.b.BiasGrad(dy, slice(g, l.b), rows, l.outF)
			}
		case opReLU:
			if p.needDx[i] {
				p.b.ReLUGrad(lb.ay, dy, target(l.src))
			}
		case opSigmoid:
			if p.needDx[i] {
				p.b.SigmoidGrad(lb.ay, dy, target(l.src))
			}
		case opTanh:
			if p.needDx[i] {
				p.b.TanhGrad(lb.ay, dy, target(l.src))
			}
		case opAvgPool:
			if p.needDx[i] {
				ap := l.avg
				ap.N = n
				p.b.AvgPool2dBackward(ap, dy, target(l.src))
			}
		case opDropout:
			if p.needDx[i] {
				p.b.DropoutGrad(dy, lb.mask.Slice(0, n*l.out), target(l.src))
			}
		case opBN:
			var dx backend.Buffer
			if p.needDx[i] {
				dx = target(l.src)
			}
			st := &p.stats[i]
			p.b.BatchNormBackward(st.p, lb.x, dy, slice(w, l.w), st.saved, dx, slice(g, l.w), slice(g, l.b))
		case opAdaptive:
			if p.needDx[i] {
				ap := l.ap
				ap.N = n
				p.b.AdaptiveAvgPool2dBackward(ap, dy, target(l.src))
			}
		case opAdd:
			if p.needDx[i] {
				p.b.Axpy(1, dy, target(l.src))
			}
			if p.need2[i] {
				p.b.Axpy(1, dy, target(l.src2))
			}
		}
	}
}

// slice returns s's part of the flat buffer b (none when s is empty).
func slice(b backend.Buffer, s span) backend.Buffer {
	if s.n == 0 {
		return backend.Buffer{}
	}
	return b.Slice(s.off, s.off+s.n)
}
