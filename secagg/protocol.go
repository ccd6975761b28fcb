package secagg

// This file holds the rounds of the protocol, as plain messages between a
// Client and the Server: keys advertised, shares sealed and routed, masked
// vectors sent, and the survivors' shares that remove the masks. It leaves
// out the masks' arithmetic and the sealing of shares (masks.go).

import (
	"crypto/ecdh"
	"fmt"
	"io"
	"slices"
)

// Config is one aggregation round's settings, known to all parties.
type Config struct {
	Clients    int // n: the clients of the round, with ids 0..n-1
	Threshold  int // t: the shares needed to remove a client's masks
	Neighbours int // k: SecAgg+'s graph: each client pairs with the k nearest ids on a ring; 0 or >= n-1: every other client
	Quant      Quantization
}

// Check reports a bad configuration.
func (c Config) Check() error {
	switch {
	case c.Clients < 2:
		return fmt.Errorf("secagg: %d clients: want at least 2", c.Clients)
	case c.Clients > c.Quant.MaxClients():
		return fmt.Errorf("secagg: %d clients: at most %d sums fit the modulus with range %d", c.Clients, c.Quant.MaxClients(), c.Quant.TargetRange)
	case c.Threshold < 1 || c.Threshold > len(c.holders(0)):
		return fmt.Errorf("secagg: threshold %d: want 1 to %d (a client and its neighbours)", c.Threshold, len(c.holders(0)))
	case c.Quant.TargetRange == 0 || !(c.Quant.ClippingRange > 0):
		return fmt.Errorf("secagg: quantisation %+v: want a range and a clipping range > 0", c.Quant)
	}
	return nil
}

// neighbours returns the clients that i pairs with, in increasing order.
func (c Config) neighbours(i int) []int {
	n := c.Clients
	if c.Neighbours <= 0 || c.Neighbours >= n-1 {
		out := make([]int, 0, n-1)
		for j := range n {
			if j != i {
				out = append(out, j)
			}
		}
		return out
	}
	var out []int
	for d := 1; len(out) < c.Neighbours; d++ {
		for _, j := range []int{(i + d) % n, (i - d + n) % n} {
			if len(out) < c.Neighbours && !slices.Contains(out, j) && j != i {
				out = append(out, j)
			}
		}
	}
	slices.Sort(out)
	return out
}

// holders returns the clients that hold shares of i's secrets: i and its
// neighbours.
func (c Config) holders(i int) []int {
	return slices.Sorted(slices.Values(append(c.neighbours(i), i)))
}

// PublicKeys is what a client advertises: two X25519 public keys, one
// that seals its shares and one that agrees its pairwise masks.
type PublicKeys struct {
	Seal, Mask []byte
}

// Sealed is one client's shares for another, encrypted for the recipient.
type Sealed struct {
	From, To int
	Box      []byte
}

// UnmaskReply is a surviving client's answer to the server: its share of
// every active client's mask seed and of every dropped client's mask key.
type UnmaskReply struct {
	From  int
	Seeds []Share // one per active client it holds a share of, Seeds[i].X == that client + 1
	Keys  []Share // one per dropped client it holds a share of
	Of    []int   // the client each share of Seeds, then of Keys, belongs to
}

// Client is one party of a round.
type Client struct {
	ID  int
	cfg Config
	r   io.Reader

	sealKey, maskKey *ecdh.PrivateKey
	seed             []byte
	keys             map[int]PublicKeys // every client's, from the server
	held             map[int][2]Share   // shares of each neighbour's seed and mask key
	masked, unmasked bool
}

// NewClient makes client id's keys and mask seed from r (crypto/rand.Reader
// in use; a seeded generator in tests).
func NewClient(id int, cfg Config, r io.Reader) (*Client, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if id < 0 || id >= cfg.Clients {
		return nil, fmt.Errorf("secagg: client id %d: want 0 to %d", id, cfg.Clients-1)
	}
	c := &Client{ID: id, cfg: cfg, r: r, held: map[int][2]Share{}}
	var err error
	if c.sealKey, err = newKey(r); err != nil {
		return nil, err
	}
	if c.maskKey, err = newKey(r); err != nil {
		return nil, err
	}
	c.seed = make([]byte, 32)
	if _, err := io.ReadFull(r, c.seed); err != nil {
		return nil, fmt.Errorf("secagg: mask seed: %w", err)
	}
	return c, nil
}

