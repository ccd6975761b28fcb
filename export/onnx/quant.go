package onnx

// Integer initializers for quantised graphs (QuantizeLinear and
// DequantizeLinear with int8 values and int32 biases). This file leaves
// out the quantised models themselves, which their packages describe
// through an Exporter.

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// TensorProto data types beyond float and int64.
const (
	dataInt8  = 3 // TensorProto.DataType INT8
	dataInt32 = 6 // TensorProto.DataType INT32
)

// Int8s returns an int8 initializer holding data with the given shape (no
// dimensions: a scalar), named after the current path and hint.
func (b *Builder) Int8s(hint string, data []int8, shape ...int) string {
	raw := make([]byte, len(data))
	for i, v := range data {
		raw[i] = byte(v)
	}
	return b.addInts(hint, dataInt8, raw, len(data), shape)
}

// Int32s returns an int32 initializer holding data with the given shape,
// named after the current path and hint.
func (b *Builder) Int32s(hint string, data []int32, shape ...int) string {
	raw := make([]byte, 0, 4*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
	}
	return b.addInts(hint, dataInt32, raw, len(data), shape)
}

func (b *Builder) addInts(hint string, dtype int, raw []byte, n int, shape []int) string {
	size := 1
	for _, d := range shape {
		size *= d
	}
	if size != n {
		panic(fmt.Sprintf("onnx: constant %s of shape %v given %d values", hint, shape, n))
	}
	name := b.constName(hint)
	b.inits = append(b.inits, initializer{name: name, dims: slices.Clone(shape), dtype: dtype, raw: raw})
	b.shapes[name] = slices.Clone(shape)
	return name
}
