package autograd

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
)

// One direction of one recurrent layer over a whole sequence, as a single
// primitive with backpropagation through time written out by hand. The
// input projection x W_ih^T + b_ih for every step is one Linear before it
// (one GEMM over all steps); this op adds, per step, the GEMM h W_hh^T and
// the cell's gate arithmetic. It saves every step's input state and gate
// activations, so its backward needs no recomputation, and it accumulates
// the W_hh gradient of all steps in one GEMM at the end. The per-cell
// arithmetic is in recurrent_cells.go. This file leaves out LSTM
// projections (proj_size) and peephole connections.

// Cell selects the recurrence that Tape.Recurrent runs. With pre-activations
// a = xw_t + W_hh h + b_hh split into H-wide gate blocks (PyTorch's layout):
//
//	CellTanh, CellReLU: h' = act(a)
//	CellLSTM (i, f, g, o): c' = f*c + i*g, h' = o*tanh(c'); i, f, o sigmoid, g tanh
//	CellGRU (r, z, n): n = tanh(xw_n + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h
type Cell uint8

// The cells of Tape.Recurrent.
const (
	CellTanh Cell = iota
	CellReLU
	CellLSTM
	CellGRU
)

// Gates returns how many H-wide blocks the cell's weights stack: the rows
// of W_ih and W_hh are Gates()*H.
func (c Cell) Gates() int {
	switch c {
	case CellLSTM:
		return 4
	case CellGRU:
		return 3
	}
	return 1
}

// String returns the cell's PyTorch mode name.
func (c Cell) String() string {
	switch c {
	case CellTanh:
		return "RNN_TANH"
	case CellReLU:
		return "RNN_RELU"
	case CellLSTM:
		return "LSTM"
	case CellGRU:
		return "GRU"
	}
	return fmt.Sprintf("Cell(%d)", uint8(c))
}

// RecurrentOptions are the optional inputs of Tape.Recurrent.
type RecurrentOptions struct {
	// H0 and C0 are the initial hidden and (LSTM only) cell states, each
	// with B*H elements laid out as (B, H); nil means zeros.
	H0, C0 *Var
	// Lengths holds each batch element's number of valid steps, each in
	// [1, T], in any order; nil means T for all. Steps at or past an
	// element's length leave its state unchanged and output zeros, so its
	// final state is the one at its last valid step: what PyTorch computes
	// for a pack_padded_sequence batch.
	Lengths []int
	// Reverse runs from each element's last valid step back to step 0 (the
	// backward direction of a bidirectional layer).
	Reverse bool
	// BatchFirst says that xw is (B, T, G*H) and out (B, T, H), sparing a
	// batch-first model two transposes.
	BatchFirst bool
}

