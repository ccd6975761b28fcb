package nn_test

import (
	"math"
	"testing"

	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// This file tests initialisation statistically: PyTorch's generator cannot
// be matched, so the golden file holds its fans, bounds and, for two big
// layers, the summary statistics of its draws.

type coreStats struct{ min, max, mean, std float64 }

func coreSummary(xs []float32) coreStats {
	s := coreStats{min: math.Inf(1), max: math.Inf(-1)}
	var sum float64
	for _, v := range xs {
		f := float64(v)
		s.min, s.max = min(s.min, f), max(s.max, f)
		sum += f
	}
	s.mean = sum / float64(len(xs))
	var ss float64
	for _, v := range xs {
		d := float64(v) - s.mean
		ss += d * d
	}
	s.std = math.Sqrt(ss / float64(len(xs)-1))
	return s
}

// coreCheckUniform checks that xs look like n draws from U(-bound, bound):
// inside the bounds, reaching near them, mean near 0 and standard deviation
// near bound/sqrt(3), each within 6 standard errors.
func coreCheckUniform(t *testing.T, what string, xs []float32, bound float64) coreStats {
	t.Helper()
	s := coreSummary(xs)
	n := float64(len(xs))
	sd := bound / math.Sqrt(3)
	if s.min < -bound || s.max > bound {
		t.Errorf("%s: range [%g, %g] outside ±%g", what, s.min, s.max, bound)
	}
	// The gap between the extreme draw and the bound is about 2*bound/n.
	if gap := 2 * bound * 15 / n; s.min > -bound+gap || s.max < bound-gap {
		t.Errorf("%s: range [%g, %g] does not reach ±%g", what, s.min, s.max, bound)
	}
	if math.Abs(s.mean) > 6*sd/math.Sqrt(n) {
		t.Errorf("%s: mean %g, want 0 ± %g", what, s.mean, 6*sd/math.Sqrt(n))
	}
	// A uniform sample's std has relative standard error sqrt(0.2/n).
	if rel := math.Abs(s.std/sd - 1); rel > 6*math.Sqrt(0.2/n) {
		t.Errorf("%s: std %g, want %g (relative error %.3g)", what, s.std, sd, rel)
	}
	return s
}

func TestInitGolden(t *testing.T) {
	seen := 0
	for i, c := range golden.Load(t, "init") {
		if !c.HasAttr("fan_in") {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			var shape []int
			switch c.String(t, "layer") {
			case "Linear":
				shape = []int{c.Int(t, "out_features"), c.Int(t, "in_features")}
			case "Conv2d":
				k := c.Ints(t, "kernel_size")
				shape = []int{c.Int(t, "out_channels"), c.Int(t, "in_channels") / c.Int(t, "groups"), k[0], k[1]}
			default:
				t.Fatalf("layer %q", c.String(t, "layer"))
			}
			fanIn := nn.FanIn(shape)
			if want := c.Int(t, "fan_in"); fanIn != want {
				t.Fatalf("FanIn(%v) = %d, want %d", shape, fanIn, want)
			}
			wb, bb := float64(c.Scalar(t, "bound.weight")), float64(c.Scalar(t, "bound.bias"))
			// The weight's bound, on a sample big enough to reach it.
			big := nn.KaimingUniform(tensor.New(20000), fanIn, math.Sqrt(5), coreRng(uint64(i)))
			coreCheckUniform(t, "kaiming_uniform", big.Data(), wb*(1+1e-6))

			w, b := tensor.New(shape...), tensor.New(shape[0])
			nn.InitDefault(w, b, coreRng(uint64(100+i)))
			if !c.Has("weight.std") {
				bs := coreSummary(b.Data())
				if bs.min < -bb || bs.max > bb {
					t.Errorf("bias range [%g, %g] outside ±%g", bs.min, bs.max, bb)
				}
				return
			}
			for _, p := range []struct {
				name  string
				xs    []float32
				bound float64
			}{{"weight", w.Data(), wb}, {"bias", b.Data(), bb}} {
				if n := c.Int(t, "n_"+p.name); n != len(p.xs) {
					t.Fatalf("%s: %d values, golden %d", p.name, len(p.xs), n)
				}
				ours := coreCheckUniform(t, p.name, p.xs, p.bound*(1+1e-6))
				theirs := coreStats{
					min: float64(c.Scalar(t, p.name+".min")), max: float64(c.Scalar(t, p.name+".max")),
					mean: float64(c.Scalar(t, p.name+".mean")), std: float64(c.Scalar(t, p.name+".std")),
				}
				// Both samples estimate the same std: their difference has
				// relative standard error sqrt(0.4/n).
				n := float64(len(p.xs))
				if rel := math.Abs(ours.std/theirs.std - 1); rel > 6*math.Sqrt(0.4/n) {
					t.Errorf("%s: std %g, PyTorch's %g", p.name, ours.std, theirs.std)
				}
				if d := math.Abs(ours.mean - theirs.mean); d > 6*theirs.std*math.Sqrt(2/n) {
					t.Errorf("%s: mean %g, PyTorch's %g", p.name, ours.mean, theirs.mean)
				}
				if gap := 2 * p.bound * 15 / n; math.Abs(ours.min-theirs.min) > gap || math.Abs(ours.max-theirs.max) > gap {
					t.Errorf("%s: range [%g, %g], PyTorch's [%g, %g]", p.name, ours.min, ours.max, theirs.min, theirs.max)
				}
			}
		})
	}
	if seen < 5 {
		t.Errorf("only %d layer cases", seen)
	}
}

func TestFans(t *testing.T) {
	cases := []struct {
		shape   []int
		in, out int
	}{
		{[]int{3, 4}, 4, 3},
		{[]int{32, 3, 5, 5}, 75, 800},
		{[]int{8, 2, 3, 3}, 18, 72}, // Conv2d(8, 8, 3, groups=4)
		{[]int{6, 1, 3, 2}, 6, 36},  // depthwise
		{[]int{4, 2, 3}, 6, 12},     // Conv1d
	}
	for _, c := range cases {
		if in, out := nn.FanIn(c.shape), nn.FanOut(c.shape); in != c.in || out != c.out {
			t.Errorf("fans of %v: (%d, %d), want (%d, %d)", c.shape, in, out, c.in, c.out)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("FanIn of a 1-d shape did not panic")
		}
	}()
	nn.FanIn([]int{5})
}

func TestInitSchemes(t *testing.T) {
	// kaiming_uniform_ with a = 0 (ReLU gain sqrt(2)): bound sqrt(6/fan_in).
	k := nn.KaimingUniform(tensor.New(100, 50), 50, 0, coreRng(1))
	coreCheckUniform(t, "kaiming a=0", k.Data(), math.Sqrt(6.0/50))

	x := nn.XavierUniform(tensor.New(200, 100), 2, coreRng(2))
	coreCheckUniform(t, "xavier", x.Data(), 2*math.Sqrt(6.0/300))

	u := nn.Uniform(tensor.New(10000), 2, 5, coreRng(3))
	if s := coreSummary(u.Data()); s.min < 2 || s.max > 5 || math.Abs(s.mean-3.5) > 0.05 {
		t.Errorf("uniform(2, 5): %+v", s)
	}
	z, o := nn.Zeros(tensor.Full(3, 4)), nn.Ones(tensor.New(4))
	for i := range 4 {
		if z.Data()[i] != 0 || o.Data()[i] != 1 {
			t.Fatalf("Zeros %v Ones %v", z.Data(), o.Data())
		}
	}
	// No bias is fine; the weight alone is drawn.
	nn.InitDefault(tensor.New(3, 4), nil, coreRng(4))
}
