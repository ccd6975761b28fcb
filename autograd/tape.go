package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

// Tape records the ops of one forward pass so that Backward can replay them
// in reverse. It is not safe for concurrent use; use one tape per goroutine.
type Tape struct {
	nodes    []*Var
	vars     pool[Var]
	headers  pool[tensor.Tensor]
	floats   arena[float32]
	int32s   arena[int32]
	varLists arena[*Var]
	noGrad   bool

	leafDone  func(*Var)      // see SetLeafHook
	layerHook func(LayerGrad) // see SetLayerGradHook
	pass      uint32
	sumStats  func([]float64) // see SetStatsSum
}

// SetStatsSum makes BatchNorm in training mode normalise with statistics
// over several tapes, as PyTorch's SyncBatchNorm does over the ranks of a
// data-parallel job: sum replaces its argument, in place, with the
// element-wise sum of every rank's. Every rank's forward and backward must
// then call it at the same points (the same graph). nil restores local
// statistics.
func (g *Tape) SetStatsSum(sum func(vals []float64)) { g.sumStats = sum }

// SetLeafHook makes every later Backward call done(leaf) as soon as a
// leaf's gradient is final for that pass: after the last node that feeds
// it has run, while backward goes on with the rest of the graph. Leaves the
// graph does not reach are never reported. Data-parallel training starts
// all-reducing a bucket of gradients there, as PyTorch's DDP does from its
// gradient hooks. nil removes the hook.
func (g *Tape) SetLeafHook(done func(leaf *Var)) { g.leafDone = done }

// NewTape returns an empty tape with recording enabled.
func NewTape() *Tape { return &Tape{} }

// Reset forgets every recorded op and recycles every Var and buffer the tape
// handed out. Leaves and their gradients are untouched.
func (g *Tape) Reset() {
	clear(g.nodes)
	g.nodes = g.nodes[:0]
	g.vars.reset()
	g.headers.reset()
	g.floats.reset()
	g.int32s.reset()
	g.varLists.reset()
}

// SetGradEnabled turns recording on or off and returns the previous setting,
// like torch.set_grad_enabled. With recording off (evaluation), ops compute
// values only: nothing is saved for backward and no result requires grad.
func (g *Tape) SetGradEnabled(on bool) (prev bool) {
	prev = !g.noGrad
	g.noGrad = !on
	return prev
}

// GradEnabled reports whether ops are being recorded.
func (g *Tape) GradEnabled() bool { return !g.noGrad }

// Const returns a tape-owned Var holding a contiguous copy-free view of t
// (copied only when t is not contiguous) that does not require grad: the
// way inputs and targets enter a graph.
func (g *Tape) Const(t *tensor.Tensor) *Var {
	v := g.vars.get()
	*v = Var{}
	if t.IsContiguous() {
		v.value = *t
	} else {
		v.value = *tensor.Copy(g.Tensor(t.Shape()...), t)
	}
	return v
}

// Detach returns a Var sharing v's value that is cut from the graph.
func (g *Tape) Detach(v *Var) *Var {
	d := g.vars.get()
	*d = Var{value: v.value}
	return d
}

// newVar returns a tape-owned Var of the given shape, made by op from the
// inputs, and records it when gradients must flow through it. Its value has
// unspecified contents for the op to fill.
func (g *Tape) newVar(o op, shape []int, in ...*Var) *Var {
	v := g.vars.get()
	*v = Var{op: o}
	v.value.Init(g.floats.get(prod(shape)), shape...)
	if g.noGrad {
		return v
	}
	for i, x := range in {
		v.in[i] = x
		if x != nil && x.requiresGrad {
			v.requiresGrad = true
		}
	}
	if v.requiresGrad {
		g.nodes = append(g.nodes, v)
	} else {
		v.in = [3]*Var{}
	}
	return v
}

