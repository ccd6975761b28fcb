// Package idx reads and writes the IDX format used by MNIST and
// Fashion-MNIST, and turns an images/labels pair of IDX files into a
// data.Dataset.
//
// An IDX file is a 4-byte magic (0x00 0x00 dtype ndim), ndim big-endian
// uint32 dimensions, then the elements in row-major order, big-endian.
// Files may be gzipped; the reader detects that from the gzip magic.
//
// This file holds the format itself. It leaves out memory mapping and
// streaming element access: arrays are read whole, which is fine for the
// datasets this format is used for (tens of megabytes).
package idx

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// DType is the element type code stored in the third magic byte.
type DType byte

// The element types the IDX format defines.
const (
	U8  DType = 0x08
	I8  DType = 0x09
	I16 DType = 0x0B
	I32 DType = 0x0C
	F32 DType = 0x0D
	F64 DType = 0x0E
)

// MaxBytes is the largest element payload Read accepts. It bounds memory
// when the input size is not known up front (gzip, pipes); the largest
// standard IDX file, MNIST's training images, is 47 MB.
const MaxBytes = 1 << 30

// maxDims bounds ndim; IDX files in the wild have one to four dimensions.
const maxDims = 16

// Size returns the element size in bytes, or 0 for an unknown type.
func (t DType) Size() int {
	switch t {
	case U8, I8:
		return 1
	case I16:
		return 2
	case I32, F32:
		return 4
	case F64:
		return 8
	}
	return 0
}

// String names the type as the IDX documentation does.
func (t DType) String() string {
	switch t {
	case U8:
		return "u8"
	case I8:
		return "i8"
	case I16:
		return "i16"
	case I32:
		return "i32"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return fmt.Sprintf("dtype(0x%02x)", byte(t))
}

// Array is one decoded IDX file. Data holds the elements exactly as stored
// (big-endian), so u8 data — the common case — needs no conversion.
type Array struct {
	Type DType
	Dims []int
	Data []byte
}

// Len returns the number of elements, the product of Dims.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Dims {
		n *= d
	}
	return n
}

// Float64 returns element i (in row-major order) converted to float64.
// It panics if i is out of range, like a slice index.
func (a *Array) Float64(i int) float64 {
	switch a.Type {
	case U8:
		return float64(a.Data[i])
	case I8:
		return float64(int8(a.Data[i]))
	case I16:
		return float64(int16(binary.BigEndian.Uint16(a.Data[2*i:])))
	case I32:
		return float64(int32(binary.BigEndian.Uint32(a.Data[4*i:])))
	case F32:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(a.Data[4*i:])))
	case F64:
		return math.Float64frombits(binary.BigEndian.Uint64(a.Data[8*i:]))
	}
	panic(fmt.Sprintf("idx: Float64 on array of unknown type %v", a.Type))
}

// Read decodes one IDX array from r, gzipped or raw, refusing payloads over
// MaxBytes.
func Read(r io.Reader) (*Array, error) {
	return ReadLimit(r, MaxBytes)
}

// ReadLimit is Read with an explicit cap on the payload size in bytes.
func ReadLimit(r io.Reader, maxBytes int64) (*Array, error) {
	return read(r, maxBytes, -1)
}

// Open reads the IDX file at path, gzipped or raw. For a raw file the
// declared size is checked against the file size before anything is
// allocated.
func Open(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	br := bufio.NewReader(f)
	known := int64(-1)
	if !isGzip(br) {
		known = fi.Size()
	}
	a, err := read(br, MaxBytes, known)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return a, nil
}

// isGzip reports whether br starts with the gzip magic, without consuming it.
func isGzip(br *bufio.Reader) bool {
	m, _ := br.Peek(2)
	return len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b
}

