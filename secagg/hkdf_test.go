package secagg

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func seq(lo, hi int) []byte {
	var b []byte
	for i := lo; i < hi; i++ {
		b = append(b, byte(i))
	}
	return b
}

// TestHKDFRFC5869 checks the RFC's test cases 1-3 (SHA-256).
func TestHKDFRFC5869(t *testing.T) {
	for i, c := range []struct {
		ikm, salt, info []byte
		n               int
		prk, okm        string
	}{
		{bytes.Repeat([]byte{0x0b}, 22), seq(0, 13), seq(0xf0, 0xfa), 42,
			"077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
		{seq(0, 0x50), seq(0x60, 0xb0), seq(0xb0, 0x100), 82,
			"06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
			"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
		{bytes.Repeat([]byte{0x0b}, 22), nil, nil, 42,
			"19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
			"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
	} {
		if prk := hex.EncodeToString(HKDFExtract(c.salt, c.ikm)); prk != c.prk {
			t.Errorf("case %d: PRK %s, want %s", i+1, prk, c.prk)
		}
		okm, err := HKDF(c.salt, c.ikm, c.info, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(okm) != c.okm {
			t.Errorf("case %d: OKM %x, want %s", i+1, okm, c.okm)
		}
	}
	if _, err := HKDFExpand(make([]byte, 32), nil, 255*32+1); err == nil {
		t.Error("too long an output accepted")
	}
}
