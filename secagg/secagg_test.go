package secagg

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// chacha returns a seeded reader for keys, seeds and nonces.
func chacha(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// round runs the protocol with n clients of updates of length dim; the
// clients in drop send their shares and then no masked vector. It returns
// the server's sum, the plain sum of the active clients' quantised
// updates, the updates, and one masked vector (client 0's).
func round(t *testing.T, cfg Config, dim int, drop []int) (got, want []uint32, updates [][]float32, masked0 []uint32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clients := make([]*Client, cfg.Clients)
	for i := range clients {
		if clients[i], err = NewClient(i, cfg, chacha(byte(i))); err != nil {
			t.Fatal(err)
		}
		if err := srv.AddKeys(i, clients[i].Keys()); err != nil {
			t.Fatal(err)
		}
	}
	sealed := map[int][]Sealed{}
	for i, c := range clients {
		if sealed[i], err = c.ShareKeys(srv.Keys()); err != nil {
			t.Fatal(err)
		}
	}
	routed := srv.Route(sealed)
	want = make([]uint32, dim)
	for i, c := range clients {
		u := make([]float32, dim)
		for k := range u {
			u[k] = float32(rng.NormFloat64())
		}
		u[0] = 20 // clipped to 8
		updates = append(updates, u)
		q := cfg.Quant.Quantize(u, rng)
		m, err := c.Mask(routed[i], q)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			masked0 = m
		}
		if slices.Contains(drop, i) {
			continue
		}
		addMask(want, q, 1)
		if err := srv.AddMasked(i, m); err != nil {
			t.Fatal(err)
		}
	}
	active, dropped := srv.Survivors()
	if !slices.Equal(dropped, drop) {
		t.Fatalf("server sees %v dropped, want %v", dropped, drop)
	}
	var replies []UnmaskReply
	for _, i := range active {
		r, err := clients[i].Unmask(active, dropped)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, r)
	}
	got, _, err = srv.Aggregate(replies)
	if err != nil {
		t.Fatal(err)
	}
	return got, want, updates, masked0
}

func tenClients(neighbours int) Config {
	return Config{Clients: 10, Threshold: 4, Neighbours: neighbours, Quant: FlowerQuantization()}
}

// TestMaskedSumIsPlainSum: with 0, 1 and 3 of 10 clients dropping after
// masking, the unmasked sum equals the plain sum of the quantised updates
// exactly, over the complete graph and SecAgg+'s sparse one.
func TestMaskedSumIsPlainSum(t *testing.T) {
	for _, k := range []int{0, 6} {
		for _, drop := range [][]int{nil, {3}, {1, 5, 8}} {
			got, want, updates, _ := round(t, tenClients(k), 500, drop)
			if !slices.Equal(got, want) {
				t.Errorf("neighbours %d, dropped %v: the sum differs from the plain quantised sum", k, drop)
			}
			// and it dequantises to the clipped float sum within n steps
			n := 10 - len(drop)
			sum := FlowerQuantization().DequantizeSum(got, n)
			step := 16.0 / (1 << 22)
			for d := range sum {
				var plain float64
				for i, u := range updates {
					if !slices.Contains(drop, i) {
						plain += math.Max(-8, math.Min(8, float64(u[d])))
					}
				}
				if math.Abs(sum[d]-plain) > float64(n)*step+1e-9 {
					t.Fatalf("dimension %d: %v, plain %v", d, sum[d], plain)
				}
			}
		}
	}
}

// TestMaskedVectorIsUniform: one client's masked update passes a
// chi-square test of uniform bytes (255 degrees of freedom; 330.5 is the
// 0.1% tail), which its quantised update fails.
func TestMaskedVectorIsUniform(t *testing.T) {
	const limit = 330.5
	_, _, updates, masked := round(t, tenClients(0), 10000, nil)
	if x := ByteChiSquare(masked); x > limit {
		t.Errorf("masked vector: chi-square %.1f, above %.1f", x, limit)
	}
	plain := FlowerQuantization().Quantize(updates[0], rand.New(rand.NewPCG(1, 1)))
	if x := ByteChiSquare(plain); x < limit {
		t.Errorf("plain quantised vector: chi-square %.1f, want above %.1f (the test must tell)", x, limit)
	}
}