// newVarN is newVar for ops with any number of inputs, kept in v.ins. It
// copies ins into a tape-owned slice, so callers may pass a reused or
// stack-allocated one; nil inputs are allowed.
func (g *Tape) newVarN(o op, shape []int, ins []*Var) *Var {
	v := g.vars.get()
	*v = Var{op: o}
	v.value.Init(g.floats.get(prod(shape)), shape...)
	if g.noGrad {
		return v
	}
	for _, x := range ins {
		if x != nil && x.requiresGrad {
			v.requiresGrad = true
			break
		}
	}
	if v.requiresGrad {
		v.ins = g.varLists.get(len(ins))
		copy(v.ins, ins)
		g.nodes = append(g.nodes, v)
	}
	return v
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Backward computes the gradient of the scalar loss with respect to every
// Var that requires grad and accumulates it into their gradients. Leaves keep
// accumulating across calls; the intermediate gradients of this tape are
// recomputed on every call, so Backward may run more than once per tape.
func (g *Tape) Backward(loss *Var) {
	if loss.value.Len() != 1 {
		panic(fmt.Sprintf("autograd: Backward of a non-scalar of shape %v; use BackwardWith", loss.Shape()))
	}
	g.BackwardWith(loss, nil)
}

// BackwardWith runs backward from v seeded with the gradient seed (ones when
// nil), like torch.autograd.backward(v, seed).
func (g *Tape) BackwardWith(v *Var, seed *tensor.Tensor) {
	if !v.requiresGrad {
		panic("autograd: Backward of a Var that does not require grad")
	}
	for _, n := range g.nodes {
		n.hasGrad = false
	}
	gv := g.gradOf(v)
	if seed == nil {
		gv.Fill(1)
	} else {
		tensor.Add(gv, gv, seed)
	}
	if g.leafDone != nil {
		g.markLastUses()
	}
	for i := len(g.nodes) - 1; i >= 0; i-- {
		n := g.nodes[i]
		if n.hasGrad {
			rules[n.op].backward(g, n)
		}
		if g.leafDone != nil {
			g.reportLeaves(n, i)
		}
	}
}

// inputs returns n's inputs: n.ins for ops with many, else n.in.
func (n *Var) inputs() []*Var {
	if n.ins != nil {
		return n.ins
	}
	return n.in[:]
}

// markLastUses records in every leaf that needs a gradient the index of
// the first node reading it, which is the last that backward visits.
func (g *Tape) markLastUses() {
	g.pass++
	for i, n := range g.nodes {
		for _, x := range n.inputs() {
			if x != nil && x.leaf && x.requiresGrad && x.pass != g.pass {
				x.pass, x.lastUse = g.pass, i
			}
		}
	}
}

// reportLeaves tells the leaf hook of the leaves whose last reader is node i.
func (g *Tape) reportLeaves(n *Var, i int) {
	for _, x := range n.inputs() {
		if x != nil && x.leaf && x.pass == g.pass && x.lastUse == i {
			x.lastUse = -1 // a leaf read twice by one node is reported once
			g.leafDone(x)
		}
	}
}

// gradOf returns v's gradient storage, creating it zeroed when missing:
// tape-owned for intermediate Vars, heap-owned for leaves.
func (g *Tape) gradOf(v *Var) *tensor.Tensor {
	if !v.hasGrad {
		if v.leaf {
			v.grad = *tensor.New(v.Shape()...)
		} else {
			v.grad = *g.zeros(v.Shape()...)
		}
		v.hasGrad = true
	}
	return &v.grad
}

// freshGrad returns storage for v's gradient, not cleared, when v is an
// intermediate Var that has no gradient yet, for a rule that overwrites
// every element (the first contribution to it); else nil, and the rule
// adds to gradOf(v) as usual. It saves clearing a buffer and adding into it.
func (g *Tape) freshGrad(v *Var) []float32 {
	if v.leaf || v.hasGrad {
		return nil
	}
	v.grad = *g.Tensor(v.Shape()...)
	v.hasGrad = true
	return v.grad.Data()
}

// accum adds scale*src into v's gradient when v requires grad. src may have
// v's shape or one that v broadcasts to, in which case it is summed back.
func (g *Tape) accum(v *Var, src *tensor.Tensor, scale float32) {
	if v == nil || !v.requiresGrad {
		return
	}
	gv := g.gradOf(v)
	if !tensor.SameShape(gv, src) {
		if src.Len() == gv.Len() {
			addScaled(gv.Data(), src.Data(), scale)
			return
		}
		src = tensor.SumTo(g.Tensor(gv.Shape()...), src)
	}
	addScaled(gv.Data(), tensor.Contiguous(nil, src).Data(), scale)
}

// needs reports whether input i of n wants a gradient.
func (n *Var) needs(i int) bool { return n.in[i] != nil && n.in[i].requiresGrad }

func addScaled(dst, src []float32, scale float32) {
	src = src[:len(dst)]
	switch scale {
	case 1:
		for i, v := range src {
			dst[i] += v
		}
	case -1:
		for i, v := range src {
			dst[i] -= v
		}
	default:
		for i, v := range src {
			dst[i] += scale * v
		}
	}
}
