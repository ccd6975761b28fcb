package golden

// These tests check the committed golden files themselves: that every group
// loads, and that a few cases mean what the naming contract says, recomputed
// here in float64 from first principles.

import (
	"math"
	"strings"
	"testing"
)

// minCases is how many cases each group held when this test was written; a
// regeneration that silently drops cases fails here.
var minCases = map[string]int{
	"linear": 7, "conv2d": 18, "maxpool2d": 12, "avgpool2d": 10, "adaptiveavgpool2d": 7,
	"batchnorm": 12, "activations": 38, "losses": 65, "optim": 29, "sched": 16, "seedcnn": 2, "init": 10,
}

func TestGroupsLoad(t *testing.T) {
	for group, n := range minCases {
		t.Run(group, func(t *testing.T) {
			if group == "seedcnn" {
				t.Skip("TestSeedCNNShapes loads it: an 11 MB parse is worth doing once")
			}
			cases := Load(t, group)
			if len(cases) < n {
				t.Errorf("%d cases, want at least %d", len(cases), n)
			}
			for _, c := range cases {
				// Every forward case pairs its output with an upstream gradient of the same shape.
				if c.Has("dy") && !equalInts(c.T(t, "dy").Shape, c.T(t, "y").Shape) {
					t.Errorf("%s: dy shape %v, y shape %v", c.Name, c.T(t, "dy").Shape, c.T(t, "y").Shape)
				}
				if c.Has("grad.x") && !equalInts(c.T(t, "grad.x").Shape, c.T(t, "x").Shape) {
					t.Errorf("%s: grad.x shape %v, x shape %v", c.Name, c.T(t, "grad.x").Shape, c.T(t, "x").Shape)
				}
			}
		})
	}
}

// TestLinearMeaning recomputes y = x W^T + b and its three gradients.
func TestLinearMeaning(t *testing.T) {
	for _, c := range Load(t, "linear") {
		x, w, dy := c.T(t, "x"), c.T(t, "weight"), c.T(t, "dy")
		in, out := c.Int(t, "in_features"), c.Int(t, "out_features")
		rows := len(x.Data) / in
		y := make([]float32, rows*out)
		gx := make([]float32, rows*in)
		gw := make([]float32, out*in)
		gb := make([]float32, out)
		for r := 0; r < rows; r++ {
			for o := 0; o < out; o++ {
				s := 0.0
				if c.Bool(t, "bias") {
					s = float64(c.T(t, "bias").Data[o])
				}
				g := float64(dy.Data[r*out+o])
				for i := 0; i < in; i++ {
					s += float64(x.Data[r*in+i]) * float64(w.Data[o*in+i])
					gx[r*in+i] += float32(g * float64(w.Data[o*in+i]))
					gw[o*in+i] += float32(g * float64(x.Data[r*in+i]))
				}
				y[r*out+o] = float32(s)
				gb[o] += float32(g)
			}
		}
		Close(t, c.Name+" y", y, c.T(t, "y").Data, 1e-5, 1e-6)
		Close(t, c.Name+" grad.x", gx, c.T(t, "grad.x").Data, 1e-5, 1e-6)
		Close(t, c.Name+" grad.weight", gw, c.T(t, "grad.weight").Data, 1e-5, 1e-6)
		if c.Bool(t, "bias") {
			Close(t, c.Name+" grad.bias", gb, c.T(t, "grad.bias").Data, 1e-5, 1e-6)
		} else if c.Has("bias") || c.Has("grad.bias") {
			t.Errorf("%s: bias=false but the case holds a bias", c.Name)
		}
	}
}

// TestBatchNormRunningStats checks the momentum update of the running stats,
// which uses the unbiased batch variance, in training cases, and that eval
// cases leave them alone.
func TestBatchNormRunningStats(t *testing.T) {
	for _, c := range Load(t, "batchnorm") {
		x := c.T(t, "x")
		ch := c.Int(t, "num_features")
		mom := c.Float(t, "momentum")
		n, inner := x.Shape[0], len(x.Data)/(x.Shape[0]*ch)
		rm, rv := c.T(t, "running_mean").Data, c.T(t, "running_var").Data
		wantM, wantV := append([]float32(nil), rm...), append([]float32(nil), rv...)
		if c.Bool(t, "training") {
			for k := 0; k < ch; k++ {
				var s, ss float64
				for i := 0; i < n; i++ {
					for j := 0; j < inner; j++ {
						v := float64(x.Data[(i*ch+k)*inner+j])
						s += v
						ss += v * v
					}
				}
				m := float64(n * inner)
				mean := s / m
				unbiased := (ss - m*mean*mean) / (m - 1)
				wantM[k] = float32((1-mom)*float64(rm[k]) + mom*mean)
				wantV[k] = float32((1-mom)*float64(rv[k]) + mom*unbiased)
			}
		}
		Close(t, c.Name+" after.running_mean", c.T(t, "after.running_mean").Data, wantM, 1e-5, 1e-6)
		Close(t, c.Name+" after.running_var", c.T(t, "after.running_var").Data, wantV, 1e-5, 1e-6)
	}
}