// Keys returns the public keys the client advertises.
func (c *Client) Keys() PublicKeys {
	return PublicKeys{Seal: c.sealKey.PublicKey().Bytes(), Mask: c.maskKey.PublicKey().Bytes()}
}

// ShareKeys takes every advertising client's public keys and returns the
// client's seed and mask key, Shamir-shared among itself and its
// advertising neighbours, each share sealed for its holder.
func (c *Client) ShareKeys(keys map[int]PublicKeys) ([]Sealed, error) {
	c.keys = keys
	var xs []int
	for _, j := range c.cfg.holders(c.ID) {
		if _, ok := keys[j]; ok {
			xs = append(xs, j+1)
		}
	}
	if len(xs) < c.cfg.Threshold {
		return nil, fmt.Errorf("secagg: client %d: %d of its share holders advertised keys; the threshold is %d", c.ID, len(xs), c.cfg.Threshold)
	}
	seedShares, err := Split(c.seed, xs, c.cfg.Threshold, c.r)
	if err != nil {
		return nil, err
	}
	keyShares, err := Split(c.maskKey.Bytes(), xs, c.cfg.Threshold, c.r)
	if err != nil {
		return nil, err
	}
	out := make([]Sealed, len(xs))
	for k, x := range xs {
		box, err := c.seal(x-1, seedShares[k], keyShares[k])
		if err != nil {
			return nil, err
		}
		out[k] = Sealed{From: c.ID, To: x - 1, Box: box}
	}
	return out, nil
}

// Mask opens the shares sealed for this client and returns its quantised
// update masked with its own seed's mask and a pairwise mask with every
// neighbour whose shares arrived (those still in the round).
func (c *Client) Mask(sealed []Sealed, update []uint32) ([]uint32, error) {
	if c.masked {
		return nil, fmt.Errorf("secagg: client %d: already masked", c.ID)
	}
	for _, s := range sealed {
		if s.To != c.ID {
			return nil, fmt.Errorf("secagg: client %d: shares addressed to %d", c.ID, s.To)
		}
		seed, key, err := c.open(s)
		if err != nil {
			return nil, err
		}
		c.held[s.From] = [2]Share{seed, key}
	}
	out := slices.Clone(update)
	addMask(out, expand(c.seed, selfInfo, len(out)), 1)
	for _, j := range c.cfg.neighbours(c.ID) {
		if _, ok := c.held[j]; !ok {
			continue
		}
		m, err := pairMask(c.maskKey, c.keys[j].Mask, len(out))
		if err != nil {
			return nil, fmt.Errorf("secagg: client %d with %d: %w", c.ID, j, err)
		}
		addMask(out, m, pairSign(c.ID, j))
	}
	c.masked = true
	return out, nil
}

// Unmask answers the server once: shares of the seeds of active clients
// and of the mask keys of dropped ones. It refuses to reveal both secrets
// of one client, to call itself dropped, or to answer a round with fewer
// active clients than the threshold.
func (c *Client) Unmask(active, dropped []int) (UnmaskReply, error) {
	r := UnmaskReply{From: c.ID}
	switch {
	case c.unmasked:
		return r, fmt.Errorf("secagg: client %d: asked to unmask twice", c.ID)
	case !c.masked:
		return r, fmt.Errorf("secagg: client %d: asked to unmask before masking", c.ID)
	case len(active) < c.cfg.Threshold:
		return r, fmt.Errorf("secagg: client %d: %d active clients, below the threshold %d", c.ID, len(active), c.cfg.Threshold)
	case slices.Contains(dropped, c.ID) || !slices.Contains(active, c.ID):
		return r, fmt.Errorf("secagg: client %d: the server's lists leave it out", c.ID)
	}
	for _, j := range active {
		if slices.Contains(dropped, j) {
			return r, fmt.Errorf("secagg: client %d: client %d both active and dropped", c.ID, j)
		}
	}
	c.unmasked = true
	for _, j := range active {
		if h, ok := c.held[j]; ok {
			r.Seeds = append(r.Seeds, h[0])
			r.Of = append(r.Of, j)
		}
	}
	for _, j := range dropped {
		if h, ok := c.held[j]; ok {
			r.Keys = append(r.Keys, h[1])
			r.Of = append(r.Of, j)
		}
	}
	return r, nil
}
