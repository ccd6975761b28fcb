package checkpoint

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/kiln.safetensors")

func encodeBytes(t *testing.T, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeReferenceBytes checks kiln's output against files the reference
// serializer's own tests pin down byte for byte (safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).
func TestEncodeReferenceBytes(t *testing.T) {
	six := []float32{0, 1, 2, 3, 4, 5}
	tests := []struct {
		name   string
		file   *File
		header string // unpadded
		pad    int
		data   []byte
	}{
		{"aligned header", &File{Tensors: map[string]*Tensor{"attn.0": {DType: F32, Shape: []int{1, 2, 3}, Data: six}}},
			`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, 0, f32Bytes(six...)},
		{"padded header", &File{Tensors: map[string]*Tensor{"attn0": {DType: F32, Shape: []int{1, 1, 2, 3}, Data: six}}},
			`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`, 7, f32Bytes(six...)},
		{"empty", &File{}, `{}`, 6, nil},
		{"metadata only", &File{Metadata: map[string]string{"framework": "pt"}}, `{"__metadata__":{"framework":"pt"}}`, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := rawFile(tt.header+strings.Repeat(" ", tt.pad), tt.data)
			if got := encodeBytes(t, tt.file); !bytes.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// TestEncodeLayout checks the reference ordering (descending dtype
// alignment, then name), the resulting alignment of every tensor, and JSON
// escaping as serde_json does it.
func TestEncodeLayout(t *testing.T) {
	f := &File{
		Tensors: map[string]*Tensor{
			"z.mask":        {DType: Bool, Shape: []int{3}, Ints: []int64{1, 0, 1}},
			"a.half":        {DType: F16, Shape: []int{1}, Data: []float32{1}},
			"b.steps":       {DType: I64, Shape: []int{}, Ints: []int64{5}},
			"a.w":           {DType: F32, Shape: []int{2}, Data: []float32{1, 2}},
			"c.w":           {DType: F32, Shape: []int{1}, Data: []float32{3}},
			"q\"<&>\n\x01é": {DType: U8, Shape: []int{1}, Ints: []int64{9}},
		},
		Metadata: map[string]string{"b": "2", "a": "<tag> & \"x\"\t"},
	}
	got := string(encodeBytes(t, f))
	order := []string{`"b.steps"`, `"a.w"`, `"c.w"`, `"a.half"`, `"q\"<&>\n\u0001é"`, `"z.mask"`}
	last := -1
	for _, name := range order {
		i := strings.Index(got, name+":")
		if i < 0 || i < last {
			t.Fatalf("tensor %s missing or out of order in header %q", name, got)
		}
		last = i
	}
	if !strings.Contains(got, `{"__metadata__":{"a":"<tag> & \"x\"\t","b":"2"},"b.steps"`) {
		t.Errorf("metadata not first, sorted and serde-escaped: %q", got[:80])
	}

	dec, err := Decode([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dec, f) {
		t.Errorf("round trip changed the file: got %+v", dec)
	}
	entries, _, err := parseHeader([]byte(got[8 : 8+int(le64(got))]))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.begin%uint64(e.dtype.Size()) != 0 {
			t.Errorf("tensor %q (%s) starts at %d, not aligned", e.name, e.dtype, e.begin)
		}
	}
	if le64(got)%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", le64(got))
	}
}

func le64(s string) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

func TestEncodeDeterministic(t *testing.T) {
	build := func(reverse bool) *File {
		f := &File{Tensors: map[string]*Tensor{}, Metadata: map[string]string{}}
		for i := range 50 {
			k := i
			if reverse {
				k = 49 - i
			}
			name := string(rune('a'+k%26)) + strings.Repeat("x", k)
			f.Tensors[name] = &Tensor{DType: F32, Shape: []int{1}, Data: []float32{float32(k)}}
			f.Metadata[name] = name
		}
		return f
	}
	a, b := encodeBytes(t, build(false)), encodeBytes(t, build(true))
	if !bytes.Equal(a, b) {
		t.Error("the same model encoded to different bytes")
	}
}

func TestRoundTrip(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	floats := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, 1e-40, math.MaxFloat32, inf, -inf, nan, math.SmallestNonzeroFloat32, 0.1}
	tests := []struct {
		in   *Tensor
		want []float32 // for float dtypes: what reading back gives; nil means In.Data
	}{
		{in: &Tensor{DType: F32, Shape: []int{11}, Data: floats}},
		{in: &Tensor{DType: F64, Shape: []int{11}, Data: floats}},
		{in: &Tensor{DType: F16, Shape: []int{11}, Data: floats},
			want: []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, 0, inf, inf, -inf, nan, 0, 0.099975586}},
		{in: &Tensor{DType: BF16, Shape: []int{11}, Data: floats},
			want: []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, math.Float32frombits(0x00010000), inf, inf, -inf, nan, 0, math.Float32frombits(0x3dcd0000)}},
		{in: &Tensor{DType: I64, Shape: []int{}, Ints: []int64{math.MinInt64}}},
		{in: &Tensor{DType: I64, Shape: []int{2, 2}, Ints: []int64{math.MaxInt64, -1, 0, 1234567890123}}},
		{in: &Tensor{DType: U64, Shape: []int{2}, Ints: []int64{-1, math.MaxInt64}}},
		{in: &Tensor{DType: I32, Shape: []int{2}, Ints: []int64{math.MinInt32, math.MaxInt32}}},
		{in: &Tensor{DType: U32, Shape: []int{2}, Ints: []int64{0, math.MaxUint32}}},
		{in: &Tensor{DType: I16, Shape: []int{2}, Ints: []int64{math.MinInt16, math.MaxInt16}}},
		{in: &Tensor{DType: U16, Shape: []int{2}, Ints: []int64{0, math.MaxUint16}}},
		{in: &Tensor{DType: I8, Shape: []int{2}, Ints: []int64{math.MinInt8, math.MaxInt8}}},
		{in: &Tensor{DType: U8, Shape: []int{2}, Ints: []int64{0, math.MaxUint8}}},
		{in: &Tensor{DType: Bool, Shape: []int{1, 2}, Ints: []int64{1, 0}}},
		{in: &Tensor{DType: F32, Shape: []int{3, 0}, Data: []float32{}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.in.DType), func(t *testing.T) {
			f, err := Decode(encodeBytes(t, &File{Tensors: map[string]*Tensor{"t": tt.in}}))
			if err != nil {
				t.Fatal(err)
			}
			got := f.Tensors["t"]
			if got.DType != tt.in.DType || !reflect.DeepEqual(got.Shape, tt.in.Shape) {
				t.Fatalf("got %s %v, want %s %v", got.DType, got.Shape, tt.in.DType, tt.in.Shape)
			}
			if !tt.in.DType.IsFloat() {
				if !reflect.DeepEqual(got.Ints, tt.in.Ints) || got.Data != nil {
					t.Errorf("got Ints %v Data %v, want Ints %v", got.Ints, got.Data, tt.in.Ints)
				}
				return
			}
			want := tt.want
			if want == nil {
				want = tt.in.Data
			}
			if len(got.Data) != len(want) || got.Ints != nil {
				t.Fatalf("got Data %v Ints %v, want Data %v", got.Data, got.Ints, want)
			}
			for i := range want {
				g, w := got.Data[i], want[i]
				same := math.Float32bits(g) == math.Float32bits(w) || (g != g && w != w)
				if !same {
					t.Errorf("element %d: got %v (%#08x), want %v (%#08x)", i, g, math.Float32bits(g), w, math.Float32bits(w))
				}
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	one := func(tensor *Tensor) *File { return &File{Tensors: map[string]*Tensor{"x": tensor}} }
	tests := []struct {
		name string
		file *File
		want string
	}{
		{"nil file", nil, "nil File"},
		{"nil tensor", one(nil), `tensor "x": nil tensor`},
		{"unknown dtype", one(&Tensor{DType: "F128", Shape: []int{}, Data: []float32{1}}), `unsupported dtype "F128"`},
		{"float8", one(&Tensor{DType: F8E4M3, Shape: []int{1}, Data: []float32{1}}), "writing dtype F8_E4M3 is not supported"},
		{"negative dim", one(&Tensor{DType: F32, Shape: []int{-1}}), "negative dimension in shape [-1]"},
		{"overflowing shape", one(&Tensor{DType: F32, Shape: []int{1 << 62, 8}}), "more elements than fit"},
		{"too few values", one(&Tensor{DType: F32, Shape: []int{2, 2}, Data: []float32{1, 2, 3}}), "needs 4 values in Data and none in Ints, have 3 and 0"},
		{"ints for a float", one(&Tensor{DType: F32, Shape: []int{1}, Data: []float32{1}, Ints: []int64{1}}), "none in Ints, have 1 and 1"},
		{"floats for an int", one(&Tensor{DType: I64, Shape: []int{1}, Data: []float32{1}}), "needs 1 values in Ints and none in Data, have 0 and 1"},
		{"U8 too large", one(&Tensor{DType: U8, Shape: []int{2}, Ints: []int64{0, 256}}), "element 1 is 256, outside the U8 range [0, 255]"},
		{"I8 too small", one(&Tensor{DType: I8, Shape: []int{1}, Ints: []int64{-129}}), "outside the I8 range"},
		{"U32 negative", one(&Tensor{DType: U32, Shape: []int{1}, Ints: []int64{-1}}), "outside the U32 range"},
		{"I32 too large", one(&Tensor{DType: I32, Shape: []int{1}, Ints: []int64{1 << 31}}), "outside the I32 range"},
		{"BOOL 2", one(&Tensor{DType: Bool, Shape: []int{1}, Ints: []int64{2}}), "outside the BOOL range [0, 1]"},
		{"reserved name", &File{Tensors: map[string]*Tensor{MetadataKey: {DType: F32, Shape: []int{0}}}}, "reserved for metadata"},
		{"bad UTF-8 name", &File{Tensors: map[string]*Tensor{"\xff": {DType: F32, Shape: []int{0}}}}, "not valid UTF-8"},
		{"bad UTF-8 metadata", &File{Metadata: map[string]string{"k": "\xfe"}}, "metadata value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "checkpoint: ") {
				t.Errorf("Encode error = %v, want one containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.after {
		return 0, errors.New("disk full")
	}
	w.after -= len(p)
	return len(p), nil
}

func TestEncodeReportsWriteErrors(t *testing.T) {
	f := kilnFile()
	for _, after := range []int{0, 100, 600} {
		err := Encode(&failingWriter{after: after}, f)
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("failing after %d bytes: error %v, want disk full", after, err)
		}
	}
}

// kilnFile is a model with one tensor of every writable dtype. The values
// follow formulas that testdata/make.py's verify repeats with PyTorch.
func kilnFile() *File {
	base := make([]float32, 6)
	ints := make([]int64, 6)
	i8, u8, bools := make([]int64, 6), make([]int64, 6), make([]int64, 6)
	for i := range 6 {
		base[i] = float32((float64(i) - 2.5) * 0.3)
		ints[i] = int64(i*1000 - 2500)
		i8[i], u8[i], bools[i] = int64(i*40-100), int64(i*50), int64(i%2)
	}
	s := []int{2, 3}
	return &File{
		Tensors: map[string]*Tensor{
			"w.f32":                  {DType: F32, Shape: s, Data: base},
			"w.f64":                  {DType: F64, Shape: s, Data: base},
			"w.f16":                  {DType: F16, Shape: s, Data: base},
			"w.bf16":                 {DType: BF16, Shape: s, Data: base},
			"n.i64":                  {DType: I64, Shape: s, Ints: ints},
			"n.i32":                  {DType: I32, Shape: s, Ints: ints},
			"n.i16":                  {DType: I16, Shape: s, Ints: ints},
			"n.i8":                   {DType: I8, Shape: s, Ints: i8},
			"n.u8":                   {DType: U8, Shape: s, Ints: u8},
			"n.bool":                 {DType: Bool, Shape: s, Ints: bools},
			"n.u16":                  {DType: U16, Shape: s, Ints: []int64{0, 1, 2, 3, 4, 65535}},
			"n.u32":                  {DType: U32, Shape: s, Ints: []int64{0, 1, 2, 3, 4, 1<<32 - 1}},
			"n.u64":                  {DType: U64, Shape: s, Ints: []int64{0, 1, 2, 3, math.MinInt64, -1}},
			"bn.num_batches_tracked": {DType: I64, Shape: []int{}, Ints: []int64{42}},
			"empty":                  {DType: F32, Shape: []int{0, 4}, Data: []float32{}},
		},
		Metadata: map[string]string{"format": "pt", "framework": "kiln", "step": "100"},
	}
}

// TestKilnFile pins kiln's output for kilnFile to testdata/kiln.safetensors,
// which `python3 testdata/make.py verify testdata/kiln.safetensors` checks
// with PyTorch. Run with -update to rewrite it.
func TestKilnFile(t *testing.T) {
	path := filepath.Join("testdata", "kiln.safetensors")
	if *update {
		if err := Write(path, kilnFile()); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeBytes(t, kilnFile()); !bytes.Equal(got, want) {
		t.Errorf("Encode(kilnFile()) differs from %s; if intended, rerun with -update and make.py verify", path)
	}
}
