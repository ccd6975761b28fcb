package checkpoint

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode. It must never panic, every
// failure must be a *FormatError, and whatever it accepts must survive
// Encode and Decode unchanged (float8 aside, which kiln does not write).
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"golden.safetensors", "golden_f64.safetensors", "kiln.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, bf := range badFiles() {
		f.Add(bf.file)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, &File{
		Tensors: map[string]*Tensor{
			"a": {DType: F16, Shape: []int{2}, Data: []float32{1, -2}},
			"b": {DType: Bool, Shape: []int{1}, Ints: []int64{1}},
		},
		Metadata: map[string]string{"k": "v"},
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(rawFile(`{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U32","shape":[],"data_offsets":[2,6]}}`, []byte{1, 2, 3, 4, 5, 6}))

	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is %T, want *FormatError", err, err)
			}
			return
		}
		for _, tensor := range file.Tensors {
			if !tensor.DType.Writable() {
				return
			}
		}
		var out bytes.Buffer
		if err := Encode(&out, file); err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		again, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("decoding kiln's own output: %v", err)
		}
		if !sameFile(file, again) {
			t.Fatal("file changed on re-encoding")
		}
	})
}

// sameFile compares files, float values by their bits.
func sameFile(a, b *File) bool {
	if len(a.Tensors) != len(b.Tensors) || len(a.Metadata) != len(b.Metadata) {
		return false
	}
	for k, v := range a.Metadata {
		if w, ok := b.Metadata[k]; !ok || w != v {
			return false
		}
	}
	for name, x := range a.Tensors {
		y := b.Tensors[name]
		if y == nil || x.DType != y.DType || len(x.Shape) != len(y.Shape) ||
			len(x.Data) != len(y.Data) || len(x.Ints) != len(y.Ints) {
			return false
		}
		for i := range x.Shape {
			if x.Shape[i] != y.Shape[i] {
				return false
			}
		}
		for i := range x.Data {
			if math.Float32bits(x.Data[i]) != math.Float32bits(y.Data[i]) {
				return false
			}
		}
		for i := range x.Ints {
			if x.Ints[i] != y.Ints[i] {
				return false
			}
		}
	}
	return true
}
