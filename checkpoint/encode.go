package checkpoint

// This file writes safetensors files. It leaves out float8 output and
// streaming of tensors that do not fit in memory. The output is the
// reference serializer's, byte for byte: tensors ordered by descending dtype
// alignment and then by name, compact JSON with "__metadata__" first and its
// keys sorted, and the header padded with spaces to a multiple of 8 bytes so
// that every tensor starts aligned to its element size.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Write writes f to path as a safetensors file, atomically (see
// WriteFileAtomic).
func Write(path string, f *File) error {
	return WriteFileAtomic(path, func(w io.Writer) error { return encode(w, f) })
}

// Encode writes f to w as a safetensors file.
func Encode(w io.Writer, f *File) error {
	if err := encode(w, f); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// encode is Encode without the package prefix on errors, so that Write can
// put the path after it.
func encode(w io.Writer, f *File) error {
	if f == nil {
		return errors.New("nil File")
	}
	names, header, err := buildHeader(f)
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10) // a multiple of every element size
	binary.LittleEndian.PutUint64(buf, uint64(len(header)))
	if _, err := w.Write(append(buf[:8:8], header...)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	for _, name := range names {
		if err := writeElements(w, f.Tensors[name], buf); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

// buildHeader checks f and returns its tensor names in file order and the
// padded JSON header.
func buildHeader(f *File) ([]string, []byte, error) {
	names := make([]string, 0, len(f.Tensors))
	sizes := make(map[string]int64, len(f.Tensors))
	for name, t := range f.Tensors {
		if name == MetadataKey {
			return nil, nil, fmt.Errorf("tensor name %q is reserved for metadata", name)
		}
		if err := checkString("tensor name", name); err != nil {
			return nil, nil, err
		}
		size, err := t.check()
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		names = append(names, name)
		sizes[name] = size
	}
	slices.SortFunc(names, func(a, b string) int {
		ra, rb := dtypes[f.Tensors[a].DType].rank, dtypes[f.Tensors[b].DType].rank
		return cmp.Or(cmp.Compare(rb, ra), cmp.Compare(a, b))
	})

	h := []byte{'{'}
	if len(f.Metadata) > 0 {
		keys := make([]string, 0, len(f.Metadata))
		for k, v := range f.Metadata {
			if err := checkString("metadata key", k); err != nil {
				return nil, nil, err
			}
			if err := checkString("metadata value", v); err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h = appendJSONString(h, MetadataKey)
		h = append(h, ":{"...)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, f.Metadata[k])
		}
		h = append(h, '}')
	}
	var off int64
	for i, name := range names {
		if i > 0 || len(f.Metadata) > 0 {
			h = append(h, ',')
		}
		t := f.Tensors[name]
		if off > math.MaxInt64-sizes[name] {
			return nil, nil, errors.New("tensors total more than 2^63 bytes")
		}
		h = appendJSONString(h, name)
		h = append(h, `:{"dtype":`...)
		h = appendJSONString(h, string(t.DType))
		h = append(h, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, off, 10)
		h = append(h, ',')
		off += sizes[name]
		h = strconv.AppendInt(h, off, 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return names, h, nil
}

// appendJSONString appends s as a JSON string, escaped as serde_json (the
// reference serializer) and Python's json module escape it: quote,
// backslash and control characters only, never HTML characters or non-ASCII.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// writeElements writes t's elements little-endian in its dtype, a buffer
// at a time. Values were range-checked by Tensor.check.
func writeElements(w io.Writer, t *Tensor, buf []byte) error {
	size := t.DType.Size()
	per := len(buf) / size
	n := max(len(t.Data), len(t.Ints))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		b := buf[:(end-start)*size]
		fill(t, start, end, b)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// fill encodes elements [start, end) of t into b.
func fill(t *Tensor, start, end int, b []byte) {
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for k, v := range t.Data[start:end] {
			le.PutUint32(b[4*k:], math.Float32bits(v))
		}
	case F64:
		for k, v := range t.Data[start:end] {
			le.PutUint64(b[8*k:], math.Float64bits(float64(v)))
		}
	case F16:
		for k, v := range t.Data[start:end] {
			le.PutUint16(b[2*k:], f32ToF16(v))
		}
	case BF16:
		for k, v := range t.Data[start:end] {
			le.PutUint16(b[2*k:], f32ToBF16(v))
		}
	case I64, U64:
		for k, v := range t.Ints[start:end] {
			le.PutUint64(b[8*k:], uint64(v))
		}
	case I32, U32:
		for k, v := range t.Ints[start:end] {
			le.PutUint32(b[4*k:], uint32(v))
		}
	case I16, U16:
		for k, v := range t.Ints[start:end] {
			le.PutUint16(b[2*k:], uint16(v))
		}
	case I8, U8, Bool:
		for k, v := range t.Ints[start:end] {
			b[k] = byte(v)
		}
	default:
		panic("checkpoint: fill: unhandled dtype " + string(t.DType))
	}
}
