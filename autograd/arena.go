package autograd

import (
	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/tensor"
)

// arena hands out buffers in request order and takes them all back on reset.
// A step that asks for the same sizes in the same order every time gets the
// same buffers back and allocates nothing.
type arena[T any] struct {
	bufs [][]T
	n    int
}

// get returns a buffer of length n with unspecified contents.
func (a *arena[T]) get(n int) []T {
	if a.n < len(a.bufs) && cap(a.bufs[a.n]) >= n {
		b := a.bufs[a.n][:n]
		a.n++
		return b
	}
	b := make([]T, n)
	if a.n < len(a.bufs) {
		a.bufs[a.n] = b
	} else {
		a.bufs = append(a.bufs, b)
	}
	a.n++
	return b
}

func (a *arena[T]) reset() { a.n = 0 }

// pool recycles structs the same way.
type pool[T any] struct {
	items []*T
	n     int
}

func (p *pool[T]) get() *T {
	if p.n == len(p.items) {
		p.items = append(p.items, new(T))
	}
	x := p.items[p.n]
	p.n++
	return x
}

func (p *pool[T]) reset() { p.n = 0 }

// Tensor returns a tape-owned contiguous tensor of the given shape with
// unspecified contents, valid until Reset. Backward rules and ops use it for
// scratch space.
func (g *Tape) Tensor(shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	t := g.headers.get()
	t.Init(g.floats.get(n), shape...)
	return t
}

// zeros is Tensor filled with zeros.
func (g *Tape) zeros(shape ...int) *tensor.Tensor {
	t := g.Tensor(shape...)
	kernels.Zero(t.Data()) // an activation's gradient can be megabytes: every core clears it
	return t
}

// ints returns a tape-owned int32 buffer valid until Reset.
func (g *Tape) ints(n int) []int32 { return g.int32s.get(n) }
