package nn

import (
	"fmt"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/tensor"
)

// ParamSet is a model's trainable parameters packed into one flat buffer,
// and their gradients into another, each parameter a view into both. The
// optimizer, gradient clipping, and later data-parallel all-reduce,
// federated averaging and differential-privacy noise all work on these two
// slices directly.
type ParamSet struct {
	Data   []float32 // every trainable parameter, in state_dict order
	Grad   []float32 // their gradients, same layout
	Params []Param   // the trainable parameters, viewing Data and Grad
	Offset []int     // Params[i] occupies Data[Offset[i]:Offset[i]+len]
	All    []Param   // parameters and buffers, in state_dict order
}

// Pack moves every trainable parameter of m into one flat value buffer and
// one flat gradient buffer (zeroed), and returns them. Values are preserved.
// Call it once, after building a model and before training it.
func Pack(m Module) *ParamSet {
	all := NamedParams(m)
	ps := &ParamSet{All: all}
	n := 0
	seen := map[string]bool{}
	for _, p := range all {
		if seen[p.Name] {
			panic(fmt.Sprintf("nn: duplicate parameter name %q", p.Name))
		}
		seen[p.Name] = true
		if !p.Buffer {
			ps.Params = append(ps.Params, p)
			ps.Offset = append(ps.Offset, n)
			n += p.Var.Value().Len()
		}
	}
	ps.Data = make([]float32, n)
	ps.Grad = make([]float32, n)
	for i, p := range ps.Params {
		v := p.Var
		k := v.Value().Len()
		lo := ps.Offset[i]
		copy(ps.Data[lo:lo+k], v.Data())
		v.SetValue(tensor.FromSlice(ps.Data[lo:lo+k], v.Shape()...))
		v.SetGrad(tensor.FromSlice(ps.Grad[lo:lo+k], v.Shape()...))
	}
	return ps
}

// ZeroGrad clears every gradient.
func (ps *ParamSet) ZeroGrad() { kernels.Zero(ps.Grad) }

// Len returns the number of trainable scalars.
func (ps *ParamSet) Len() int { return len(ps.Data) }

// Lookup returns the parameter or buffer with the given state_dict name.
func (ps *ParamSet) Lookup(name string) (Param, bool) {
	for _, p := range ps.All {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}