// Recurrent runs cell over a sequence. xw (T, B, G*H) is the input
// projection x W_ih^T + b_ih of every step, wHH (G*H, H) the hidden-hidden
// weight and bHH (G*H) its bias or nil. It returns the output sequence out
// (T, B, H), zero past each element's length, the final hidden state hn
// (B, H) and, for CellLSTM, the final cell state cn (B, H) (nil for other
// cells). The three share one node's storage. With opt.BatchFirst, xw and
// out have their first two axes swapped.
func (g *Tape) Recurrent(cell Cell, xw, wHH, bHH *Var, opt RecurrentOptions) (out, hn, cn *Var) {
	if cell > CellGRU {
		panic(fmt.Sprintf("autograd: recurrent: unknown cell %d", cell))
	}
	G := cell.Gates()
	if wHH.value.NDim() != 2 || wHH.value.Dim(0) != G*wHH.value.Dim(1) {
		panic(fmt.Sprintf("autograd: recurrent %v: weight_hh %v, want (%d*H, H)", cell, wHH.Shape(), G))
	}
	H := wHH.value.Dim(1)
	if xw.value.NDim() != 3 || xw.value.Dim(2) != G*H || xw.value.Dim(0) < 1 || xw.value.Dim(1) < 1 {
		panic(fmt.Sprintf("autograd: recurrent %v: input projection %v, want (T, B, %d)", cell, xw.Shape(), G*H))
	}
	T, B := xw.value.Dim(0), xw.value.Dim(1)
	if opt.BatchFirst {
		T, B = B, T
	}
	if bHH != nil && !bHH.value.ShapeIs(G*H) {
		panic(fmt.Sprintf("autograd: recurrent %v: bias_hh %v, want [%d]", cell, bHH.Shape(), G*H))
	}
	for _, s := range [2]*Var{opt.H0, opt.C0} {
		if s != nil && s.value.Len() != B*H {
			panic(fmt.Sprintf("autograd: recurrent %v: initial state %v, want (%d, %d)", cell, s.Shape(), B, H))
		}
	}
	if opt.C0 != nil && cell != CellLSTM {
		panic(fmt.Sprintf("autograd: recurrent %v: a cell state is for LSTM only", cell))
	}
	if opt.Lengths != nil && len(opt.Lengths) != B {
		panic(fmt.Sprintf("autograd: recurrent: %d lengths for a batch of %d", len(opt.Lengths), B))
	}
	for _, l := range opt.Lengths {
		if l < 1 || l > T {
			panic(fmt.Sprintf("autograd: recurrent: length %d, want it in [1, %d]", l, T))
		}
	}

	states := 1
	if cell == CellLSTM {
		states = 2
	}
	// The node's value packs out, hn and cn; the three results view it.
	p := g.newVarN(opRecurrent, []int{(T + states) * B * H}, []*Var{xw, wHH, bHH, opt.H0, opt.C0})
	p.ints[0], p.ints[1], p.ints[2], p.ints[3] = int(cell), T, B, H
	if opt.Reverse {
		p.ints[4] = 1
	}
	if opt.BatchFirst {
		p.ints[5] = 1
	}
	if opt.Lengths != nil {
		p.idx = g.ints(B)
		for b, l := range opt.Lengths {
			p.idx[b] = int32(l)
		}
	}
	p.aux = g.floats.get(recurrentSaved(cell, T, B, H))
	s := p.recurrentState()
	pd := p.Data()
	h := pd[T*B*H : (T+1)*B*H]
	initState(h, opt.H0)
	var c []float32
	if cell == CellLSTM {
		c = pd[(T+1)*B*H:]
		initState(c, opt.C0)
	}
	var hh []float32 // GRU: W_hh h + b_hh of one step
	if cell == CellGRU {
		hh = g.floats.get(B * G * H)
	}
	xd, wd := xw.Data(), wHH.Data()
	var bd []float32
	if bHH != nil {
		bd = bHH.Data()
	}
	GH := G * H
	for k := range T {
		t := s.time(k)
		copy(s.hprev[t*B*H:(t+1)*B*H], h)
		a := s.act[t*B*GH : (t+1)*B*GH]
		for b := range B {
			r := s.row(t, b)
			copy(a[b*GH:(b+1)*GH], xd[r*GH:(r+1)*GH])
		}
		pre := a
		if cell == CellGRU {
			pre = hh
			fillRows(pre, bd, B)
		} else {
			addRows(a, bd, B)
		}
		kernels.Sgemm(false, true, B, GH, H, 1, h, H, wd, H, 1, pre, GH)
		switch cell {
		case CellTanh, CellReLU:
			s.rnnStep(cell, t, a, h)
		case CellLSTM:
			copy(s.cprev[t*B*H:(t+1)*B*H], c)
			s.lstmStep(t, a, h, c)
		case CellGRU:
			s.gruStep(t, hh, a, h)
		}
		for b := range B {
			r := s.row(t, b)
			if s.active(t, b) {
				copy(pd[r*H:(r+1)*H], h[b*H:(b+1)*H])
			} else {
				clear(pd[r*H : (r+1)*H])
			}
		}
	}
	if opt.BatchFirst {
		out = g.view(p, 0, []int{B, T, H})
	} else {
		out = g.view(p, 0, []int{T, B, H})
	}
	hn = g.view(p, T*B*H, []int{B, H})
	if cell == CellLSTM {
		cn = g.view(p, (T+1)*B*H, []int{B, H})
	}
	return out, hn, cn
}

// recurrentState is a Recurrent node's saved buffers, carved out of its
// aux, all indexed by time step t (not by processing order).
type recurrentState struct {
	cell       Cell
	T, B, H    int
	reverse    bool
	batchFirst bool    // layout of xw and out
	lengths    []int32 // nil when every element runs all T steps
	hprev      []float32
	cprev      []float32 // LSTM: cell state entering step t
	act        []float32 // gate activations of step t, (T, B, G*H)
	hnl        []float32 // GRU: W_hn h + b_hn of step t, (T, B, H)
}

// recurrentSaved returns the length of the aux buffer of a Recurrent node.
func recurrentSaved(cell Cell, T, B, H int) int {
	n := T * B * H * (1 + cell.Gates())
	switch cell {
	case CellLSTM, CellGRU:
		n += T * B * H
	}
	return n
}

func (n *Var) recurrentState() recurrentState {
	cell, T, B, H := Cell(n.ints[0]), n.ints[1], n.ints[2], n.ints[3]
	s := recurrentState{cell: cell, T: T, B: B, H: H, reverse: n.ints[4] == 1,
		batchFirst: n.ints[5] == 1, lengths: n.idx}
	sz := T * B * H
	aux := n.aux
	s.hprev, aux = aux[:sz], aux[sz:]
	s.act, aux = aux[:sz*cell.Gates()], aux[sz*cell.Gates():]
	switch cell {
	case CellLSTM:
		s.cprev = aux[:sz]
	case CellGRU:
		s.hnl = aux[:sz]
	}
	return s
}

