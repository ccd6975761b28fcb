package secagg

// This file holds the masks and the sealing of shares: X25519 keys, masks
// expanded from a secret by HKDF and AES-256-CTR into uint32 words added
// modulo 2^32, and shares sealed with AES-256-GCM under an HKDF key.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
)

const (
	selfInfo = "kiln secagg self mask"
	pairInfo = "kiln secagg pair mask"
	sealInfo = "kiln secagg seal"
)

// newKey returns an X25519 private key made from 32 bytes of r (the
// standard library's GenerateKey ignores its reader in Go 1.26, which
// would make seeded tests irreproducible).
func newKey(r io.Reader) (*ecdh.PrivateKey, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("secagg: key: %w", err)
	}
	return ecdh.X25519().NewPrivateKey(b[:])
}

// expand returns n uint32 words of mask from secret: an AES-256-CTR key
// stream (zero IV) under the key HKDF(secret, info).
func expand(secret []byte, info string, n int) []uint32 {
	key, err := HKDF(nil, secret, []byte(info), 32)
	if err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 4*n)
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(buf, buf)
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	return out
}

// addMask adds (sign 1) or subtracts (sign -1) m from v modulo 2^32.
func addMask(v, m []uint32, sign int) {
	for i := range v {
		if sign > 0 {
			v[i] += m[i]
		} else {
			v[i] -= m[i]
		}
	}
}

// pairSign is +1 for the lower id of a pair and -1 for the higher, so that
// the two masks of a pair cancel.
func pairSign(i, j int) int {
	if i < j {
		return 1
	}
	return -1
}

// pairMask is the mask that the owner of priv shares with the owner of the
// X25519 public key pub.
func pairMask(priv *ecdh.PrivateKey, pub []byte, n int) ([]uint32, error) {
	secret, err := agree(priv, pub)
	if err != nil {
		return nil, err
	}
	return expand(secret, pairInfo, n), nil
}

func agree(priv *ecdh.PrivateKey, pub []byte) ([]byte, error) {
	pk, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("secagg: public key: %w", err)
	}
	return priv.ECDH(pk)
}

// payloadLen is a sealed payload's plaintext: from, to, two share values.
const payloadLen = 4 + 4 + 2*shareLen

func encodePayload(from, to int, seed, key *big.Int) []byte {
	b := make([]byte, payloadLen)
	binary.BigEndian.PutUint32(b, uint32(from))
	binary.BigEndian.PutUint32(b[4:], uint32(to))
	seed.FillBytes(b[8 : 8+shareLen])
	key.FillBytes(b[8+shareLen:])
	return b
}

// decodePayload parses a sealed payload's plaintext.
func decodePayload(b []byte) (from, to int, seed, key *big.Int, err error) {
	if len(b) != payloadLen {
		return 0, 0, nil, nil, fmt.Errorf("secagg: share payload of %d bytes, want %d", len(b), payloadLen)
	}
	seed = new(big.Int).SetBytes(b[8 : 8+shareLen])
	key = new(big.Int).SetBytes(b[8+shareLen:])
	if seed.Cmp(prime) >= 0 || key.Cmp(prime) >= 0 {
		return 0, 0, nil, nil, errors.New("secagg: share value outside the field")
	}
	return int(binary.BigEndian.Uint32(b)), int(binary.BigEndian.Uint32(b[4:])), seed, key, nil
}

// aead returns AES-256-GCM under the key this client shares with peer.
func (c *Client) aead(peer int) (cipher.AEAD, error) {
	pk, ok := c.keys[peer]
	if !ok {
		return nil, fmt.Errorf("secagg: client %d: no keys of client %d", c.ID, peer)
	}
	secret, err := agree(c.sealKey, pk.Seal)
	if err != nil {
		return nil, err
	}
	key, err := HKDF(nil, secret, []byte(sealInfo), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func ids(from, to int) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(from)), uint32(to))
}

// seal encrypts this client's shares for client to: nonce, then sealed box.
func (c *Client) seal(to int, seed, key Share) ([]byte, error) {
	g, err := c.aead(to)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := io.ReadFull(c.r, nonce); err != nil {
		return nil, fmt.Errorf("secagg: nonce: %w", err)
	}
	return g.Seal(nonce, nonce, encodePayload(c.ID, to, seed.Y, key.Y), ids(c.ID, to)), nil
}

// open decrypts the shares s carries and checks they are what its header
// says: the server cannot redirect or alter them.
func (c *Client) open(s Sealed) (seed, key Share, err error) {
	g, err := c.aead(s.From)
	if err != nil {
		return seed, key, err
	}
	if len(s.Box) < g.NonceSize() {
		return seed, key, fmt.Errorf("secagg: client %d: sealed shares from %d too short", c.ID, s.From)
	}
	plain, err := g.Open(nil, s.Box[:g.NonceSize()], s.Box[g.NonceSize():], ids(s.From, s.To))
	if err != nil {
		return seed, key, fmt.Errorf("secagg: client %d: shares from %d: %w", c.ID, s.From, err)
	}
	from, to, sy, ky, err := decodePayload(plain)
	if err != nil {
		return seed, key, err
	}
	if from != s.From || to != c.ID {
		return seed, key, fmt.Errorf("secagg: client %d: shares labelled %d->%d arrived as %d->%d", c.ID, from, to, s.From, s.To)
	}
	return Share{X: c.ID + 1, Y: sy}, Share{X: c.ID + 1, Y: ky}, nil
}
