package secure

// This file holds the client's side: Wrap keeps a secure fit's parameters
// back and answers the secure aggregation stages with them, masked.

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"sync"

	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/secagg"
)

// ConfigKey is the fit Config key that, set to "1", asks a wrapped client
// to keep its new parameters for secure aggregation.
const ConfigKey = "secagg"

// The stages, as Flower's SecAgg+ names them.
const (
	StageSetup     = "setup"
	StageShareKeys = "share_keys"
	StageMasked    = "collect_masked_vectors"
	StageUnmask    = "unmask"
)

// ClientOptions holds a wrapped client's sources of randomness.
type ClientOptions struct {
	// Rand gives the keys, mask seeds, Shamir coefficients and nonces; nil:
	// crypto/rand. Only tests give a seeded one.
	Rand io.Reader
	// Rounding draws the stochastic rounding of the quantisation; nil: a
	// generator seeded from Rand each round.
	Rounding *mrand.Rand
}

// Wrap returns h with secure aggregation on the client side, its
// randomness from crypto/rand.
func Wrap(h fed.Handler) fed.Handler { return WrapWith(h, ClientOptions{}) }

// WrapWith is Wrap with the sources of randomness given.
func WrapWith(h fed.Handler, o ClientOptions) fed.Handler {
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &client{h: h, o: o}
}

// client is a wrapped Handler: one secure fit and its stages at a time.
type client struct {
	h fed.Handler
	o ClientOptions

	mu     sync.Mutex
	round  int       // the secure fit kept, 0: none
	params []float32 // its parameters
	weight float64   // its example count
	cfg    setup
	sc     *secagg.Client
}

func (c *client) Handle(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	if in.Kind != fed.KindSecAgg {
		r, err := c.h.Handle(ctx, in)
		if err != nil || in.Kind != fed.KindFit || in.Config[ConfigKey] != "1" {
			return r, err
		}
		c.mu.Lock()
		c.round, c.params, c.weight, c.sc = in.Round, r.Params, float64(r.NumExamples), nil
		c.mu.Unlock()
		return &fed.Reply{NumExamples: r.NumExamples, Metrics: r.Metrics}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.round == 0 || in.Round != c.round {
		return nil, fmt.Errorf("secure: stage %s of round %d, but this client kept no secure fit of that round", in.Stage, in.Round)
	}
	payload, err := c.stage(in.Stage, in.Payload)
	if err != nil {
		return nil, fmt.Errorf("secure: round %d, stage %s: %w", in.Round, in.Stage, err)
	}
	return &fed.Reply{Payload: payload}, nil
}

func (c *client) stage(stage string, in []byte) ([]byte, error) {
	if stage != StageSetup && c.sc == nil {
		return nil, fmt.Errorf("secure: no setup before stage %s", stage)
	}
	switch stage {
	case StageSetup:
		s, err := decodeSetup(in)
		if err != nil {
			return nil, err
		}
		if s.Dim != len(c.params) {
			return nil, fmt.Errorf("secure: the server sums %d parameters, this client has %d", s.Dim, len(c.params))
		}
		if !(s.MaxWeight > 0) || math.IsInf(s.MaxWeight, 0) {
			return nil, fmt.Errorf("secure: max weight %v, want a finite number > 0", s.MaxWeight)
		}
		sc, err := secagg.NewClient(s.ID, s.config(), c.o.Rand)
		if err != nil {
			return nil, err
		}
		c.cfg, c.sc = s, sc
		return encodeKeys(sc.Keys()), nil
	case StageShareKeys:
		keys, err := decodeKeyList(in)
		if err != nil {
			return nil, err
		}
		sealed, err := c.sc.ShareKeys(keys)
		if err != nil {
			return nil, err
		}
		return encodeSealed(sealed), nil
	case StageMasked:
		sealed, err := decodeSealed(in)
		if err != nil {
			return nil, err
		}
		rng := c.o.Rounding
		if rng == nil {
			var seed [32]byte
			if _, err := io.ReadFull(c.o.Rand, seed[:]); err != nil {
				return nil, fmt.Errorf("secure: rounding seed: %w", err)
			}
			rng = mrand.New(mrand.NewChaCha8(seed))
		}
		masked, err := c.sc.Mask(sealed, Vector(c.params, c.weight, c.cfg.MaxWeight, c.cfg.quant(), rng))
		if err != nil {
			return nil, err
		}
		c.params = nil // the update leaves only masked
		return encodeWords(masked), nil
	case StageUnmask:
		active, dropped, err := decodeLists(in)
		if err != nil {
			return nil, err
		}
		r, err := c.sc.Unmask(active, dropped)
		if err != nil {
			return nil, err
		}
		c.round, c.sc = 0, nil
		return encodeUnmask(r), nil
	}
	return nil, fmt.Errorf("secure: unknown stage %q", stage)
}

// Vector returns what a client with weight examples masks for params, as
// Flower's secaggplus_mod builds it: the weight ratio
// min(weight, maxWeight)/maxWeight quantised to q = round(ratio*R), then
// the parameters times q/R, quantised by q (stochastic rounding from rng),
// with q prepended.
func Vector(params []float32, weight, maxWeight float64, q secagg.Quantization, rng *mrand.Rand) []uint32 {
	ratio := math.Max(0, math.Min(weight, maxWeight)) / maxWeight
	qr := math.RoundToEven(ratio * float64(q.TargetRange)) // Python round
	dq := qr / float64(q.TargetRange)
	scaled := make([]float32, len(params))
	for i, p := range params {
		scaled[i] = float32(float64(p) * dq)
	}
	return append([]uint32{uint32(qr)}, q.Quantize(scaled, rng)...)
}

// Unvector maps the modular sum of n clients' Vectors back to the sum of
// their weighted parameters and their total weight, both in examples
// (times maxWeight): sum/weight is their weighted mean.
func Unvector(sum []uint32, n int, maxWeight float64, q secagg.Quantization) (params []float32, weight float64) {
	weight = float64(sum[0]) / float64(q.TargetRange) * maxWeight
	deq := q.DequantizeSum(sum[1:], n)
	params = make([]float32, len(deq))
	for i, v := range deq {
		params[i] = float32(v * maxWeight)
	}
	return params, weight
}

func (s setup) quant() secagg.Quantization {
	return secagg.Quantization{ClippingRange: s.Clipping, TargetRange: s.Range}
}

func (s setup) config() secagg.Config {
	return secagg.Config{Clients: s.Clients, Threshold: s.Threshold, Neighbours: s.Neighbours, Quant: s.quant()}
}
