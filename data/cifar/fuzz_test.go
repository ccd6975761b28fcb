package cifar

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse checks that the record parser never panics and that what it
// accepts splits the input exactly: every input byte is a label or a pixel,
// in order.
func FuzzParse(f *testing.F) {
	f.Add(record(CIFAR10, 0, 3, 1, 2, 3), false)
	f.Add(record(CIFAR100, 5, 77, 9, 8, 7), true)
	f.Add(append(record(CIFAR10, 0, 255, 0, 0, 0), record(CIFAR10, 0, 0, 255, 255, 255)...), false)
	f.Add([]byte{1, 2, 3}, true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, in []byte, is100 bool) {
		v := CIFAR10
		if is100 {
			v = CIFAR100
		}
		b, err := Parse(in, v)
		if err != nil {
			return
		}
		rec := v.RecordBytes()
		if b.Len()*rec != len(in) || len(b.Pixels) != b.Len()*ImageBytes {
			t.Fatalf("%d input bytes gave %d records and %d pixel bytes", len(in), b.Len(), len(b.Pixels))
		}
		var rebuilt []byte
		for i := range b.Len() {
			if is100 {
				rebuilt = append(rebuilt, b.Coarse[i])
			}
			rebuilt = append(rebuilt, b.Labels[i])
			rebuilt = append(rebuilt, b.Pixels[i*ImageBytes:(i+1)*ImageBytes]...)
		}
		if !bytes.Equal(rebuilt, in) {
			t.Fatal("records do not reassemble into the input")
		}
		names := make([]string, 256)
		d, err := NewDataset(b, names, false)
		if err != nil {
			t.Fatalf("NewDataset with 256 classes: %v", err)
		}
		x := make([]float32, ImageBytes)
		for i := range d.Len() {
			if _, err := d.Get(i, x, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzReadClassNames checks the class-name reader never panics and returns
// only non-empty, trimmed names.
func FuzzReadClassNames(f *testing.F) {
	f.Add("airplane\nautomobile\n\n")
	f.Add(" a \r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		names, err := ReadClassNames(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(names) == 0 || len(names) > 256 {
			t.Fatalf("accepted %d names", len(names))
		}
		for _, n := range names {
			if n == "" || strings.TrimSpace(n) != n {
				t.Fatalf("name %q not trimmed", n)
			}
		}
	})
}
