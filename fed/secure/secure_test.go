package secure

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/secagg"
)

// trainer is a client whose fit returns fixed parameters and example count.
func trainer(params []float32, examples int) fed.Handler {
	return fed.HandlerFunc(func(_ context.Context, in *fed.Instruction) (*fed.Reply, error) {
		return &fed.Reply{NumExamples: examples, Params: slices.Clone(params), Metrics: map[string]float64{"loss": 1}}, nil
	})
}

// dropper closes its own connection when it receives stage, as a client
// that goes away there, or with hang, stays connected and never answers.
type dropper struct {
	h     fed.Handler
	stage string
	hang  bool
	conn  *fed.LocalConn
}

func (d *dropper) Handle(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	if in.Kind == fed.KindSecAgg && in.Stage == d.stage {
		if !d.hang {
			d.conn.Close()
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return d.h.Handle(ctx, in)
}

// spy records what reaches the server from one connection.
type spy struct {
	fed.Conn
	mu   sync.Mutex
	seen map[string][]byte
}

func (s *spy) Do(ctx context.Context, in *fed.Instruction) (*fed.Reply, error) {
	r, err := s.Conn.Do(ctx, in)
	if err == nil && in.Kind == fed.KindSecAgg {
		s.mu.Lock()
		s.seen[in.Stage] = r.Payload
		s.mu.Unlock()
	}
	return r, err
}

func chacha(seed int) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), 0x5e
	return rand.NewChaCha8(s)
}

func rounding(i int) *rand.Rand { return rand.New(rand.NewPCG(uint64(i), 77)) }

type fixture struct {
	params   [][]float32
	examples []int
	conns    []fed.Conn
	spies    []*spy
}

