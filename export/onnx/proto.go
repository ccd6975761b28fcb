package onnx

// A protobuf wire-format encoder, just large enough for ONNX's messages: it
// appends varints, length-delimited bytes and fixed32 floats. It leaves out
// decoding (only the tests read models back), packed repeated fields (proto2,
// which onnx.proto uses, writes repeated scalars unpacked by default) and
// every wire type ONNX does not need (fixed64, groups).

import (
	"encoding/binary"
	"math"
)

// Wire types of the protobuf encoding.
const (
	wireVarint  = 0
	wireBytes   = 2
	wireFixed32 = 5
)

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// varintLen is the number of bytes appendVarint writes for v.
func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendTag(b []byte, field, wire int) []byte {
	return appendVarint(b, uint64(field)<<3|uint64(wire))
}

// appendInt writes an int32 or int64 field; negative values take ten bytes,
// as protobuf's two's-complement varint encoding says.
func appendInt(b []byte, field int, v int64) []byte {
	return appendVarint(appendTag(b, field, wireVarint), uint64(v))
}

func appendBytes(b []byte, field int, data []byte) []byte {
	b = appendVarint(appendTag(b, field, wireBytes), uint64(len(data)))
	return append(b, data...)
}

func appendString(b []byte, field int, s string) []byte {
	b = appendVarint(appendTag(b, field, wireBytes), uint64(len(s)))
	return append(b, s...)
}

func appendFloat(b []byte, field int, f float32) []byte {
	return binary.LittleEndian.AppendUint32(appendTag(b, field, wireFixed32), math.Float32bits(f))
}

// fieldLen is the encoded size of a length-delimited field holding n bytes.
func fieldLen(field, n int) int {
	return varintLen(uint64(field)<<3|wireBytes) + varintLen(uint64(n)) + n
}
