package checkpoint

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// rawFile assembles a safetensors file from a literal header and data, with
// no checks, so tests can build broken files.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func f32Bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

type badFile struct {
	name   string
	file   []byte
	tensor string // the tensor the error must name, if any
	want   string // a substring of the error
}

// badFiles lists hostile or broken files; the fuzz test seeds from it too.
func badFiles() []badFile {
	f8 := make([]byte, 8)
	lenOnly := func(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }
	one := func(info string, data []byte) []byte { return rawFile(`{"x":`+info+`}`, data) }
	return []badFile{
		{"empty file", nil, "", "too short"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "", "too short"},
		{"header over the cap", lenOnly(MaxHeaderSize + 1), "", "exceeds the 100000000-byte limit"},
		{"header length max uint64", lenOnly(math.MaxUint64), "", "exceeds"},
		{"header past the end", append(lenOnly(100), `{}`...), "", "runs past the end of the 10-byte file"},
		{"zero-length header", lenOnly(0), "", "does not start with '{'"},
		{"invalid UTF-8", rawFile("{\"\xff\":1}", nil), "", "not valid UTF-8"},
		{"leading whitespace", rawFile(` {}`, nil), "", "does not start with '{'"},
		{"truncated JSON", rawFile(`{"x":`, nil), "", "not a valid JSON object: unexpected EOF"},
		{"trailing garbage", rawFile(`{} x`, nil), "", "not a valid JSON object"},
		{"second object", rawFile(`{}{}`, nil), "", "after the object"},
		{"duplicate tensor", rawFile(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}),
			"", `duplicate key "x"`},
		{"entry not an object", one(`1`, nil), "x", "not a JSON object"},
		{"missing shape", one(`{"dtype":"F32","data_offsets":[0,0]}`, nil), "x", "needs dtype, shape and data_offsets"},
		{"case-mismatched key", one(`{"DTYPE":"F32","shape":[],"data_offsets":[0,4]}`, f8[:4]), "x", "needs dtype"},
		{"dtype not a string", one(`{"dtype":4,"shape":[1],"data_offsets":[0,4]}`, f8[:4]), "x", "dtype 4 is not a string"},
		{"unknown dtype", one(`{"dtype":"F128","shape":[1],"data_offsets":[0,16]}`, make([]byte, 16)), "x", `unsupported dtype "F128"`},
		{"sub-byte dtype", one(`{"dtype":"F4","shape":[2],"data_offsets":[0,1]}`, f8[:1]), "x", `unsupported dtype "F4"`},
		{"complex dtype", one(`{"dtype":"C64","shape":[1],"data_offsets":[0,8]}`, f8), "x", `unsupported dtype "C64"`},
		{"shape null", one(`{"dtype":"F32","shape":null,"data_offsets":[0,4]}`, f8[:4]), "x", "shape null is not an array"},
		{"negative dimension", one(`{"dtype":"F32","shape":[-1,2],"data_offsets":[0,0]}`, nil), "x", "dimension 0 = -1 is negative"},
		{"fractional dimension", one(`{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}`, f8[:4]), "x", "dimension 0 = 1.5 is not a non-negative integer"},
		{"exponent dimension", one(`{"dtype":"F32","shape":[1e3],"data_offsets":[0,4000]}`, nil), "x", "not a non-negative integer"},
		{"string dimension", one(`{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}`, f8[:4]), "x", "not a non-negative integer"},
		{"dimension over 2^64", one(`{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}`, f8[:1]), "x", "is too large"},
		{"dimension over MaxInt", one(`{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}`, f8[:1]), "x", "is too large"},
		{"element count overflow", one(`{"dtype":"U8","shape":[4294967296,4294967296,2],"data_offsets":[0,0]}`, nil), "x", "more elements than fit in 64 bits"},
		{"byte count overflow", one(`{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}`, nil), "x", "needs more than 2^63 bytes"},
		{"three offsets", one(`{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}`, f8[:2]), "x", "not a [BEGIN, END] pair"},
		{"negative offset", one(`{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}`, f8[:1]), "x", "begin = -1 is negative"},
		{"end before begin", one(`{"dtype":"U8","shape":[0],"data_offsets":[4,2]}`, f8[:4]), "x", "end before they begin"},
		{"size mismatch", one(`{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}`, make([]byte, 12)), "x", "hold 12 bytes, but F32 [2 2] needs 16"},
		{"huge tensor in tiny file", one(`{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}`, f8), "x", "run past the end of the 8-byte data buffer"},
		{"past the end", one(`{"dtype":"F32","shape":[4],"data_offsets":[0,16]}`, f8), "x", "run past the end"},
		{"leading gap", one(`{"dtype":"F32","shape":[1],"data_offsets":[4,8]}`, f8), "x", "leave bytes [0, 4) of the data buffer unused"},
		{"gap between", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)),
			"b", "leave bytes [4, 8)"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)),
			"b", `overlap tensor "a", which ends at 8`},
		{"same range twice", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f8[:4]),
			"b", "overlap"},
		{"uncovered tail", one(`{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`, f8), "", "tensors cover 4 of the 8 data bytes"},
		{"data but no tensors", rawFile(`{}`, f8), "", "cover 0 of the 8"},
		{"metadata not an object", rawFile(`{"__metadata__":[1]}`, nil), "", "__metadata__: not an object"},
		{"metadata number value", rawFile(`{"__metadata__":{"a":1}}`, nil), "", `value of "a" is 1, not a string`},
		{"metadata null value", rawFile(`{"__metadata__":{"a":null}}`, nil), "", `value of "a" is null`},
		{"metadata duplicate key", rawFile(`{"__metadata__":{"a":"1","a":"2"}}`, nil), "", `duplicate key "a"`},
		{"bool not 0 or 1", one(`{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}`, []byte{1, 0, 2}), "x", "BOOL element 2 is 2"},
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tt := range badFiles() {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(tt.file)
			if err == nil {
				t.Fatalf("Decode succeeded with %d tensors, want an error containing %q", len(f.Tensors), tt.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is %T, want *FormatError", err, err)
			}
			if fe.Tensor != tt.tensor {
				t.Errorf("error names tensor %q, want %q (%v)", fe.Tensor, tt.tensor, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want *File
	}{
		{"empty", rawFile(`{}`, nil), &File{Tensors: map[string]*Tensor{}}},
		{"padding and inner whitespace", rawFile("{ \"x\" :\n\t{\"shape\": [ 1 ], \"dtype\": \"F32\", \"data_offsets\": [0, 4]} }\n  ", f32Bytes(2.5)),
			&File{Tensors: map[string]*Tensor{"x": {DType: F32, Shape: []int{1}, Data: []float32{2.5}}}}},
		{"header order differs from offset order", rawFile(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`,
			append(f32Bytes(-1), 7)),
			&File{Tensors: map[string]*Tensor{
				"a": {DType: F32, Shape: []int{}, Data: []float32{-1}},
				"b": {DType: U8, Shape: []int{1}, Ints: []int64{7}},
			}}},
		{"empty tensors share an offset", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I64","shape":[2,0],"data_offsets":[0,0]},"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
			f32Bytes(3)),
			&File{Tensors: map[string]*Tensor{
				"a": {DType: F32, Shape: []int{0}, Data: []float32{}},
				"b": {DType: I64, Shape: []int{2, 0}, Ints: []int64{}},
				"c": {DType: F32, Shape: []int{1}, Data: []float32{3}},
			}}},
		{"huge dimension times zero", rawFile(`{"a":{"dtype":"F32","shape":[9223372036854775807,0],"data_offsets":[0,0]}}`, nil),
			&File{Tensors: map[string]*Tensor{"a": {DType: F32, Shape: []int{math.MaxInt, 0}, Data: []float32{}}}}},
		{"unknown entry keys ignored", rawFile(`{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2],"extra":{"x":[1]}}}`, []byte{0xff, 5}),
			&File{Tensors: map[string]*Tensor{"a": {DType: I8, Shape: []int{2}, Ints: []int64{-1, 5}}}}},
		{"null metadata", rawFile(`{"__metadata__":null}`, nil), &File{Tensors: map[string]*Tensor{}}},
		{"metadata", rawFile(`{"__metadata__":{"k":"v\u00e9\n","":""}}`, nil),
			&File{Tensors: map[string]*Tensor{}, Metadata: map[string]string{"k": "vé\n", "": ""}}},
		{"all integer widths", rawFile(`{"a":{"dtype":"U64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"U32","shape":[1],"data_offsets":[8,12]},"c":{"dtype":"I32","shape":[1],"data_offsets":[12,16]},"d":{"dtype":"U16","shape":[1],"data_offsets":[16,18]},"e":{"dtype":"I16","shape":[1],"data_offsets":[18,20]},"f":{"dtype":"BOOL","shape":[2],"data_offsets":[20,22]}}`,
			[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x80, 1, 0}),
			&File{Tensors: map[string]*Tensor{
				"a": {DType: U64, Shape: []int{1}, Ints: []int64{-1}}, // 2^64-1 as its bit pattern
				"b": {DType: U32, Shape: []int{1}, Ints: []int64{1<<32 - 1}},
				"c": {DType: I32, Shape: []int{1}, Ints: []int64{-2}},
				"d": {DType: U16, Shape: []int{1}, Ints: []int64{65535}},
				"e": {DType: I16, Shape: []int{1}, Ints: []int64{-32768}},
				"f": {DType: Bool, Shape: []int{2}, Ints: []int64{1, 0}},
			}}},
		{"float8", rawFile(`{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[2,3]},"c":{"dtype":"F8_E8M0","shape":[1],"data_offsets":[3,4]}}`,
			[]byte{0x38, 0xc0, 0x40, 128}),
			&File{Tensors: map[string]*Tensor{
				"a": {DType: F8E4M3, Shape: []int{2}, Data: []float32{1, -2}},
				"b": {DType: F8E5M2, Shape: []int{1}, Data: []float32{2}},
				"c": {DType: F8E8M0, Shape: []int{1}, Data: []float32{2}},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
				for name, tensor := range got.Tensors {
					t.Logf("%s: %+v", name, *tensor)
				}
			}
		})
	}
}

// TestDecodeLargeTensor reads a tensor that spans several read buffers.
func TestDecodeLargeTensor(t *testing.T) {
	const n = 100_003
	want := make([]float32, n)
	for i := range want {
		want[i] = float32(i) * 0.5
	}
	file := &File{Tensors: map[string]*Tensor{"big": {DType: F32, Shape: []int{n}, Data: want}}}
	path := filepath.Join(t.TempDir(), "big.safetensors")
	if err := Write(path, file); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Tensors["big"].Data, want) {
		t.Error("large tensor changed on the way through a file")
	}
}

func TestReadErrorNamesFileAndTensor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	bad := rawFile(`{"fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}`, make([]byte, 12))
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path)
	want := `checkpoint: ` + path + `: tensor "fc.weight": data_offsets [0, 12] hold 12 bytes, but F32 [2 2] needs 16`
	if err == nil || err.Error() != want {
		t.Errorf("Read error = %v\nwant %s", err, want)
	}

	_, err = Read(filepath.Join(dir, "missing.safetensors"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "checkpoint: ") {
		t.Errorf("Read of a missing file: %v, want a wrapped ErrNotExist", err)
	}
	_, err = Read(dir)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read of a directory: %v", err)
	}
}