// clients makes n wrapped clients with dim parameters each; the clients
// in drop leave at stage. Each has run its secure fit of round 1.
func clients(t *testing.T, n, dim int, drop []int, stage string) *fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(18, 18))
	f := &fixture{}
	for i := range n {
		p := make([]float32, dim)
		for k := range p {
			p[k] = float32(rng.NormFloat64())
		}
		p[0] = 7.5 // near the clipping range
		ex := 20 + 37*i
		if i == 2 {
			ex = 4000 // above MaxWeight: clipped to 1000
		}
		f.params, f.examples = append(f.params, p), append(f.examples, ex)
		d := &dropper{h: WrapWith(trainer(p, ex), ClientOptions{Rand: chacha(i), Rounding: rounding(i)})}
		if slices.Contains(drop, i) {
			d.stage = stage
		}
		d.conn = fed.Local(fmt.Sprintf("client%02d", i), d)
		s := &spy{Conn: d.conn, seen: map[string][]byte{}}
		f.conns, f.spies = append(f.conns, s), append(f.spies, s)
		r, err := s.Do(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindFit, Config: map[string]string{ConfigKey: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Params != nil || r.NumExamples != ex || r.Metrics["loss"] != 1 {
			t.Fatalf("secure fit reply %+v: want the example count and metrics, no parameters", r)
		}
	}
	return f
}

// expected returns the modular sum of the Vectors of the clients in in,
// dequantised: what Sum must return bit for bit.
func (f *fixture) expected(in []int, o Options) ([]float32, float64) {
	total := make([]uint32, len(f.params[0])+1)
	for _, i := range in {
		v := Vector(f.params[i], float64(f.examples[i]), o.MaxWeight, o.Quant, rounding(i))
		for k := range total {
			total[k] += v[k]
		}
	}
	return Unvector(total, len(in), o.MaxWeight, o.Quant)
}

// TestSumEqualsPlainSum: over 10 in-process clients, secure aggregation's
// sum equals the modular sum of the clients' quantised vectors exactly,
// with 0, 1 and 3 clients dropping after masking (at unmask: their
// vectors count), with their masked vectors lost (at
// collect_masked_vectors: they do not), and before masking (at setup or
// share_keys); and its weighted mean is the plain weighted mean to within
// the quantisation.
func TestSumEqualsPlainSum(t *testing.T) {
	const n, dim = 10, 300
	cases := []struct {
		stage   string
		drop    []int
		counted bool // the dropped clients' updates are in the sum
	}{
		{"", nil, true},
		{StageUnmask, []int{3}, true},
		{StageUnmask, []int{1, 5, 8}, true},
		{StageMasked, []int{3}, false},
		{StageMasked, []int{1, 5, 8}, false},
		{StageSetup, []int{0, 9, 4}, false},
		{StageShareKeys, []int{2}, false},
		{StageShareKeys, []int{2, 6, 7}, false},
	}
	for _, neighbours := range []int{0, 6} {
		for _, c := range cases {
			name := fmt.Sprintf("k%d_%s_%v", neighbours, c.stage, c.drop)
			f := clients(t, n, dim, c.drop, c.stage)
			o := DefaultOptions()
			o.Neighbours = neighbours
			sum, weight, survivors, err := Sum(context.Background(), f.conns, 1, dim, o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var in []int
			var ids []string
			for i := range n {
				if c.counted || !slices.Contains(c.drop, i) {
					in = append(in, i)
					ids = append(ids, f.conns[i].ID())
				}
			}
			if !slices.Equal(survivors, ids) {
				t.Errorf("%s: survivors %v, want %v", name, survivors, ids)
			}
			wantSum, wantWeight := f.expected(in, o)
			if !slices.Equal(sum, wantSum) || weight != wantWeight {
				t.Errorf("%s: the sum differs from the plain sum of the quantised vectors", name)
			}
			// against the float weighted mean, weights clipped to 1000
			var plainW float64
			plain := make([]float64, dim)
			for _, i := range in {
				w := math.Min(float64(f.examples[i]), 1000)
				plainW += w
				for k, p := range f.params[i] {
					plain[k] += w * float64(p)
				}
			}
			if math.Abs(weight-plainW) > float64(len(in))*1000/(1<<22) {
				t.Errorf("%s: weight %v, plain %v", name, weight, plainW)
			}
			for k := range plain {
				if e := math.Abs(float64(sum[k])/weight - plain[k]/plainW); e > 2e-5 {
					t.Fatalf("%s: mean [%d] = %v, plain %v", name, k, float64(sum[k])/weight, plain[k]/plainW)
				}
			}
		}
	}
}

// TestStraggler: a client that stays connected but does not answer the
// masked stage within StageTimeout is left out, and the sum is the
// others'.
func TestStraggler(t *testing.T) {
	f := clients(t, 5, 40, nil, "")
	o := DefaultOptions()
	o.StageTimeout = 300 * time.Millisecond
	stuck := &dropper{h: WrapWith(trainer(f.params[3], f.examples[3]), ClientOptions{Rand: chacha(3), Rounding: rounding(3)}), stage: StageMasked, hang: true}
	stuck.conn = fed.Local(f.conns[3].ID(), stuck)
	if _, err := stuck.conn.Do(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindFit, Config: map[string]string{ConfigKey: "1"}}); err != nil {
		t.Fatal(err)
	}
	f.conns[3] = stuck.conn
	sum, weight, survivors, err := Sum(context.Background(), f.conns, 1, 40, o)
	if err != nil {
		t.Fatal(err)
	}
	wantSum, wantWeight := f.expected([]int{0, 1, 2, 4}, o)
	if !slices.Equal(sum, wantSum) || weight != wantWeight || slices.Contains(survivors, f.conns[3].ID()) {
		t.Errorf("with client 3 stuck: survivors %v; the sum is not the other four's", survivors)
	}
}

// TestBelowThreshold: when more clients drop than the threshold allows,
// Sum fails naming the stage and the counts.
func TestBelowThreshold(t *testing.T) {
	for _, c := range []struct {
		stage string
		want  string
	}{
		{StageMasked, "stage collect_masked_vectors: 7 of 10 clients answered, the threshold is 8"},
		{StageSetup, "stage setup: 7 of 10 clients answered, the threshold is 8"},
		{StageUnmask, "stage unmask: 7 of 10 clients answered, the threshold is 8"},
	} {
		f := clients(t, 10, 20, []int{0, 4, 9}, c.stage)
		o := DefaultOptions()
		o.Threshold = 8
		_, _, _, err := Sum(context.Background(), f.conns, 1, 20, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dropping 3 of 10 at %s with threshold 8: %v, want %q", c.stage, err, c.want)
		}
	}
}

// TestServerSeesOnlyMasked: what reaches the server from a client in the
// masked stage is not its quantised vector, passes a chi-square test of
// uniform bytes (255 degrees of freedom; 330.5 is the 0.1% tail) which
// the quantised vector fails, and its fit reply held no parameters.
func TestServerSeesOnlyMasked(t *testing.T) {
	const dim, limit = 5000, 330.5
	f := clients(t, 10, dim, nil, "")
	o := DefaultOptions()
	if _, _, _, err := Sum(context.Background(), f.conns, 1, dim, o); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 7} {
		masked, err := decodeWords(f.spies[i].seen[StageMasked])
		if err != nil {
			t.Fatal(err)
		}
		plain := Vector(f.params[i], float64(f.examples[i]), o.MaxWeight, o.Quant, rounding(i))
		same := 0
		for k := range plain {
			if plain[k] == masked[k] {
				same++
			}
		}
		if same > 2 {
			t.Errorf("client %d: %d of %d masked values equal its quantised ones", i, same, len(plain))
		}
		t.Logf("client %d: %d of %d values unchanged; chi-square masked %.1f, quantised %.1f", i, same, len(plain), secagg.ByteChiSquare(masked), secagg.ByteChiSquare(plain))
		if x := secagg.ByteChiSquare(masked); x > limit {
			t.Errorf("client %d: masked vector's chi-square %.1f, above %.1f", i, x, limit)
		}
		if x := secagg.ByteChiSquare(plain); x < limit {
			t.Errorf("client %d: quantised vector's chi-square %.1f, want above %.1f (the test must tell)", i, x, limit)
		}
	}
}