func TestSchedStepLRMeaning(t *testing.T) {
	for _, c := range Load(t, "sched") {
		if c.String(t, "op") != "StepLR" {
			continue
		}
		lr := c.T(t, "lr").Data
		want := make([]float32, len(lr))
		for i := range want {
			want[i] = float32(c.Float(t, "optimizer_lr") * math.Pow(c.Float(t, "gamma"), float64(i/c.Int(t, "step_size"))))
		}
		Close(t, c.Name, lr, want, 1e-6, 0)
	}
}

func TestOptimPlainSGDMeaning(t *testing.T) {
	for _, c := range Load(t, "optim") {
		if c.Name != "sgd_plain" {
			continue
		}
		lr := c.Float(t, "lr")
		prev := c.T(t, "p0").Data
		for step := 1; step <= c.Int(t, "steps"); step++ {
			pre := "step" + string(rune('0'+step))
			g, p := c.T(t, pre+".grad.p0").Data, c.T(t, pre+".p0").Data
			want := make([]float32, len(p))
			for i := range want {
				want[i] = prev[i] - float32(lr)*g[i]
			}
			Close(t, pre+".p0", p, want, 1e-6, 1e-7)
			prev = p
		}
		return
	}
	t.Fatal("no sgd_plain case")
}

// TestInitBounds checks the kaiming_uniform(a=sqrt(5)) claim, bound = 1/sqrt(fan_in),
// and that torch's empirical draws sit inside it with the std of a uniform.
func TestInitBounds(t *testing.T) {
	for _, c := range Load(t, "init") {
		if !c.HasAttr("fan_in") {
			continue
		}
		want := float32(1 / math.Sqrt(float64(c.Int(t, "fan_in"))))
		Close(t, c.Name+" bound.weight", []float32{c.Scalar(t, "bound.weight")}, []float32{want}, 1e-6, 0)
		Close(t, c.Name+" bound.bias", []float32{c.Scalar(t, "bound.bias")}, []float32{want}, 1e-6, 0)
		if !strings.HasPrefix(c.Name, "big_") {
			continue
		}
		for _, k := range []string{"weight", "bias"} {
			lo, hi, std := c.Scalar(t, k+".min"), c.Scalar(t, k+".max"), c.Scalar(t, k+".std")
			if lo < -want || hi > want || lo > -0.9*want || hi < 0.9*want {
				t.Errorf("%s %s: range [%g, %g], want just inside ±%g", c.Name, k, lo, hi, want)
			}
			tol := 0.02
			if k == "bias" {
				tol = 0.1 // a few hundred samples
			}
			Close(t, c.Name+" "+k+".std", []float32{std}, []float32{want / float32(math.Sqrt(3))}, tol, 0)
		}
	}
}

func TestSeedCNNShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("seedcnn is an 11 MB parse")
	}
	want := map[string][]int{
		"conv1.weight": {32, 3, 5, 5}, "conv2.weight": {64, 32, 5, 5}, "fc1.weight": {128, 1600},
		"fc2.weight": {10, 128}, "final.fc1.weight": {128, 1600}, "x": {32, 3, 32, 32}, "target": {32},
		"loss": {10}, "y": {32, 10},
	}
	cases := Load(t, "seedcnn")
	if len(cases) < minCases["seedcnn"] {
		t.Errorf("%d cases, want at least %d", len(cases), minCases["seedcnn"])
	}
	for _, c := range cases {
		if c.Name != "cifar_3x32x32" {
			continue
		}
		for name, shape := range want {
			if got := c.T(t, name).Shape; !equalInts(got, shape) {
				t.Errorf("%s shape %v, want %v", name, got, shape)
			}
		}
		loss := c.T(t, "loss").Data
		if math.Abs(float64(loss[0])-math.Log(10)) > 0.1 || loss[9] >= loss[0] {
			t.Errorf("losses %v: want about ln 10 at first and lower at the end", loss)
		}
		return
	}
	t.Fatal("no cifar_3x32x32 case")
}
