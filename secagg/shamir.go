package secagg

// This file holds Shamir secret sharing over the prime field of the
// Mersenne prime 2^521 - 1, wide enough to share a 32-byte secret (a mask
// seed or an X25519 private key) as one field element.

import (
	"errors"
	"fmt"
	"io"
	"math/big"
)

// prime is 2^521 - 1.
var prime = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 521), big.NewInt(1))

// shareLen is the bytes of a share's value, fixed-width big-endian.
const shareLen = 66

// Share is one point (X, Y) of a sharing polynomial; X is the holder's
// client id plus 1 (never 0, where the secret lies).
type Share struct {
	X int
	Y *big.Int
}

// randField returns a uniform-enough element of the field: 80 bytes from r
// reduced modulo the prime (bias below 2^-110).
func randField(r io.Reader) (*big.Int, error) {
	var b [80]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("secagg: random field element: %w", err)
	}
	return new(big.Int).Mod(new(big.Int).SetBytes(b[:]), prime), nil
}

// Split shares the secret (at most 64 bytes) at the points xs with a
// random polynomial of degree threshold-1 drawn from r: any threshold of
// the shares recover it, fewer reveal nothing.
func Split(secret []byte, xs []int, threshold int, r io.Reader) ([]Share, error) {
	if threshold < 1 || threshold > len(xs) {
		return nil, fmt.Errorf("secagg: threshold %d for %d shares", threshold, len(xs))
	}
	if len(secret) > 64 {
		return nil, fmt.Errorf("secagg: secret of %d bytes: want at most 64", len(secret))
	}
	coef := []*big.Int{new(big.Int).SetBytes(secret)}
	for range threshold - 1 {
		c, err := randField(r)
		if err != nil {
			return nil, err
		}
		coef = append(coef, c)
	}
	out := make([]Share, len(xs))
	for i, x := range xs {
		if x <= 0 {
			panic(fmt.Sprintf("secagg: share point %d", x))
		}
		bx := big.NewInt(int64(x))
		y := new(big.Int)
		for k := len(coef) - 1; k >= 0; k-- { // Horner
			y.Mul(y, bx).Add(y, coef[k]).Mod(y, prime)
		}
		out[i] = Share{X: x, Y: y}
	}
	return out, nil
}

// Combine recovers a secret of n bytes from shares by Lagrange
// interpolation at 0. With fewer shares than the threshold it returns a
// wrong value, which the caller's check (a public key that must match)
// catches.
func Combine(shares []Share, n int) ([]byte, error) {
	if len(shares) == 0 {
		return nil, errors.New("secagg: no shares to combine")
	}
	secret := new(big.Int)
	for i, si := range shares {
		num, den := big.NewInt(1), big.NewInt(1)
		for j, sj := range shares {
			if i == j {
				continue
			}
			if sj.X == si.X {
				return nil, fmt.Errorf("secagg: two shares at point %d", si.X)
			}
			num.Mul(num, big.NewInt(int64(-sj.X))).Mod(num, prime)
			den.Mul(den, big.NewInt(int64(si.X-sj.X))).Mod(den, prime)
		}
		inv := new(big.Int).ModInverse(den, prime)
		term := new(big.Int).Mul(si.Y, num)
		term.Mul(term.Mod(term, prime), inv).Mod(term, prime)
		secret.Add(secret, term).Mod(secret, prime)
	}
	if secret.BitLen() > 8*n {
		return nil, fmt.Errorf("secagg: combined secret is wider than %d bytes (too few or bad shares)", n)
	}
	return secret.FillBytes(make([]byte, n)), nil
}
