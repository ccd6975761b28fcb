package cuda

import (
	"math"
	"testing"
)

func TestArgBits(t *testing.T) {
	for _, c := range []struct {
		arg  any
		want uint64
	}{
		{int32(-1), 0xffffffff},
		{uint32(7), 7},
		{-2, 0xfffffffe},
		{float32(1.5), uint64(math.Float32bits(1.5))},
		{DevicePtr(0x7f0012345678), 0x7f0012345678},
		{&Block{Ptr: 0x7f00aaaa0000}, 0x7f00aaaa0000},
	} {
		if got := argBits(c.arg); got != c.want {
			t.Errorf("argBits(%T %v) = %#x, want %#x", c.arg, c.arg, got, c.want)
		}
	}
	for _, bad := range []any{int64(1), 1.0, 1 << 40} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("argBits(%T %v) did not panic", bad, bad)
				}
			}()
			argBits(bad)
		}()
	}
}

func TestGrid1D(t *testing.T) {
	for _, c := range []struct{ n, block, want int }{{1, 256, 1}, {256, 256, 1}, {257, 256, 2}, {0, 256, 0}} {
		if g := Grid1D(c.n, c.block); g != (Dim3{uint32(c.want), 1, 1}) {
			t.Errorf("Grid1D(%d, %d) = %v", c.n, c.block, g)
		}
	}
}

func TestCheckArgs(t *testing.T) {
	params := []string{"float*", "const int*", "int", "float"}
	good := []any{&Block{}, DevicePtr(8), 3, float32(1)}
	if err := checkArgs(params, good); err != nil {
		t.Errorf("good arguments: %v", err)
	}
	for i, bad := range [][]any{
		{&Block{}, DevicePtr(8), 3},                      // too few
		{&Block{}, DevicePtr(8), 3, 1.0},                 // float64 for float
		{&Block{}, DevicePtr(8), float32(3), float32(1)}, // float for int
		{3, DevicePtr(8), 3, float32(1)},                 // int for a pointer
	} {
		if err := checkArgs(params, bad); err == nil {
			t.Errorf("case %d: %v accepted", i, bad)
		}
	}
}
