package privacy

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/data"
)

func TestPoissonSampleRate(t *testing.T) {
	const n, q, trials = 1000, 0.03, 400
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, n)
	var sizes []float64
	for range trials {
		s := PoissonSample(n, q, rng)
		if !slices.IsSorted(s) {
			t.Fatal("indices out of order")
		}
		for _, i := range s {
			counts[i]++
		}
		sizes = append(sizes, float64(len(s)))
	}
	var mean, v float64
	for _, s := range sizes {
		mean += s
	}
	mean /= trials
	for _, s := range sizes {
		v += (s - mean) * (s - mean)
	}
	v /= trials - 1
	// Binomial(n, q): mean 30, variance 29.1; batch sizes vary.
	if math.Abs(mean-n*q) > 1.5 || math.Abs(v-n*q*(1-q))/(n*q*(1-q)) > 0.2 {
		t.Errorf("batch size mean %.2f variance %.2f, want %.1f and %.1f", mean, v, n*q, n*q*(1-q))
	}
	// Every example is as likely: the first and last halves get the same share.
	var lo, hi int
	for i, c := range counts {
		if i < n/2 {
			lo += c
		} else {
			hi += c
		}
	}
	if math.Abs(float64(lo-hi)) > 4*math.Sqrt(float64(lo+hi)) {
		t.Errorf("first half sampled %d times, second %d", lo, hi)
	}
	a := PoissonSample(n, q, rand.New(rand.NewPCG(9, 9)))
	b := PoissonSample(n, q, rand.New(rand.NewPCG(9, 9)))
	if !slices.Equal(a, b) {
		t.Error("same seed, different sample")
	}
}

// rows is a dataset whose example i is (i, -i) with label i%3.
type rows int

func (r rows) Len() int          { return int(r) }
func (r rows) Shape() []int      { return []int{2} }
func (r rows) Classes() []string { return []string{"a", "b", "c"} }
func (r rows) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	x[0], x[1] = float32(i), -float32(i)
	return i % 3, nil
}

var _ data.Dataset = rows(0)

func TestPoissonBatch(t *testing.T) {
	var b data.Batch
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		if err := PoissonBatch(rows(200), 0.1, rng, &b); err != nil {
			t.Fatal(err)
		}
		n := len(b.Indices)
		if b.Shape[0] != n || b.Shape[1] != 2 || len(b.X) != 2*n || len(b.Y) != n {
			t.Fatalf("batch of %d: shape %v, %d values, %d labels", n, b.Shape, len(b.X), len(b.Y))
		}
		for k, i := range b.Indices {
			if b.X[2*k] != float32(i) || b.X[2*k+1] != -float32(i) || b.Y[k] != i%3 {
				t.Fatalf("example %d holds %v label %d", i, b.X[2*k:2*k+2], b.Y[k])
			}
		}
	}
	if err := PoissonBatch(rows(10), 0, rng, &b); err == nil {
		t.Error("sample rate 0 accepted")
	}
}
