package secure

// This file holds the server's side: Sum drives the four stages over the
// round's connections and unmasks the survivors' sum with secagg.Server.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/secagg"
)

// Options holds the server's settings of secure aggregation, with Flower's
// SecAggPlusWorkflow defaults.
type Options struct {
	// Threshold is how many clients must answer each stage and hold
	// shares to unmask; 0: Flower's reconstruction_threshold 4 (or every
	// client, if fewer). A larger threshold resists more colluding clients
	// and tolerates fewer drops.
	Threshold int
	// Neighbours is SecAgg+'s graph degree (each client pairs with the
	// nearest ids on a ring); 0: every other client, Flower's num_shares 1.0.
	Neighbours int
	// Quant is the quantisation; zero: secagg.FlowerQuantization (clipping
	// 8, range 2^22, modulus 2^32).
	Quant secagg.Quantization
	// MaxWeight is Flower's max_weight, 1000 by default: a client's weight
	// ratio is min(examples, MaxWeight)/MaxWeight.
	MaxWeight float64
	// StageTimeout bounds each stage; a client that has not answered by
	// then is left out. 0: no bound but ctx's.
	StageTimeout time.Duration
}

// DefaultOptions returns Flower's defaults.
func DefaultOptions() Options {
	return Options{Quant: secagg.FlowerQuantization(), MaxWeight: 1000}
}

// Supports reports whether secure aggregation can serve a strategy: it
// gives only the weighted sum, so those that need each update cannot use it.
func Supports(s interface {
	Name() string
	NeedsEach() bool
}) error {
	if s.NeedsEach() {
		return fmt.Errorf("secure: strategy %s needs each client's update; secure aggregation gives only their sum (use fedavg, fedavgm, fedprox or fedadam)", s.Name())
	}
	return nil
}

// Sum runs secure aggregation of round over conns (the clients whose
// secure fit succeeded, told ConfigKey = "1"), their parameters of dim
// values, and returns the sum of the surviving clients' weighted
// parameters, their total weight (both in examples: sum/weight is the
// weighted mean) and the survivors' IDs, sorted. Clients may drop at any
// stage; Sum fails, naming the stage and the counts, when fewer than the
// threshold remain.
func Sum(ctx context.Context, conns []fed.Conn, round int, dim int, o Options) (sum []float32, weight float64, survivors []string, err error) {
	if o.Quant == (secagg.Quantization{}) {
		o.Quant = secagg.FlowerQuantization()
	}
	if o.MaxWeight == 0 {
		o.MaxWeight = 1000
	}
	if o.Threshold == 0 {
		o.Threshold = min(4, len(conns))
	}
	cfg := secagg.Config{Clients: len(conns), Threshold: o.Threshold, Neighbours: o.Neighbours, Quant: o.Quant}
	srv, err := secagg.NewServer(cfg)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("secure: round %d: %w", round, err)
	}
	if !(o.MaxWeight > 0) {
		return nil, 0, nil, fmt.Errorf("secure: max weight %v, want > 0", o.MaxWeight)
	}
	r := &run{conns: conns, round: round, o: o}
	all := make([]int, len(conns))
	for i := range all {
		all[i] = i
	}

	keys, err := r.stage(ctx, StageSetup, all, func(i int) []byte {
		return setup{ID: i, Clients: cfg.Clients, Threshold: cfg.Threshold, Neighbours: cfg.Neighbours,
			Clipping: o.Quant.ClippingRange, Range: o.Quant.TargetRange, MaxWeight: o.MaxWeight, Dim: dim}.encode()
	}, func(i int, b []byte) error {
		k, err := decodeKeys(b)
		if err != nil {
			return err
		}
		return srv.AddKeys(i, k)
	})
	if err != nil {
		return nil, 0, nil, err
	}

	list := encodeKeyList(srv.Keys())
	sealed := map[int][]secagg.Sealed{}
	shared, err := r.stage(ctx, StageShareKeys, keys, func(int) []byte { return list }, func(i int, b []byte) error {
		s, err := decodeSealed(b)
		if err != nil {
			return err
		}
		for _, x := range s {
			if x.From != i {
				return fmt.Errorf("secure: client %d sent shares labelled from %d", i, x.From)
			}
		}
		sealed[i] = s
		return nil
	})
	if err != nil {
		return nil, 0, nil, err
	}

	routed := srv.Route(sealed)
	if _, err := r.stage(ctx, StageMasked, shared, func(i int) []byte { return encodeSealed(routed[i]) }, func(i int, b []byte) error {
		v, err := decodeWords(b)
		if err != nil {
			return err
		}
		if len(v) != dim+1 {
			return fmt.Errorf("secure: client %d sent %d values, want %d", i, len(v), dim+1)
		}
		return srv.AddMasked(i, v)
	}); err != nil {
		return nil, 0, nil, err
	}

	active, dropped := srv.Survivors()
	lists := encodeLists(active, dropped)
	var replies []secagg.UnmaskReply
	if _, err := r.stage(ctx, StageUnmask, active, func(int) []byte { return lists }, func(i int, b []byte) error {
		u, err := decodeUnmask(b)
		if err != nil {
			return err
		}
		if u.From != i {
			return fmt.Errorf("secure: client %d answered as %d", i, u.From)
		}
		replies = append(replies, u)
		return nil
	}); err != nil {
		return nil, 0, nil, err
	}
	slices.SortFunc(replies, func(a, b secagg.UnmaskReply) int { return a.From - b.From })
	total, in, err := srv.Aggregate(replies)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("secure: round %d, stage %s: %d of the %d active clients answered, %d dropped after sharing keys: %w", round, StageUnmask, len(replies), len(active), len(dropped), err)
	}
	sum, weight = Unvector(total, len(in), o.MaxWeight, o.Quant)
	for _, i := range in {
		survivors = append(survivors, conns[i].ID())
	}
	slices.Sort(survivors)
	return sum, weight, survivors, nil
}

// run is one Sum's connections and settings.
type run struct {
	conns []fed.Conn
	round int
	o     Options
}

// stage sends stage to the clients in ids (indices into conns), each its
// payload, all at once; it passes each reply, in index order, to take and
// returns the clients whose reply came and was taken. It fails when fewer
// than the threshold remain, or when ctx ends.
func (r *run) stage(ctx context.Context, stage string, ids []int, payload func(int) []byte, take func(int, []byte) error) ([]int, error) {
	sctx := ctx
	if r.o.StageTimeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, r.o.StageTimeout)
		defer cancel()
	}
	replies := make([]*fed.Reply, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for k, i := range ids {
		in := &fed.Instruction{Round: r.round, Kind: fed.KindSecAgg, Stage: stage, Payload: payload(i)}
		wg.Go(func() { replies[k], errs[k] = r.conns[i].Do(sctx, in) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("secure: round %d, stage %s: %w", r.round, stage, err)
	}
	var ok []int
	var lost []error
	for k, i := range ids {
		err := errs[k]
		if err == nil && replies[k] == nil {
			err = errors.New("no reply")
		}
		if err == nil {
			err = take(i, replies[k].Payload)
		}
		if err != nil {
			lost = append(lost, fmt.Errorf("client %s: %w", r.conns[i].ID(), err))
			continue
		}
		ok = append(ok, i)
	}
	if len(ok) < r.o.Threshold {
		return nil, fmt.Errorf("secure: round %d, stage %s: %d of %d clients answered, the threshold is %d: %w", r.round, stage, len(ok), len(ids), r.o.Threshold, errors.Join(lost...))
	}
	return ok, nil
}
