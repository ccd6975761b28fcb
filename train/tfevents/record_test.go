package tfevents

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
)

// goldenEvents are the events of testdata/scalars.tfevents, which
// testdata/make.py encoded with the reference protobuf library.
var goldenEvents = []Event{
	{WallTime: 1700000000.25, FileVersion: "brain.Event:2"},
	{WallTime: 1700000001.5, Step: 1, Values: []Value{{"loss/train", 0.6931472}}},
	{WallTime: 1700000002.75, Step: 300, Values: []Value{{"accuracy/val", 0.875}}},
	{WallTime: 1700000003.0, Step: 7, Values: []Value{{"a", 1}, {"b", 0}}},
	{WallTime: 1700000004.125, Step: 1 << 40, Values: []Value{{"lr", -1.5e-3}}},
	{WallTime: 1700000005.0, Step: 300, SessionStatus: 1},
}

func golden(t *testing.T) []byte {
	b, err := os.ReadFile("testdata/scalars.tfevents")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodeMatchesReference frames and encodes the golden events and
// requires the reference bytes exactly.
func TestEncodeMatchesReference(t *testing.T) {
	var got []byte
	for i := range goldenEvents {
		got = AppendRecord(got, goldenEvents[i].Marshal())
	}
	want := golden(t)
	if !bytes.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("bytes differ first at offset %d: got %#02x, want %#02x (lengths %d and %d)", i, got[i], want[i], len(got), len(want))
			}
		}
		t.Fatalf("got %d bytes, want %d", len(got), len(want))
	}
}

func TestParseReference(t *testing.T) {
	recs, err := ReadRecords(bytes.NewReader(golden(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(goldenEvents) {
		t.Fatalf("%d records, want %d", len(recs), len(goldenEvents))
	}
	for i, r := range recs {
		e, err := ParseEvent(r)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !reflect.DeepEqual(e, goldenEvents[i]) {
			t.Errorf("event %d: got %+v, want %+v", i, e, goldenEvents[i])
		}
	}
}

func TestMaskedCRC(t *testing.T) {
	// The unmasked CRC-32C of "123456789" is the standard check value
	// 0xe3069283; masking rotates it right by 15 and adds 0xa282ead8.
	c := uint32(0xe3069283)
	if got, want := MaskedCRC([]byte("123456789")), (c>>15|c<<17)+0xa282ead8; got != want {
		t.Errorf("MaskedCRC = %#08x, want %#08x", got, want)
	}
}

// TestReadRecordDamage checks that every kind of damage is reported as
// what it is: a flipped bit anywhere is corruption, a cut is truncation.
func TestReadRecordDamage(t *testing.T) {
	rec := AppendRecord(nil, []byte("hello, tensorboard"))
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x10
		_, err := ReadRecord(bytes.NewReader(bad))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("bit flipped in byte %d: err %v, want ErrCorrupt", i, err)
		}
	}
	for cut := 1; cut < len(rec); cut++ {
		_, err := ReadRecord(bytes.NewReader(rec[:cut]))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: err %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
	if _, err := ReadRecord(bytes.NewReader(nil)); err != io.EOF {
		t.Errorf("empty input: err %v, want io.EOF", err)
	}
}

func TestParseEventErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"truncated varint", []byte{0x10, 0x80}},
		{"truncated double", []byte{0x09, 1, 2, 3}},
		{"length past end", []byte{0x1a, 0x05, 'a'}},
		{"step as a string", []byte{0x12, 0x01, 'x'}},
		{"group wire type", []byte{0x0b}},
		{"field zero", []byte{0x00, 0x01}},
		{"bad summary", []byte{0x2a, 0x02, 0x0a, 0x05}},
	} {
		if _, err := ParseEvent(tc.b); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// Unknown fields (graph_def, 4) are skipped.
	e, err := ParseEvent([]byte{0x22, 0x02, 0xff, 0xff, 0x10, 0x05})
	if err != nil || e.Step != 5 {
		t.Errorf("unknown field: %+v, %v", e, err)
	}
}
