// Package autogradtest checks backward rules against finite differences.
// Every op and layer test in kiln uses it, so that a wrong gradient cannot
// hide behind a right forward pass.
package autogradtest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/tensor"
)

// Func builds the graph under test from leaves holding the inputs.
type Func func(g *autograd.Tape, in []*autograd.Var) *autograd.Var

// Options tune the comparison. Zero values take the defaults, which suit
// float32 central differences on inputs of order 1.
type Options struct {
	Eps  float64 // step; default 1e-2
	RTol float64 // default 1e-2
	ATol float64 // default 1e-3
	Seed uint64  // for the random cotangent
}

// Check compares the analytic gradient of sum(f(in) * r), for a random
// cotangent r, with central finite differences for every element of every
// input, and reports each mismatch.
func Check(t testing.TB, f Func, inputs []*tensor.Tensor, opt Options) {
	t.Helper()
	if opt.Eps == 0 {
		opt.Eps = 1e-2
	}
	if opt.RTol == 0 {
		opt.RTol = 1e-2
	}
	if opt.ATol == 0 {
		opt.ATol = 1e-3
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 7))
	leaves := make([]*autograd.Var, len(inputs))
	for i, x := range inputs {
		leaves[i] = autograd.NewVar(x.Clone(), true)
	}
	g := autograd.NewTape()
	out := f(g, leaves)
	r := tensor.New(out.Shape()...).Uniform(rng, -1, 1)
	g.BackwardWith(out, r)

	loss := func() float64 {
		h := autograd.NewTape()
		h.SetGradEnabled(false)
		o := f(h, leaves)
		var s float64
		od, rd := o.Value().Values(), r.Data()
		for i := range od {
			s += float64(od[i]) * float64(rd[i])
		}
		return s
	}
	bad := 0
	for i, leaf := range leaves {
		grad := leaf.Grad()
		if grad == nil {
			t.Errorf("input %d: no gradient reached it", i)
			continue
		}
		gd, xd := grad.Data(), leaf.Data()
		for j := range xd {
			orig := xd[j]
			xd[j] = orig + float32(opt.Eps)
			up := loss()
			xd[j] = orig - float32(opt.Eps)
			down := loss()
			xd[j] = orig
			num := (up - down) / (2 * opt.Eps)
			got := float64(gd[j])
			if math.Abs(got-num) > opt.ATol+opt.RTol*math.Abs(num) || math.IsNaN(got) {
				if bad < 5 {
					t.Errorf("input %d element %d: analytic %.6g, numeric %.6g", i, j, got, num)
				}
				bad++
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d mismatches in all", bad)
	}
}

// Rand returns a tensor of the given shape with values uniform in [lo, hi),
// from a generator seeded by seed, for building test inputs.
func Rand(seed uint64, lo, hi float32, shape ...int) *tensor.Tensor {
	return tensor.New(shape...).Uniform(rand.New(rand.NewPCG(seed, 1)), lo, hi)
}
