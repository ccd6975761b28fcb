package strategy

import (
	"fmt"
	"slices"
)

// Krum (Blanchard et al. 2017) scores each update by the sum of its
// squared distances to its n-f-2 nearest others (at least 1), f the
// number of malicious clients assumed, and returns the best-scored update
// (Krum) or the weighted mean of the m best (multi-Krum), as Flower's
// Krum (aggregate_krum in flwr/server/strategy/aggregate.py). Ties go to
// the update given first. Updates with NaN or Inf are left out; m larger
// than the updates left averages all of them. Like Flower, it does not
// refuse n <= 2f+2, where Krum's guarantee does not hold.
type Krum struct {
	f, m int
}

var _ Strategy = (*Krum)(nil)

func newKrum(o Options) (Strategy, error) {
	if o.NumMalicious < 0 || o.NumToKeep < 0 {
		return nil, fmt.Errorf("strategy: krum: %d malicious clients and %d to keep, want both >= 0", o.NumMalicious, o.NumToKeep)
	}
	return &Krum{f: o.NumMalicious, m: o.NumToKeep}, nil
}

// Name returns "krum".
func (*Krum) Name() string { return "krum" }

// ClientConfig adds nothing.
func (*Krum) ClientConfig(int) map[string]string { return map[string]string{} }

// Aggregate sets global to Krum's choice.
func (s *Krum) Aggregate(_ int, global []float32, updates []Update) error {
	ok, err := keepFinite(s.Name(), global, updates)
	if err != nil {
		return err
	}
	scores := krumScores(ok, s.f)
	order := make([]int, len(ok))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	if s.m == 0 {
		copy(global, ok[order[0]].Params)
		return nil
	}
	keep := order[:min(s.m, len(ok))]
	slices.Sort(keep) // average in the order given
	best := make([]Update, len(keep))
	for k, i := range keep {
		best[k] = ok[i]
	}
	return weightedMean(s.Name(), global, best)
}

// krumScores returns each update's sum of squared distances to its
// max(1, n-f-2) nearest other updates.
func krumScores(us []Update, f int) []float64 {
	n := len(us)
	d := make([][]float64, n)
	for i := range d {
		d[i] = make([]float64, n)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			s := 0.0
			for k, a := range us[i].Params {
				x := float64(a) - float64(us[j].Params[k])
				s += x * x
			}
			d[i][j], d[j][i] = s, s
		}
	}
	closest := max(1, n-f-2)
	scores := make([]float64, n)
	others := make([]float64, 0, n)
	for i := range n {
		others = others[:0]
		for j := range n {
			if j != i {
				others = append(others, d[i][j])
			}
		}
		slices.Sort(others)
		for _, v := range others[:min(closest, len(others))] {
			scores[i] += v
		}
	}
	return scores
}

// State is empty.
func (*Krum) State() map[string][]float32 { return map[string][]float32{} }

// SetState accepts only an empty state.
func (s *Krum) SetState(st map[string][]float32) error { return noState(s.Name(), st) }

// NeedsEach is true: Krum compares the updates with each other.
func (*Krum) NeedsEach() bool { return true }
