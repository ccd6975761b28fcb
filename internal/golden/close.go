package golden

// This file compares float32 slices. It leaves out shape checks (compare
// Tensor.Shape yourself) and ULP-based tolerances: an elementwise
// |got-want| <= atol + rtol*|want| test, the one numpy.allclose uses, is what
// float32 kernels with reordered sums need.

import (
	"math"
	"testing"
)

// Close reports an error on t unless every got[i] is within atol + rtol*|want[i]|
// of want[i]. NaN matches only NaN and an infinity only itself. On failure it
// names the worst element (the largest error relative to its tolerance) with
// its index, both values and its relative error, and counts the failures. It
// returns whether the slices matched, so a caller can stop early.
func Close(t testing.TB, what string, got, want []float32, rtol, atol float64) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, want %d", what, len(got), len(want))
		return false
	}
	bad, worst, worstScore := 0, -1, 0.0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		score := excess(g, w, rtol, atol)
		if score <= 1 {
			continue
		}
		bad++
		if worst < 0 || score > worstScore {
			worst, worstScore = i, score
		}
	}
	if bad == 0 {
		return true
	}
	g, w := float64(got[worst]), float64(want[worst])
	rel := math.Abs(g-w) / math.Max(math.Abs(w), math.SmallestNonzeroFloat32)
	t.Errorf("%s: %d of %d values differ beyond rtol=%g atol=%g; worst [%d]: got %.9g want %.9g (abs err %.3g, rel err %.3g)",
		what, bad, len(want), rtol, atol, worst, g, w, math.Abs(g-w), rel)
	return false
}

// excess is |g-w| divided by its tolerance: above 1 fails. Mismatched NaNs and
// infinities score +Inf so they always rank as the worst element.
func excess(g, w, rtol, atol float64) float64 {
	switch {
	case math.IsNaN(g) || math.IsNaN(w):
		if math.IsNaN(g) && math.IsNaN(w) {
			return 0
		}
		return math.Inf(1)
	case g == w:
		return 0
	case math.IsInf(g, 0) || math.IsInf(w, 0):
		return math.Inf(1)
	}
	tol := atol + rtol*math.Abs(w)
	if tol == 0 {
		return math.Inf(1)
	}
	return math.Abs(g-w) / tol
}
