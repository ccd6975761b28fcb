package partition

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// labelsOf returns n examples of each of classes classes, interleaved.
func labelsOf(classes, n int) []int {
	out := make([]int, classes*n)
	for i := range out {
		out[i] = i % classes
	}
	return out
}

// checkCover fails unless every index of n lands in exactly one part.
func checkCover(t *testing.T, parts [][]int, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, p := range parts {
		for _, i := range p {
			seen[i]++
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("index %d is in %d parts", i, k)
		}
	}
}

// meanEntropy is the mean over parts of the entropy (nats) of their
// label distributions.
func meanEntropy(parts [][]int, labels []int, classes int) float64 {
	var sum float64
	for c, row := range Counts(parts, labels, classes) {
		for _, k := range row {
			if k > 0 {
				p := float64(k) / float64(len(parts[c]))
				sum -= p * math.Log(p)
			}
		}
	}
	return sum / float64(len(parts))
}

func TestSplitCoversEveryIndex(t *testing.T) {
	labels := labelsOf(10, 300)
	for _, o := range []Options{{Method: "iid"}, {Method: "dirichlet", Alpha: 0.5}, {Method: "dirichlet", Alpha: 0.1}, {Method: "shard"}} {
		parts, err := Split(labels, 10, 20, o, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if len(parts) != 20 {
			t.Fatalf("%+v: %d parts", o, len(parts))
		}
		checkCover(t, parts, len(labels))
	}
}

func TestIIDBalanced(t *testing.T) {
	labels := labelsOf(10, 1000)
	parts := IID(len(labels), 7, rand.New(rand.NewPCG(3, 4)))
	checkCover(t, parts, len(labels))
	for c, p := range parts {
		if want := 10000/7 + btoi(c < 10000%7); len(p) != want {
			t.Fatalf("part %d has %d examples, want %d", c, len(p), want)
		}
	}
	// Every class near a seventh of its 1,000 examples in every part:
	// hypergeometric, sd about 11, so 60 is over 5 sd.
	for c, row := range Counts(parts, labels, 10) {
		for k, n := range row {
			if math.Abs(float64(n)-1000.0/7) > 60 {
				t.Fatalf("part %d holds %d of class %d; IID should give about 143", c, n, k)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDirichletSkewFallsWithAlpha(t *testing.T) {
	labels := labelsOf(10, 600)
	maxEntropy := math.Log(10)
	prev := -1.0
	for _, alpha := range []float64{0.05, 0.1, 0.5, 1, 10, 1000} {
		parts, err := Dirichlet(labels, 10, 20, Options{Alpha: alpha}, rand.New(rand.NewPCG(5, 6)))
		if err != nil {
			t.Fatal(err)
		}
		checkCover(t, parts, len(labels))
		h := meanEntropy(parts, labels, 10)
		t.Logf("alpha %g: mean label entropy %.3f nats (uniform %.3f); %s", alpha, h, maxEntropy, Summary(parts, labels, 10))
		if h <= prev {
			t.Fatalf("alpha %g: mean label entropy %.3f, not above the smaller alpha's %.3f", alpha, h, prev)
		}
		prev = h
	}
	if prev < 0.98*maxEntropy {
		t.Fatalf("alpha 1000: entropy %.3f, want nearly uniform %.3f", prev, maxEntropy)
	}
	small, _ := Dirichlet(labels, 10, 20, Options{Alpha: 0.1}, rand.New(rand.NewPCG(5, 6)))
	if h := meanEntropy(small, labels, 10); h > 0.5*maxEntropy {
		t.Fatalf("alpha 0.1: entropy %.3f, want clients holding few classes (under half of %.3f)", h, maxEntropy)
	}
}

func TestDirichletMinSizeAndSeed(t *testing.T) {
	labels := labelsOf(10, 100)
	o := Options{Alpha: 0.3, MinSize: 20}
	a, err := Dirichlet(labels, 10, 20, o, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	for c, p := range a {
		if len(p) < 20 {
			t.Fatalf("part %d has %d examples, under the minimum 20", c, len(p))
		}
	}
	b, _ := Dirichlet(labels, 10, 20, o, rand.New(rand.NewPCG(7, 8)))
	c, _ := Dirichlet(labels, 10, 20, o, rand.New(rand.NewPCG(7, 9)))
	same := func(x, y [][]int) bool {
		return slices.EqualFunc(x, y, func(p, q []int) bool { return slices.Equal(p, q) })
	}
	if !same(a, b) {
		t.Fatal("the same seed gave two partitions")
	}
	if same(a, c) {
		t.Fatal("two seeds gave the same partition")
	}
	if _, err := Dirichlet(labels, 10, 20, Options{Alpha: 0.5, MinSize: 51}, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "need 1020 examples") {
		t.Fatalf("20 clients of 51 from 1000 examples: %v", err)
	}
	if _, err := Dirichlet(labels, 10, 20, Options{Alpha: 0.01, MinSize: 45, MaxTries: 3}, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "3 draws") {
		t.Fatalf("an unreachable minimum: %v", err)
	}
	if _, err := Dirichlet(labels, 10, 20, Options{Alpha: 0}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("alpha 0 accepted")
	}
}

// TestCutIntoNumpy checks the cuts against numpy.split's, worked by hand:
// p (0.25, 0.5, 0.25) of 10 indices: cumsum*10 = 2.5, 7.5 -> split at 2, 7.
// p (0.05, 0.05, 0.9) of 10: 0.5, 1.0 -> split at 0, 1 (float cumsum of
// 0.05+0.05 is exactly 0.1, so 1.0 truncates to 1).
func TestCutIntoNumpy(t *testing.T) {
	idx := []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	for _, tc := range []struct {
		p     []float64
		sizes []int
	}{
		{[]float64{0.25, 0.5, 0.25}, []int{2, 5, 3}},
		{[]float64{0.05, 0.05, 0.9}, []int{0, 1, 9}},
		{[]float64{0.3, 0.3, 0.4}, []int{3, 3, 4}},
	} {
		parts := make([][]int, len(tc.p))
		cutInto(parts, idx, tc.p)
		at := 0
		for c, part := range parts {
			if len(part) != tc.sizes[c] || (len(part) > 0 && part[0] != idx[at]) {
				t.Fatalf("p %v: part %d = %v, want %d from %d", tc.p, c, part, tc.sizes[c], idx[at])
			}
			at += len(part)
		}
	}
}

func TestShards(t *testing.T) {
	labels := labelsOf(10, 100)
	parts, err := Shards(labels, 50, 2, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	checkCover(t, parts, len(labels))
	for c, row := range Counts(parts, labels, 10) {
		held := 0
		for _, k := range row {
			if k > 0 {
				held++
			}
		}
		if len(parts[c]) != 20 || held > 2 {
			t.Fatalf("client %d: %d examples of %d classes; 2 shards of 10 sorted labels give 20 of at most 2", c, len(parts[c]), held)
		}
	}
	if _, err := Shards(labels, 600, 2, rand.New(rand.NewPCG(9, 9))); err == nil {
		t.Fatal("1,200 shards of 1,000 examples accepted")
	}
}

func TestSplitRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		labels  []int
		clients int
		o       Options
		want    string
	}{
		{labelsOf(2, 5), 0, Options{}, "want at least 1"},
		{labelsOf(2, 5), 11, Options{}, "at least one each"},
		{[]int{0, 1, 2}, 1, Options{}, "outside [0, 2)"},
		{labelsOf(2, 5), 2, Options{Method: "pathological"}, "iid, dirichlet, shard"},
	} {
		classes := 2
		if _, err := Split(tc.labels, classes, tc.clients, tc.o, rng); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc, err, tc.want)
		}
	}
}

func TestGammaAndDirichletMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, a := range []float64{0.1, 0.5, 1, 2.5, 20} {
		const n = 40000
		var s, s2 float64
		for range n {
			g := gamma(a, rng)
			s += g
			s2 += g * g
		}
		mean, vr := s/n, s2/n-(s/n)*(s/n)
		// Gamma(a, 1) has mean and variance a; the mean's sd is sqrt(a/n).
		if math.Abs(mean-a) > 5*math.Sqrt(a/n) || math.Abs(vr-a) > 0.1*a {
			t.Errorf("Gamma(%g): mean %.4f, variance %.4f; want %g and %g", a, mean, vr, a, a)
		}
	}
	alpha := []float64{0.2, 0.3, 0.5}
	p := make([]float64, 3)
	mean := make([]float64, 3)
	for range 20000 {
		drawDirichlet(p, alpha, rng)
		for i := range p {
			mean[i] += p[i] / 20000
		}
	}
	for i, a := range alpha {
		if math.Abs(mean[i]-a/1.0) > 0.01 {
			t.Errorf("Dirichlet(%v): mean of p%d %.4f, want %g", alpha, i, mean[i], a)
		}
	}
}
