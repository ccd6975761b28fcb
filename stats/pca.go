// Package stats holds small numerical routines kiln's reports need, in
// float64 on plain slices: principal component analysis and the symmetric
// eigendecomposition under it. It depends on nothing else in kiln.
package stats

// This file leaves out randomized and incremental PCA, whitening and
// kernel PCA. The covariance is formed explicitly (O(N*D^2)) and fully
// decomposed (O(D^3)), which suits feature vectors of up to a few hundred
// dimensions; beyond about a thousand it becomes slow.

import (
	"errors"
	"fmt"
	"math"
)

// PCA is a fitted principal component analysis.
type PCA struct {
	Mean       []float64   // the per-feature mean that was subtracted, length D
	Components [][]float64 // K unit vectors of length D, by decreasing variance
	Variance   []float64   // the variance along each component (divisor N-1)
	Total      float64     // the total variance, the trace of the covariance
}

// FitPCA finds the k directions of largest variance of the rows of x (N
// rows of D features). Each component's sign is fixed so that its entry
// of largest magnitude (the first, on a tie) is positive, so the result is
// deterministic. It needs N >= 2 rows of equal length and 1 <= k <= D.
func FitPCA(x [][]float64, k int) (*PCA, error) {
	n := len(x)
	if n < 2 {
		return nil, fmt.Errorf("stats: pca of %d rows, want at least 2", n)
	}
	d := len(x[0])
	if k < 1 || k > d {
		return nil, fmt.Errorf("stats: pca to %d components of %d features, want 1 <= k <= %d", k, d, d)
	}
	mean := make([]float64, d)
	for i, row := range x {
		if len(row) != d {
			return nil, fmt.Errorf("stats: pca: row %d has %d features, row 0 has %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("stats: pca: row %d feature %d is %g", i, j, v)
			}
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	// Upper triangle of the covariance, accumulated row by row.
	cov := make([]float64, d*d)
	c := make([]float64, d)
	for _, row := range x {
		for j, v := range row {
			c[j] = v - mean[j]
		}
		for a, ca := range c {
			if ca == 0 {
				continue
			}
			r := cov[a*d:]
			for b := a; b < d; b++ {
				r[b] += ca * c[b]
			}
		}
	}
	var total float64
	for a := range d {
		for b := a; b < d; b++ {
			cov[a*d+b] /= float64(n - 1)
			cov[b*d+a] = cov[a*d+b]
		}
		total += cov[a*d+a]
	}
	vals, vecs, err := SymEigen(cov, d)
	if err != nil {
		return nil, fmt.Errorf("stats: pca: %w", err)
	}
	p := &PCA{Mean: mean, Total: total}
	for i := range k {
		v := make([]float64, d)
		for j := range d {
			v[j] = vecs[j*d+i]
		}
		big := 0
		for j := range v {
			if math.Abs(v[j]) > math.Abs(v[big]) {
				big = j
			}
		}
		if v[big] < 0 {
			for j := range v {
				v[j] = -v[j]
			}
		}
		p.Components = append(p.Components, v)
		p.Variance = append(p.Variance, max(vals[i], 0))
	}
	return p, nil
}

// Transform projects rows of D features onto the components: row i of the
// result holds the K coordinates of x[i] minus the mean.
func (p *PCA) Transform(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, row := range x {
		if len(row) != len(p.Mean) {
			panic(fmt.Sprintf("stats: pca transform of a row of %d features, fitted on %d", len(row), len(p.Mean)))
		}
		o := make([]float64, len(p.Components))
		for k, comp := range p.Components {
			var s float64
			for j, v := range row {
				s += (v - p.Mean[j]) * comp[j]
			}
			o[k] = s
		}
		out[i] = o
	}
	return out
}

// Project2D fits a two-component PCA to the rows of x and returns each
// row's coordinates, ready for a scatter plot, and the fit. It needs at
// least two features; with exactly one, the second coordinate is zero.
func Project2D(x [][]float64) ([][2]float64, *PCA, error) {
	if len(x) == 0 {
		return nil, nil, errors.New("stats: pca of no rows")
	}
	k := min(2, len(x[0]))
	p, err := FitPCA(x, k)
	if err != nil {
		return nil, nil, err
	}
	t := p.Transform(x)
	out := make([][2]float64, len(t))
	for i, r := range t {
		copy(out[i][:], r)
	}
	return out, p, nil
}