func TestTooManyDropped(t *testing.T) {
	cfg := Config{Clients: 5, Threshold: 4, Quant: FlowerQuantization()}
	srv, _ := NewServer(cfg)
	clients := make([]*Client, 5)
	sealed := map[int][]Sealed{}
	for i := range clients {
		clients[i], _ = NewClient(i, cfg, chacha(byte(40+i)))
		srv.AddKeys(i, clients[i].Keys())
	}
	for i, c := range clients {
		sealed[i], _ = c.ShareKeys(srv.Keys())
	}
	routed := srv.Route(sealed)
	for i := range 3 {
		m, _ := clients[i].Mask(routed[i], make([]uint32, 8))
		srv.AddMasked(i, m)
	}
	active, dropped := srv.Survivors()
	if _, err := clients[0].Unmask(active, dropped); err == nil {
		t.Error("a client unmasked with 3 active of threshold 4")
	}
	if _, _, err := srv.Aggregate(nil); err == nil {
		t.Error("server aggregated below the threshold")
	}
	// A client never reveals both secrets of one client.
	if _, err := clients[1].Unmask([]int{0, 1, 2, 3}, []int{3, 4}); err == nil {
		t.Error("client 1 revealed client 3's seed and key")
	}
}

func TestShamir(t *testing.T) {
	secret := []byte("thirty-two bytes of secret seed!")
	shares, err := Split(secret, []int{1, 2, 3, 4, 5, 6}, 3, chacha(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, pick := range [][]int{{0, 1, 2}, {5, 3, 1}, {0, 2, 4, 5}} {
		var sub []Share
		for _, k := range pick {
			sub = append(sub, shares[k])
		}
		got, err := Combine(sub, 32)
		if err != nil || string(got) != string(secret) {
			t.Errorf("shares %v: %q, %v", pick, got, err)
		}
	}
	if got, err := Combine(shares[:2], 32); err == nil && string(got) == string(secret) {
		t.Error("two shares of a threshold-3 sharing gave the secret")
	}
	bad := []Share{shares[0], {X: shares[1].X, Y: new(big.Int).Add(shares[1].Y, big.NewInt(1))}, shares[2]}
	if got, err := Combine(bad, 32); err == nil && string(got) == string(secret) {
		t.Error("an altered share still gave the secret")
	}
}

func TestSealedSharesResistTampering(t *testing.T) {
	cfg := Config{Clients: 3, Threshold: 2, Quant: FlowerQuantization()}
	a, _ := NewClient(0, cfg, chacha(90))
	b, _ := NewClient(1, cfg, chacha(91))
	c, _ := NewClient(2, cfg, chacha(92))
	keys := map[int]PublicKeys{0: a.Keys(), 1: b.Keys(), 2: c.Keys()}
	sealed, err := a.ShareKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	b.ShareKeys(keys)
	c.ShareKeys(keys)
	var toB Sealed
	for _, s := range sealed {
		if s.To == 1 {
			toB = s
		}
	}
	if _, _, err := b.open(toB); err != nil {
		t.Fatal(err)
	}
	flipped := toB
	flipped.Box = slices.Clone(toB.Box)
	flipped.Box[20] ^= 1
	if _, _, err := b.open(flipped); err == nil {
		t.Error("an altered box opened")
	}
	if _, _, err := c.open(Sealed{From: 0, To: 2, Box: toB.Box}); err == nil {
		t.Error("client 2 opened client 1's shares")
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add(encodePayload(1, 2, big.NewInt(5), big.NewInt(7)))
	f.Add([]byte{})
	f.Add(make([]byte, payloadLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		from, to, s, k, err := decodePayload(b)
		if err != nil {
			return
		}
		again := encodePayload(from, to, s, k)
		if string(again) != string(b) {
			t.Errorf("payload does not round-trip")
		}
	})
}
