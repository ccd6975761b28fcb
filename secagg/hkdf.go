package secagg

// This file holds HKDF with SHA-256 (RFC 5869), written on crypto/hmac
// because golang.org/x/crypto is not among kiln's dependencies.

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// HKDFExtract returns the pseudorandom key HMAC-SHA256(salt, ikm); an
// empty salt is HashLen zero bytes.
func HKDFExtract(salt, ikm []byte) []byte {
	if len(salt) == 0 {
		salt = make([]byte, sha256.Size)
	}
	m := hmac.New(sha256.New, salt)
	m.Write(ikm)
	return m.Sum(nil)
}

// HKDFExpand returns n bytes of output keying material from the
// pseudorandom key prk and context info; n is at most 255*32.
func HKDFExpand(prk, info []byte, n int) ([]byte, error) {
	if n < 0 || n > 255*sha256.Size {
		return nil, fmt.Errorf("secagg: HKDF output of %d bytes: want 0 to %d", n, 255*sha256.Size)
	}
	m := hmac.New(sha256.New, prk)
	out := make([]byte, 0, n+sha256.Size)
	var t []byte
	for i := byte(1); len(out) < n; i++ {
		m.Reset()
		m.Write(t)
		m.Write(info)
		m.Write([]byte{i})
		t = m.Sum(nil)
		out = append(out, t...)
	}
	return out[:n], nil
}

// HKDF is HKDFExpand(HKDFExtract(salt, ikm), info, n).
func HKDF(salt, ikm, info []byte, n int) ([]byte, error) {
	return HKDFExpand(HKDFExtract(salt, ikm), info, n)
}