// time returns the time step processed k-th.
func (s *recurrentState) time(k int) int {
	if s.reverse {
		return s.T - 1 - k
	}
	return k
}

// row returns the row of xw and out that holds step t of element b.
func (s *recurrentState) row(t, b int) int {
	if s.batchFirst {
		return b*s.T + t
	}
	return t*s.B + b
}

// active reports whether batch element b has a valid step t.
func (s *recurrentState) active(t, b int) bool {
	return s.lengths == nil || t < int(s.lengths[b])
}

func initState(dst []float32, v *Var) {
	if v == nil {
		clear(dst)
		return
	}
	copy(dst, v.Data())
}

// fillRows sets each of the rows of m to bias (zeros when nil).
func fillRows(m, bias []float32, rows int) {
	if bias == nil {
		clear(m)
		return
	}
	for r := range rows {
		copy(m[r*len(bias):(r+1)*len(bias)], bias)
	}
}

// addRows adds bias (skipped when nil) to each of the rows of m.
func addRows(m, bias []float32, rows int) {
	if bias == nil {
		return
	}
	for r := range rows {
		addScaled(m[r*len(bias):(r+1)*len(bias)], bias, 1)
	}
}

func recurrentBackward(g *Tape, n *Var) {
	xw, wHH, bHH, h0, c0 := n.ins[0], n.ins[1], n.ins[2], n.ins[3], n.ins[4]
	s := n.recurrentState()
	T, B, H, G := s.T, s.B, s.H, s.cell.Gates()
	GH := G * H
	gd := n.grad.Data()
	dout := gd[:T*B*H]
	// dh and dc carry the gradient of the state leaving the step being
	// undone; dhp receives the one entering it.
	dh, dhp := g.Tensor(B, H).Data(), g.Tensor(B, H).Data()
	copy(dh, gd[T*B*H:(T+1)*B*H])
	var dc []float32
	if s.cell == CellLSTM {
		dc = g.Tensor(B, H).Data()
		copy(dc, gd[(T+1)*B*H:])
	}
	// dpre: gradient of each step's pre-activations on the input side (that
	// is, of xw); dhh: on the hidden side (of W_hh h + b_hh). They differ only
	// for GRU, whose n gate multiplies its hidden side by r.
	dpre := g.Tensor(T, B, GH).Data()
	dhh := dpre
	if s.cell == CellGRU {
		dhh = g.Tensor(T, B, GH).Data()
	}
	wd := wHH.Data()
	for k := T - 1; k >= 0; k-- {
		t := s.time(k)
		for b := range B {
			if s.active(t, b) {
				r := s.row(t, b)
				addScaled(dh[b*H:(b+1)*H], dout[r*H:(r+1)*H], 1)
			}
		}
		dp, dq := dpre[t*B*GH:(t+1)*B*GH], dhh[t*B*GH:(t+1)*B*GH]
		beta := float32(0)
		switch s.cell {
		case CellTanh, CellReLU:
			s.rnnBack(t, dh, dp)
		case CellLSTM:
			s.lstmBack(t, dh, dc, dp)
		case CellGRU:
			s.gruBack(t, dh, dp, dq, dhp)
			beta = 1
		}
		kernels.Sgemm(false, false, B, H, GH, 1, dq, GH, wd, H, beta, dhp, H)
		for b := range B {
			if !s.active(t, b) {
				copy(dhp[b*H:(b+1)*H], dh[b*H:(b+1)*H]) // the state passed through unchanged
			}
		}
		dh, dhp = dhp, dh
	}
	if xw.requiresGrad {
		gx := g.gradOf(xw).Data()
		for t := range T {
			for b := range B {
				r := s.row(t, b)
				addScaled(gx[r*GH:(r+1)*GH], dpre[(t*B+b)*GH:(t*B+b+1)*GH], 1)
			}
		}
	}
	if wHH.requiresGrad {
		kernels.Sgemm(true, false, GH, H, T*B, 1, dhh, GH, s.hprev, H, 1, g.gradOf(wHH).Data(), H)
	}
	if bHH != nil && bHH.requiresGrad {
		db := g.gradOf(bHH).Data()
		for r := range T * B {
			addScaled(db, dhh[r*GH:(r+1)*GH], 1)
		}
	}
	if h0 != nil && h0.requiresGrad {
		addScaled(g.gradOf(h0).Data(), dh, 1)
	}
	if c0 != nil && c0.requiresGrad {
		addScaled(g.gradOf(c0).Data(), dc, 1)
	}
}
