package checkpoint

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// f16Value is an independent decoding of binary16 from its definition.
func f16Value(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

func TestF16ToF32AllValues(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got, want := f16ToF32(h), f16Value(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("f16ToF32(%#04x) = %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("f16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

// TestF16RoundTripAllValues checks that every binary16 bit pattern, NaN
// payloads and negative zero included, survives a trip through float32, so
// re-writing an F16 file reproduces it exactly.
func TestF16RoundTripAllValues(t *testing.T) {
	for i := range 1 << 16 {
		if got := f32ToF16(f16ToF32(uint16(i))); got != uint16(i) {
			t.Fatalf("f32ToF16(f16ToF32(%#04x)) = %#04x", i, got)
		}
	}
}

// TestF32ToF16MatchesNearest compares the bit-twiddling rounding with a
// search for the nearest binary16 value, over random float32 values of
// every magnitude around binary16's range.
func TestF32ToF16MatchesNearest(t *testing.T) {
	// All finite non-negative binary16 values in increasing order; their
	// bit patterns are increasing too.
	var finite []float64
	for h := uint16(0); h < 0x7c00; h++ {
		finite = append(finite, f16Value(h))
	}
	nearest := func(x float32) uint16 {
		a := math.Abs(float64(x))
		var sign uint16
		if math.Signbit(float64(x)) {
			sign = 0x8000
		}
		if a >= 65520 { // halfway between 65504 and 2^16 rounds to even: infinity
			return sign | 0x7c00
		}
		i, _ := slices.BinarySearch(finite, a)
		if i == len(finite) {
			i--
		}
		if i > 0 {
			lo, hi := a-finite[i-1], finite[i]-a
			if lo < hi || (lo == hi && (i-1)%2 == 0) {
				i--
			}
		}
		return sign | uint16(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []float32{0, 65504, 65519.99, 65520, 1e-8, 2.9802322e-8, 2.9802326e-8, 5.9604645e-8, 6.097555e-5, 6.1035156e-5}
	for range 200000 {
		// Exponents from far below the smallest subnormal to past the
		// largest finite value.
		x := float32(math.Ldexp(rng.Float64()+0.5, rng.IntN(50)-30))
		if rng.IntN(2) == 0 {
			x = -x
		}
		cases = append(cases, x)
	}
	for _, x := range cases {
		if got, want := f32ToF16(x), nearest(x); got != want {
			t.Fatalf("f32ToF16(%g) = %#04x, want %#04x", x, got, want)
		}
	}
}

func TestF32ToF16Special(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{1.00048828125, 0x3c00}, // 1 + 2^-11: halfway, ties to even 1.0
		{1.00146484375, 0x3c02}, // 1 + 3*2^-11: halfway, ties to even
		{1e-40, 0},              // float32 subnormal underflows to zero
		{math.Float32frombits(0x7fc00000), 0x7e00},
		{math.Float32frombits(0xff800001), 0xfe00}, // payload only in dropped bits stays NaN
	}
	for _, tt := range tests {
		if got := f32ToF16(tt.in); got != tt.want {
			t.Errorf("f32ToF16(%#08x) = %#04x, want %#04x", math.Float32bits(tt.in), got, tt.want)
		}
	}
}

func TestBF16RoundTripAllValues(t *testing.T) {
	for i := range 1 << 16 {
		if got := f32ToBF16(bf16ToF32(uint16(i))); got != uint16(i) {
			t.Fatalf("f32ToBF16(bf16ToF32(%#04x)) = %#04x", i, got)
		}
	}
}

func TestF32ToBF16(t *testing.T) {
	tests := []struct {
		in   uint32 // float32 bits
		want uint16
	}{
		{0x3f800000, 0x3f80},
		{0x3f808000, 0x3f80}, // exactly halfway, even stays
		{0x3f818000, 0x3f82}, // exactly halfway, odd rounds up
		{0x3f808001, 0x3f81}, // just above halfway
		{0x3f807fff, 0x3f80}, // just below halfway
		{0x7f7fffff, 0x7f80}, // largest float32 rounds to infinity
		{0x7f7f7fff, 0x7f7f}, // stays finite
		{0xff800000, 0xff80},
		{0x00000001, 0x0000}, // tiny subnormal
		{0x7fc00000, 0x7fc0},
		{0x7f800001, 0x7fc0}, // payload only in dropped bits stays NaN
	}
	for _, tt := range tests {
		if got := f32ToBF16(math.Float32frombits(tt.in)); got != tt.want {
			t.Errorf("f32ToBF16(%#08x) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}

func TestFloat8ToF32(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		f    func(uint8) float32
		in   uint8
		want float64
	}{
		{"e4m3 one", f8e4m3ToF32, 0x38, 1},
		{"e4m3 minus one", f8e4m3ToF32, 0xb8, -1},
		{"e4m3 max", f8e4m3ToF32, 0x7e, 448},
		{"e4m3 nan", f8e4m3ToF32, 0x7f, nan},
		{"e4m3 negative nan", f8e4m3ToF32, 0xff, nan},
		{"e4m3 min normal", f8e4m3ToF32, 0x08, 1.0 / 64},
		{"e4m3 min subnormal", f8e4m3ToF32, 0x01, 1.0 / 512},
		{"e4m3 subnormal", f8e4m3ToF32, 0x06, 6.0 / 512},
		{"e4m3 0x78 is finite", f8e4m3ToF32, 0x78, 256},
		{"e5m2 one", f8e5m2ToF32, 0x3c, 1},
		{"e5m2 max", f8e5m2ToF32, 0x7b, 57344},
		{"e5m2 inf", f8e5m2ToF32, 0x7c, math.Inf(1)},
		{"e5m2 nan", f8e5m2ToF32, 0x7d, nan},
		{"e5m2 min subnormal", f8e5m2ToF32, 0x01, math.Ldexp(1, -16)},
		{"e8m0 one", f8e8m0ToF32, 127, 1},
		{"e8m0 smallest", f8e8m0ToF32, 0, math.Ldexp(1, -127)},
		{"e8m0 largest", f8e8m0ToF32, 254, math.Ldexp(1, 127)},
		{"e8m0 nan", f8e8m0ToF32, 255, nan},
	}
	for _, tt := range tests {
		got := float64(tt.f(tt.in))
		if math.IsNaN(tt.want) {
			if !math.IsNaN(got) {
				t.Errorf("%s: got %v, want NaN", tt.name, got)
			}
		} else if got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
