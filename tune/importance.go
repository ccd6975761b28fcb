package tune

// This file estimates how much each parameter matters: a one-way analysis
// of variance per parameter, a light stand-in for fANOVA. It leaves out
// interactions between parameters, which fANOVA's random forest would
// catch.

import (
	"cmp"
	"math"
	"slices"
)

// Importance is one parameter's share of the explained variation of the
// objective.
type Importance struct {
	Name  string
	Value float64 // in [0, 1]; the values sum to 1 unless all are 0
}

// maxBins caps how finely a numeric parameter is cut.
const maxBins = 10

// Importances ranks the parameters by how much of the objective's variance
// the mean objective across bins of each one explains (numbers cut into
// equal-count bins of their values, categoricals by choice), over the
// completed trials. Each share is the bias-corrected between-bin variance
// (epsilon squared: between minus what chance alone would give), clipped at
// 0, then normalised to sum to 1. The result is sorted, most important
// first; all zeros when there are fewer than 3 usable trials or no signal.
func Importances(trials []TrialRecord, space *Space) []Importance {
	var ys []float64
	var rows []*TrialRecord
	for i := range trials {
		t := &trials[i]
		if t.State == Complete && !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
			ys = append(ys, t.Value)
			rows = append(rows, t)
		}
	}
	out := make([]Importance, space.Len())
	var total float64
	for i := range space.Params {
		p := &space.Params[i]
		out[i].Name = p.Name
		var xs, y []float64
		for k, t := range rows {
			if i < len(t.X) && !math.IsNaN(t.X[i]) {
				x := t.X[i]
				if p.Log {
					x = math.Log(x)
				}
				xs = append(xs, x)
				y = append(y, ys[k])
			}
		}
		out[i].Value = explained(bins(xs, p.Kind == Categorical), y)
		total += out[i].Value
	}
	if total > 0 {
		for i := range out {
			out[i].Value /= total
		}
	}
	slices.SortStableFunc(out, func(a, b Importance) int { return cmp.Compare(b.Value, a.Value) })
	return out
}

// bins assigns each value a bin: its own value for categoricals, else one
// of up to maxBins equal-count groups of the sorted values, never putting
// equal values in different bins.
func bins(xs []float64, categorical bool) []int {
	b := make([]int, len(xs))
	if categorical {
		for i, x := range xs {
			b[i] = int(x)
		}
		return b
	}
	n := len(xs)
	nb := min(maxBins, max(2, n/5))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, c int) int { return cmp.Compare(xs[a], xs[c]) })
	for r, i := range idx {
		if r > 0 && xs[i] == xs[idx[r-1]] {
			b[i] = b[idx[r-1]]
		} else {
			b[i] = r * nb / n
		}
	}
	return b
}

// explained returns epsilon squared for y grouped by bin: (SS_between -
// (k-1) MS_within) / SS_total, clipped to [0, 1].
func explained(bin []int, y []float64) float64 {
	n := len(y)
	if n < 3 {
		return 0
	}
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	sum, count := map[int]float64{}, map[int]int{}
	for i, v := range y {
		sum[bin[i]] += v
		count[bin[i]]++
	}
	k := len(count)
	if k < 2 || n <= k {
		return 0
	}
	var ssTotal, ssBetween float64
	for _, v := range y {
		ssTotal += (v - mean) * (v - mean)
	}
	for g, s := range sum {
		m := s / float64(count[g])
		ssBetween += float64(count[g]) * (m - mean) * (m - mean)
	}
	if ssTotal == 0 {
		return 0
	}
	msWithin := (ssTotal - ssBetween) / float64(n-k)
	return math.Max(0, math.Min(1, (ssBetween-float64(k-1)*msWithin)/ssTotal))
}
