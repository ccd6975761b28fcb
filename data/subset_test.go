package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// labelled is fakeDS with the Labeler fast path, counting Get calls.
type labelled struct {
	*fakeDS
	gets int
}

func (d *labelled) Labels() []int {
	out := make([]int, d.n)
	for i := range out {
		out[i] = i % 3
	}
	return out
}

func (d *labelled) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	d.gets++
	return d.fakeDS.Get(i, x, rng)
}

func TestLabelsAndSubset(t *testing.T) {
	plain := newFake(10)
	got, err := Labels(plain)
	if err != nil || !slices.Equal(got, []int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}) {
		t.Fatalf("Labels by decoding: %v %v", got, err)
	}
	fast := &labelled{fakeDS: newFake(10)}
	if got, _ := Labels(fast); !slices.Equal(got, []int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}) || fast.gets != 0 {
		t.Fatalf("Labels fast path: %v after %d Gets", got, fast.gets)
	}

	sub, err := NewSubset(fast, []int{9, 4, 4, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Labels(sub); !slices.Equal(got, []int{0, 1, 1, 2}) || fast.gets != 0 {
		t.Errorf("subset labels %v after %d Gets", got, fast.gets)
	}
	x := make([]float32, 6)
	if y, err := sub.Get(0, x, nil); err != nil || y != 0 || x[0] != 9 {
		t.Errorf("subset Get(0) = %d, %v, x[0]=%v", y, err, x[0])
	}
	if sub.Len() != 4 || !slices.Equal(sub.Shape(), []int{2, 3}) || len(sub.Classes()) != 3 {
		t.Error("subset does not forward Len/Shape/Classes")
	}
	if sub2, _ := NewSubset(plain, []int{1}); sub2.Labels() != nil {
		t.Error("subset of a dataset without Labeler claims labels")
	}
	if _, err := NewSubset(plain, []int{3, 10}); err == nil {
		t.Error("out-of-range subset index accepted")
	}
	if _, err := ClassCounts([]int{0, 3}, 3); err == nil {
		t.Error("ClassCounts accepted label 3 of 3 classes")
	}
	if c, _ := ClassCounts([]int{2, 0, 2, 2}, 3); !slices.Equal(c, []int{1, 0, 3}) {
		t.Errorf("ClassCounts = %v", c)
	}
}

// constDS has channel c of example i filled with c*10 + i%2 (so each
// channel's mean and std are known exactly).
type constDS struct{ n int }

func (d constDS) Len() int          { return d.n }
func (d constDS) Shape() []int      { return []int{3, 2, 2} }
func (d constDS) Classes() []string { return []string{"x"} }
func (d constDS) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	for c := 0; c < 3; c++ {
		for k := 0; k < 4; k++ {
			x[c*4+k] = float32(c*10 + i%2)
		}
	}
	return 0, nil
}

func TestChannelStats(t *testing.T) {
	mean, std, err := ChannelStats(constDS{n: 301}) // 150 odd, 151 even examples
	if err != nil {
		t.Fatal(err)
	}
	p := 150.0 / 301
	for c := 0; c < 3; c++ {
		wantMean := float64(c*10) + p
		wantStd := math.Sqrt(p * (1 - p))
		if math.Abs(mean[c]-wantMean) > 1e-9 || math.Abs(std[c]-wantStd) > 1e-9 {
			t.Errorf("channel %d: mean %v std %v, want %v %v", c, mean[c], std[c], wantMean, wantStd)
		}
	}
	bad := newFake(200)
	bad.failAt = 150
	if _, _, err := ChannelStats(bad); err == nil {
		t.Error("ChannelStats hid a Get error")
	}
}
