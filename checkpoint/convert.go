package checkpoint

// This file converts between float32 and the narrow float formats. It leaves
// out float32 to float8 (kiln never writes float8) and any rounding mode
// other than round-to-nearest-even, which is what PyTorch uses for .half()
// and .bfloat16().

import "math"

// f16ToF32 widens an IEEE 754 binary16 value. Every binary16 value,
// subnormals included, is exactly representable in float32; NaN payloads are
// kept so that a NaN read from a file is written back bit for bit.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0:
		// Zero or subnormal: mant * 2^-24, exact because mant < 2^10.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// f32ToF16 rounds a float32 to binary16, to nearest with ties to even.
// Values too large for binary16 become infinities, as in PyTorch.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		// NaN: keep the top payload bits; a payload living only in the
		// dropped low bits must still read back as NaN, not infinity.
		m := uint16(mant >> 13)
		if m == 0 {
			m = 0x200
		}
		return sign | 0x7c00 | m
	}
	e := exp - 127 + 15 // binary16 biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// The result is a binary16 subnormal (or rounds up to the smallest
		// normal, which the encoding handles by itself). Below half the
		// smallest subnormal everything rounds to zero.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000 // float32 zero and subnormals have e < -10
		shift := uint32(14 - e)
		return sign | uint16(roundShift(m, shift))
	}
	// Normal: a carry out of the mantissa bumps the exponent, and out of the
	// largest exponent gives infinity, both correct by construction.
	return sign | uint16(roundShift(uint32(e)<<23|mant, 13))
}

// roundShift returns v >> shift rounded to nearest, ties to even.
func roundShift(v, shift uint32) uint32 {
	q := v >> shift
	rem := v & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// bf16ToF32 widens a bfloat16 value, which is the top half of a float32.
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// f32ToBF16 rounds a float32 to bfloat16, to nearest with ties to even.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN
		h := uint16(b >> 16)
		if h&0x7f == 0 {
			h |= 0x40
		}
		return h
	}
	// Overflow past the largest finite value carries into infinity.
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// f8e5m2ToF32 widens a float8 E5M2 value, which is the top byte of a binary16.
func f8e5m2ToF32(v uint8) float32 { return f16ToF32(uint16(v) << 8) }

// f8e4m3ToF32 widens a float8 E4M3FN value: bias 7, no infinities, and the
// all-ones pattern (with either sign) is NaN.
func f8e4m3ToF32(v uint8) float32 {
	sign := uint32(v&0x80) << 24
	exp := uint32(v>>3) & 0xf
	mant := uint32(v) & 0x7
	switch {
	case exp == 0xf && mant == 0x7:
		return math.Float32frombits(sign | 0x7fc00000)
	case exp == 0:
		// Subnormal: mant * 2^-9.
		x := float32(mant) * (1.0 / (1 << 9))
		return math.Float32frombits(sign | math.Float32bits(x))
	default:
		return math.Float32frombits(sign | (exp+127-7)<<23 | mant<<20)
	}
}

// f8e8m0ToF32 widens a float8 E8M0 scale: 2^(v-127), with 0xff as NaN and
// no sign or zero.
func f8e8m0ToF32(v uint8) float32 {
	switch v {
	case 0xff:
		return float32(math.NaN())
	case 0:
		return math.Float32frombits(0x00400000) // 2^-127, a float32 subnormal
	default:
		return math.Float32frombits(uint32(v) << 23)
	}
}
