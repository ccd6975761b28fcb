package checkpoint

// This file maps a model's state_dict to a safetensors file and back. It
// leaves out optimizer and training state, which the trainer stores
// alongside.

import (
	"fmt"
	"maps"
	"slices"

	"github.com/kiln-ml/kiln/nn"
)

// FromParams returns a File holding every parameter and buffer under its
// state_dict name, as PyTorch's safetensors.torch.save_file(model.state_dict())
// would: float tensors as F32, integer buffers (num_batches_tracked) as I64.
func FromParams(params []nn.Param, metadata map[string]string) *File {
	f := &File{Tensors: make(map[string]*Tensor, len(params)), Metadata: metadata}
	for _, p := range params {
		shape := slices.Clone(p.Var.Shape())
		vals := p.Var.Value().Values()
		if p.Int {
			ints := make([]int64, len(vals))
			for i, v := range vals {
				ints[i] = int64(v)
			}
			f.Tensors[p.Name] = &Tensor{DType: I64, Shape: shape, Ints: ints}
			continue
		}
		f.Tensors[p.Name] = &Tensor{DType: F32, Shape: shape, Data: vals}
	}
	return f
}

// SaveModel writes m's state_dict to path atomically.
func SaveModel(path string, m nn.Module, metadata map[string]string) error {
	return Write(path, FromParams(nn.NamedParams(m), metadata))
}

// LoadParams copies the tensors of f into params by name. Every parameter
// must be present with the same shape and a compatible dtype (floating point
// for parameters and running statistics, integer for counters such as
// num_batches_tracked), and f must hold nothing else, so that a checkpoint
// of another architecture is refused with a clear error. Everything is
// checked before anything is copied: a refused file leaves the model as it
// was.
func LoadParams(params []nn.Param, f *File, source string) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		t, ok := f.Tensors[p.Name]
		if !ok {
			return fmt.Errorf("checkpoint: %s: no tensor %q, which the model needs", source, p.Name)
		}
		seen[p.Name] = true
		if !slices.Equal(t.Shape, p.Var.Shape()) {
			return fmt.Errorf("checkpoint: %s: tensor %q has shape %v, the model wants %v", source, p.Name, t.Shape, p.Var.Shape())
		}
		if t.DType.IsFloat() == p.Int {
			want := "a floating-point dtype"
			if p.Int {
				want = "an integer dtype"
			}
			return fmt.Errorf("checkpoint: %s: tensor %q is %s, the model wants %s", source, p.Name, t.DType, want)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.Tensors)) {
		if !seen[name] {
			return fmt.Errorf("checkpoint: %s: tensor %q is not a parameter of this model (is it another architecture?)", source, name)
		}
	}
	for _, p := range params {
		t, dst := f.Tensors[p.Name], p.Var.Data()
		if p.Int {
			for i, v := range t.Ints {
				dst[i] = float32(v)
			}
			continue
		}
		copy(dst, t.Data)
	}
	return nil
}

// LoadModel reads path into m's parameters and buffers and returns the
// file's metadata.
func LoadModel(path string, m nn.Module) (map[string]string, error) {
	f, err := Read(path)
	if err != nil {
		return nil, err
	}
	if err := LoadParams(nn.NamedParams(m), f, path); err != nil {
		return nil, err
	}
	return f.Metadata, nil
}
