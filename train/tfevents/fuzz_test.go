package tfevents

import (
	"bytes"
	"os"
	"testing"
)

// FuzzReadRecords feeds arbitrary bytes to the record reader and event
// decoder: they must return errors, never panic, and whatever decodes must
// encode back to records that read the same.
func FuzzReadRecords(f *testing.F) {
	if b, err := os.ReadFile("testdata/scalars.tfevents"); err == nil {
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	f.Add(AppendRecord(nil, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, _ := ReadRecords(bytes.NewReader(b))
		var again []byte
		for _, r := range recs {
			again = AppendRecord(again, r)
			ParseEvent(r)
		}
		if !bytes.HasPrefix(b, again) {
			t.Fatalf("records read do not frame back to the input's prefix")
		}
	})
}

// FuzzParseEvent checks that decoding never panics and that an event that
// decodes re-encodes to one that decodes to the same fields kiln uses.
func FuzzParseEvent(f *testing.F) {
	for _, e := range goldenEvents {
		f.Add(e.Marshal())
	}
	f.Add([]byte{0x2a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEvent(b)
		if err != nil {
			return
		}
		e2, err := ParseEvent(e.Marshal())
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if e2.Step != e.Step || (e.WallTime == e.WallTime && e2.WallTime != e.WallTime) {
			t.Fatalf("round trip changed %+v to %+v", e, e2)
		}
	})
}
