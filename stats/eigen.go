package stats

// The symmetric eigendecomposition by cyclic Jacobi rotations. It leaves
// out the tridiagonal QR algorithm LAPACK uses: Jacobi is slower (about
// ten sweeps of O(D^3)) but short, and accurate to the last bits on the
// small matrices kiln decomposes.

import (
	"fmt"
	"math"
	"sort"
)

// maxSweeps bounds the Jacobi iteration; convergence is quadratic and
// takes under a dozen sweeps in practice.
const maxSweeps = 60

// SymEigen returns the eigenvalues of the symmetric d x d matrix a
// (row-major; only its upper triangle is read, and a is left unchanged) in
// decreasing order, and the matching unit eigenvectors as the columns of a
// row-major d x d matrix.
func SymEigen(a []float64, d int) (vals, vecs []float64, err error) {
	if d < 1 || len(a) != d*d {
		return nil, nil, fmt.Errorf("stats: eigen of %d values as a %dx%d matrix", len(a), d, d)
	}
	m := make([]float64, d*d)
	for i := range d {
		for j := i; j < d; j++ {
			if v := a[i*d+j]; math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("stats: eigen: entry (%d, %d) is %g", i, j, v)
			}
			m[i*d+j], m[j*d+i] = a[i*d+j], a[i*d+j]
		}
	}
	v := make([]float64, d*d)
	for i := range d {
		v[i*d+i] = 1
	}
	converged := false
	for range maxSweeps {
		var off, diag float64
		for i := range d {
			diag += m[i*d+i] * m[i*d+i]
			for j := i + 1; j < d; j++ {
				off += m[i*d+j] * m[i*d+j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			converged = true
			break
		}
		for p := range d {
			for q := p + 1; q < d; q++ {
				rotate(m, v, d, p, q)
			}
		}
	}
	if !converged {
		return nil, nil, fmt.Errorf("stats: eigen: Jacobi iteration did not converge in %d sweeps", maxSweeps)
	}
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return m[order[x]*d+order[x]] > m[order[y]*d+order[y]] })
	vals = make([]float64, d)
	vecs = make([]float64, d*d)
	for k, i := range order {
		vals[k] = m[i*d+i]
		for r := range d {
			vecs[r*d+k] = v[r*d+i]
		}
	}
	return vals, vecs, nil
}

// rotate zeroes m[p][q] with one Jacobi rotation of the symmetric m and
// accumulates it into the eigenvector matrix v (Golub and Van Loan, 8.5.2).
func rotate(m, v []float64, d, p, q int) {
	apq := m[p*d+q]
	if apq == 0 {
		return
	}
	app, aqq := m[p*d+p], m[q*d+q]
	theta := (aqq - app) / (2 * apq)
	t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
	if theta < 0 {
		t = -t
	}
	c := 1 / math.Sqrt(t*t+1)
	s := t * c
	for k := range d {
		mkp, mkq := m[k*d+p], m[k*d+q]
		m[k*d+p] = c*mkp - s*mkq
		m[k*d+q] = s*mkp + c*mkq
	}
	for k := range d {
		mpk, mqk := m[p*d+k], m[q*d+k]
		m[p*d+k] = c*mpk - s*mqk
		m[q*d+k] = s*mpk + c*mqk
	}
	for k := range d {
		vkp, vkq := v[k*d+p], v[k*d+q]
		v[k*d+p] = c*vkp - s*vkq
		v[k*d+q] = s*vkp + c*vkq
	}
}
