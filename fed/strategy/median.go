package strategy

import (
	"fmt"
	"slices"
)

// FedMedian takes the coordinate-wise median of the updates, unweighted,
// as Flower's FedMedian (aggregate_median: numpy's median, the mean of the
// two middle values for an even count). Updates with NaN or Inf are left
// out.
type FedMedian struct{}

var _ Strategy = (*FedMedian)(nil)

// Name returns "fedmedian".
func (*FedMedian) Name() string { return "fedmedian" }

// ClientConfig adds nothing.
func (*FedMedian) ClientConfig(int) map[string]string { return map[string]string{} }

// Aggregate sets global to the coordinate-wise median.
func (s *FedMedian) Aggregate(_ int, global []float32, updates []Update) error {
	ok, err := keepFinite(s.Name(), global, updates)
	if err != nil {
		return err
	}
	col := make([]float64, len(ok))
	n := len(ok)
	for i := range global {
		for k, u := range ok {
			col[k] = float64(u.Params[i])
		}
		slices.Sort(col)
		if n%2 == 1 {
			global[i] = float32(col[n/2])
		} else {
			global[i] = float32((col[n/2-1] + col[n/2]) / 2)
		}
	}
	return nil
}

// State is empty.
func (*FedMedian) State() map[string][]float32 { return map[string][]float32{} }

// SetState accepts only an empty state.
func (s *FedMedian) SetState(st map[string][]float32) error { return noState(s.Name(), st) }

// NeedsEach is true: a median needs each update.
func (*FedMedian) NeedsEach() bool { return true }

// TrimmedMean cuts, at each coordinate, the int(Beta*n) smallest and as
// many largest values of the n updates and averages the rest, unweighted,
// as Flower's FedTrimmedAvg (aggregate_trimmed_avg, after scipy's
// trim_mean). Updates with NaN or Inf are left out before counting n.
type TrimmedMean struct {
	beta float64
}

var _ Strategy = (*TrimmedMean)(nil)

func newTrimmedMean(o Options) (Strategy, error) {
	if !(o.TrimBeta >= 0 && o.TrimBeta < 0.5) {
		return nil, fmt.Errorf("strategy: trimmedmean: beta %v, want 0 <= beta < 0.5 (the fraction cut at each end)", o.TrimBeta)
	}
	return &TrimmedMean{beta: o.TrimBeta}, nil
}

// Name returns "trimmedmean".
func (*TrimmedMean) Name() string { return "trimmedmean" }

// ClientConfig adds nothing.
func (*TrimmedMean) ClientConfig(int) map[string]string { return map[string]string{} }

// Aggregate sets global to the coordinate-wise trimmed mean.
func (s *TrimmedMean) Aggregate(_ int, global []float32, updates []Update) error {
	ok, err := keepFinite(s.Name(), global, updates)
	if err != nil {
		return err
	}
	n := len(ok)
	cut := int(s.beta * float64(n))
	if n-2*cut < 1 {
		return fmt.Errorf("strategy: trimmedmean: cutting %d of %d updates at each end leaves none", cut, n)
	}
	col := make([]float64, n)
	for i := range global {
		for k, u := range ok {
			col[k] = float64(u.Params[i])
		}
		slices.Sort(col)
		sum := 0.0
		for _, v := range col[cut : n-cut] {
			sum += v
		}
		global[i] = float32(sum / float64(n-2*cut))
	}
	return nil
}

// State is empty.
func (*TrimmedMean) State() map[string][]float32 { return map[string][]float32{} }

// SetState accepts only an empty state.
func (s *TrimmedMean) SetState(st map[string][]float32) error { return noState(s.Name(), st) }

// NeedsEach is true: trimming needs each update.
func (*TrimmedMean) NeedsEach() bool { return true }
