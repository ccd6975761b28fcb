package autograd

import "fmt"

// Reduction says how a loss combines its per-element values, as PyTorch's
// reduction argument does.
type Reduction uint8

// The reductions: the weighted mean (the default), the sum, or none (one loss
// per element).
const (
	ReduceMean Reduction = iota
	ReduceSum
	ReduceNone
)

// NLLOptions are the arguments of NLL beyond its inputs.
type NLLOptions struct {
	Weight      []float32 // per-class weights; nil means all 1
	IgnoreIndex int       // targets equal to it contribute nothing; PyTorch's default is -100
	Reduction   Reduction
}

// NLL returns the negative log-likelihood loss of log-probabilities logp of
// shape (N, C) or (N, C, d1, ...) for integer targets of N*d1*... entries in
// [0, C), PyTorch's F.nll_loss. The mean reduction divides by the total
// weight of the non-ignored targets.
func (g *Tape) NLL(logp *Var, target []int, opt NLLOptions) *Var {
	shape := logp.Shape()
	if len(shape) < 2 {
		panic(fmt.Sprintf("autograd: nll: input %v, want (N, C, ...)", shape))
	}
	outer, c, inner := rowsAround(shape, 1)
	if len(target) != outer*inner {
		panic(fmt.Sprintf("autograd: nll: %d targets for input %v", len(target), shape))
	}
	if opt.Weight != nil && len(opt.Weight) != c {
		panic(fmt.Sprintf("autograd: nll: %d class weights for %d classes", len(opt.Weight), c))
	}
	var y *Var
	if opt.Reduction == ReduceNone {
		var out [8]int
		out[0] = outer
		nd := 1 + copy(out[1:], shape[2:])
		y = g.newVar(opNLL, out[:nd], logp)
	} else {
		y = g.newVar(opNLL, nil, logp)
	}
	y.ints[0], y.ints[1] = int(opt.Reduction), c
	y.idx = g.ints(len(target))
	y.aux = g.floats.get(len(target)) // per-element weight, 0 when ignored
	lp := logp.Data()
	var sum, wsum float64
	out := y.Data()
	for i, t := range target {
		o, j := i/inner, i%inner
		w := float32(0)
		if t != opt.IgnoreIndex {
			if t < 0 || t >= c {
				panic(fmt.Sprintf("autograd: nll: target %d out of range [0, %d)", t, c))
			}
			w = 1
			if opt.Weight != nil {
				w = opt.Weight[t]
			}
		} else {
			t = 0
		}
		y.idx[i], y.aux[i] = int32(t), w
		l := -w * lp[(o*c+t)*inner+j]
		if opt.Reduction == ReduceNone {
			out[i] = l
		}
		sum += float64(l)
		wsum += float64(w)
	}
	switch opt.Reduction {
	case ReduceMean:
		out[0] = float32(sum / wsum)
		y.fl[0] = float32(1 / wsum)
	case ReduceSum:
		out[0] = float32(sum)
		y.fl[0] = 1
	}
	return y
}

func nllBackward(g *Tape, n *Var) {
	x := n.in[0]
	if !x.requiresGrad {
		return
	}
	red, c := Reduction(n.ints[0]), n.ints[1]
	_, _, inner := rowsAround(x.Shape(), 1)
	dx, dy := g.gradOf(x).Data(), n.grad.Data()
	for i, w := range n.aux {
		if w == 0 {
			continue
		}
		o, j := i/inner, i%inner
		d := dy[0] * n.fl[0]
		if red == ReduceNone {
			d = dy[i]
		}
		dx[(o*c+int(n.idx[i]))*inner+j] -= w * d
	}
}
