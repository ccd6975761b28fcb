package tfevents

// This file encodes and decodes the parts of tensorflow.Event that scalar
// logging uses (event.proto, summary.proto), by hand: wall_time (1, double),
// step (2, int64), file_version (3), summary (5) with values of tag (1) and
// simple_value (2, float), and session_log (7) with its status (1). It
// leaves out graphs, histograms, images, audio and tensors; decoding skips
// them. Encoding follows proto3 as the reference library does: fields in
// number order, zero scalars outside the oneof left out.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Event is a decoded tensorflow.Event. Exactly one of FileVersion, Values
// and SessionStatus is set in the events kiln writes.
type Event struct {
	WallTime      float64 // seconds since the Unix epoch
	Step          int64
	FileVersion   string
	Values        []Value // the summary's values
	SessionStatus int     // SessionLog status: 1 START, 2 STOP, 3 CHECKPOINT; 0 for none
}

// Value is one tagged scalar of a summary.
type Value struct {
	Tag   string
	Value float32
}

// Wire types of the protobuf encoding.
const (
	wireVarint = 0
	wireI64    = 1
	wireLen    = 2
	wireI32    = 5
)

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendBytes(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, wireLen)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Marshal encodes e as a tensorflow.Event.
func (e *Event) Marshal() []byte {
	var b []byte
	if e.WallTime != 0 {
		b = appendTag(b, 1, wireI64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.WallTime))
	}
	if e.Step != 0 {
		b = appendTag(b, 2, wireVarint)
		b = binary.AppendUvarint(b, uint64(e.Step))
	}
	switch {
	case e.FileVersion != "":
		b = appendBytes(b, 3, []byte(e.FileVersion))
	case e.Values != nil:
		var sum []byte
		for _, v := range e.Values {
			var val []byte
			if v.Tag != "" {
				val = appendBytes(val, 1, []byte(v.Tag))
			}
			val = appendTag(val, 2, wireI32)
			val = binary.LittleEndian.AppendUint32(val, math.Float32bits(v.Value))
			sum = appendBytes(sum, 1, val)
		}
		b = appendBytes(b, 5, sum)
	case e.SessionStatus != 0:
		var sl []byte
		sl = appendTag(sl, 1, wireVarint)
		sl = binary.AppendUvarint(sl, uint64(e.SessionStatus))
		b = appendBytes(b, 7, sl)
	}
	return b
}

var errTruncated = errors.New("truncated")

// field is one decoded protobuf field: its number and wire type, with the
// value in u (varint, I64, I32) or v (LEN).
type field struct {
	num, wire int
	u         uint64
	v         []byte
}

// nextField decodes the field at the start of b and returns the rest.
func nextField(b []byte) (field, []byte, error) {
	key, n := binary.Uvarint(b)
	if n <= 0 {
		return field{}, nil, errTruncated
	}
	b = b[n:]
	f := field{num: int(key >> 3), wire: int(key & 7)}
	if key>>3 == 0 || key>>3 > 1<<29 {
		return f, nil, fmt.Errorf("bad field number %d", key>>3)
	}
	switch f.wire {
	case wireVarint:
		f.u, n = binary.Uvarint(b)
		if n <= 0 {
			return f, nil, errTruncated
		}
		return f, b[n:], nil
	case wireI64:
		if len(b) < 8 {
			return f, nil, errTruncated
		}
		f.u = binary.LittleEndian.Uint64(b)
		return f, b[8:], nil
	case wireI32:
		if len(b) < 4 {
			return f, nil, errTruncated
		}
		f.u = uint64(binary.LittleEndian.Uint32(b))
		return f, b[4:], nil
	case wireLen:
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return f, nil, errTruncated
		}
		f.v = b[n : n+int(l)]
		return f, b[n+int(l):], nil
	}
	return f, nil, fmt.Errorf("field %d has unsupported wire type %d", f.num, f.wire)
}

// fields calls fn for every field of the message b.
func fields(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// want checks a known field's wire type.
func want(f field, wire int) error {
	if f.wire != wire {
		return fmt.Errorf("field %d has wire type %d, want %d", f.num, f.wire, wire)
	}
	return nil
}

// ParseEvent decodes a tensorflow.Event, skipping the fields it leaves out.
func ParseEvent(b []byte) (Event, error) {
	var e Event
	err := fields(b, func(f field) error {
		switch f.num {
		case 1:
			if err := want(f, wireI64); err != nil {
				return err
			}
			e.WallTime = math.Float64frombits(f.u)
		case 2:
			if err := want(f, wireVarint); err != nil {
				return err
			}
			e.Step = int64(f.u)
		case 3:
			if err := want(f, wireLen); err != nil {
				return err
			}
			e.FileVersion = string(f.v)
		case 5:
			if err := want(f, wireLen); err != nil {
				return err
			}
			if e.Values == nil {
				e.Values = []Value{}
			}
			return fields(f.v, func(f field) error {
				if f.num != 1 {
					return nil
				}
				if err := want(f, wireLen); err != nil {
					return err
				}
				v, err := parseValue(f.v)
				e.Values = append(e.Values, v)
				return err
			})
		case 7:
			if err := want(f, wireLen); err != nil {
				return err
			}
			return fields(f.v, func(f field) error {
				if f.num == 1 {
					if err := want(f, wireVarint); err != nil {
						return err
					}
					e.SessionStatus = int(int32(f.u))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return e, fmt.Errorf("tfevents: event: %w", err)
	}
	return e, nil
}

func parseValue(b []byte) (Value, error) {
	var v Value
	err := fields(b, func(f field) error {
		switch f.num {
		case 1:
			if err := want(f, wireLen); err != nil {
				return err
			}
			v.Tag = string(f.v)
		case 2:
			if err := want(f, wireI32); err != nil {
				return err
			}
			v.Value = math.Float32frombits(uint32(f.u))
		}
		return nil
	})
	return v, err
}
