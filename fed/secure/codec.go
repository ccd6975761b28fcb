package secure

// This file holds the binary encoding of the stages' payloads: unsigned
// varints for counts and ids, length-prefixed byte strings, 32-bit words
// for vectors and 66-byte big-endian share values. Decoders refuse
// truncated or oversized input and trailing bytes.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/kiln-ml/kiln/secagg"
)

// shareLen is the width of a share's value: 2^521 - 1 fits in 66 bytes.
const shareLen = 66

var errShort = errors.New("secure: payload ends early")

type enc struct{ b []byte }

func (e *enc) uint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int)       { e.uint(uint64(v)) }
func (e *enc) bytes(p []byte)  { e.int(len(p)); e.b = append(e.b, p...) }
func (e *enc) float(v float64) { e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *enc) ints(v []int) {
	e.int(len(v))
	for _, x := range v {
		e.int(x)
	}
}
func (e *enc) words(v []uint32) {
	e.int(len(v))
	for _, x := range v {
		e.b = binary.BigEndian.AppendUint32(e.b, x)
	}
}

func (e *enc) share(s secagg.Share) {
	e.int(s.X)
	var y [shareLen]byte
	if s.Y.Sign() < 0 || s.Y.BitLen() > 8*shareLen {
		panic(fmt.Sprintf("secure: share value of %d bits", s.Y.BitLen()))
	}
	s.Y.FillBytes(y[:])
	e.b = append(e.b, y[:]...)
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		d.fail(errors.New("secure: a number padded with zero bytes"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a count or an id, at most limit.
func (d *dec) int(limit int) int {
	v := d.uint()
	if v > uint64(limit) {
		d.fail(fmt.Errorf("secure: payload holds %d, want at most %d", v, limit))
		return 0
	}
	return int(v)
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail(errShort)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) bytes() []byte { return slices.Clone(d.take(d.int(len(d.b)))) }

func (d *dec) float() float64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.BigEndian.Uint64(p))
}

func (d *dec) ints(limit int) []int {
	n := d.int(len(d.b)) // each takes at least a byte
	out := make([]int, 0, n)
	for range n {
		out = append(out, d.int(limit))
	}
	return out
}

func (d *dec) words() []uint32 {
	n := d.int(len(d.b) / 4)
	p := d.take(4 * n)
	out := make([]uint32, n)
	for i := range out {
		if p == nil {
			break
		}
		out[i] = binary.BigEndian.Uint32(p[4*i:])
	}
	return out
}

func (d *dec) share(limit int) secagg.Share {
	x := d.int(limit)
	return secagg.Share{X: x, Y: new(big.Int).SetBytes(d.take(shareLen))}
}

// done reports the first error, or trailing bytes.
func (d *dec) done(what string) error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("secure: %d bytes after the %s", len(d.b), what)
	}
	if d.err != nil {
		return fmt.Errorf("secure: decoding the %s: %w", what, d.err)
	}
	return nil
}

// maxID bounds client ids and counts: secagg's modulus holds at most 1023
// of Flower's quantised vectors.
const maxID = 1 << 16

// setup is the first stage's message: the round's settings and the
// receiving client's index.
type setup struct {
	ID, Clients, Threshold, Neighbours int
	Clipping                           float64
	Range                              uint32
	MaxWeight                          float64
	Dim                                int
}

func (s setup) encode() []byte {
	var e enc
	for _, v := range []int{s.ID, s.Clients, s.Threshold, s.Neighbours} {
		e.int(v)
	}
	e.float(s.Clipping)
	e.uint(uint64(s.Range))
	e.float(s.MaxWeight)
	e.int(s.Dim)
	return e.b
}

func decodeSetup(b []byte) (setup, error) {
	d := dec{b: b}
	var s setup
	s.ID, s.Clients, s.Threshold, s.Neighbours = d.int(maxID), d.int(maxID), d.int(maxID), d.int(maxID)
	s.Clipping = d.float()
	s.Range = uint32(d.int(math.MaxUint32))
	s.MaxWeight = d.float()
	s.Dim = d.int(math.MaxInt32)
	return s, d.done("setup")
}

func encodeKeys(k secagg.PublicKeys) []byte {
	var e enc
	e.bytes(k.Seal)
	e.bytes(k.Mask)
	return e.b
}

func decodeKeys(b []byte) (secagg.PublicKeys, error) {
	d := dec{b: b}
	k := secagg.PublicKeys{Seal: d.bytes(), Mask: d.bytes()}
	return k, d.done("public keys")
}

func encodeKeyList(m map[int]secagg.PublicKeys) []byte {
	var e enc
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.int(len(ids))
	for _, id := range ids {
		e.int(id)
		e.bytes(m[id].Seal)
		e.bytes(m[id].Mask)
	}
	return e.b
}

func decodeKeyList(b []byte) (map[int]secagg.PublicKeys, error) {
	d := dec{b: b}
	n := d.int(len(b))
	m := make(map[int]secagg.PublicKeys, min(n, maxID))
	last := -1
	for range n {
		id := d.int(maxID)
		if d.err == nil && id <= last {
			d.fail(fmt.Errorf("secure: key list ids not increasing at %d", id))
		}
		last = id
		m[id] = secagg.PublicKeys{Seal: d.bytes(), Mask: d.bytes()}
	}
	return m, d.done("key list")
}

func encodeSealed(s []secagg.Sealed) []byte {
	var e enc
	e.int(len(s))
	for _, x := range s {
		e.int(x.From)
		e.int(x.To)
		e.bytes(x.Box)
	}
	return e.b
}

func decodeSealed(b []byte) ([]secagg.Sealed, error) {
	d := dec{b: b}
	n := d.int(len(b) / 3)
	out := make([]secagg.Sealed, 0, n)
	for range n {
		out = append(out, secagg.Sealed{From: d.int(maxID), To: d.int(maxID), Box: d.bytes()})
	}
	return out, d.done("sealed shares")
}

func encodeWords(v []uint32) []byte {
	var e enc
	e.words(v)
	return e.b
}

func decodeWords(b []byte) ([]uint32, error) {
	d := dec{b: b}
	v := d.words()
	return v, d.done("masked vector")
}

func encodeLists(active, dropped []int) []byte {
	var e enc
	e.ints(active)
	e.ints(dropped)
	return e.b
}

func decodeLists(b []byte) (active, dropped []int, err error) {
	d := dec{b: b}
	active, dropped = d.ints(maxID), d.ints(maxID)
	return active, dropped, d.done("active and dropped lists")
}

func encodeUnmask(r secagg.UnmaskReply) []byte {
	var e enc
	e.int(r.From)
	for _, shares := range [][]secagg.Share{r.Seeds, r.Keys} {
		e.int(len(shares))
		for _, s := range shares {
			e.share(s)
		}
	}
	e.ints(r.Of)
	return e.b
}

func decodeUnmask(b []byte) (secagg.UnmaskReply, error) {
	d := dec{b: b}
	r := secagg.UnmaskReply{From: d.int(maxID)}
	for _, dst := range []*[]secagg.Share{&r.Seeds, &r.Keys} {
		n := d.int(len(d.b) / shareLen)
		for range n {
			*dst = append(*dst, d.share(maxID+1))
		}
	}
	r.Of = d.ints(maxID)
	return r, d.done("unmask reply")
}
