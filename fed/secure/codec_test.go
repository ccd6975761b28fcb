package secure

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/kiln-ml/kiln/secagg"
)

func TestCodecRoundTrip(t *testing.T) {
	s := setup{ID: 3, Clients: 10, Threshold: 4, Neighbours: 6, Clipping: 8, Range: 1 << 22, MaxWeight: 1000, Dim: 12345}
	if got, err := decodeSetup(s.encode()); err != nil || got != s {
		t.Errorf("setup: %+v, %v", got, err)
	}
	keys := map[int]secagg.PublicKeys{0: {Seal: []byte{1, 2}, Mask: []byte{3}}, 7: {Seal: []byte{}, Mask: []byte{9, 9, 9}}}
	got, err := decodeKeyList(encodeKeyList(keys))
	if err != nil || len(got) != 2 || !bytes.Equal(got[7].Mask, []byte{9, 9, 9}) {
		t.Errorf("key list: %v, %v", got, err)
	}
	u := secagg.UnmaskReply{From: 2, Seeds: []secagg.Share{{X: 3, Y: big.NewInt(77)}}, Keys: []secagg.Share{{X: 3, Y: new(big.Int).Lsh(big.NewInt(1), 520)}}, Of: []int{1, 5}}
	gu, err := decodeUnmask(encodeUnmask(u))
	if err != nil || gu.From != 2 || gu.Keys[0].Y.Cmp(u.Keys[0].Y) != 0 || gu.Seeds[0].Y.Int64() != 77 || len(gu.Of) != 2 {
		t.Errorf("unmask reply: %+v, %v", gu, err)
	}
	if _, err := decodeWords(append(encodeWords([]uint32{1, 2}), 0)); err == nil {
		t.Error("a vector with a trailing byte decoded")
	}
	if _, err := decodeWords(encodeWords([]uint32{1, 2})[:6]); err == nil {
		t.Error("a truncated vector decoded")
	}
}

// FuzzDecode feeds any bytes to every payload decoder: none may panic, and
// what one accepts must encode back to the same bytes (the encoding is
// canonical), so a client or server never acts on a misread message.
func FuzzDecode(f *testing.F) {
	f.Add(setup{ID: 1, Clients: 2, Threshold: 2, Clipping: 8, Range: 4, MaxWeight: 1, Dim: 3}.encode())
	f.Add(encodeKeyList(map[int]secagg.PublicKeys{1: {Seal: []byte{1}, Mask: []byte{2}}}))
	f.Add(encodeSealed([]secagg.Sealed{{From: 1, To: 2, Box: []byte{5, 6}}}))
	f.Add(encodeWords([]uint32{1, 1 << 31}))
	f.Add(encodeLists([]int{0, 1}, []int{2}))
	f.Add(encodeUnmask(secagg.UnmaskReply{From: 1, Seeds: []secagg.Share{{X: 2, Y: big.NewInt(3)}}, Of: []int{1}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(what string, again []byte, err error) {
			if err == nil && !bytes.Equal(again, b) {
				t.Errorf("%s: decoded %x, encodes back as %x", what, b, again)
			}
		}
		s, err := decodeSetup(b)
		check("setup", s.encode(), err)
		k, err := decodeKeys(b)
		check("keys", encodeKeys(k), err)
		kl, err := decodeKeyList(b)
		check("key list", encodeKeyList(kl), err)
		sl, err := decodeSealed(b)
		check("sealed", encodeSealed(sl), err)
		w, err := decodeWords(b)
		check("words", encodeWords(w), err)
		a, d, err := decodeLists(b)
		check("lists", encodeLists(a, d), err)
		u, err := decodeUnmask(b)
		check("unmask", encodeUnmask(u), err)
	})
}
