package autograd_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/tensor"
)

// bnRun normalises x (n, c, h, w) in training mode on one tape, with the
// loss sum(y*r), and returns y, the running statistics, and the gradients
// of x, weight and bias.
func bnRun(x, r []float32, n, c, hw int, sum func([]float64)) (y, rm, rv, dx, dw, db []float32) {
	g := autograd.NewTape()
	g.SetStatsSum(sum)
	xv := autograd.NewVar(tensor.FromSlice(append([]float32(nil), x...), n, c, hw), true)
	w := autograd.NewVar(tensor.FromSlice([]float32{1.5, -0.5, 2}, c), true)
	b := autograd.NewVar(tensor.FromSlice([]float32{0.1, 0.2, -0.3}, c), true)
	runM, runV := tensor.FromSlice([]float32{0, 0.5, 1}, c), tensor.FromSlice([]float32{1, 2, 0.5}, c)
	out := g.BatchNorm(xv, runM, runV, w, b, true, 0.1, 1e-5)
	loss := g.SumAll(g.Mul(out, g.Const(tensor.FromSlice(r, n, c, hw))))
	g.Backward(loss)
	return out.Data(), runM.Data(), runV.Data(), xv.Grad().Data(), w.Grad().Data(), b.Grad().Data()
}

// TestSyncBatchNormIsTheWholeBatch checks synchronised batch
// normalisation: two ranks with half a batch each produce the whole
// batch's outputs, running statistics and input gradients, and their
// parameter gradients sum to the whole batch's.
func TestSyncBatchNormIsTheWholeBatch(t *testing.T) {
	const n, c, hw = 6, 3, 5
	rng := rand.New(rand.NewPCG(1, 2))
	x, r := make([]float32, n*c*hw), make([]float32, n*c*hw)
	for i := range x {
		x[i], r[i] = float32(rng.NormFloat64()*2+1), float32(rng.NormFloat64())
	}
	y, rm, rv, dx, dw, db := bnRun(x, r, n, c, hw, nil)
	half := n / 2 * c * hw
	got := make([][6][]float32, 2)
	var wg sync.WaitGroup
	for rank, comm := range dist.NewGroup(2, time.Minute) {
		wg.Go(func() {
			lo, hi := rank*half, (rank+1)*half
			ys, rms, rvs, dxs, dws, dbs := bnRun(x[lo:hi], r[lo:hi], n/2, c, hw, func(v []float64) {
				if err := comm.AllReduce64(v); err != nil {
					t.Error(err)
				}
			})
			got[rank] = [6][]float32{ys, rms, rvs, dxs, dws, dbs}
		})
	}
	wg.Wait()
	near := func(what string, a, b []float32, tol float64) {
		t.Helper()
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > tol*(1+math.Abs(float64(a[i]))) {
				t.Errorf("%s[%d]: %v, want %v", what, i, b[i], a[i])
				return
			}
		}
	}
	near("output", y, append(append([]float32(nil), got[0][0]...), got[1][0]...), 1e-5)
	near("input gradient", dx, append(append([]float32(nil), got[0][3]...), got[1][3]...), 1e-4)
	for rank := range 2 {
		near("running mean", rm, got[rank][1], 1e-6)
		near("running var", rv, got[rank][2], 1e-6)
	}
	sum := func(a, b []float32) []float32 {
		out := make([]float32, len(a))
		for i := range a {
			out[i] = a[i] + b[i]
		}
		return out
	}
	near("weight gradient", dw, sum(got[0][4], got[1][4]), 1e-4)
	near("bias gradient", db, sum(got[0][5], got[1][5]), 1e-4)
}
