package fedgrpc

// The binary encoding of the messages on the stream. Every message is
//
//	version byte (wireVersion) | type byte | uvarint request id | body
//
// and the bodies are, field after field:
//
//	join:        string name
//	instruction: varint round, string kind, string stage, floats params,
//	             strings config, bytes payload
//	reply:       varint examples, floats params, numbers metrics,
//	             bytes payload, string error
//	cancel:      (nothing)
//	bye:         string reason
//
// where a string or bytes is a uvarint length and the bytes; floats a
// uvarint count and that many little-endian IEEE-754 float32s; strings a
// uvarint count and that many key, value string pairs sorted by key;
// numbers a uvarint count and key string, little-endian float64 pairs.
// Decoding checks every length against the bytes left, so no input makes
// it allocate more than a small multiple of its own size.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/kiln-ml/kiln/fed"
)

// wireVersion is the first byte of every message; a peer speaking another
// version is refused.
const wireVersion = 1

// The message types.
const (
	msgJoin        byte = 1 // client -> server, first message: Name
	msgInstruction byte = 2 // server -> client: ID, In
	msgReply       byte = 3 // client -> server: ID, Re, Err
	msgCancel      byte = 4 // server -> client: stop working on ID
	msgBye         byte = 5 // server -> client: the run is over (Name holds why)
)

// frame is one message on the stream.
type frame struct {
	Type byte
	ID   uint64
	Name string           // join: the client's name; bye: the reason
	In   *fed.Instruction // instruction
	Re   *fed.Reply       // reply (nil when Err is set)
	Err  string           // reply: the handler's error
}

var errShort = errors.New("fed/fedgrpc: message truncated")

// encode returns f's bytes.
func encode(f *frame) ([]byte, error) {
	size := 2 + binary.MaxVarintLen64 + stringSize(f.Name) + stringSize(f.Err)
	if f.In != nil {
		size += binary.MaxVarintLen64 + stringSize(string(f.In.Kind)) + stringSize(f.In.Stage) +
			floatsSize(f.In.Params) + stringSize(string(f.In.Payload)) + binary.MaxVarintLen64
		for k, v := range f.In.Config {
			size += stringSize(k) + stringSize(v)
		}
	}
	if f.Re != nil {
		size += binary.MaxVarintLen64 + floatsSize(f.Re.Params) + stringSize(string(f.Re.Payload)) + binary.MaxVarintLen64
		for k := range f.Re.Metrics {
			size += stringSize(k) + 8
		}
	}
	b := make([]byte, 0, size)
	b = append(b, wireVersion, f.Type)
	b = binary.AppendUvarint(b, f.ID)
	switch f.Type {
	case msgJoin, msgBye:
		b = appendString(b, f.Name)
	case msgCancel:
	case msgInstruction:
		in := f.In
		if in == nil {
			return nil, errors.New("fed/fedgrpc: an instruction message without its instruction")
		}
		b = binary.AppendVarint(b, int64(in.Round))
		b = appendString(b, string(in.Kind))
		b = appendString(b, in.Stage)
		b = appendFloats(b, in.Params)
		keys := slices.Sorted(maps.Keys(in.Config))
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, in.Config[k])
		}
		b = appendString(b, string(in.Payload))
	case msgReply:
		re := f.Re
		if re == nil {
			re = &fed.Reply{}
		}
		b = binary.AppendVarint(b, int64(re.NumExamples))
		b = appendFloats(b, re.Params)
		keys := slices.Sorted(maps.Keys(re.Metrics))
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendString(b, k)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(re.Metrics[k]))
		}
		b = appendString(b, string(re.Payload))
		b = appendString(b, f.Err)
	default:
		return nil, fmt.Errorf("fed/fedgrpc: unknown message type %d", f.Type)
	}
	return b, nil
}

// decode parses a message made by encode.
func decode(b []byte) (*frame, error) {
	if len(b) < 2 {
		return nil, errShort
	}
	if b[0] != wireVersion {
		return nil, fmt.Errorf("fed/fedgrpc: message of wire version %d; this kiln speaks version %d (run the same kiln on server and clients)", b[0], wireVersion)
	}
	r := reader{b: b[2:]}
	f := &frame{Type: b[1], ID: r.uvarint()}
	switch f.Type {
	case msgJoin, msgBye:
		f.Name = r.string()
	case msgCancel:
	case msgInstruction:
		in := &fed.Instruction{Round: r.int()}
		in.Kind = fed.Kind(r.string())
		in.Stage = r.string()
		in.Params = r.floats()
		n := r.count(2) // each pair takes at least two length bytes
		if n > 0 {
			in.Config = make(map[string]string, n)
		}
		for range n {
			k := r.string()
			in.Config[k] = r.string()
		}
		in.Payload = r.bytes()
		f.In = in
	case msgReply:
		re := &fed.Reply{NumExamples: r.int()}
		re.Params = r.floats()
		n := r.count(9) // a length byte and a float64
		if n > 0 {
			re.Metrics = make(map[string]float64, n)
		}
		for range n {
			k := r.string()
			re.Metrics[k] = math.Float64frombits(r.uint64())
		}
		re.Payload = r.bytes()
		f.Err = r.string()
		if f.Err == "" {
			f.Re = re
		}
	default:
		return nil, fmt.Errorf("fed/fedgrpc: unknown message type %d", f.Type)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("fed/fedgrpc: %d bytes after the end of a message of type %d", len(r.b), f.Type)
	}
	return f, nil
}

func stringSize(s string) int { return binary.MaxVarintLen64 + len(s) }

func floatsSize(x []float32) int { return binary.MaxVarintLen64 + 4*len(x) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFloats(b []byte, x []float32) []byte {
	b = binary.AppendUvarint(b, uint64(len(x)))
	n := len(b)
	b = b[:n+4*len(x)]
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[n+4*i:], math.Float32bits(v))
	}
	return b
}

// reader consumes a message; the first error sticks and later reads return
// zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(fmt.Errorf("fed/fedgrpc: a count of %d is out of range", v))
		return 0
	}
	return int(v)
}

func (r *reader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail(errShort)
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// count reads a number of items that take at least min bytes each, refusing
// more than the bytes left can hold.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail(fmt.Errorf("fed/fedgrpc: %d items announced, %d bytes left: %w", n, len(r.b), errShort))
		return 0
	}
	return int(n)
}

func (r *reader) take(n int) []byte {
	if n > len(r.b) {
		r.fail(errShort)
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) string() string { return string(r.take(r.count(1))) }

func (r *reader) bytes() []byte {
	s := r.take(r.count(1))
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func (r *reader) floats() []float32 {
	n := r.count(4)
	s := r.take(4 * n)
	if len(s) == 0 {
		return nil
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
	}
	return x
}
