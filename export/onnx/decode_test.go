package onnx

// A protobuf decoder for the tests: it reads exported models back into
// plain structs, independently of the encoder, so the structure tests run
// without Python or ONNX. It reads both packed and unpacked repeated ints.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

type pbField struct {
	num, wire int
	v         uint64 // varint and fixed32 values
	b         []byte // length-delimited content
}

func pbVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("truncated or overlong varint")
}

func pbDecode(b []byte) ([]pbField, error) {
	var fs []pbField
	for len(b) > 0 {
		tag, n, err := pbVarint(b)
		if err != nil {
			return nil, err
		}
		b = b[n:]
		f := pbField{num: int(tag >> 3), wire: int(tag & 7)}
		if f.num == 0 {
			return nil, errors.New("field number 0")
		}
		switch f.wire {
		case wireVarint:
			if f.v, n, err = pbVarint(b); err != nil {
				return nil, err
			}
			b = b[n:]
		case wireBytes:
			l, n, err := pbVarint(b)
			if err != nil {
				return nil, err
			}
			b = b[n:]
			if l > uint64(len(b)) {
				return nil, fmt.Errorf("field %d: length %d past the end", f.num, l)
			}
			f.b, b = b[:l], b[l:]
		case wireFixed32:
			if len(b) < 4 {
				return nil, errors.New("truncated fixed32")
			}
			f.v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return nil, fmt.Errorf("field %d: wire type %d", f.num, f.wire)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// pbInts reads a repeated int64 field, packed or not.
func pbInts(f pbField, out []int64) ([]int64, error) {
	if f.wire == wireVarint {
		return append(out, int64(f.v)), nil
	}
	b := f.b
	for len(b) > 0 {
		v, n, err := pbVarint(b)
		if err != nil {
			return nil, err
		}
		out, b = append(out, int64(v)), b[n:]
	}
	return out, nil
}

type tModel struct {
	irVersion int64
	producer  string
	opsets    map[string]int64
	graph     tGraph
}

type tGraph struct {
	name            string
	nodes           []tNode
	inits           map[string]tTensor
	initOrder       []string
	inputs, outputs []tValue
}

type tNode struct {
	name, op, domain string
	in, out          []string
	attrs            map[string]tAttr
}

type tAttr struct {
	typ  int64
	i    int64
	f    float32
	s    string
	ints []int64
}

type tTensor struct {
	dims  []int64
	dtype int64
	raw   []byte
}

type tValue struct {
	name string
	elem int64
	dims []string // a number, a parameter name, or "?"
}

func decodeModel(b []byte) (*tModel, error) {
	fs, err := pbDecode(b)
	if err != nil {
		return nil, err
	}
	m := &tModel{opsets: map[string]int64{}}
	for _, f := range fs {
		switch f.num {
		case 1:
			m.irVersion = int64(f.v)
		case 2:
			m.producer = string(f.b)
		case 7:
			if err := decodeGraph(f.b, &m.graph); err != nil {
				return nil, fmt.Errorf("graph: %w", err)
			}
		case 8:
			of, err := pbDecode(f.b)
			if err != nil {
				return nil, err
			}
			var dom string
			var ver int64
			for _, o := range of {
				switch o.num {
				case 1:
					dom = string(o.b)
				case 2:
					ver = int64(o.v)
				}
			}
			m.opsets[dom] = ver
		}
	}
	return m, nil
}

func decodeGraph(b []byte, g *tGraph) error {
	fs, err := pbDecode(b)
	if err != nil {
		return err
	}
	g.inits = map[string]tTensor{}
	for _, f := range fs {
		switch f.num {
		case 1:
			n, err := decodeNode(f.b)
			if err != nil {
				return err
			}
			g.nodes = append(g.nodes, n)
		case 2:
			g.name = string(f.b)
		case 5:
			name, t, err := decodeTensor(f.b)
			if err != nil {
				return err
			}
			if _, dup := g.inits[name]; dup {
				return fmt.Errorf("initializer %q twice", name)
			}
			g.inits[name] = t
			g.initOrder = append(g.initOrder, name)
		case 11, 12:
			v, err := decodeValue(f.b)
			if err != nil {
				return err
			}
			if f.num == 11 {
				g.inputs = append(g.inputs, v)
			} else {
				g.outputs = append(g.outputs, v)
			}
		}
	}
	return nil
}

func decodeNode(b []byte) (tNode, error) {
	n := tNode{attrs: map[string]tAttr{}}
	fs, err := pbDecode(b)
	if err != nil {
		return n, err
	}
	for _, f := range fs {
		switch f.num {
		case 1:
			n.in = append(n.in, string(f.b))
		case 2:
			n.out = append(n.out, string(f.b))
		case 3:
			n.name = string(f.b)
		case 4:
			n.op = string(f.b)
		case 7:
			n.domain = string(f.b)
		case 5:
			af, err := pbDecode(f.b)
			if err != nil {
				return n, err
			}
			var name string
			var a tAttr
			for _, x := range af {
				switch x.num {
				case 1:
					name = string(x.b)
				case 2:
					a.f = math.Float32frombits(uint32(x.v))
				case 3:
					a.i = int64(x.v)
				case 4:
					a.s = string(x.b)
				case 8:
					if a.ints, err = pbInts(x, a.ints); err != nil {
						return n, err
					}
				case 20:
					a.typ = int64(x.v)
				}
			}
			n.attrs[name] = a
		}
	}
	return n, nil
}

func decodeTensor(b []byte) (string, tTensor, error) {
	var t tTensor
	var name string
	fs, err := pbDecode(b)
	if err != nil {
		return "", t, err
	}
	for _, f := range fs {
		switch f.num {
		case 1:
			if t.dims, err = pbInts(f, t.dims); err != nil {
				return "", t, err
			}
		case 2:
			t.dtype = int64(f.v)
		case 8:
			name = string(f.b)
		case 9:
			t.raw = f.b
		}
	}
	return name, t, nil
}

func decodeValue(b []byte) (tValue, error) {
	var v tValue
	fs, err := pbDecode(b)
	if err != nil {
		return v, err
	}
	for _, f := range fs {
		switch f.num {
		case 1:
			v.name = string(f.b)
		case 2: // TypeProto
			tf, err := pbDecode(f.b)
			if err != nil || len(tf) != 1 || tf[0].num != 1 {
				return v, fmt.Errorf("value %s: not a tensor type", v.name)
			}
			tt, err := pbDecode(tf[0].b)
			if err != nil {
				return v, err
			}
			for _, x := range tt {
				switch x.num {
				case 1:
					v.elem = int64(x.v)
				case 2:
					sf, err := pbDecode(x.b)
					if err != nil {
						return v, err
					}
					for _, d := range sf {
						df, err := pbDecode(d.b)
						if err != nil {
							return v, err
						}
						dim := "?"
						for _, y := range df {
							switch y.num {
							case 1:
								dim = strconv.FormatInt(int64(y.v), 10)
							case 2:
								dim = string(y.b)
							}
						}
						v.dims = append(v.dims, dim)
					}
				}
			}
		}
	}
	return v, nil
}

// floats returns a float tensor's raw data as values.
func (t tTensor) floats() []float32 {
	out := make([]float32, len(t.raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.raw[4*i:]))
	}
	return out
}

// int64s returns an int64 tensor's raw data as values.
func (t tTensor) int64s() []int64 {
	out := make([]int64, len(t.raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.raw[8*i:]))
	}
	return out
}
