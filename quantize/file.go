package quantize

// This file holds the int8 model's file: safetensors with, per weighted
// layer, "<name>.weight" (I8, [O, K]), "<name>.weight_scale" (F32, [O]),
// "<name>.input_scale" (F32, [1]) and "<name>.bias" (F32, [O]), and
// metadata naming the format and the architecture. It leaves out the
// float layers' state: Load takes the float model the file was made from.

import (
	"fmt"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/models"
)

// File is the int8 model's name in a run directory.
const File = "int8.safetensors"

// format is the metadata that marks an int8 model file.
const format = "kiln-int8"

// Save writes the model to path atomically.
func (m *Model) Save(path string) error {
	f := &checkpoint.File{Tensors: map[string]*checkpoint.Tensor{}, Metadata: map[string]string{"format": format, "model": m.prog.model}}
	for _, l := range m.prog.weighted() {
		ints := make([]int64, len(l.q))
		for i, v := range l.q {
			ints[i] = int64(v)
		}
		f.Tensors[l.name+".weight"] = &checkpoint.Tensor{DType: checkpoint.I8, Shape: []int{l.out, l.k}, Ints: ints}
		f.Tensors[l.name+".weight_scale"] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{l.out}, Data: l.wScale}
		f.Tensors[l.name+".input_scale"] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{1}, Data: []float32{l.xScale}}
		bias := l.bias
		if bias == nil {
			bias = make([]float32, l.out)
		}
		f.Tensors[l.name+".bias"] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{l.out}, Data: bias}
	}
	if err := checkpoint.Write(path, f); err != nil {
		return fmt.Errorf("quantize: %w", err)
	}
	return nil
}

// Load reads the int8 model at path onto float, the model (of inputs
// [C, H, W]) it was quantised from. Every tensor is checked against the
// architecture.
func Load(path string, float models.Model, shape []int) (*Model, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	p, err := build(float, shape)
	if err != nil {
		return nil, err
	}
	if got := f.Metadata["format"]; got != format || f.Metadata["model"] != p.model {
		return nil, fmt.Errorf("quantize: %s: format %q of model %q, want %q of %s", path, got, f.Metadata["model"], format, p.model)
	}
	get := func(name string, shape ...int) (*checkpoint.Tensor, error) {
		t := f.Tensors[name]
		if t == nil || fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("quantize: %s: tensor %s: want shape %v", path, name, shape)
		}
		return t, nil
	}
	used := 0
	for _, l := range p.weighted() {
		w, err := get(l.name+".weight", l.out, l.k)
		if err != nil {
			return nil, err
		}
		ws, err := get(l.name+".weight_scale", l.out)
		if err != nil {
			return nil, err
		}
		xs, err := get(l.name+".input_scale", 1)
		if err != nil {
			return nil, err
		}
		b, err := get(l.name+".bias", l.out)
		if err != nil {
			return nil, err
		}
		if w.DType != checkpoint.I8 || !ws.DType.IsFloat() || !xs.DType.IsFloat() || !b.DType.IsFloat() {
			return nil, fmt.Errorf("quantize: %s: layer %s: want I8 weights and float scales and bias", path, l.name)
		}
		if !(xs.Data[0] > 0) {
			return nil, fmt.Errorf("quantize: %s: layer %s: input scale %g, want > 0", path, l.name, xs.Data[0])
		}
		l.q = make([]int8, len(w.Ints))
		for i, v := range w.Ints {
			l.q[i] = int8(v)
		}
		l.wScale, l.xScale, l.bias = ws.Data, xs.Data[0], b.Data
		l.pack()
		used += 4
	}
	if used != len(f.Tensors) {
		return nil, fmt.Errorf("quantize: %s holds %d tensors, the %s model uses %d", path, len(f.Tensors), p.model, used)
	}
	return &Model{float: float, prog: p}, nil
}
