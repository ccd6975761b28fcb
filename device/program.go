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
	needDx []bool // layer i passes a gradient to its input
	infer  bool   // forward only: no gradient buffers
}

// layerBufs are one layer's buffers (for cap examples) and, during a step,
// the views of this batch.
type layerBufs struct {
	y, dy backend.Buffer
	idx   backend.IntBuffer
	mask  backend.Buffer
	host  []float32 // the dropout mask, drawn on the host

	x, ay, ady backend.Buffer // this batch: input, output, output gradient
	active     bool           // the layer computes (false: dropout off, flatten)
}

func newProgram(b backend.Backend, layers []*layer, infer bool) *program {
	p := &program{b: b, layers: layers, bufs: make([]layerBufs, len(layers)), needDx: make([]bool, len(layers)), infer: infer}
	seen := false
	for i, l := range layers {
		p.needDx[i] = seen
		seen = seen || l.params
	}
	return p
}

// reserve makes the buffers hold n examples.
func (p *program) reserve(n int) error {
	if n <= p.cap {
		return nil
	}
	p.free()
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
	p.cap = n
	return nil
}

func (p *program) free() {
	for i := range p.bufs {
		lb := &p.bufs[i]
		if !lb.y.IsNil() {
			p.b.Free(lb.y)
		}
		if !lb.dy.IsNil() {
			p.b.Free(lb.dy)
		}
		if lb.idx.Mem() != nil {
			p.b.FreeInts(lb.idx)
		}
		if !lb.mask.IsNil() {
			p.b.Free(lb.mask)
		}
		p.bufs[i] = layerBufs{}
	}
	p.cap = 0
}

// forward runs the layers on x (n examples) with parameters w and returns
// the output. Dropout layers in training mode draw their masks from their
// own generators, as nn.Dropout does.
func (p *program) forward(n int, x, w backend.Buffer) (backend.Buffer, error) {
	for i, l := range p.layers {
		lb := &p.bufs[i]
		lb.x = x
		lb.active = true
		y := lb.y.Slice(0, n*l.out)
		switch l.kind {
		case opConv:
			cp := l.cp
			cp.N = n
			p.b.Conv2dForward(cp, x, slice(w, l.w), slice(w, l.b), y, l.relu)
		case opPool:
			mp := l.mp
			mp.N = n
			p.b.MaxPool2dForward(mp, x, y, lb.idx.Slice(0, n*l.out))
		case opLinear:
			rows := n * l.in / l.inF
			p.b.Sgemm(false, true, rows, l.outF, l.inF, 1, x, l.inF, slice(w, l.w), l.inF, 0, y, l.outF)
			if l.b.n > 0 {
				p.b.BiasAdd(y, slice(w, l.b), rows, l.outF)
			}
		case opReLU:
			p.b.ReLU(x, y)
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
			p.b.Dropout(x, mask, y)
		}
		if !lb.active {
			y = x
		}
		lb.ay = y
		x = y
	}
	return x, nil
}

// gradients sets each layer's output-gradient view for n examples and
// zeroes the ones that are not aliases, as autograd hands out zeroed
// gradients; it returns the output's.
func (p *program) gradients(n int) backend.Buffer {
	for i, l := range p.layers {
		lb := &p.bufs[i]
		if !lb.active && i > 0 {
			lb.ady = p.bufs[i-1].ady
			continue
		}
		lb.ady = lb.dy.Slice(0, n*l.out)
		p.b.Fill(lb.ady, 0)
	}
	return p.bufs[len(p.layers)-1].ady
}

// backward runs the layers backwards from the output gradient (set up by
// gradients and filled by the loss), adding parameter gradients into g.
func (p *program) backward(n int, w, g backend.Buffer) {
	for i := len(p.layers) - 1; i >= 0; i-- {
		l, lb := p.layers[i], &p.bufs[i]
		if !lb.active {
			continue
		}
		var dx backend.Buffer
		if p.needDx[i] {
			dx = p.bufs[i-1].ady
		}
		dy := lb.ady
		switch l.kind {
		case opConv:
			cp := l.cp
			cp.N = n
			if l.relu {
				p.b.ReLUMask(lb.ay, dy)
			}
			if !dx.IsNil() {
				p.b.Conv2dBackwardData(cp, dy, slice(w, l.w), dx)
			}
			p.b.Conv2dBackwardWeight(cp, lb.x, dy, slice(g, l.w), slice(g, l.b))
		case opPool:
			if !dx.IsNil() {
				mp := l.mp
				mp.N = n
				p.b.MaxPool2dBackward(mp, dy, lb.idx.Slice(0, n*l.out), dx)
			}
		case opLinear:
			rows := n * l.in / l.inF
			if !dx.IsNil() {
				p.b.Sgemm(false, false, rows, l.inF, l.outF, 1, dy, l.outF, slice(w, l.w), l.inF, 1, dx, l.inF)
			}
			p.b.Sgemm(true, false, l.outF, l.inF, rows, 1, dy, l.outF, lb.x, l.inF, 1, slice(g, l.w), l.inF)
			if l.b.n > 0 {
				p.b.BiasGrad(dy, slice(g, l.b), rows, l.outF)
			}
		case opReLU:
			if !dx.IsNil() {
				p.b.ReLUGrad(lb.ay, dy, dx)
			}
		case opDropout:
			if !dx.IsNil() {
				p.b.DropoutGrad(dy, p.bufs[i].mask.Slice(0, n*l.out), dx)
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
