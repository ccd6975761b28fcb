package idx

import (
	"bytes"
	"testing"
)

// FuzzRead checks that Read never panics or over-allocates on hostile
// input, and that whatever it accepts survives a Write/Read round trip and
// can be indexed in full.
func FuzzRead(f *testing.F) {
	f.Add(encode(U8, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(encode(I16, []uint32{1}, []byte{0x80, 0}))
	f.Add(encode(F64, []uint32{1, 1}, make([]byte, 8)))
	f.Add(encode(U8, []uint32{0xffffffff, 2}, nil))
	f.Add(gz(f, encode(U8, []uint32{3}, []byte{7, 8, 9})))
	f.Add([]byte{0, 0, 8, 0})
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := ReadLimit(bytes.NewReader(in), 1<<20)
		if err != nil {
			return
		}
		if len(a.Data) != a.Len()*a.Type.Size() {
			t.Fatalf("accepted %v %v with %d data bytes", a.Type, a.Dims, len(a.Data))
		}
		for i := range a.Len() {
			_ = a.Float64(i)
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write of accepted array: %v", err)
		}
		b, err := Read(&buf)
		if err != nil {
			t.Fatalf("re-Read: %v", err)
		}
		if b.Type != a.Type || !bytes.Equal(b.Data, a.Data) || len(b.Dims) != len(a.Dims) {
			t.Fatalf("round trip changed %v %v into %v %v", a.Type, a.Dims, b.Type, b.Dims)
		}
		for i := range a.Dims {
			if a.Dims[i] != b.Dims[i] {
				t.Fatalf("round trip changed dims %v into %v", a.Dims, b.Dims)
			}
		}
	})
}
