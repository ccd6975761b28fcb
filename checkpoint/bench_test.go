package checkpoint

import (
	"bytes"
	"io"
	"testing"
)

// benchFile is a 16 MiB model: one F32 tensor of 4M elements, about the
// size of a small ResNet.
func benchFile(d DType) *File {
	data := make([]float32, 4<<20)
	for i := range data {
		data[i] = float32(i%1000) * 0.001
	}
	return &File{Tensors: map[string]*Tensor{"w": {DType: d, Shape: []int{2048, 2048}, Data: data}}}
}

func benchmarkEncode(b *testing.B, d DType) {
	f := benchFile(d)
	b.SetBytes(int64(len(f.Tensors["w"].Data) * d.Size()))
	for b.Loop() {
		if err := Encode(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkDecode(b *testing.B, d DType) {
	var buf bytes.Buffer
	if err := Encode(&buf, benchFile(d)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := Decode(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeF32(b *testing.B) { benchmarkEncode(b, F32) }
func BenchmarkEncodeF16(b *testing.B) { benchmarkEncode(b, F16) }
func BenchmarkDecodeF32(b *testing.B) { benchmarkDecode(b, F32) }
func BenchmarkDecodeF16(b *testing.B) { benchmarkDecode(b, F16) }
