package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// encode builds an IDX file by hand, independent of Write.
func encode(t DType, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, byte(t), byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadTypes(t *testing.T) {
	f32 := binary.BigEndian.AppendUint32(nil, math.Float32bits(1.5))
	f32 = binary.BigEndian.AppendUint32(f32, math.Float32bits(-2.25))
	f64 := binary.BigEndian.AppendUint64(nil, math.Float64bits(math.Pi))
	tests := []struct {
		name string
		typ  DType
		dims []uint32
		data []byte
		want []float64
	}{
		{"u8", U8, []uint32{2, 2}, []byte{0, 1, 128, 255}, []float64{0, 1, 128, 255}},
		{"i8", I8, []uint32{3}, []byte{0x7f, 0x80, 0xff}, []float64{127, -128, -1}},
		{"i16", I16, []uint32{2}, []byte{0x01, 0x00, 0xff, 0xfe}, []float64{256, -2}},
		{"i32", I32, []uint32{1, 1, 1}, []byte{0xff, 0xff, 0xff, 0xfd}, []float64{-3}},
		{"f32", F32, []uint32{2}, f32, []float64{1.5, -2.25}},
		{"f64", F64, []uint32{1}, f64, []float64{math.Pi}},
		{"empty", U8, []uint32{0, 28, 28}, nil, nil},
	}
	for _, tc := range tests {
		raw := encode(tc.typ, tc.dims, tc.data)
		for _, form := range []struct {
			name string
			b    []byte
		}{{"raw", raw}, {"gzip", gz(t, raw)}} {
			t.Run(tc.name+"/"+form.name, func(t *testing.T) {
				a, err := Read(bytes.NewReader(form.b))
				if err != nil {
					t.Fatal(err)
				}
				if a.Type != tc.typ || len(a.Dims) != len(tc.dims) {
					t.Fatalf("got %v %v, want %v %v", a.Type, a.Dims, tc.typ, tc.dims)
				}
				for i, d := range tc.dims {
					if a.Dims[i] != int(d) {
						t.Fatalf("dims %v, want %v", a.Dims, tc.dims)
					}
				}
				if a.Len() != len(tc.want) {
					t.Fatalf("Len %d, want %d", a.Len(), len(tc.want))
				}
				for i, w := range tc.want {
					if got := a.Float64(i); got != w {
						t.Errorf("element %d = %v, want %v", i, got, w)
					}
				}
			})
		}
	}
}

func TestReadErrors(t *testing.T) {
	good := encode(U8, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	corrupt := gz(t, good)
	corrupt[len(corrupt)-6] ^= 0xff // CRC-32 in the gzip trailer
	tests := []struct {
		name  string
		in    []byte
		limit int64
		want  string
	}{
		{"empty", nil, MaxBytes, "reading magic"},
		{"short magic", []byte{0, 0, 8}, MaxBytes, "reading magic"},
		{"bad magic", []byte{1, 0, 8, 1, 0, 0, 0, 0}, MaxBytes, "bad magic"},
		{"unknown dtype", []byte{0, 0, 0x0a, 1, 0, 0, 0, 0}, MaxBytes, "unknown dtype 0x0a"},
		{"zero dims", []byte{0, 0, 8, 0}, MaxBytes, "0 dimensions"},
		{"too many dims", append([]byte{0, 0, 8, 17}, make([]byte, 68)...), MaxBytes, "17 dimensions"},
		{"truncated dims", []byte{0, 0, 8, 2, 0, 0, 0, 1, 0, 0}, MaxBytes, "reading 2 dimensions"},
		{"truncated data", good[:len(good)-1], MaxBytes, "input ends after 5 bytes"},
		{"trailing data", append(append([]byte(nil), good...), 7), MaxBytes, "trailing data"},
		{"overflowing dims", encode(I32, []uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, nil), MaxBytes, "declare more than"},
		{"over limit", good, 5, "declare more than 5 bytes"},
		{"gzip checksum", corrupt, MaxBytes, "invalid checksum"},
		{"gzip truncated", gz(t, good)[:20], MaxBytes, "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadLimit(bytes.NewReader(tc.in), tc.limit)
			if err == nil {
				t.Fatalf("got %v %v, want error containing %q", a.Type, a.Dims, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "idx: ") {
				t.Fatalf("error %q, want prefix \"idx: \" and %q", err, tc.want)
			}
		})
	}
}

// A header that declares far more data than the input holds must fail
// without allocating the declared size.
func TestReadHugeDeclarationAllocatesLittle(t *testing.T) {
	in := encode(U8, []uint32{1000, 1000, 1000}, make([]byte, 100)) // declares 1 GB
	for _, form := range []struct {
		name string
		b    []byte
	}{{"raw", in}, {"gzip", gz(t, in)}} {
		t.Run(form.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Read(bytes.NewReader(form.b))
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "input ends after 100 bytes") {
				t.Fatalf("error %v, want truncation", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
				t.Errorf("allocated %d bytes for a 1 GB declaration with 100 bytes of data", got)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	good := encode(U8, []uint32{2, 2}, []byte{9, 8, 7, 6})
	files := map[string][]byte{
		"raw":       good,
		"gz":        gz(t, good),
		"short":     encode(U8, []uint32{1 << 14, 1 << 14}, []byte{1, 2, 3}),
		"too long":  append(append([]byte(nil), good...), 0),
		"dims only": encode(U8, []uint32{1 << 14, 1 << 14}, nil),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		want string // error substring; "" means success
	}{
		{"raw", ""},
		{"gz", ""},
		{"short", "need 268435456 bytes of u8 data, input has 3"},
		{"too long", "need 4 bytes of u8 data, input has 5"},
		{"dims only", "input has 0"},
		{"missing", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			a, err := Open(path)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Data, []byte{9, 8, 7, 6}) {
					t.Fatalf("data %v", a.Data)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.name != "missing" && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestWriteRoundTrip(t *testing.T) {
	tests := []*Array{
		{Type: U8, Dims: []int{2, 3}, Data: []byte{1, 2, 3, 4, 5, 6}},
		{Type: I16, Dims: []int{1, 2}, Data: []byte{0xff, 0xfe, 0, 1}},
		{Type: F64, Dims: []int{1}, Data: binary.BigEndian.AppendUint64(nil, math.Float64bits(-0.5))},
	}
	for _, a := range tests {
		t.Run(a.Type.String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, a); err != nil {
				t.Fatal(err)
			}
			want := encode(a.Type, toU32(a.Dims), a.Data)
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("wrote % x, want % x", buf.Bytes(), want)
			}
			b, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if b.Type != a.Type || !bytes.Equal(b.Data, a.Data) || len(b.Dims) != len(a.Dims) {
				t.Fatalf("round trip: %+v, want %+v", b, a)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		a    *Array
		want string
	}{
		{"unknown type", &Array{Type: 3, Dims: []int{1}, Data: []byte{0}}, "unknown dtype"},
		{"no dims", &Array{Type: U8}, "0 dimensions"},
		{"negative dim", &Array{Type: U8, Dims: []int{-1}}, "does not fit"},
		{"data length", &Array{Type: I32, Dims: []int{2}, Data: make([]byte, 4)}, "need 8 bytes, Data has 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, tc.a)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func toU32(d []int) []uint32 {
	out := make([]uint32, len(d))
	for i, v := range d {
		out[i] = uint32(v)
	}
	return out
}
