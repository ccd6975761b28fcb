package onnx

import (
	"math"
	"testing"
)

// FuzzWireRoundTrip encodes fields with the encoder and reads them back
// with the tests' independent decoder.
func FuzzWireRoundTrip(f *testing.F) {
	f.Add(uint32(1), int64(8), "kiln", float32(1e-5))
	f.Add(uint32(20), int64(-1), "", float32(math.Inf(-1)))
	f.Add(uint32(536870911), int64(math.MinInt64), "\x00\xff/conv1/Conv", float32(-0.0))
	f.Add(uint32(16), int64(127), "é", float32(math.NaN()))
	f.Fuzz(func(t *testing.T, field uint32, v int64, s string, x float32) {
		num := int(field%(1<<29-1)) + 1 // protobuf field numbers are 1..2^29-1
		b := appendInt(nil, num, v)
		b = appendString(b, num, s)
		b = appendFloat(b, num, x)
		b = appendBytes(b, num, []byte(s))
		if n := varintLen(uint64(v)); n != len(appendVarint(nil, uint64(v))) {
			t.Fatalf("varintLen(%d) = %d", v, n)
		}
		if fieldLen(num, len(s)) != len(appendString(nil, num, s)) {
			t.Fatalf("fieldLen(%d, %d) wrong", num, len(s))
		}
		fs, err := pbDecode(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 4 {
			t.Fatalf("%d fields, want 4", len(fs))
		}
		for _, f := range fs {
			if f.num != num {
				t.Fatalf("field number %d, want %d", f.num, num)
			}
		}
		if fs[0].wire != wireVarint || int64(fs[0].v) != v {
			t.Errorf("int %d read back as %d", v, int64(fs[0].v))
		}
		if fs[1].wire != wireBytes || string(fs[1].b) != s || string(fs[3].b) != s {
			t.Errorf("string %q read back as %q, %q", s, fs[1].b, fs[3].b)
		}
		if fs[2].wire != wireFixed32 || uint32(fs[2].v) != math.Float32bits(x) {
			t.Errorf("float %v read back as bits %#x", x, fs[2].v)
		}
	})
}
