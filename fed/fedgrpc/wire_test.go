package fedgrpc

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/fed"
)

// frames are messages of every type, with empty and awkward fields.
func frames() []*frame {
	return []*frame{
		{Type: msgJoin, Name: "client-7"},
		{Type: msgJoin},
		{Type: msgBye, ID: 3, Name: "the run finished"},
		{Type: msgCancel, ID: math.MaxUint64},
		{Type: msgInstruction, ID: 1, In: &fed.Instruction{}},
		{Type: msgInstruction, ID: 42, In: &fed.Instruction{
			Round: 12, Kind: fed.KindFit,
			Params: []float32{0, -1.5, float32(math.Inf(1)), math.SmallestNonzeroFloat32, math.MaxFloat32},
			Config: map[string]string{"lr": "0.01", "proximal_mu": "0.1", "": "", "é": "\x00"},
		}},
		{Type: msgInstruction, ID: 43, In: &fed.Instruction{Round: -1, Kind: fed.KindSecAgg, Stage: "share-keys", Payload: []byte{0, 1, 2, 255}}},
		{Type: msgReply, ID: 42, Re: &fed.Reply{}},
		{Type: msgReply, ID: 42, Re: &fed.Reply{
			NumExamples: 600, Params: []float32{1, 2, 3},
			Metrics: map[string]float64{"loss": 0.25, "accuracy": 0.875, "epsilon": math.Inf(1)}, Payload: []byte("masked"),
		}},
		{Type: msgReply, ID: 9, Err: "fed/client: the data has 3 channels; the model wants 1"},
	}
}

func TestWireRoundTrip(t *testing.T) {
	for _, f := range frames() {
		b, err := encode(f)
		if err != nil {
			t.Fatalf("encode %+v: %v", f, err)
		}
		g, err := decode(b)
		if err != nil {
			t.Fatalf("decode of %+v: %v", f, err)
		}
		if !reflect.DeepEqual(f, g) {
			t.Errorf("round trip:\n sent %+v %+v %+v\n  got %+v %+v %+v", f, f.In, f.Re, g, g.In, g.Re)
		}
		// The same message always has the same bytes (config and metrics sorted).
		b2, _ := encode(g)
		if !bytes.Equal(b, b2) {
			t.Errorf("%+v: encoding twice gave different bytes", f)
		}
		// Every strict prefix is refused, and so is a trailing byte.
		for n := range len(b) {
			if _, err := decode(b[:n]); err == nil {
				t.Errorf("%+v: the first %d of %d bytes decoded", f, n, len(b))
			}
		}
		if _, err := decode(append(b, 0)); err == nil {
			t.Errorf("%+v: a trailing byte was accepted", f)
		}
	}
}

// TestWireFloatLayout pins the parameter encoding: a uvarint count, then
// little-endian IEEE-754 float32s.
func TestWireFloatLayout(t *testing.T) {
	b, err := encode(&frame{Type: msgReply, ID: 1, Re: &fed.Reply{NumExamples: 2, Params: []float32{1, -2}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{wireVersion, msgReply, 1, 4 /* zigzag 2 */, 2, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding % x, want % x", b, want)
	}
}

func TestWireRefusals(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{nil, "truncated"},
		{[]byte{2, msgJoin, 0, 0}, "wire version 2"},
		{[]byte{wireVersion, 99, 0}, "unknown message type 99"},
		{[]byte{wireVersion, msgReply, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "items announced"},
		{[]byte{wireVersion, msgInstruction, 0, 0xfe, 0xff, 0xff, 0xff, 0x1f}, "out of range"},
	} {
		_, err := decode(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decode % x: %v, want an error with %q", tc.b, err, tc.want)
		}
	}
	if _, err := encode(&frame{Type: msgInstruction}); err == nil {
		t.Error("an instruction frame without its instruction was encoded")
	}
}

// FuzzDecode: any bytes decode or give an error, never panic, and never
// decode into more than a small multiple of the input; what decodes
// encodes back to a message that decodes to the same.
func FuzzDecode(f *testing.F) {
	for _, fr := range frames() {
		b, _ := encode(fr)
		f.Add(b)
	}
	f.Add([]byte{wireVersion, msgReply, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decode(b)
		if err != nil {
			return
		}
		if n := sizeOf(fr); n > 8*len(b)+64 {
			t.Fatalf("%d bytes decoded into %d bytes of fields", len(b), n)
		}
		b2, err := encode(fr)
		if err != nil {
			t.Fatalf("a decoded message does not encode: %v", err)
		}
		// b may spell a number in more bytes than needed or repeat a config
		// key, so compare canonical encodings (bits, NaNs included).
		fr2, err := decode(b2)
		if err != nil {
			t.Fatalf("a re-encoded message does not decode: %v", err)
		}
		if b3, _ := encode(fr2); !bytes.Equal(b2, b3) {
			t.Fatal("re-encoding changed the message")
		}
	})
}

// sizeOf estimates the bytes a decoded frame holds.
func sizeOf(f *frame) int {
	n := len(f.Name) + len(f.Err)
	if f.In != nil {
		n += len(f.In.Kind) + len(f.In.Stage) + 4*len(f.In.Params) + len(f.In.Payload)
		for k, v := range f.In.Config {
			n += len(k) + len(v) + 32
		}
	}
	if f.Re != nil {
		n += 4*len(f.Re.Params) + len(f.Re.Payload)
		for k := range f.Re.Metrics {
			n += len(k) + 32
		}
	}
	return n
}