// read decodes one array. known is the total size of the raw (decompressed)
// input when the caller knows it, else -1.
func read(r io.Reader, maxBytes, known int64) (*Array, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	var src io.Reader = br
	if isGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip header: %w", err)
		}
		defer zr.Close()
		src = zr
		known = -1
	}

	var magic [4]byte
	if _, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, fmt.Errorf("idx: reading magic: %w", noEOF(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("idx: bad magic % x: want 00 00 <dtype> <ndim>", magic)
	}
	t, ndim := DType(magic[2]), int(magic[3])
	if t.Size() == 0 {
		return nil, fmt.Errorf("idx: unknown dtype 0x%02x: want one of u8, i8, i16, i32, f32, f64", magic[2])
	}
	if ndim == 0 || ndim > maxDims {
		return nil, fmt.Errorf("idx: %d dimensions: want 1 to %d", ndim, maxDims)
	}

	hdr := make([]byte, 4*ndim)
	if _, err := io.ReadFull(src, hdr); err != nil {
		return nil, fmt.Errorf("idx: reading %d dimensions: %w", ndim, noEOF(err))
	}
	dims := make([]int, ndim)
	total := int64(t.Size())
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(hdr[4*i:]))
		if d != 0 && total > maxBytes/d {
			return nil, fmt.Errorf("idx: dimensions %v... declare more than %d bytes", dimsSoFar(hdr, i), maxBytes)
		}
		total *= d
		dims[i] = int(d)
	}
	if known >= 0 {
		if have := known - 4 - int64(len(hdr)); have != total {
			return nil, fmt.Errorf("idx: dimensions %v need %d bytes of %v data, input has %d", dims, total, t, have)
		}
	}

	data, err := readN(src, total)
	if err != nil {
		return nil, fmt.Errorf("idx: dimensions %v need %d bytes of %v data: %w", dims, total, t, err)
	}
	// Reading past the end also makes gzip verify its checksum.
	var one [1]byte
	if n, err := io.ReadFull(src, one[:]); n > 0 {
		return nil, fmt.Errorf("idx: trailing data after %d bytes of %v data for dimensions %v", total, t, dims)
	} else if err != io.EOF {
		return nil, fmt.Errorf("idx: after data: %w", err)
	}
	return &Array{Type: t, Dims: dims, Data: data}, nil
}

// readN reads exactly n bytes, growing its buffer as data arrives so that a
// header declaring far more than the input holds costs no more memory than
// the input itself.
func readN(r io.Reader, n int64) ([]byte, error) {
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			if int64(len(buf)) < n {
				return nil, fmt.Errorf("input ends after %d bytes: %w", len(buf), io.ErrUnexpectedEOF)
			}
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// dimsSoFar formats the first i+1 declared dimensions for an error message.
func dimsSoFar(hdr []byte, i int) []uint32 {
	ds := make([]uint32, i+1)
	for j := range ds {
		ds[j] = binary.BigEndian.Uint32(hdr[4*j:])
	}
	return ds
}

// noEOF turns a clean EOF inside a header into ErrUnexpectedEOF: an input
// that stops there is truncated, not empty-and-fine.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Write encodes a as a raw (uncompressed) IDX file. Wrap w in a gzip.Writer
// for the .gz form.
func Write(w io.Writer, a *Array) error {
	if a.Type.Size() == 0 {
		return fmt.Errorf("idx: write: unknown dtype %v", a.Type)
	}
	if len(a.Dims) == 0 || len(a.Dims) > maxDims {
		return fmt.Errorf("idx: write: %d dimensions: want 1 to %d", len(a.Dims), maxDims)
	}
	hdr := []byte{0, 0, byte(a.Type), byte(len(a.Dims))}
	for _, d := range a.Dims {
		if d < 0 || int64(d) > math.MaxUint32 {
			return fmt.Errorf("idx: write: dimension %d does not fit in uint32", d)
		}
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	if len(a.Data) != a.Len()*a.Type.Size() {
		return fmt.Errorf("idx: write: dimensions %v of %v need %d bytes, Data has %d", a.Dims, a.Type, a.Len()*a.Type.Size(), len(a.Data))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	if _, err := w.Write(a.Data); err != nil {
		return fmt.Errorf("idx: write: %w", err)
	}
	return nil
}
