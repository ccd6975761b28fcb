// Package cifar reads the binary versions of CIFAR-10 and CIFAR-100 as a
// data.Dataset of [3, 32, 32] images.
//
// A binary batch file is a sequence of fixed-size records: one label byte
// (CIFAR-100: a coarse and then a fine label byte) followed by 3072 pixel
// bytes, the 1024 red, then green, then blue values of a 32x32 image in
// row-major order. That is already CHW layout, so decoding is a scale.
//
// This file holds the record parser and class-name reader. It leaves out the
// Python-pickle versions of the datasets, which need an unpickler.
package cifar

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ImageBytes is the size of one image in a record: 3 planes of 32x32.
const ImageBytes = 3 * 32 * 32

// Variant says which of the two datasets a batch file belongs to, which
// fixes the record layout.
type Variant int

// The two record layouts.
const (
	CIFAR10  Variant = iota // 1 label byte per record
	CIFAR100                // coarse label byte, fine label byte
)

// String returns "CIFAR-10" or "CIFAR-100".
func (v Variant) String() string {
	switch v {
	case CIFAR10:
		return "CIFAR-10"
	case CIFAR100:
		return "CIFAR-100"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// RecordBytes returns the size of one record: label bytes plus ImageBytes.
func (v Variant) RecordBytes() int {
	if v == CIFAR100 {
		return 2 + ImageBytes
	}
	return 1 + ImageBytes
}

// Batch is the parsed content of one or more batch files. For CIFAR-10,
// Coarse is nil and Labels holds the class; for CIFAR-100, Labels holds the
// fine label and Coarse the superclass.
type Batch struct {
	Pixels []byte // len(Labels) images of ImageBytes each
	Labels []uint8
	Coarse []uint8
}

// Len returns the number of records.
func (b *Batch) Len() int { return len(b.Labels) }

// Parse splits the contents of a batch file into its records. The input
// must be a non-empty whole number of records.
func Parse(in []byte, v Variant) (*Batch, error) {
	if v != CIFAR10 && v != CIFAR100 {
		return nil, fmt.Errorf("cifar: unknown variant %d", int(v))
	}
	rec := v.RecordBytes()
	if len(in) == 0 || len(in)%rec != 0 {
		return nil, fmt.Errorf("cifar: %d bytes is not a whole, non-zero number of %d-byte %v records", len(in), rec, v)
	}
	n := len(in) / rec
	b := &Batch{Pixels: make([]byte, n*ImageBytes), Labels: make([]uint8, n)}
	if v == CIFAR100 {
		b.Coarse = make([]uint8, n)
	}
	for i := range n {
		r := in[i*rec : (i+1)*rec]
		if v == CIFAR100 {
			b.Coarse[i], r = r[0], r[1:]
		}
		b.Labels[i] = r[0]
		copy(b.Pixels[i*ImageBytes:], r[1:])
	}
	return b, nil
}

// Append adds the records of o to b, for building a training set from
// several batch files.
func (b *Batch) Append(o *Batch) {
	b.Pixels = append(b.Pixels, o.Pixels...)
	b.Labels = append(b.Labels, o.Labels...)
	if b.Coarse != nil || o.Coarse != nil {
		b.Coarse = append(b.Coarse, o.Coarse...)
	}
}

// maxNameBytes bounds a class-name file; the real ones are under 1 KB.
const maxNameBytes = 64 << 10

// ReadClassNames reads one class name per line, as in batches.meta.txt,
// skipping blank lines and surrounding space.
func ReadClassNames(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxNameBytes+1))
	var names []string
	total := 0
	for sc.Scan() {
		total += len(sc.Bytes()) + 1
		if total > maxNameBytes {
			return nil, fmt.Errorf("cifar: class-name list longer than %d bytes", maxNameBytes)
		}
		if s := strings.TrimSpace(sc.Text()); s != "" {
			names = append(names, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cifar: reading class names: %w", err)
	}
	if len(names) == 0 || len(names) > 256 {
		return nil, fmt.Errorf("cifar: %d class names: want 1 to 256, one per line", len(names))
	}
	return names, nil
}
