package checkpoint

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// goldenTensor is one tensor's expectation in testdata/golden.json, written
// by testdata/make.py from PyTorch.
type goldenTensor struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	F32Bits []uint32 `json:"f32_bits"`     // PyTorch's .float() of the tensor
	Ints    []int64  `json:"ints"`         // integer tensors
	SrcBits []uint32 `json:"src_f32_bits"` // F16/BF16: the float32 values PyTorch rounded ...
	Bits    []uint16 `json:"bits"`         // ... to these bit patterns
}

type golden struct {
	Metadata map[string]string       `json:"metadata"`
	Tensors  map[string]goldenTensor `json:"tensors"`
	F64      goldenTensor            `json:"f64"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// checkFloats compares float32 values bit for bit, allowing any NaN for NaN.
func checkFloats(t *testing.T, name string, got []float32, want []uint32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i, g := range got {
		w := math.Float32frombits(want[i])
		if math.Float32bits(g) != want[i] && !(g != g && w != w) {
			t.Errorf("%s[%d] = %v (%#08x), want %v (%#08x)", name, i, g, math.Float32bits(g), w, want[i])
		}
	}
}

// TestGoldenPyTorch reads a file PyTorch's tensors were written into and
// checks every value, including PyTorch's own F16/BF16 to float32 widening.
func TestGoldenPyTorch(t *testing.T) {
	g := loadGolden(t)
	f, err := Read(filepath.Join("testdata", "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, g.Metadata) {
		t.Errorf("metadata %q, want %q", f.Metadata, g.Metadata)
	}
	if len(f.Tensors) != len(g.Tensors) {
		t.Errorf("%d tensors, want %d", len(f.Tensors), len(g.Tensors))
	}
	for name, want := range g.Tensors {
		got := f.Tensors[name]
		if got == nil {
			t.Errorf("tensor %q missing", name)
			continue
		}
		if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) {
			t.Errorf("%s: %s %v, want %s %v", name, got.DType, got.Shape, want.DType, want.Shape)
		}
		if want.DType.IsFloat() {
			checkFloats(t, name, got.Data, want.F32Bits)
		} else if !reflect.DeepEqual(got.Ints, want.Ints) {
			t.Errorf("%s: %v, want %v", name, got.Ints, want.Ints)
		}
	}
}

// TestGoldenRounding checks that kiln rounds float32 to F16 and BF16 to the
// same bits as PyTorch's .half() and .bfloat16() (NaN payloads aside).
func TestGoldenRounding(t *testing.T) {
	g := loadGolden(t)
	formats := []struct {
		name  string
		round func(float32) uint16
		inf   uint16 // bits above this (sign aside) are NaN
	}{{"half", f32ToF16, 0x7c00}, {"bhalf", f32ToBF16, 0x7f80}}
	for _, format := range formats {
		name, round := format.name, format.round
		want := g.Tensors[name]
		if len(want.SrcBits) == 0 || len(want.SrcBits) != len(want.Bits) {
			t.Fatalf("%s: golden.json has %d sources and %d results", name, len(want.SrcBits), len(want.Bits))
		}
		for i, src := range want.SrcBits {
			x := math.Float32frombits(src)
			if got := round(x); got != want.Bits[i] && !(x != x && got&0x7fff > format.inf) {
				t.Errorf("%s: rounding %v (%#08x) gave %#04x, PyTorch %#04x", name, x, src, got, want.Bits[i])
			}
		}
	}
}

// TestGoldenReencode checks that re-encoding the PyTorch-made file, which
// make.py laid out like the reference serializer, gives the same bytes.
func TestGoldenReencode(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("re-encoded golden file differs:\ngot  %q\nwant %q", buf.Bytes()[:200], want[:200])
	}
}

// TestGoldenF64 checks that F64 values are narrowed as PyTorch's .float()
// narrows them: rounded to nearest, overflowing to infinity.
func TestGoldenF64(t *testing.T) {
	g := loadGolden(t)
	f, err := Read(filepath.Join("testdata", "golden_f64.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	got := f.Tensors["f64"]
	if got == nil || got.DType != F64 || !reflect.DeepEqual(got.Shape, g.F64.Shape) {
		t.Fatalf("f64 tensor: %+v", got)
	}
	checkFloats(t, "f64", got.Data, g.F64.F32Bits)
}
