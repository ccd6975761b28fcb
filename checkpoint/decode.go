package checkpoint

// This file reads safetensors files. It leaves out the header's JSON
// (header.go) and never trusts the file: the header length is capped and
// checked against the file size before the header is allocated, and tensor
// memory is only allocated after every byte range has been checked to lie
// inside the file, so allocation stays proportional to the file's real size.

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// MaxHeaderSize is the largest header kiln reads, the reference
// implementation's limit. Real headers are kilobytes to a few megabytes; a
// larger length means a corrupt or hostile file.
const MaxHeaderSize = 100_000_000

// FormatError reports a file that breaks the safetensors format.
type FormatError struct {
	File   string // the path, or "" for Decode
	Tensor string // the offending tensor, or "" for a file-wide problem
	Msg    string
}

// Error formats the problem as "checkpoint: FILE: tensor "NAME": MSG".
func (e *FormatError) Error() string {
	s := "checkpoint: "
	if e.File != "" {
		s += e.File + ": "
	}
	if e.Tensor != "" {
		s += fmt.Sprintf("tensor %q: ", e.Tensor)
	}
	return s + e.Msg
}

// Read reads the safetensors file at path.
func Read(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("checkpoint: %s: not a regular file", path)
	}
	return decode(f, fi.Size(), path)
}

// Decode reads a safetensors file held in memory.
func Decode(b []byte) (*File, error) {
	return decode(bytes.NewReader(b), int64(len(b)), "")
}

// decode reads a safetensors file of the given size from r; name is the
// path for error messages.
func decode(r io.ReaderAt, size int64, name string) (*File, error) {
	fail := func(tensor, format string, args ...any) error {
		return &FormatError{File: name, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	ioErr := func(err error) error {
		if name == "" {
			return fmt.Errorf("checkpoint: read: %w", err)
		}
		return fmt.Errorf("checkpoint: %s: read: %w", name, err)
	}

	if size < 8 {
		return nil, fail("", "file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readAt(r, lenBuf[:], 0); err != nil {
		return nil, ioErr(err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fail("", "header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fail("", "header length %d runs past the end of the %d-byte file", n, size)
	}
	hdr := make([]byte, n)
	if err := readAt(r, hdr, 8); err != nil {
		return nil, ioErr(err)
	}
	entries, meta, err := parseHeader(hdr)
	if err != nil {
		var he *headerError
		if errors.As(err, &he) {
			return nil, fail(he.tensor, "%s", he.msg)
		}
		return nil, err
	}

	base := 8 + int64(n)
	dataLen := uint64(size - base)
	// The reference implementation orders tensors by offset, whatever the
	// header order, and then demands that they tile the buffer exactly.
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.name, b.name))
	})
	var pos uint64
	prev := ""
	for _, e := range entries {
		switch {
		case e.begin < pos:
			return nil, fail(e.name, "data_offsets [%d, %d] overlap tensor %q, which ends at %d", e.begin, e.end, prev, pos)
		case e.begin > pos:
			return nil, fail(e.name, "data_offsets [%d, %d] leave bytes [%d, %d) of the data buffer unused", e.begin, e.end, pos, e.begin)
		case e.end > dataLen:
			return nil, fail(e.name, "data_offsets [%d, %d] run past the end of the %d-byte data buffer", e.begin, e.end, dataLen)
		}
		pos, prev = e.end, e.name
	}
	if pos != dataLen {
		return nil, fail("", "tensors cover %d of the %d data bytes; the rest is unused", pos, dataLen)
	}

	file := &File{Tensors: make(map[string]*Tensor, len(entries)), Metadata: meta}
	buf := make([]byte, 64<<10) // a multiple of every element size
	for _, e := range entries {
		t := &Tensor{DType: e.dtype, Shape: e.shape}
		if e.dtype.IsFloat() {
			t.Data = make([]float32, e.n)
		} else {
			t.Ints = make([]int64, e.n)
		}
		off, rest, i := base+int64(e.begin), int64(e.end-e.begin), 0
		for rest > 0 {
			chunk := buf[:min(int64(len(buf)), rest)]
			if err := readAt(r, chunk, off); err != nil {
				return nil, ioErr(err)
			}
			if bad := convert(t, i, chunk); bad >= 0 {
				return nil, fail(e.name, "BOOL element %d is %d, not 0 or 1", bad, chunk[bad-i])
			}
			i += len(chunk) / e.dtype.Size()
			off += int64(len(chunk))
			rest -= int64(len(chunk))
		}
		file.Tensors[e.name] = t
	}
	return file, nil
}

// readAt fills b from r at off.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// convert decodes the little-endian elements in b into t starting at element
// i. It returns the index of a BOOL element that is neither 0 nor 1, or -1.
func convert(t *Tensor, i int, b []byte) int {
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for k := range t.Data[i : i+len(b)/4] {
			t.Data[i+k] = math.Float32frombits(le.Uint32(b[4*k:]))
		}
	case F64:
		for k := range t.Data[i : i+len(b)/8] {
			t.Data[i+k] = float32(math.Float64frombits(le.Uint64(b[8*k:])))
		}
	case F16:
		for k := range t.Data[i : i+len(b)/2] {
			t.Data[i+k] = f16ToF32(le.Uint16(b[2*k:]))
		}
	case BF16:
		for k := range t.Data[i : i+len(b)/2] {
			t.Data[i+k] = bf16ToF32(le.Uint16(b[2*k:]))
		}
	case F8E5M2:
		for k, v := range b {
			t.Data[i+k] = f8e5m2ToF32(v)
		}
	case F8E4M3:
		for k, v := range b {
			t.Data[i+k] = f8e4m3ToF32(v)
		}
	case F8E8M0:
		for k, v := range b {
			t.Data[i+k] = f8e8m0ToF32(v)
		}
	case I64, U64:
		for k := range t.Ints[i : i+len(b)/8] {
			t.Ints[i+k] = int64(le.Uint64(b[8*k:]))
		}
	case I32:
		for k := range t.Ints[i : i+len(b)/4] {
			t.Ints[i+k] = int64(int32(le.Uint32(b[4*k:])))
		}
	case U32:
		for k := range t.Ints[i : i+len(b)/4] {
			t.Ints[i+k] = int64(le.Uint32(b[4*k:]))
		}
	case I16:
		for k := range t.Ints[i : i+len(b)/2] {
			t.Ints[i+k] = int64(int16(le.Uint16(b[2*k:])))
		}
	case U16:
		for k := range t.Ints[i : i+len(b)/2] {
			t.Ints[i+k] = int64(le.Uint16(b[2*k:]))
		}
	case I8:
		for k, v := range b {
			t.Ints[i+k] = int64(int8(v))
		}
	case U8:
		for k, v := range b {
			t.Ints[i+k] = int64(v)
		}
	case Bool:
		for k, v := range b {
			if v > 1 {
				return i + k
			}
			t.Ints[i+k] = int64(v)
		}
	default:
		panic("checkpoint: convert: unhandled dtype " + string(t.DType))
	}
	return -1
}