func TestWrapPassesThroughAndRefuses(t *testing.T) {
	h := WrapWith(trainer([]float32{1, 2}, 5), ClientOptions{Rand: chacha(1)})
	r, err := h.Handle(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindFit})
	if err != nil || !slices.Equal(r.Params, []float32{1, 2}) {
		t.Fatalf("a plain fit: %+v, %v; want the parameters", r, err)
	}
	_, err = h.Handle(context.Background(), &fed.Instruction{Round: 1, Kind: fed.KindSecAgg, Stage: StageSetup})
	if err == nil || !strings.Contains(err.Error(), "kept no secure fit") {
		t.Errorf("a stage with no secure fit: %v", err)
	}
	if _, err := h.Handle(context.Background(), &fed.Instruction{Round: 2, Kind: fed.KindFit, Config: map[string]string{ConfigKey: "1"}}); err != nil {
		t.Fatal(err)
	}
	s := setup{ID: 0, Clients: 3, Threshold: 2, Clipping: 8, Range: 1 << 22, MaxWeight: 1000, Dim: 3}
	_, err = h.Handle(context.Background(), &fed.Instruction{Round: 2, Kind: fed.KindSecAgg, Stage: StageSetup, Payload: s.encode()})
	if err == nil || !strings.Contains(err.Error(), "sums 3 parameters, this client has 2") {
		t.Errorf("setup with the wrong dimension: %v", err)
	}
	_, err = h.Handle(context.Background(), &fed.Instruction{Round: 2, Kind: fed.KindSecAgg, Stage: StageMasked})
	if err == nil || !strings.Contains(err.Error(), "no setup") {
		t.Errorf("masking before setup: %v", err)
	}
}

type named struct {
	n    string
	each bool
}

func (s named) Name() string    { return s.n }
func (s named) NeedsEach() bool { return s.each }

func TestSupports(t *testing.T) {
	if err := Supports(named{"fedavg", false}); err != nil {
		t.Error(err)
	}
	if err := Supports(named{"krum", true}); err == nil || !strings.Contains(err.Error(), "krum") {
		t.Errorf("krum: %v", err)
	}
}
